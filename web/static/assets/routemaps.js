// routemaps.js: the route-map editor. Rules are matched in order and the
// first match wins, as in the conversion; each rule shows, live, which
// operations it matches and which of those it actually decides.
import { h } from './ui.js';

const KINDS = ['tool', 'resource', 'resource_template', 'exclude'];
const list = s => s.split(',').map(x => x.trim()).filter(Boolean);

function compile(rule) {
  if (!rule.pattern) return { re: null };
  try { return { re: new RegExp(rule.pattern) }; } catch (e) { return { bad: e.message }; }
}

export function matches(rule, op, re) {
  const methods = (rule.methods || []).map(m => m.toUpperCase());
  if (methods.length && !methods.includes('*') && !methods.includes(op.method)) return false;
  if (re && !re.test(op.path)) return false;
  for (const t of rule.tags || []) if (!(op.tags || []).includes(t)) return false;
  return true;
}

// routeMapEditor edits rules over ops ({method, path, tags, name}); value()
// returns the rules as the API takes them.
export function routeMapEditor(ops, initial = [], onChange = () => {}) {
  let rules = initial.map(r => ({ methods: r.methods || [], pattern: r.pattern || '', tags: r.tags || [], mcp_type: r.mcp_type || 'tool', mcp_tags: r.mcp_tags || [] }));
  const wrap = h('div', { class: 'routemaps' });
  const summary = h('p', { class: 'muted small', 'aria-live': 'polite' });

  function draw() {
    const compiled = rules.map(compile);
    const decidedBy = new Map();
    for (const op of ops) {
      const i = rules.findIndex((r, k) => !compiled[k].bad && matches(r, op, compiled[k].re));
      decidedBy.set(op, i);
    }
    const rows = rules.map((r, i) => {
      const c = compiled[i];
      const matched = ops.filter(op => !c.bad && matches(r, op, c.re));
      const wins = matched.filter(op => decidedBy.get(op) === i);
      const upd = (k, v) => { rules[i][k] = v; refresh(); };
      const id = `rm-${i}`;
      return h('li', { class: 'rule card' },
        h('div', { class: 'rule-head' },
          h('strong', {}, `Rule ${i + 1}`),
          h('div', { class: 'row' },
            h('button', { type: 'button', class: 'btn small', disabled: i === 0, 'aria-label': `Move rule ${i + 1} up`, onclick: () => { [rules[i - 1], rules[i]] = [rules[i], rules[i - 1]]; draw(); onChange(); } }, '↑'),
            h('button', { type: 'button', class: 'btn small', disabled: i === rules.length - 1, 'aria-label': `Move rule ${i + 1} down`, onclick: () => { [rules[i + 1], rules[i]] = [rules[i], rules[i + 1]]; draw(); onChange(); } }, '↓'),
            h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Remove rule ${i + 1}`, onclick: () => { rules.splice(i, 1); draw(); onChange(); } }, 'Remove'))),
        h('div', { class: 'grid4' },
          h('div', { class: 'field' }, h('label', { for: id + 'm' }, 'Methods'), h('input', { id: id + 'm', value: r.methods.join(', '), placeholder: 'any, or GET, POST', oninput: e => upd('methods', list(e.target.value)) })),
          h('div', { class: 'field' }, h('label', { for: id + 'p' }, 'Path pattern (regex)'), h('input', { id: id + 'p', class: 'mono', value: r.pattern, placeholder: '^/admin', 'aria-invalid': c.bad ? 'true' : 'false', oninput: e => upd('pattern', e.target.value) })),
          h('div', { class: 'field' }, h('label', { for: id + 't' }, 'Tags (all must match)'), h('input', { id: id + 't', value: r.tags.join(', '), oninput: e => upd('tags', list(e.target.value)) })),
          h('div', { class: 'field' }, h('label', { for: id + 'k' }, 'Becomes'), h('select', { id: id + 'k', onchange: e => upd('mcp_type', e.target.value) }, KINDS.map(k => h('option', { value: k, selected: k === r.mcp_type }, k.replace('_', ' ')))))),
        h('div', { class: 'rule-matches', 'aria-live': 'polite' },
          c.bad ? h('p', { class: 'bad' }, 'Invalid pattern: ', c.bad)
            : h('p', { class: 'small' }, `Matches ${matched.length} operation${matched.length === 1 ? '' : 's'}`,
              matched.length !== wins.length ? `, decides ${wins.length} (the rest are taken by an earlier rule)` : ''),
          wins.length ? h('ul', { class: 'oplist' }, wins.slice(0, 12).map(op => h('li', {}, h('span', { class: `method m-${op.method}` }, op.method), ' ', h('code', {}, op.path)))) : null,
          wins.length > 12 ? h('p', { class: 'muted small' }, `and ${wins.length - 12} more`) : null));
    });
    const undecided = ops.filter(op => decidedBy.get(op) === -1).length;
    summary.textContent = ops.length ? `${undecided} of ${ops.length} operations match no rule and become tools.` : '';
    wrap.replaceChildren(
      rules.length ? h('ol', { class: 'rules' }, rows) : h('p', { class: 'muted' }, 'No rules: every operation becomes a tool. Add a rule to exclude operations or serve GETs as resources.'),
      summary,
      h('button', { type: 'button', class: 'btn', onclick: () => { rules.push({ methods: [], pattern: '', tags: [], mcp_type: 'exclude', mcp_tags: [] }); draw(); onChange(); wrap.querySelector('.rule:last-child input')?.focus(); } }, 'Add rule'));
  }
  // refresh redraws matches without losing the caret in the edited input.
  function refresh() {
    const active = document.activeElement;
    const id = active && active.id; const pos = active && active.selectionStart;
    draw();
    if (id) { const el = document.getElementById(id); if (el) { el.focus(); if (pos != null && el.setSelectionRange) el.setSelectionRange(pos, pos); } }
    onChange();
  }
  draw();
  wrap.value = () => rules.map(r => {
    const o = { mcp_type: r.mcp_type };
    if (r.methods.length) o.methods = r.methods.map(m => m.toUpperCase());
    if (r.pattern) o.pattern = r.pattern;
    if (r.tags.length) o.tags = r.tags;
    if (r.mcp_tags.length) o.mcp_tags = r.mcp_tags;
    return o;
  });
  return wrap;
}

// opsOf flattens a preview into the operations rules match on.
export function opsOf(preview) {
  return [...preview.tools, ...preview.resources, ...preview.resource_templates]
    .map(t => ({ method: t.method, path: t.path, tags: t.tags || [], name: t.name }));
}
