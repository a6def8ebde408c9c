// search.js: tool search ranked by the words of the query, found in a tool's
// name, tags, path and description (in that order of weight). Every word
// must be found somewhere; a word matches a token it equals or begins
// (so "issue" finds "issues"), and names whose every token is matched, and
// shorter names, come first: `create issue` puts GitHub's issues_create
// above issues_create_comment and above tools that only mention issues.
// Pure functions, no DOM: tested in Node too.

// words splits text into lowercase tokens: snake_case, kebab-case,
// camelCase, paths and sentences alike.
export function words(text) {
  return String(text || '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

const WEIGHT = { name: 10, tags: 6, path: 4, description: 1 };

function fields(t) {
  if (!t._search) {
    t._search = {
      name: words(t.name),
      tags: words((t.tags || []).join(' ')),
      path: words(`${t.method || ''} ${t.path || ''} ${t.uri || ''}`),
      description: new Set(words(t.description)),
    };
  }
  return t._search;
}

// matchWord scores word w in one field's tokens: exact 1, prefix 0.8,
// else 0 (a token set for descriptions: exact, or a plural of the word).
function matchWord(w, tokens) {
  if (tokens instanceof Set) return tokens.has(w) || tokens.has(w + 's') || tokens.has(w + 'es') ? 1 : 0;
  let best = 0;
  for (const t of tokens) {
    if (t === w) return 1;
    if (w.length >= 2 && t.startsWith(w)) best = 0.8;
  }
  return best;
}

// score is how well tool t matches query words qs; 0 means no match.
export function score(t, qs) {
  const f = fields(t);
  let total = 0;
  for (const w of qs) {
    let best = 0;
    for (const k of ['name', 'tags', 'path', 'description']) best = Math.max(best, matchWord(w, f[k]) * WEIGHT[k]);
    if (!best) return 0;
    total += best;
  }
  // Names made only of the query's words describe exactly what was asked.
  const unmatched = f.name.filter(tok => !qs.some(w => tok === w || tok.startsWith(w))).length;
  total += unmatched === 0 ? 8 : Math.max(0, 4 - unmatched);
  return total;
}

// search returns the tools matching query, best first (ties: shorter name,
// then document order). An empty query returns the tools as given.
export function search(tools, query) {
  const qs = words(query);
  if (!qs.length) return tools.slice();
  return tools
    .map((t, i) => ({ t, i, s: score(t, qs) }))
    .filter(x => x.s > 0)
    .sort((a, b) => b.s - a.s || a.t.name.length - b.t.name.length || a.i - b.i)
    .map(x => x.t);
}
