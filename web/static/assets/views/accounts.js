// Connected accounts: per-user delegated access. A tenant credential of
// type oauth2_authorization_code acts for each user with their own account
// at the provider; here a user links (authorization code + PKCE, run by
// Portico) or unlinks theirs, and tenant admins see who linked and can
// revoke a link. Tokens are never shown: Portico keeps them sealed.
import { h, loading, errorBox, confirm, toast, fmtTime, table, ago } from '../ui.js';
import { api, enc } from '../api.js';

// startLink asks Portico for the provider's authorization URL (setting the
// cookie that binds the flow to this browser) and goes there; the provider
// sends the browser back to Portico, which returns it to returnTo.
export async function startLink(tenantID, credential, returnTo) {
  const r = await api.post(`/tenants/${enc(tenantID)}/connected-accounts/${enc(credential)}/link`, { return_to: returnTo });
  location.assign(r.authorize_url);
}

// linkOutcome reads what the callback added to the page's URL.
export function linkOutcome() {
  const q = new URLSearchParams(location.search);
  if (q.get('linked')) return h('p', { class: 'ok', role: 'status', id: 'link-outcome' }, `Your account for ${q.get('linked')} is linked. Calls you make through an agent now use it.`);
  if (q.get('link_error')) return errorBox({ message: q.get('link_error') }, `Linking ${q.get('credential') || 'the account'} did not complete`);
  return null;
}

// yourAccounts lists the tenant's per-user credentials with the signed-in
// user's link state and a Link / Unlink button each.
export function yourAccounts(t, { returnTo } = {}) {
  const box = h('div', { id: 'your-accounts' }, loading());
  const id = enc(t.id);
  const wanted = new URLSearchParams(location.search).get('link');
  async function draw() {
    let list;
    try { list = (await api.get(`/tenants/${id}/connected-accounts`)).accounts; } catch (e) {
      box.replaceChildren(e.status === 403
        ? h('p', { class: 'muted' }, 'Connected accounts belong to people: sign in to the dashboard with your email and password to link yours.')
        : errorBox(e, 'Could not load your connected accounts'));
      return;
    }
    if (!list.length) { box.replaceChildren(h('p', { class: 'muted' }, 'This tenant has no credential that acts for each user (type oauth2_authorization_code).')); return; }
    const msg = h('div', { 'aria-live': 'polite' });
    box.replaceChildren(table([
      { label: 'Credential', render: a => h('code', {}, a.credential) },
      { label: 'Provider', key: 'provider' },
      { label: 'Status', render: a => a.linked
        ? h('span', { class: 'badge st-active', 'data-linked': a.credential }, `Linked ${ago(a.linked_at)}`)
        : h('span', { class: 'badge st-inactive', 'data-unlinked': a.credential }, 'Not linked') },
      { label: 'Scopes', render: a => h('code', {}, (a.linked && a.granted_scopes ? a.granted_scopes : a.scopes).join(' ') || '—') },
      { label: 'Actions', render: a => a.linked
        ? h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Unlink your ${a.provider} account for ${a.credential}`, onclick: async () => {
          if (!await confirm({ title: `Unlink your ${a.provider} account?`, body: 'Portico deletes your tokens for it. Your calls that need it fail until you link again.', ok: 'Unlink', danger: true })) return;
          try { await api.del(`/tenants/${id}/connected-accounts/${enc(a.credential)}`); toast('Account unlinked.'); draw(); } catch (e) { msg.replaceChildren(errorBox(e, 'Could not unlink')); }
        } }, 'Unlink')
        : h('button', { type: 'button', class: 'btn small' + (wanted === a.credential ? ' primary' : ''), 'aria-label': `Link your ${a.provider} account for ${a.credential}`, onclick: async e => {
          const btn = e.currentTarget;
          btn.disabled = true;
          try { await startLink(t.id, a.credential, returnTo || location.pathname); } catch (err) { btn.disabled = false; msg.replaceChildren(errorBox(err, 'Could not start linking')); }
        } }, `Link your ${a.provider} account`) },
    ], list, { caption: 'Your connected accounts', class: 'accounts' }), msg);
  }
  draw();
  return box;
}

// accountsTab is the tenant's "Connected accounts" tab for the signed-in user.
export function accountsTab(t) {
  return h('div', { class: 'stack' },
    h('section', { class: 'card stack' }, h('h2', {}, 'Your connected accounts'),
      h('p', { class: 'muted' }, 'Some credentials act for each person: calls an agent makes for you send your own account’s token, so the service shows you what you may see. Link yours once; Portico refreshes it.'),
      linkOutcome(), yourAccounts(t)));
}

// linkedSection shows tenant admins who linked which account (never a
// token) with a Revoke button each; it hides itself for other members.
export function linkedSection(t) {
  const box = h('div', {}, loading());
  const section = h('section', { class: 'card stack', id: 'linked-accounts' }, h('h2', {}, 'Linked user accounts'),
    h('p', { class: 'muted' }, 'Who linked an account at a provider for a per-user credential (oauth2_authorization_code). Revoking deletes that person’s tokens; their next call on any replica needs a new link.'), box);
  const id = enc(t.id);
  async function draw() {
    let list;
    try { list = (await api.get(`/tenants/${id}/linked-accounts`)).linked_accounts; } catch (e) {
      if (e.status === 403) { section.hidden = true; return; }
      box.replaceChildren(errorBox(e, 'Could not load linked accounts')); return;
    }
    box.replaceChildren(list.length ? table([
      { label: 'Credential', render: l => h('code', {}, l.credential) },
      { label: 'User', render: l => l.email || l.user_id },
      { label: 'Linked', render: l => fmtTime(l.linked_at) },
      { label: 'Last refresh', render: l => l.refreshed_at ? ago(l.refreshed_at) : '—' },
      { label: 'Scopes', render: l => h('code', {}, (l.scopes || []).join(' ') || '—') },
      { label: 'Actions', render: l => h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Revoke ${l.email}'s link for ${l.credential}`, onclick: async () => {
        if (!await confirm({ title: `Revoke ${l.email}’s link?`, body: 'Their tokens for this provider are deleted at once; their calls fail until they link again.', ok: 'Revoke', danger: true })) return;
        try { await api.del(`/tenants/${id}/linked-accounts/${enc(l.credential)}/${enc(l.user_id)}`); toast('Link revoked.'); draw(); } catch (e) { toast(e.message, 'error'); }
      } }, 'Revoke') },
    ], list, { caption: 'Linked user accounts', class: 'linked' }) : h('p', { class: 'muted' }, 'Nobody has linked an account yet.'));
  }
  draw();
  return section;
}
