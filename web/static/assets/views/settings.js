// Settings: route maps with a live preview, name overrides, timeouts,
// concurrency, header forwarding, browser origins and the refresh interval.
import { h, loading, errorBox, field, toast } from '../ui.js';
import { api, enc } from '../api.js';
import { routeMapEditor, opsOf } from '../routemaps.js';
import { previewView } from '../preview.js';

export async function settingsTab(t) {
  const s = t.settings || {};
  const editorBox = h('div', {}, loading('Reading the spec to preview rules…'));
  let editor = null;
  let ops = [];
  (async () => {
    try {
      ops = opsOf(await api.post('/preview', { spec_url: t.spec_url }));
    } catch (e) {
      editorBox.before(errorBox(e, 'Live preview unavailable: the spec could not be read'));
    }
    editor = routeMapEditor(ops, s.route_maps || []);
    editorBox.replaceChildren(editor);
  })();

  const names = Object.entries(s.names || {});
  const namesBox = h('div', { class: 'stack' });
  const addName = (k = '', v = '') => {
    const row = h('div', { class: 'row name-row' },
      h('input', { 'aria-label': 'operationId or METHOD /path', placeholder: 'operationId or GET /path', value: k, class: 'mono' }),
      h('span', { 'aria-hidden': 'true' }, '→'),
      h('input', { 'aria-label': 'Tool name', placeholder: 'tool name (≤ 64)', value: v, maxlength: 64, class: 'mono' }),
      h('button', { type: 'button', class: 'btn small', 'aria-label': 'Remove override', onclick: () => row.remove() }, '×'));
    namesBox.append(row);
  };
  names.forEach(([k, v]) => addName(k, v));
  const num = (name, v, attrs) => h('input', { name, type: 'number', inputmode: 'numeric', value: v || '', ...attrs });
  const timeout = num('upstream_timeout_ms', s.upstream_timeout_ms, { min: 0, max: 300000, placeholder: '30000 (default)' });
  const conc = num('max_concurrency', s.max_concurrency, { min: 0, max: 10000, placeholder: '64 (default)' });
  const refresh = num('refresh_interval_s', s.refresh_interval_s, { min: 0, max: 86400, placeholder: '300 (default)' });
  const fwd = h('input', { name: 'forward_headers', value: (s.forward_headers || []).join(', '), placeholder: 'X-Request-Id, X-User-Id' });
  const origins = h('input', { name: 'cors_origins', value: (s.cors_origins || []).join(', '), placeholder: 'https://app.example.com' });
  const idOn = h('input', { name: 'identity_assertion', type: 'checkbox', checked: !!s.identity_assertion });
  const idHeader = h('input', { name: 'identity_header', value: (s.identity_assertion && s.identity_assertion.header) || '', placeholder: 'X-Portico-Identity' });
  const listing = h('select', { name: 'listing' },
    h('option', { value: 'full' }, 'Full: descriptions and output schemas as the document has them (default)'),
    h('option', { value: 'lean' }, 'Lean: first paragraph of each description, no output schemas, plus describe_tool'));
  listing.value = s.listing === 'lean' ? 'lean' : 'full';
  const msg = h('div');
  const checked = h('div');

  // PUT /settings replaces every setting: keep the ones this form does not
  // edit (rate limits, response cap, URIs, tool mode) as they are.
  const edited = ['route_maps', 'names', 'upstream_timeout_ms', 'max_concurrency', 'refresh_interval_s', 'forward_headers', 'cors_origins', 'listing', 'identity_assertion'];
  const collect = () => {
    const out = { ...s };
    for (const k of edited) delete out[k];
    const rm = editor ? editor.value() : (s.route_maps || []);
    if (rm.length) out.route_maps = rm;
    const nm = {};
    for (const row of namesBox.querySelectorAll('.name-row')) {
      const [k, v] = row.querySelectorAll('input');
      if (k.value.trim() && v.value.trim()) nm[k.value.trim()] = v.value.trim();
    }
    if (Object.keys(nm).length) out.names = nm;
    if (timeout.value) out.upstream_timeout_ms = Number(timeout.value);
    if (s.timeouts_ms) out.timeouts_ms = s.timeouts_ms; // not edited here: kept as set through the API
    if (conc.value) out.max_concurrency = Number(conc.value);
    if (refresh.value) out.refresh_interval_s = Number(refresh.value);
    const hs = fwd.value.split(',').map(x => x.trim()).filter(Boolean);
    if (hs.length) out.forward_headers = hs;
    const os = origins.value.split(/[\s,]+/).filter(Boolean);
    if (os.length) out.cors_origins = os;
    if (listing.value === 'lean') out.listing = 'lean';
    if (idOn.checked) out.identity_assertion = idHeader.value.trim() ? { header: idHeader.value.trim() } : {};
    return out;
  };
  const form = h('form', { class: 'stack' },
    h('section', { class: 'card stack' }, h('h2', {}, 'Route maps'),
      h('p', { class: 'muted' }, 'What each operation becomes. Rules apply in order; the first match wins; operations no rule matches become tools.'),
      editorBox,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: async () => {
        checked.replaceChildren(loading('Converting with these settings…'));
        try { checked.replaceChildren(previewView(await api.post('/preview', { spec_url: t.spec_url, settings: collect() }))); }
        catch (e) { checked.replaceChildren(errorBox(e, 'Could not preview')); }
      } }, 'Preview the result with Portico')), checked),
    h('section', { class: 'card stack' }, h('h2', {}, 'Name overrides'),
      h('p', { class: 'muted' }, 'Give a tool a clearer name. Key by operationId or "METHOD /path".'),
      namesBox, h('div', {}, h('button', { type: 'button', class: 'btn small', onclick: () => addName() }, 'Add override'))),
    h('section', { class: 'card stack' }, h('h2', {}, 'Listing'),
      field('How tools/list shows the tools', listing, 'Lean keeps every input schema as it is and cuts what a model pays for on every conversation; "Preview the result" above shows the cost of each.')),
    h('section', { class: 'card stack' }, h('h2', {}, 'Calls and refresh'),
      h('div', { class: 'grid2' },
        field('Upstream timeout (ms)', timeout, 'How long one call may take. Empty = server default.'),
        field('Max concurrent calls', conc, 'Per tenant. Empty = server default.'),
        field('Refresh interval (s)', refresh, 'How often Portico re-fetches the spec: 30–86400. Empty = default.'),
        field('Forward headers', fwd, 'Headers copied from the agent\'s MCP request to your service, comma-separated.'),
        field('Browser origins (CORS)', origins, 'Web apps that may call the MCP endpoint from a browser, e.g. https://app.example.com (exact origins, comma-separated; no * ). Empty = none.'),
        field('Signed caller identity', idOn, 'Every call to your service carries a 60-second JWT signed by Portico naming the caller (keys at /.well-known/jwks.json; see docs/security.md).'),
        field('Identity header', idHeader, 'Header that carries it. Empty = X-Portico-Identity.'))),
    msg,
    h('div', { class: 'actions sticky' }, h('button', { type: 'submit', class: 'btn primary' }, 'Save settings')));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    msg.replaceChildren(loading('Saving…'));
    try {
      await api.put(`/tenants/${enc(t.id)}/settings`, collect());
      msg.replaceChildren();
      toast(t.status === 'active' ? 'Settings saved; the live tenant reloaded.' : 'Settings saved.');
    } catch (err) { msg.replaceChildren(errorBox(err, 'Settings not saved')); }
  });
  return form;
}
