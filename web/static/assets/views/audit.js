// The audit log, for people: who (email or key name), what (a sentence),
// when, and the details as a field-by-field diff; filtered by actor and
// action on the server (GET /audit?actor=&action=).
import { h, loading, errorBox, empty, table, fmtTime, pretty } from '../ui.js';
import { api, enc } from '../api.js';

const q = v => `“${v}”`;
const str = v => (v === undefined || v === null || v === '' ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
const FIELD = { name: 'name', base_url: 'base URL', spec_url: 'spec URL', settings: 'settings' };
const field = k => FIELD[k] || (k.startsWith('settings.') ? `setting ${k.slice(9)}` : k.replaceAll('_', ' '));

// ACTIONS says each action as a sentence; the label names it in the filter.
const ACTIONS = {
  'tenant.create': ['created the tenant', d => `registered the tenant${d.name ? ' ' + q(d.name) : ''}`],
  'tenant.update': ['changed the tenant', d => {
    const ks = Object.keys(d.changes || d).filter(k => k !== 'changes');
    return ks.length ? `changed the ${ks.map(field).join(', ')}` : 'changed the tenant';
  }],
  'tenant.delete': ['deleted the tenant', d => `deleted the tenant${d.name ? ' ' + q(d.name) : ''}`],
  'tenant.status': ['changed the status', d => d.to === 'active' ? `activated the tenant (was ${d.from})` : d.to === 'inactive' ? 'deactivated the tenant' : d.to === 'failed' ? 'could not activate the tenant' : `moved the tenant from ${d.from} to ${d.to}`],
  'credential.create': ['set a credential', d => `set the credential ${q(d.name)}${d.type ? ` (${d.type})` : ''}`],
  'credential.update': ['replaced a credential', d => `replaced the value of the credential ${q(d.name)}`],
  'credential.delete': ['deleted a credential', d => `deleted the credential ${q(d.name)}`],
  'prompt.create': ['created a prompt', d => `created the prompt ${q(d.name)}`],
  'prompt.update': ['changed a prompt', d => d.renamed_from ? `changed the prompt ${q(d.renamed_from)}, now ${q(d.name)}` : `changed the prompt ${q(d.name)}`],
  'prompt.delete': ['deleted a prompt', d => `deleted the prompt ${q(d.name)}`],
  'token.create': ['created an MCP token', d => `created the MCP token ${q(d.name)}`],
  'token.revoke': ['revoked an MCP token', d => `revoked the MCP token ${q(d.name || d.prefix || d.token_id)}`],
  'api_key.create': ['created an API key', d => `created the API key ${q(d.name)}${d.scopes ? ` (${[].concat(d.scopes).join(', ')})` : ''}`],
  'api_key.revoke': ['revoked an API key', d => `revoked the API key ${q(d.name || d.key_id)}`],
  'spec.version': ['stored a spec version', d => `stored spec version ${d.version}${d.tool_count !== undefined ? ` with ${d.tool_count} tools` : ''}`],
  'spec.pin': ['pinned a spec version', d => `pinned spec version ${d.version} (rolled back)`],
  'spec.unpin': ['unpinned the spec', d => `unpinned spec version ${d.was}: the newest version serves again`],
  'spec.hook_secret': ['rotated the webhook secret', () => 'made a new spec webhook secret'],
  'spec.hook_secret_delete': ['deleted the webhook secret', () => 'deleted the spec webhook secret'],
  'member.put': ['changed a member', d => `gave ${d.email || d.user_id} the role ${d.role}`],
  'member.delete': ['removed a member', d => `removed ${d.email || d.user_id}`],
  'oauth.consent': ['approved an application', d => `approved the application ${q(d.client_name || d.client_id)}`],
  'oauth.token_issue': ['issued an OAuth token', () => 'issued an access token'],
  'oauth.revoke': ['revoked an application', d => `revoked an application's access${d.reason ? ` (${d.reason})` : ''}`],
  'linked_account.link': ['linked an upstream account', d => `linked their own account for the credential ${q(d.credential)}${d.scopes && d.scopes.length ? ` (${[].concat(d.scopes).join(' ')})` : ''}`],
  'linked_account.unlink': ['unlinked an upstream account', (d, e) => e && e.actor === `user:${d.user_id}` ? `unlinked their own account for the credential ${q(d.credential)}` : `revoked the linked account of user ${d.user_id} for the credential ${q(d.credential)}`],
  'upstream.refused': ['registered a refused address', d => `tried to use a refused address for the ${field(d.field || 'URL')}`],
};

// sentence says what entry e did, in words.
export function sentence(e) {
  const a = ACTIONS[e.action];
  try { if (a) return a[1](e.details || {}, e); } catch { /* details of an older shape */ }
  return e.action.replace(/[._]/g, ' ');
}

// who names the actor: the server's actor_name (email, key name), else
// what the actor id says.
export function who(e) {
  if (e.actor_name) return e.actor_name;
  const a = e.actor || '';
  if (a === 'system') return 'Portico';
  if (a.startsWith('apikey:')) return `API key ${a.slice(7, 15)}…`;
  if (a.startsWith('oauth:')) return `OAuth client ${a.slice(6)}`;
  if (a.startsWith('user:')) return `user ${a.slice(5, 13)}…`;
  return a || '—';
}

// diffView shows an entry's details: the changes as from → to rows when
// the server recorded them, else each detail as a row.
function diffView(e) {
  const d = e.details || {};
  if (d.changes && typeof d.changes === 'object' && Object.keys(d.changes).length) {
    return h('table', { class: 'diff-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Before'), h('th', { scope: 'col' }, 'After'))),
      h('tbody', {}, Object.entries(d.changes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => h('tr', {},
        h('th', { scope: 'row' }, field(k)),
        h('td', { class: 'before' }, h('del', {}, str(v && v.from))),
        h('td', { class: 'after' }, h('ins', {}, str(v && v.to)))))));
  }
  const rows = Object.entries(d).filter(([k]) => k !== 'changes');
  if (!rows.length) return h('span', { class: 'muted' }, '—');
  return h('dl', { class: 'details-list' }, rows.map(([k, v]) => [h('dt', {}, field(k)), h('dd', {}, typeof v === 'object' && v !== null ? h('code', {}, JSON.stringify(v)) : str(v))]));
}

export function auditSection(t) {
  const box = h('div', {}, loading('Loading the audit log…'));
  const actorSel = h('select', { 'aria-label': 'Who', name: 'actor' }, h('option', { value: '' }, 'Anyone'));
  const actionSel = h('select', { 'aria-label': 'What', name: 'action' }, h('option', { value: '' }, 'Any change'));
  const actors = new Map();
  const actions = new Set();
  const fill = list => {
    for (const e of list) { if (!actors.has(e.actor)) actors.set(e.actor, who(e)); actions.add(e.action); }
    const keep = [actorSel.value, actionSel.value];
    actorSel.replaceChildren(h('option', { value: '' }, 'Anyone'), ...[...actors].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => h('option', { value: id }, name)));
    actionSel.replaceChildren(h('option', { value: '' }, 'Any change'), ...[...actions].sort().map(a => h('option', { value: a }, ACTIONS[a] ? ACTIONS[a][0] : a)));
    [actorSel.value, actionSel.value] = keep;
  };
  const load = async () => {
    const p = new URLSearchParams({ limit: '200' });
    if (actorSel.value) p.set('actor', actorSel.value);
    if (actionSel.value) p.set('action', actionSel.value);
    let list;
    try { list = (await api.get(`/tenants/${enc(t.id)}/audit?${p}`)).audit; } catch (e) { box.replaceChildren(errorBox(e, 'Could not load the audit log')); return; }
    if (!actorSel.value && !actionSel.value) fill(list);
    box.replaceChildren(list.length ? table([
      { label: 'When', render: e => h('time', { datetime: e.created_at }, fmtTime(e.created_at)) },
      { label: 'Who', render: e => h('span', { class: 'actor', title: e.actor }, who(e)) },
      { label: 'What', render: e => h('div', {}, h('span', { class: 'what' }, sentence(e)), ' ', h('code', { class: 'small muted action' }, e.action)) },
      { label: 'Details', render: e => h('div', {}, diffView(e), h('details', { class: 'raw' }, h('summary', {}, 'Raw entry'), h('pre', { tabindex: 0 }, pretty(e)))) },
    ], list, { caption: 'Audit log', class: 'audit', rowAttrs: e => ({ 'data-action': e.action }) }) : empty(actorSel.value || actionSel.value ? 'No changes match these filters.' : 'No changes recorded yet.'));
  };
  actorSel.addEventListener('change', load);
  actionSel.addEventListener('change', load);
  load();
  return h('section', { class: 'card stack' }, h('h2', {}, 'Audit log'),
    h('div', { class: 'row filters' }, actorSel, actionSel), box);
}
