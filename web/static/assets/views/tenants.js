// The tenant list: every tenant with its status, tools, spec version, last
// refresh and the last 24 h of calls.
import { h, link, loading, empty, errorBox, badge, table, ago } from '../ui.js';
import { api, enc } from '../api.js';
import { calls, specVersions, tools, pool } from '../data.js';

export async function tenantsView() {
  const body = h('div', {}, loading('Loading tenants…'));
  const root = h('section', {},
    h('div', { class: 'page-head' }, h('h1', {}, 'Tenants'), link('/new', 'New tenant')),
    body);
  root.querySelector('.page-head a').className = 'btn primary';
  (async () => {
    let list;
    try {
      list = (await api.get('/tenants')).tenants;
    } catch (e) {
      body.replaceChildren(errorBox(e, 'Could not load tenants'));
      return;
    }
    if (!list.length) {
      body.replaceChildren(empty('No tenants yet.',
        h('p', {}, 'A tenant is one of your services served as an MCP server. Give Portico its base URL; you will see its tools before anything goes live.'),
        link('/new', 'Register your first service')));
      body.querySelector('.empty a').className = 'btn primary';
      return;
    }
    const cells = new Map(list.map(t => [t.id, {}]));
    const cell = (t, k) => { const el = h('span', { class: 'muted' }, '…'); cells.get(t.id)[k] = el; return el; };
    body.replaceChildren(table([
      { label: 'Name', render: t => h('div', {}, link(`/tenants/${enc(t.id)}`, t.name), h('div', { class: 'muted small mono' }, t.base_url)) },
      { label: 'Status', render: t => badge(t.status) },
      { label: 'Tools', render: t => cell(t, 'tools') },
      { label: 'Spec version', render: t => { const el = cell(t, 'version'); el.replaceChildren(t.spec_version ? `v${t.spec_version}` : '—'); el.className = ''; return el; } },
      { label: 'Last refresh', render: t => cell(t, 'refresh') },
      { label: 'Calls (24 h)', render: t => cell(t, 'calls') },
      { label: 'Error rate', render: t => cell(t, 'errors') },
    ], list, { caption: 'Tenants', class: 'tenants' }));
    await pool(list, 4, async t => {
      const c = cells.get(t.id);
      const [tl, sv, cl] = await Promise.allSettled([
        t.status === 'active' ? tools(t.id) : Promise.resolve(null),
        specVersions(t.id), calls(t.id, '?limit=1')]);
      c.tools.replaceChildren(tl.status === 'fulfilled' && tl.value ? String(tl.value.tools.length) : (t.status === 'active' ? '?' : '—'));
      c.tools.className = '';
      const v = sv.status === 'fulfilled' && sv.value.available && sv.value.versions[0];
      const st = sv.status === 'fulfilled' && sv.value.available ? sv.value.status : null;
      if (st && st.serving_version) {
        c.version.replaceChildren(`v${st.serving_version}`, st.pinned_version ? h('span', { class: 'badge st-pinned' }, 'pinned') : '');
        if (st.pinned_version && st.newest_version > st.pinned_version) c.version.title = `v${st.newest_version} is stored but not served`;
      }
      const last = sv.status === 'fulfilled' && sv.value.available && sv.value.status.last_refresh_at || (v && v.fetched_at);
      c.refresh.replaceChildren(last ? ago(last) : '—');
      if (last) c.refresh.title = last;
      c.refresh.className = sv.status === 'fulfilled' && sv.value.available && sv.value.status.last_refresh_error ? 'bad' : '';
      if (c.refresh.className) c.refresh.title = `Last refresh failed: ${sv.value.status.last_refresh_error}`;
      if (cl.status === 'fulfilled' && cl.value.available) {
        const s = cl.value.summary;
        c.calls.replaceChildren(String(s.calls)); c.calls.className = '';
        c.errors.replaceChildren(s.calls ? `${(s.error_rate * 100).toFixed(1)} %` : '—');
        c.errors.className = s.error_rate > 0.05 ? 'bad' : '';
        c.calls.title = c.errors.title = cl.value.scope === 'replica' ? 'Calls served by the replica that answered, last 24 h' : 'Calls of every replica, last 24 h';
      } else {
        c.calls.replaceChildren('—'); c.errors.replaceChildren('—');
        c.calls.title = c.errors.title = 'Call statistics are not available on this server yet';
      }
    });
  })();
  return root;
}
