// Consent: an MCP client (Claude, an IDE, the Inspector) asks, through
// Portico's OAuth authorization endpoint, to use one tenant's MCP endpoint
// as the signed-in user. This page shows who asks, for which tenant and
// with which scope, and sends the answer back (session cookie + CSRF
// token). Only a tenant admin or owner (or an operator) can approve:
// approving lets the application call the tenant's tools. When the tenant
// has credentials that act for each user (oauth2_authorization_code), the
// page shows whether the user linked theirs and runs the link flow, coming
// back here afterwards.
import { h, errorBox, go } from '../ui.js';
import { auth } from '../api.js';
import { startLink, linkOutcome } from './accounts.js';

// The callback adds these to the page's URL; they are not part of the
// authorization request.
const LINK_PARAMS = ['linked', 'link_error', 'credential'];

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) { headers['Content-Type'] = 'application/json'; headers['X-CSRF-Token'] = auth.csrfToken(); }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw Object.assign(new Error('Portico did not answer. Is it still running?'), { status: 0 });
  }
  const data = await resp.json().catch(() => null);
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw Object.assign(new Error(e.message || `The server answered HTTP ${resp.status}`), { status: resp.status, code: e.code, requestId: resp.headers.get('X-Request-Id') });
  }
  return data;
}

function signInAgain() {
  auth.clear();
  go('/login?next=' + encodeURIComponent(location.pathname + location.search));
}

export async function consentView() {
  const q = new URLSearchParams(location.search);
  LINK_PARAMS.forEach(k => q.delete(k));
  const request = q.toString();
  let d;
  try {
    d = await call('GET', '/oauth/authorize/details?' + request);
  } catch (err) {
    if (err.status === 401) { signInAgain(); return h('p', { class: 'loading' }, 'Signing in…'); }
    return h('section', { class: 'login' }, h('h1', {}, 'This authorization request cannot be used'), errorBox(err, 'Authorization request refused'),
      h('p', { class: 'muted' }, 'Go back to the application and connect again. If it keeps failing, the application is misconfigured.'));
  }
  const out = h('div', { class: 'msg' });
  const client = d.client.name || d.client.id;
  const approve = h('button', { type: 'button', class: 'btn primary', disabled: !d.can_approve }, 'Approve');
  const deny = h('button', { type: 'button', class: 'btn' }, 'Deny');
  async function decide(yes) {
    approve.disabled = deny.disabled = true;
    try {
      const r = await call('POST', '/oauth/authorize', { request, approve: yes });
      out.replaceChildren(h('p', { class: 'loading', role: 'status' }, yes ? `Approved. Returning to ${client}…` : `Denied. Returning to ${client}…`));
      location.assign(r.redirect_to);
    } catch (err) {
      if (err.status === 401) { signInAgain(); return; }
      out.replaceChildren(errorBox(err, 'Could not record your answer'));
      approve.disabled = !d.can_approve; deny.disabled = false;
    }
  }
  approve.addEventListener('click', () => decide(true));
  deny.addEventListener('click', () => decide(false));
  const row = (k, ...v) => h('div', { class: 'kv' }, h('span', {}, k), h('span', {}, ...v));
  const linkMsg = h('div', { 'aria-live': 'polite' });
  const accounts = (d.connected_accounts || []).map(a => h('li', { 'data-credential': a.credential },
    a.linked
      ? h('span', { class: 'ok', 'data-linked': a.credential }, `Your ${a.provider} account is linked (${a.credential}).`)
      : h('span', {}, h('span', { 'data-unlinked': a.credential }, `You have not linked your ${a.provider} account (${a.credential}): calls that need it will ask you to. `),
        h('button', { type: 'button', class: 'btn small', onclick: async e => {
          const btn = e.currentTarget;
          btn.disabled = true;
          try { await startLink(d.tenant.id, a.credential, '/oauth/consent?' + request); } catch (err) { btn.disabled = false; linkMsg.replaceChildren(errorBox(err, 'Could not start linking')); }
        } }, `Link your ${a.provider} account`))));
  return h('section', { class: 'login consent' },
    h('h1', {}, `Allow ${client} to use ${d.tenant.name}?`),
    h('div', { class: 'card stack' },
      row('Application', h('strong', { id: 'consent-client' }, client),
        d.client.uri ? h('span', { class: 'muted small' }, ' · ', h('a', { href: d.client.uri, rel: 'noopener noreferrer', target: '_blank' }, d.client.uri)) : null,
        h('div', { class: 'muted small' }, d.client.metadata_document ? 'Identified by its metadata document: ' : 'Registered client id: ', h('code', {}, d.client.id))),
      row('Tenant', h('strong', { id: 'consent-tenant' }, d.tenant.name), ' ', h('code', {}, d.tenant.id)),
      row('Access', h('ul', { id: 'consent-scopes' }, d.scopes.map(s => h('li', {}, h('code', {}, s.name), ' ', s.description)))),
      row('Returns to', h('code', {}, d.redirect_host)),
      row('Signed in as', d.user, ' ', h('span', { class: 'muted small' }, `(${d.role})`)),
      accounts.length ? row('Your accounts', h('ul', { id: 'consent-accounts' }, accounts)) : null),
    accounts.length ? linkOutcome() : null,
    linkMsg,
    d.can_approve ? null : h('div', { class: 'error-box', role: 'alert', id: 'consent-reason' }, h('strong', {}, 'You cannot approve this'), h('p', {}, d.reason)),
    h('p', { class: 'muted small' }, `Approving lets ${client} act as you on this tenant's MCP endpoint until the access is revoked. Only approve applications you started connecting yourself.`),
    out,
    h('div', { class: 'actions' }, deny, approve));
}
