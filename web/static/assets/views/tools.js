// Tools: the live list (searchable), a tool's schemas, and the playground
// that calls the tool through the tenant's real MCP endpoint.
import { h, link, loading, empty, errorBox, pretty, ms, field, toast } from '../ui.js';
import { api, enc } from '../api.js';
import { tools as loadTools } from '../data.js';
import { schemaView, schemaForm } from '../schema.js';
import { mcpCall } from '../mcp.js';
import { costByName, costView, tokens } from '../report.js';
import { search } from '../search.js';
import { markdown, plain } from '../markdown.js';
import { toolEditor, editPath } from './tooledit.js';

export async function toolsTab(t, name) {
  // The editor previews against the stored version: it needs no live tenant.
  if (name && name.endsWith('/edit')) return toolEditor(t, name.slice(0, -'/edit'.length));
  let r;
  try { r = await loadTools(t.id); } catch (e) { return errorBox(e, 'Could not load tools'); }
  if (!r.live) {
    return empty('Tools are listed once the tenant is active.',
      h('p', {}, t.status === 'failed' ? 'Activation failed; see the reason above, fix it and activate again.' : 'Activate the tenant (button at the top) to serve its tools and try them here.'));
  }
  if (name) {
    const tool = r.tools.find(x => x.name === name);
    if (!tool) return h('div', {}, errorBox({ message: `No tool named ${name} in the live list.` }, 'Not found'), link(`/tenants/${enc(t.id)}/tools`, 'All tools'));
    return toolDetail(t, tool);
  }
  if (!r.tools.length) return empty('This spec produced no tools.', h('p', {}, 'Check route maps in Settings: every operation may be excluded.'));
  // The cost of each tool comes from the serving version's report; a
  // server without it (or a failure) leaves the column empty.
  let report = null;
  try { report = await api.get(`/tenants/${enc(t.id)}/spec/report`); } catch { report = null; }
  const cost = costByName(report && report.cost);
  const sort = h('select', { 'aria-label': 'Sort' },
    h('option', { value: '' }, 'Document order'), h('option', { value: 'cost' }, 'Costliest first'), h('option', { value: 'name' }, 'By name'));
  const q = h('input', { type: 'search', placeholder: 'Search name, tag, path, description', 'aria-label': 'Search tools', autocomplete: 'off' });
  const kind = h('select', { 'aria-label': 'Kind' }, h('option', { value: '' }, 'All kinds'), ['tool', 'resource', 'resource_template'].map(k => h('option', { value: k }, k.replace('_', ' '))));
  const tagged = r.tools.some(x => x.tags && x.tags.length);
  const group = h('select', { 'aria-label': 'Group' }, h('option', { value: 'tag' }, 'Grouped by tag'), h('option', { value: '' }, 'One list'));
  if (!tagged) group.value = '';
  const list = h('div', { class: 'toolgroups' });
  const count = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const tok = x => (x.kind === 'tool' && cost.has(x.name) ? cost.get(x.name).tokens : -1);
  const row = x => h('li', {},
    h('a', { href: `/tenants/${enc(t.id)}/tools/${enc(x.name)}`, 'data-link': true, class: 'toolrow' },
      h('span', { class: 'name mono' }, x.name),
      h('span', { class: `kind k-${x.kind}` }, x.kind.replace('_', ' ')),
      h('span', { class: `method m-${x.method}` }, x.method),
      h('code', { class: 'path' }, x.path),
      h('span', { class: 'cost small muted', title: cost.has(x.name) ? `${cost.get(x.name).bytes} bytes in tools/list` : '' }, tok(x) >= 0 ? `~${tokens(tok(x))} tok` : ''),
      h('span', { class: 'desc' }, plain(x.description))));
  const draw = () => {
    const needle = q.value.trim();
    const shown = search(r.tools.filter(x => !kind.value || x.kind === kind.value), needle);
    if (sort.value === 'cost') shown.sort((a, b) => tok(b) - tok(a));
    else if (sort.value === 'name') shown.sort((a, b) => a.name.localeCompare(b.name));
    count.textContent = needle ? `${shown.length} of ${r.tools.length}, best match first` : `${shown.length} of ${r.tools.length}`;
    if (!shown.length) { list.replaceChildren(h('p', { class: 'muted' }, 'Nothing matches.')); return; }
    // Groups are for browsing; a search answers in one ranked list.
    if (group.value !== 'tag' || needle || sort.value) { list.replaceChildren(h('ul', { class: 'toollist' }, shown.map(row))); return; }
    const groups = new Map();
    for (const x of shown) {
      const tags = x.tags && x.tags.length ? x.tags : ['Untagged'];
      for (const tg of tags) { if (!groups.has(tg)) groups.set(tg, []); groups.get(tg).push(x); }
    }
    const big = shown.length > 60;
    list.replaceChildren(...[...groups].map(([tg, xs]) => h('details', { class: 'toolgroup', open: !big, dataset: { tag: tg } },
      h('summary', {}, h('span', { class: 'tag-name' }, tg), ' ', h('span', { class: 'count' }, `${xs.length} ${xs.length === 1 ? 'tool' : 'tools'}`)),
      h('ul', { class: 'toollist' }, xs.map(row)))));
  };
  q.addEventListener('input', draw); kind.addEventListener('change', draw); sort.addEventListener('change', draw); group.addEventListener('change', draw);
  draw();
  // Tools hidden by an override are not in the live list: their editors are.
  const hidden = Object.entries((t.settings && t.settings.tools) || {}).filter(([, o]) => o && o.hidden).map(([k]) => k);
  const hiddenNote = hidden.length ? h('p', { class: 'muted small hidden-tools' }, `Hidden from agents by an override: `,
    hidden.map((k, i) => [i ? ', ' : '', link(editPath(t.id, k), k)])) : null;
  return h('div', { class: 'stack' }, report ? costView(report.cost) : null, h('div', { class: 'row filters' }, q, kind, tagged ? group : null, sort, count), list, hiddenNote);
}

function toolDetail(t, tool) {
  const input = tool.input_schema || { type: 'object', properties: {} };
  return h('div', { class: 'stack' },
    h('p', { class: 'crumbs' }, link(`/tenants/${enc(t.id)}/tools`, '← All tools')),
    h('div', { class: 'card stack' },
      h('div', { class: 'row spread' }, h('h2', { class: 'mono' }, tool.name),
        tool.kind === 'tool' ? h('a', { href: editPath(t.id, tool.name), 'data-link': true, class: 'btn' }, 'Edit how agents see it') : null),
      h('p', {}, h('span', { class: `kind k-${tool.kind}` }, tool.kind.replace('_', ' ')), ' ', h('span', { class: `method m-${tool.method}` }, tool.method), ' ', h('code', {}, tool.path), tool.uri ? [' → ', h('code', {}, tool.uri)] : null),
      tool.tags && tool.tags.length ? h('p', { class: 'tags' }, tool.tags.map(tg => h('span', { class: 'tag' }, tg))) : null,
      h('div', { class: 'description' }, markdown(tool.description))),
    h('div', { class: 'grid2 wide' },
      h('section', { class: 'card stack' }, h('h3', {}, 'Input'), schemaView(input), rawSchema(input)),
      h('section', { class: 'card stack' }, h('h3', {}, 'Output'), tool.output_schema ? [schemaView(tool.output_schema), rawSchema(tool.output_schema)] : h('p', { class: 'muted' }, 'The spec declares no JSON object result; agents get the response as text.'))),
    tool.kind === 'tool' ? playground(t, tool, input) : h('p', { class: 'muted card' }, 'Resources are read by agents with resources/read; the playground calls tools.'));
}

const rawSchema = s => h('details', {}, h('summary', {}, 'Raw JSON Schema'), h('pre', { class: 'json', tabindex: 0 }, pretty(s)));

const TOKEN_KEY = id => `portico.playground.${id}`;

function playground(t, tool, input) {
  const form = schemaForm(input);
  const tokenInput = h('input', { type: 'password', name: 'mcp_token', autocomplete: 'off', placeholder: 'mcp_…', value: sessionStorage.getItem(TOKEN_KEY(t.id)) || '' });
  const mint = h('button', { type: 'button', class: 'btn small' }, 'Create a playground token');
  mint.addEventListener('click', async () => {
    mint.disabled = run.disabled = true;
    try {
      const r = await api.post(`/tenants/${enc(t.id)}/tokens`, { name: `dashboard playground ${new Date().toISOString().slice(0, 16).replace('T', ' ')}` });
      tokenInput.value = r.secret; sessionStorage.setItem(TOKEN_KEY(t.id), r.secret);
      toast('Playground token created (listed under Tokens; revoke it any time).');
    } catch (e) { toast(e.message, 'error'); }
    finally { mint.disabled = run.disabled = false; }
  });
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit', class: 'btn primary' }, 'Call tool');
  const f = h('form', { class: 'card stack playground' },
    h('h3', {}, 'Playground'),
    h('p', { class: 'muted small' }, 'Calls ', h('code', {}, tool.name), ' through the real MCP endpoint, as an agent would. Your service is really called.'),
    form,
    h('div', { class: 'token-row' }, field('MCP token', tokenInput, 'Kept in this tab only.'), mint),
    h('div', { class: 'actions' }, run), out);
  f.addEventListener('submit', async e => {
    e.preventDefault();
    let args;
    try { args = form.read(); } catch (err) { out.replaceChildren(errorBox({ message: err.message }, 'Check the arguments')); return; }
    const token = tokenInput.value.trim();
    if (!token) { out.replaceChildren(errorBox({ message: 'Create a playground token or paste one of your MCP tokens.' }, 'A token is needed')); tokenInput.focus(); return; }
    sessionStorage.setItem(TOKEN_KEY(t.id), token);
    run.disabled = true;
    out.replaceChildren(loading('Calling…'));
    try {
      const { result, totalMs } = await mcpCall(t.mcp_url, token, 'tools/call', { name: tool.name, arguments: args });
      out.replaceChildren(resultView(result, totalMs));
    } catch (err) {
      if (err.status === 401) sessionStorage.removeItem(TOKEN_KEY(t.id));
      out.replaceChildren(errorBox({ message: err.message, hint: err.status === 401 ? 'The token is unknown, revoked or of another tenant: create a new one.' : err.status === 404 ? 'The tenant is not active.' : '' }, 'The call did not go through'));
    } finally { run.disabled = false; }
  });
  return f;
}

function resultView(res, totalMs) {
  const upstream = res._meta && typeof res._meta['portico/upstream_ms'] === 'number' ? res._meta['portico/upstream_ms'] : null;
  const portico = upstream === null ? null : Math.max(0, totalMs - upstream);
  const texts = (res.content || []).filter(c => c.type === 'text').map(c => c.text);
  return h('div', { class: `stack ${res.isError ? 'is-error' : 'is-ok'}` },
    h('div', { class: 'latency' },
      h('span', { class: res.isError ? 'badge st-failed' : 'badge st-active' }, res.isError ? 'tool error' : 'success'),
      h('span', {}, 'Total ', h('strong', {}, ms(totalMs))),
      h('span', {}, 'Portico ', h('strong', { class: 'lat-portico' }, ms(portico))),
      h('span', {}, 'Upstream ', h('strong', { class: 'lat-upstream' }, ms(upstream))),
      latencyBar(portico, upstream)),
    res.structuredContent !== undefined ? h('div', {}, h('h4', {}, 'Structured content'), h('pre', { class: 'json', tabindex: 0 }, pretty(res.structuredContent))) : null,
    texts.length && res.structuredContent === undefined ? h('div', {}, h('h4', {}, res.isError ? 'Error' : 'Text content'), h('pre', { class: 'json prewrap', tabindex: 0 }, texts.join('\n'))) : null,
    h('details', {}, h('summary', {}, 'Full MCP result'), h('pre', { class: 'json', tabindex: 0 }, pretty(res))));
}

function latencyBar(portico, upstream) {
  if (portico === null || upstream === null) return null;
  const total = portico + upstream || 1;
  const bar = h('span', { class: 'latbar', role: 'img', 'aria-label': `Portico ${ms(portico)}, upstream ${ms(upstream)}` },
    h('span', { class: 'seg portico' }), h('span', { class: 'seg upstream' }));
  bar.children[0].style.width = `${(portico / total) * 100}%`;
  bar.children[1].style.width = `${(upstream / total) * 100}%`;
  return bar;
}
