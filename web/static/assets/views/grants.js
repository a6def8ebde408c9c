// Connected applications: the OAuth grants members approved on the consent
// page (Claude connectors, IDEs...), each usable until revoked here, by the
// application, or when the approving member loses admin rights.
import { h, loading, errorBox, confirm, toast, fmtTime, table, ago } from '../ui.js';
import { api, enc } from '../api.js';

export function grantsSection(t) {
  const box = h('div', {}, loading());
  const id = enc(t.id);
  async function draw() {
    let list;
    try { list = (await api.get(`/tenants/${id}/oauth-grants`)).oauth_grants; } catch (e) { box.replaceChildren(errorBox(e, 'Could not load connected applications')); return; }
    box.replaceChildren(list.length ? table([
      { label: 'Application', render: g => h('span', {}, h('strong', {}, g.client_name || 'unnamed'), h('div', { class: 'muted small' }, h('code', {}, g.client_id))) },
      { label: 'Approved by', render: g => g.user_email || g.user_id },
      { label: 'Approved', render: g => fmtTime(g.created_at) },
      { label: 'Last token', render: g => g.last_issued_at ? ago(g.last_issued_at) : '—' },
      { label: 'Scope', render: g => h('code', {}, g.scopes.join(' ')) },
      { label: 'Actions', render: g => h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Revoke ${g.client_name || g.client_id}`, onclick: async () => {
        if (!await confirm({ title: `Revoke ${g.client_name || 'this application'}?`, body: 'Its access and refresh tokens stop working at once; it must ask for approval again.', ok: 'Revoke', danger: true })) return;
        try { await api.del(`/tenants/${id}/oauth-grants/${enc(g.id)}`); toast('Access revoked.'); draw(); } catch (e) { toast(e.message, 'error'); }
      } }, 'Revoke') },
    ], list, { caption: 'Connected applications', class: 'grants' }) : h('p', { class: 'muted' }, 'No application is connected. Clients such as Claude connect with just the MCP URL and ask a tenant admin to approve.'));
  }
  draw();
  return h('section', { class: 'card stack', id: 'connected-apps' }, h('h2', {}, 'Connected applications'),
    h('p', { class: 'muted' }, 'Applications a member approved through Portico’s OAuth sign-in. They act as that member on this MCP endpoint.'), box);
}
