// The tenant page: a header with status and lifecycle, and tabs for tools,
// access (tokens, credentials), settings, spec versions and activity.
import { h, link, loading, errorBox, unavailable, empty, badge, confirm, copyButton, codeBlock, toast, fmtTime, table, field, go, ago } from '../ui.js';
import { api, enc } from '../api.js';
import { snippetTabs } from '../snippets.js';
import { toolsTab } from './tools.js';
import { toolsetsTab, toolsetChoices } from './toolsets.js';
import { promptsTab } from './prompts.js';
import { settingsTab } from './settings.js';
import { versionsTab } from './versions.js';
import { activityTab } from './activity.js';
import { grantsSection } from './grants.js';
import { accountsTab, linkedSection } from './accounts.js';
import { reportView } from '../report.js';
import { watch, follow } from '../progress.js';

const TABS = [['overview', 'Overview'], ['tools', 'Tools'], ['toolsets', 'Toolsets'], ['prompts', 'Prompts'], ['access', 'Tokens & credentials'], ['accounts', 'Connected accounts'], ['settings', 'Settings'], ['versions', 'Spec versions'], ['activity', 'Activity']];

export async function tenantView(id, tab, rest) {
  let t;
  try {
    t = await api.get(`/tenants/${enc(id)}`);
  } catch (e) {
    return h('section', {}, h('h1', {}, 'Tenant'), errorBox(e, e.status === 404 ? 'No such tenant' : 'Could not load the tenant'), link('/', 'Back to tenants'));
  }
  const base = `/tenants/${enc(t.id)}`;
  const panel = h('div', { class: 'tab-body' });
  const reload = () => go(location.pathname);
  const work = h('div', { class: 'tenant-progress', 'aria-live': 'polite' });
  follow(t.id, work);
  const root = h('section', { class: 'tenant' },
    h('p', { class: 'crumbs' }, link('/', 'Tenants'), ' / '),
    h('div', { class: 'page-head' },
      h('h1', {}, t.name), badge(t.status), lifecycleButton(t, reload)),
    t.status === 'failed' && t.status_reason ? errorBox({ message: t.status_reason, hint: 'Fix the cause (service URL, spec, credentials), then activate again.' }, 'Activation failed') : null,
    t.status === 'suspended' ? errorBox({ message: t.status_reason || 'An operator suspended this tenant.' }, 'Suspended') : null,
    work,
    h('nav', { class: 'tabs', 'aria-label': 'Tenant sections' },
      TABS.map(([k, label]) => h('a', { href: k === 'overview' ? base : `${base}/${k}`, 'data-link': true, class: 'tab', 'aria-current': k === tab ? 'page' : null }, label))),
    panel);
  const render = {
    overview: () => overviewTab(t, reload),
    tools: () => toolsTab(t, rest),
    toolsets: () => toolsetsTab(t),
    prompts: () => promptsTab(t),
    access: () => accessTab(t),
    accounts: () => accountsTab(t),
    settings: () => settingsTab(t),
    versions: () => versionsTab(t),
    activity: () => activityTab(t),
  }[tab];
  panel.replaceChildren(render ? await render() : h('p', {}, 'No such section.'));
  return root;
}

function lifecycleButton(t, reload) {
  if (t.status === 'active') {
    return h('button', { type: 'button', class: 'btn', onclick: async () => {
      if (!await confirm({ title: `Deactivate ${t.name}?`, body: 'Agents get 404 at once; calls in flight finish first. Tokens and settings are kept; you can activate again.', ok: 'Deactivate', danger: true })) return;
      try { await api.post(`/tenants/${enc(t.id)}/deactivate`); toast(`${t.name} deactivated.`); reload(); }
      catch (e) { toast(e.message, 'error'); }
    } }, 'Deactivate');
  }
  if (t.status === 'suspended') return null;
  const out = h('span', { class: 'lifecycle' });
  const phases = h('div', { class: 'activation-progress', 'aria-live': 'polite' });
  const btn = h('button', { type: 'button', class: 'btn primary', onclick: async () => {
    if (!await confirm({ title: `Activate ${t.name}?`, body: `Portico will fetch the spec and start serving ${t.mcp_url} to agents with a valid token.`, ok: 'Activate' })) return;
    btn.disabled = true; btn.textContent = 'Activating…';
    out.closest('.page-head')?.after(phases);
    const stop = await watch(t.id, 'activate', phases);
    try { await api.post(`/tenants/${enc(t.id)}/activate`).finally(stop); toast(`${t.name} is live.`); reload(); }
    catch (e) { btn.disabled = false; btn.textContent = 'Activate'; phases.after(errorBox(e, 'Activation failed')); }
  } }, 'Activate');
  out.append(btn);
  return out;
}

function overviewTab(t, reload) {
  const kv = (k, ...v) => h('div', { class: 'kv' }, h('span', {}, k), ...v);
  const del = h('button', { type: 'button', class: 'btn danger', onclick: async () => {
    if (!await confirm({ title: `Delete ${t.name}?`, body: 'This removes the tenant, its credentials, tokens and spec history. It cannot be undone.', ok: 'Delete', danger: true, typeToConfirm: t.name })) return;
    try { await api.del(`/tenants/${enc(t.id)}`); toast(`${t.name} deleted.`); go('/'); } catch (e) { toast(e.message, 'error'); }
  } }, 'Delete tenant');
  return h('div', { class: 'stack' },
    h('div', { class: 'card stack' },
      kv('MCP URL', h('code', { class: 'mcp-url' }, t.mcp_url), copyButton(t.mcp_url, 'Copy URL')),
      urlEditor(t, reload),
      kv('Spec version', t.spec_version ? `v${t.spec_version}` : 'none yet (fetched on activation)'),
      kv('Created', fmtTime(t.created_at)), kv('Updated', `${fmtTime(t.updated_at)} (${ago(t.updated_at)})`)),
    reportCard(t),
    h('div', { class: 'card stack' },
      h('h2', {}, 'Connect a client'),
      t.status === 'active' ? null : h('p', { class: 'warn-box' }, 'This tenant is not active: clients get 404 until you activate it.'),
      h('p', { class: 'muted' }, 'Replace <your MCP token> with a token from ', link(`/tenants/${enc(t.id)}/access`, 'Tokens & credentials'), '.'),
      snippetTabs(t.name, t.mcp_url, '<your MCP token>')),
    h('div', { class: 'card stack danger-zone' }, h('h2', {}, 'Danger zone'), del));
}

// urlEditor shows the base and spec URLs with an Edit button that turns
// them into a form; saving sends PATCH /tenants/{id}, so the server's checks
// (a URL, an address Portico may reach) apply, and its field errors show.
function urlEditor(t, reload) {
  const box = h('div', { class: 'urls stack' });
  const view = () => {
    const edit = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Edit the base URL and spec URL' }, 'Edit');
    edit.addEventListener('click', form);
    box.replaceChildren(
      h('div', { class: 'kv' }, h('span', {}, 'Base URL'), h('code', { class: 'base-url' }, t.base_url), edit),
      h('div', { class: 'kv' }, h('span', {}, 'Spec URL'), h('code', { class: 'spec-url' }, t.spec_url)));
  };
  const form = () => {
    const base = h('input', { name: 'base_url', type: 'url', required: true, value: t.base_url, autocomplete: 'off', spellcheck: 'false' });
    const spec = h('input', { name: 'spec_url', type: 'url', value: t.spec_url, autocomplete: 'off', spellcheck: 'false' });
    const msg = h('div', { 'aria-live': 'polite' });
    const f = h('form', { class: 'stack url-form', novalidate: true, 'aria-label': 'Service URLs' },
      field('Base URL', base, 'Where Portico sends tool calls.'),
      field('Spec URL', spec, 'The OpenAPI document. Leave empty for the base URL + /openapi.json.'),
      msg,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: view }, 'Cancel'), h('button', { type: 'submit', class: 'btn primary' }, 'Save URLs')));
    f.addEventListener('submit', async e => {
      e.preventDefault();
      const patch = {};
      if (base.value.trim() !== t.base_url) patch.base_url = base.value.trim();
      if (spec.value.trim() !== t.spec_url) patch.spec_url = spec.value.trim();
      if (!Object.keys(patch).length) { view(); return; }
      for (const i of [base, spec]) i.removeAttribute('aria-invalid');
      try {
        Object.assign(t, await api.patch(`/tenants/${enc(t.id)}`, patch));
        toast(t.status === 'active' ? 'URLs saved; the tenant serves from them now.' : 'URLs saved.');
        view();
      } catch (err) {
        for (const fp of err.fields || []) { const i = fp.field === 'spec_url' ? spec : fp.field === 'base_url' ? base : null; if (i) i.setAttribute('aria-invalid', 'true'); }
        msg.replaceChildren(errorBox(err, 'Could not save the URLs'));
      }
    });
    box.replaceChildren(f);
    base.focus();
  };
  view();
  return box;
}

// reportCard loads the conformance report of the spec version the tenant
// serves (GET /spec/report). A tenant that never fetched its spec has none:
// the server's sentence says so and what to do.
function reportCard(t) {
  const box = h('div', {}, loading('Loading the conversion report…'));
  const card = h('section', { class: 'card stack conversion-report', 'aria-labelledby': 'report-title' },
    h('h2', { id: 'report-title' }, 'Conversion report'),
    h('p', { class: 'muted' }, 'What Portico made of the OpenAPI document it serves: tools, resources, what route maps excluded, names it had to change and anything it could not carry over.'),
    box);
  api.get(`/tenants/${enc(t.id)}/spec/report`).then(r => box.replaceChildren(reportView(r)), e => {
    if (e.missing) box.replaceChildren(unavailable('The conversion report'));
    else if (e.status === 404) box.replaceChildren(empty('No conversion report yet', h('p', { class: 'muted' }, e.message),
      t.status === 'active' ? null : h('p', { class: 'muted small' }, 'Activating the tenant fetches its spec and converts it.')));
    else box.replaceChildren(errorBox(e, 'Could not load the conversion report'));
  });
  return card;
}

async function accessTab(t) {
  const tokensBox = h('div', {}, loading());
  const credsBox = h('div', {}, loading());
  const id = enc(t.id);

  async function drawTokens(fresh) {
    let list;
    try { list = (await api.get(`/tenants/${id}/tokens`)).tokens; } catch (e) { tokensBox.replaceChildren(errorBox(e, 'Could not load tokens')); return; }
    const name = h('input', { name: 'token_name', required: true, placeholder: 'e.g. claude-desktop-alice', autocomplete: 'off' });
    const exp = h('input', { name: 'token_expires', type: 'date' });
    const sets = await toolsetChoices(t.id);
    const form = h('form', { class: 'inline-form' }, field('Name', name), field('Expires (optional)', exp), sets.el, h('button', { type: 'submit', class: 'btn primary' }, 'Create token'));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const body = { name: name.value.trim() };
      if (exp.value) body.expires_at = new Date(exp.value + 'T23:59:59').toISOString();
      const only = sets.value();
      if (only.length) body.toolsets = only;
      try { const r = await api.post(`/tenants/${id}/tokens`, body); drawTokens(r); }
      catch (err) { form.append(errorBox(err, 'Could not create the token')); }
    });
    tokensBox.replaceChildren(
      fresh ? h('div', { class: 'secret-once', role: 'note' },
        h('p', {}, h('strong', {}, `Token “${fresh.token.name}” created. `), 'Copy it now: it is shown only once.'),
        codeBlock(fresh.secret, 'token'),
        fresh.token.toolsets ? h('p', { class: 'small' }, `Restricted to ${fresh.token.toolsets.join(', ')}: use ${fresh.token.toolsets.length === 1 ? 'that toolset’s URL' : 'those toolsets’ URLs'}; the tenant’s own URL refuses it.`) : null,
        h('details', {}, h('summary', {}, 'Client configuration with this token'), snippetTabs(t.name, fresh.token.toolsets ? sets.url(fresh.token.toolsets[0]) || t.mcp_url : t.mcp_url, fresh.secret))) : '',
      list.length ? table([
        { label: 'Name', key: 'name' },
        { label: 'Prefix', render: k => h('code', {}, k.prefix + '…') },
        { label: 'Created', render: k => fmtTime(k.created_at) },
        { label: 'Last used', render: k => k.last_used_at ? ago(k.last_used_at) : 'never' },
        { label: 'Expires', render: k => k.expires_at ? fmtTime(k.expires_at) : 'never' },
        { label: 'May use', render: k => k.toolsets ? h('span', {}, 'toolsets ', k.toolsets.map((n, i) => [i ? ', ' : '', h('code', {}, n)])) : 'every endpoint' },
        { label: 'Actions', render: k => h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Revoke token ${k.name}`, onclick: async () => {
          if (!await confirm({ title: `Revoke “${k.name}”?`, body: 'Clients using it are refused at once. This cannot be undone.', ok: 'Revoke', danger: true })) return;
          try { await api.del(`/tenants/${id}/tokens/${enc(k.id)}`); toast('Token revoked.'); drawTokens(); } catch (e) { toast(e.message, 'error'); }
        } }, 'Revoke') },
      ], list, { caption: 'MCP tokens', class: 'tokens' }) : h('p', { class: 'muted' }, 'No tokens: agents cannot connect until you create one.'),
      form);
  }

  const testResult = h('div', { role: 'status', 'aria-live': 'polite' }); // kept across redraws
  async function drawCreds() {
    let list;
    try { list = (await api.get(`/tenants/${id}/credentials`)).credentials; } catch (e) { credsBox.replaceChildren(errorBox(e, 'Could not load credentials')); return; }
    const name = h('input', { name: 'cred_name', required: true, value: list.length ? '' : 'upstream', autocomplete: 'off' });
    const type = h('select', { name: 'cred_type' }, ['bearer', 'header', 'basic', 'query', 'oauth2_client_credentials', 'oauth2_authorization_code'].map(x => h('option', { value: x }, x)));
    const header = h('input', { name: 'cred_header', placeholder: 'X-API-Key' });
    const value = h('input', { name: 'cred_value', type: 'password', required: true, autocomplete: 'new-password' });
    // OAuth2: where and as whom Portico asks for tokens (and, for
    // oauth2_authorization_code, where each user links their account).
    const authorizeURL = h('input', { name: 'cred_authorize_url', type: 'url', placeholder: 'https://idp.example.com/oauth/authorize' });
    const authorizeField = field('Authorize URL', authorizeURL);
    const tokenURL = h('input', { name: 'cred_token_url', type: 'url', placeholder: 'https://idp.example.com/oauth/token' });
    const clientID = h('input', { name: 'cred_client_id', autocomplete: 'off' });
    const scopes = h('input', { name: 'cred_scopes', placeholder: 'read write' });
    const audience = h('input', { name: 'cred_audience', placeholder: 'optional' });
    const method = h('select', { name: 'cred_auth_method' }, ['client_secret_basic', 'client_secret_post'].map(x => h('option', { value: x }, x)));
    const oauth = h('div', { class: 'inline-form', hidden: true }, authorizeField, field('Token URL', tokenURL), field('Client id', clientID), field('Scopes (space-separated)', scopes), field('Audience', audience), field('Client authentication', method));
    const valueField = field('Value (write-only)', value);
    const valueLabel = valueField.querySelector('label');
    const showOAuth = () => {
      const on = type.value.startsWith('oauth2_');
      const perUser = type.value === 'oauth2_authorization_code';
      oauth.hidden = !on; tokenURL.required = on; clientID.required = on;
      authorizeField.hidden = !perUser; authorizeURL.required = perUser;
      valueLabel.textContent = on ? 'Client secret (write-only)' : 'Value (write-only)';
    };
    type.addEventListener('change', showOAuth);
    const form = h('form', { class: 'stack' }, h('div', { class: 'inline-form' }, field('Name', name), field('Type', type), field('Header / parameter', header), valueField, h('button', { type: 'submit', class: 'btn primary' }, 'Save')), oauth);
    const setFor = c => {
      name.value = c.name; type.value = c.type; header.value = c.header || ''; value.value = '';
      authorizeURL.value = c.authorize_url || ''; tokenURL.value = c.token_url || ''; clientID.value = c.client_id || ''; scopes.value = (c.scopes || []).join(' ');
      audience.value = c.audience || ''; method.value = c.auth_method || 'client_secret_basic';
      showOAuth(); value.focus();
    };
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const body = { type: type.value, value: value.value };
      if (header.value.trim()) body.header = header.value.trim();
      if (type.value.startsWith('oauth2_')) {
        if (type.value === 'oauth2_authorization_code') body.authorize_url = authorizeURL.value.trim();
        body.token_url = tokenURL.value.trim(); body.client_id = clientID.value.trim();
        const sc = scopes.value.trim().split(/\s+/).filter(Boolean);
        if (sc.length) body.scopes = sc;
        if (audience.value.trim()) body.audience = audience.value.trim();
        body.auth_method = method.value;
      }
      try { await api.put(`/tenants/${id}/credentials/${enc(name.value.trim())}`, body); toast(`Credential ${name.value.trim()} saved.`); drawCreds(); }
      catch (err) { form.append(errorBox(err, 'Could not save the credential')); }
      finally { value.value = ''; }
    });
    // Test connection: client credentials ask the token endpoint for a
    // token; an authorization-code credential reports each check (its
    // endpoints, its client id and secret, the signed-in user's own link).
    const checkMark = { ok: '✓', failed: '✗', skipped: '–' };
    const testCred = async c => {
      testResult.replaceChildren(h('p', { class: 'muted' }, `Testing ${c.name}…`));
      try {
        const r = await api.post(`/tenants/${id}/credentials/${enc(c.name)}/test`);
        if (r.checks) {
          testResult.replaceChildren(h('div', { class: 'stack', role: 'group', 'aria-label': `Test of credential ${c.name}` },
            h('p', { class: r.ok ? 'ok' : 'bad' }, r.ok ? `${c.name}: every check passed.` : `${c.name}: a check failed.`),
            h('ul', { class: 'checks' }, ...r.checks.map(ch => h('li', { 'data-check': ch.check, 'data-status': ch.status, class: ch.status === 'failed' ? 'bad' : '' },
              h('span', { 'aria-hidden': 'true' }, checkMark[ch.status] || '', ' '), ch.message,
              ch.code ? h('span', { class: 'muted' }, ' (', h('code', {}, ch.code), ')') : '')))));
          return;
        }
        testResult.replaceChildren(r.ok
          ? h('p', { class: 'ok' }, `${c.name}: the token endpoint issued a ${r.token_type || ''} token` + (r.expires_in ? ` valid for ${r.expires_in} s.` : '.'))
          : errorBox({ message: r.error }, `${c.name}: no token`));
      } catch (err) { testResult.replaceChildren(errorBox(err, `Could not test ${c.name}`)); }
    };
    credsBox.replaceChildren(
      list.length ? table([
        { label: 'Name', render: c => h('code', {}, c.name) },
        { label: 'Type', key: 'type' },
        { label: 'Details', render: c => c.token_url ? h('span', {}, h('code', {}, c.client_id), ' at ', h('code', {}, c.token_url)) : (c.header || '—') },
        { label: 'Value', render: () => h('span', { class: 'muted' }, '•••••• (write-only)') },
        { label: 'Updated', render: c => fmtTime(c.updated_at) },
        { label: 'Actions', render: c => h('span', { class: 'row' },
          c.type.startsWith('oauth2_') ? h('button', { type: 'button', class: 'btn small', 'aria-label': `Test connection of credential ${c.name}`, onclick: () => testCred(c) }, 'Test connection') : '',
          h('button', { type: 'button', class: 'btn small', 'aria-label': `Replace credential ${c.name}`, onclick: () => setFor(c) }, 'Replace'),
          h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete credential ${c.name}`, onclick: async () => {
            if (!await confirm({ title: `Delete credential ${c.name}?`, body: 'Calls that need it will fail until you set it again.', ok: 'Delete', danger: true })) return;
            try { await api.del(`/tenants/${id}/credentials/${enc(c.name)}`); toast('Credential deleted.'); drawCreds(); } catch (e) { toast(e.message, 'error'); }
          } }, 'Delete')) },
      ], list, { caption: 'Credentials', class: 'creds' }) : h('p', { class: 'muted' }, 'No credentials. Add one if your service needs a key or token.'),
      testResult, form);
  }
  drawTokens(); drawCreds();
  return h('div', { class: 'stack' },
    h('section', { class: 'card stack' }, h('h2', {}, 'MCP tokens'), h('p', { class: 'muted' }, 'Agents send one as Authorization: Bearer. Each is shown once when created.'), tokensBox),
    grantsSection(t),
    linkedSection(t),
    h('section', { class: 'card stack' }, h('h2', {}, 'Upstream credentials'), h('p', { class: 'muted' }, 'Portico attaches these to calls to your service. Values are encrypted and never shown again; set a new value to replace one.'), credsBox));
}
