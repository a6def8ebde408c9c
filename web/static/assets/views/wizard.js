// The create-tenant wizard: name and base URL → preview (nothing stored yet)
// → credentials → route maps → activate → MCP URL, token and client snippets.
import { h, field, errorBox, loading, copyButton, codeBlock, go, toast, link } from '../ui.js';
import { watch } from '../progress.js';
import { api, enc } from '../api.js';
import { previewView } from '../preview.js';
import { routeMapEditor, opsOf } from '../routemaps.js';
import { snippetTabs } from '../snippets.js';
import { reportView } from '../report.js';

const STEPS = ['Service', 'Preview', 'Credentials', 'Route maps', 'Activate'];

export function wizardView() {
  const st = { name: '', base_url: '', spec_url: '', preview: null, tenant: null, routeMaps: [] };
  const stepper = h('ol', { class: 'stepper', 'aria-label': 'Steps' });
  const body = h('div', { class: 'wizard-body' });
  const root = h('section', { class: 'wizard' }, h('h1', {}, 'Register a service'), stepper, body);

  function show(i, content) {
    stepper.replaceChildren(...STEPS.map((s, k) => h('li', { class: k < i ? 'done' : k === i ? 'current' : '', 'aria-current': k === i ? 'step' : null }, h('span', { class: 'n' }, String(k + 1)), ' ', s)));
    body.replaceChildren(content);
    const first = body.querySelector('h2');
    if (first) { first.tabIndex = -1; first.focus(); }
  }

  function stepService(err) {
    const name = h('input', { name: 'name', required: true, value: st.name, autocomplete: 'off', placeholder: 'Orders API' });
    const base = h('input', { name: 'base_url', type: 'url', required: true, value: st.base_url, placeholder: 'https://orders.internal.example.com', autocomplete: 'off' });
    const spec = h('input', { name: 'spec_url', type: 'url', value: st.spec_url, placeholder: 'defaults to base URL + /openapi.json', autocomplete: 'off' });
    const msg = h('div', {}, err ? errorBox(err, 'Portico could not read the spec') : null);
    const btn = h('button', { type: 'submit', class: 'btn primary' }, 'Preview tools');
    const form = h('form', { class: 'card stack' },
      h('h2', {}, '1. Your service'),
      field('Name', name, 'What you and your agents will call it.'),
      field('Base URL', base, 'Where Portico sends tool calls. FastAPI apps serve their OpenAPI document at /openapi.json under it.'),
      h('details', {}, h('summary', {}, 'Spec somewhere else?'), field('Spec URL', spec)),
      msg, h('div', { class: 'actions' }, btn));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      st.name = name.value.trim(); st.base_url = base.value.trim(); st.spec_url = spec.value.trim();
      btn.disabled = true;
      msg.replaceChildren(loading('Fetching and converting the spec…'));
      try {
        st.preview = await api.post('/preview', { base_url: st.base_url, ...(st.spec_url ? { spec_url: st.spec_url } : {}) });
        stepPreview();
      } catch (err2) {
        msg.replaceChildren(errorBox(err2, err2.status === 502 ? 'The service is unreachable' : err2.code === 'spec_invalid' ? 'The spec is not valid' : 'Could not preview'));
        btn.disabled = false;
      }
    });
    show(0, form);
  }

  function stepPreview() {
    const msg = h('div');
    const create = h('button', { type: 'button', class: 'btn primary' }, 'Create tenant (not live yet)');
    create.addEventListener('click', async () => {
      create.disabled = true;
      msg.replaceChildren(loading('Creating…'));
      try {
        st.tenant = await api.post('/tenants', { name: st.name, base_url: st.base_url, ...(st.spec_url ? { spec_url: st.spec_url } : {}) });
        stepCredentials();
      } catch (err) {
        create.disabled = false;
        msg.replaceChildren(errorBox(err, 'Could not create the tenant'));
      }
    });
    show(1, h('div', { class: 'card stack' },
      h('h2', {}, '2. What your agents will see'),
      h('p', { class: 'muted' }, 'Nothing is stored or live yet. This is exactly what Portico would serve.'),
      previewView(st.preview), msg,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: () => stepService() }, 'Back'), create)));
  }

  function stepCredentials() {
    const saved = h('ul', { class: 'plain' });
    const msg = h('div');
    const cname = h('input', { name: 'cred_name', value: 'upstream', required: true, pattern: '[A-Za-z0-9_.\\-]{1,64}' });
    const ctype = h('select', { name: 'cred_type' }, ['bearer', 'header', 'basic', 'query'].map(t => h('option', { value: t }, t)));
    const cheader = h('input', { name: 'cred_header', placeholder: 'X-API-Key' });
    const cvalue = h('input', { name: 'cred_value', type: 'password', autocomplete: 'new-password', required: true });
    const headerField = field('Header or query parameter', cheader, 'For type header (e.g. X-API-Key) or query (the parameter name).');
    const syncType = () => { headerField.hidden = !['header', 'query'].includes(ctype.value); };
    ctype.addEventListener('change', syncType); syncType();
    const form = h('form', { class: 'stack' },
      h('div', { class: 'grid2' }, field('Name', cname), field('Type', ctype)), headerField,
      field('Value', cvalue, 'Write-only: stored encrypted, sent only to your service, never shown again.'),
      msg, h('button', { type: 'submit', class: 'btn' }, 'Save credential'));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const body = { type: ctype.value, value: cvalue.value };
      if (cheader.value.trim()) body.header = cheader.value.trim();
      try {
        await api.put(`/tenants/${enc(st.tenant.id)}/credentials/${enc(cname.value.trim())}`, body);
        saved.append(h('li', {}, '✓ ', h('code', {}, cname.value.trim()), ` (${ctype.value}) saved`));
        cvalue.value = ''; msg.replaceChildren();
      } catch (err) { msg.replaceChildren(errorBox(err, 'Could not save the credential')); }
      finally { cvalue.value = ''; }
    });
    show(2, h('div', { class: 'card stack' },
      h('h2', {}, '3. Credentials your service needs'),
      h('p', { class: 'muted' }, 'If your service wants an API key or token, give it to Portico here. Agents never see it. Skip if the service is open.'),
      saved, form,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn primary', onclick: stepRouteMaps }, 'Next: route maps'))));
  }

  async function stepRouteMaps() {
    const msg = h('div');
    const checked = h('div');
    const editor = routeMapEditor(opsOf(st.preview), st.routeMaps, () => checked.replaceChildren());
    const check = h('button', { type: 'button', class: 'btn' }, 'Check with Portico');
    check.addEventListener('click', async () => {
      checked.replaceChildren(loading('Converting with these rules…'));
      try {
        const p = await api.post('/preview', { spec_url: st.tenant.spec_url, settings: { route_maps: editor.value() } });
        checked.replaceChildren(previewView(p));
      } catch (err) { checked.replaceChildren(errorBox(err, 'Could not preview')); }
    });
    const next = h('button', { type: 'button', class: 'btn primary' }, 'Next: activate');
    next.addEventListener('click', async () => {
      st.routeMaps = editor.value();
      if (st.routeMaps.length) {
        try { await api.put(`/tenants/${enc(st.tenant.id)}/settings`, { ...(st.tenant.settings || {}), route_maps: st.routeMaps }); }
        catch (err) { msg.replaceChildren(errorBox(err, 'Could not save the route maps')); return; }
      }
      stepActivate();
    });
    show(3, h('div', { class: 'card stack' },
      h('h2', {}, '4. Route maps (optional)'),
      h('p', { class: 'muted' }, 'Decide what each operation becomes: a tool (default), a resource, a resource template, or excluded. Rules apply in order; the first match wins.'),
      editor, h('div', { class: 'actions' }, check), checked, msg,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: stepCredentials }, 'Back'), next)));
  }

  function stepActivate() {
    const msg = h('div');
    const phases = h('div', { class: 'activation-progress', 'aria-live': 'polite' });
    const btn = h('button', { type: 'button', class: 'btn primary' }, 'Activate');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      msg.replaceChildren(loading('Activating: fetching the spec, opening the connection pool…'));
      const stop = await watch(st.tenant.id, 'activate', phases);
      try {
        st.tenant = await api.post(`/tenants/${enc(st.tenant.id)}/activate`).finally(stop);
        const tok = await api.post(`/tenants/${enc(st.tenant.id)}/tokens`, { name: 'first agent (created by the wizard)' });
        stepDone(tok.secret);
      } catch (err) {
        btn.disabled = false; btn.textContent = 'Try again';
        msg.replaceChildren(errorBox(err, 'Activation failed'));
      }
    });
    show(4, h('div', { class: 'card stack' },
      h('h2', {}, '5. Go live'),
      h('p', {}, 'Activating fetches the spec, stores it as version 1, and starts serving ', h('code', {}, st.tenant.mcp_url), '.'),
      phases, msg, h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: stepRouteMaps }, 'Back'), btn)));
  }

  // activationReport shows what the conversion of the stored spec made: the
  // activation answer carries it; an older server's does not, so ask for it.
  function activationReport(t) {
    const box = h('section', { class: 'stack activation-report' }, h('h3', {}, 'What Portico made of your spec'));
    if (t.report) { box.append(reportView(t.report, { summary: t.report_summary })); return box; }
    box.append(loading('Loading the conversion report…'));
    api.get(`/tenants/${enc(t.id)}/spec/report`)
      .then(r => box.lastChild.replaceWith(reportView(r)))
      .catch(err => box.lastChild.replaceWith(err.missing ? h('p', { class: 'muted small' }, 'This server does not serve conversion reports yet.') : errorBox(err, 'Could not load the conversion report')));
    return box;
  }

  function stepDone(secret) {
    const t = st.tenant;
    show(5, h('div', { class: 'card stack done' },
      h('h2', {}, `${t.name} is live`),
      h('div', { class: 'kv' }, h('span', {}, 'MCP URL'), h('code', { class: 'mcp-url' }, t.mcp_url), copyButton(t.mcp_url, 'Copy URL')),
      h('div', { class: 'secret-once', role: 'note' },
        h('p', {}, h('strong', {}, 'Your MCP token. '), 'It is shown only now: copy it into your client.'),
        codeBlock(secret, 'token')),
      activationReport(t),
      h('h3', {}, 'Connect a client'),
      snippetTabs(t.name, t.mcp_url, secret),
      h('div', { class: 'actions' },
        link(`/tenants/${enc(t.id)}/tools`, 'Try a tool in the playground'),
        link(`/tenants/${enc(t.id)}`, 'Open the tenant'))));
    body.querySelectorAll('.actions a').forEach((a, i) => (a.className = i ? 'btn' : 'btn primary'));
    toast(`${t.name} is live.`);
  }

  stepService();
  return root;
}
