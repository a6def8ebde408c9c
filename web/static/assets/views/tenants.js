// The tenant list: every tenant with its status, tools, spec version, last
// refresh and the last 24 h of calls.
import { h, link, loading, empty, errorBox, badge, table, ago } from '../ui.js';
import { api, enc } from '../api.js';
import { calls, specVersions, tools, summary24h, pool } from '../data.js';

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
      { label: 'Spec version', render: t => t.spec_version ? `v${t.spec_version}` : '—' },
      { label: 'Last refresh', render: t => cell(t, 'refresh') },
      { label: 'Calls (24 h)', render: t => cell(t, 'calls') },
      { label: 'Error rate', render: t => cell(t, 'errors') },
    ], list, { caption: 'Tenants', class: 'tenants' }));
    await pool(list, 4, async t => {
      const c = cells.get(t.id);
      const [tl, sv, cl] = await Promise.allSettled([
        t.status === 'active' ? tools(t.id) : Promise.resolve(null),
        specVersions(t.id), calls(t.id, '?limit=1000')]);
      c.tools.replaceChildren(tl.status === 'fulfilled' && tl.value ? String(tl.value.tools.length) : (t.status === 'active' ? '?' : '—'));
      c.tools.className = '';
      const v = sv.status === 'fulfilled' && sv.value.available && sv.value.versions[0];
      c.refresh.replaceChildren(v ? ago(v.fetched_at) : '—');
      if (v) c.refresh.title = v.fetched_at;
      if (cl.status === 'fulfilled' && cl.value.available) {
        const s = summary24h(cl.value.calls);
        c.calls.replaceChildren(String(s.count)); c.calls.className = '';
        c.errors.replaceChildren(s.count ? `${(s.errorRate * 100).toFixed(1)} %` : '—');
        c.errors.className = s.errorRate > 0.05 ? 'bad' : '';
      } else {
        c.calls.replaceChildren('—'); c.errors.replaceChildren('—');
        c.calls.title = c.errors.title = 'Call statistics are not available on this server yet';
      }
    });
  })();
  return root;
}
