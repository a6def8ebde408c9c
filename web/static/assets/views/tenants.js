// The home screen: the last 24 h across tenants at a glance (calls, errors,
// p95 latency), what needs attention first (failed activations, failed
// refreshes, each with its reason), then every tenant with its status,
// tools, spec version, last refresh and a sparkline of its calls.
import { h, link, loading, empty, errorBox, badge, table, ago, ms } from '../ui.js';
import { api, enc } from '../api.js';
import { specVersions, tools, pool } from '../data.js';
import { usage, percentile } from '../usage.js';
import { sparkline } from '../chart.js';

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
    // Failed tenants first; failed refreshes move up once known.
    list.sort((a, b) => (b.status === 'failed') - (a.status === 'failed'));
    const cells = new Map(list.map(t => [t.id, {}]));
    const cell = (t, k) => { const el = h('span', { class: 'muted' }, '…'); cells.get(t.id)[k] = el; return el; };
    const glance = h('section', { class: 'card glance', 'aria-labelledby': 'glance-title' },
      h('h2', { id: 'glance-title' }, 'Last 24 hours'), loading('Adding up calls…'));
    const attention = h('section', { class: 'attention', 'aria-labelledby': 'attention-title', hidden: true },
      h('h2', { id: 'attention-title' }, 'Needs attention'), h('ul', { class: 'plain' }));
    const problems = attention.querySelector('ul');
    const flag = (t, kind, text, href) => {
      attention.hidden = false;
      problems.append(h('li', { class: 'problem', dataset: { tenant: t.id, kind } },
        link(href, t.name), ' ', h('span', { class: 'bad' }, kind === 'failed' ? 'activation failed' : 'last refresh failed'), ': ', h('span', { class: 'reason' }, text)));
    };
    for (const t of list) if (t.status === 'failed') flag(t, 'failed', t.status_reason || 'no reason recorded', `/tenants/${enc(t.id)}`);
    const tbl = table([
      { label: 'Name', render: t => h('div', {}, link(`/tenants/${enc(t.id)}`, t.name), h('div', { class: 'muted small mono' }, t.base_url)) },
      { label: 'Status', render: t => h('div', {}, badge(t.status), t.status === 'failed' && t.status_reason ? h('div', { class: 'small bad status-reason' }, t.status_reason) : null) },
      { label: 'Tools', render: t => cell(t, 'tools') },
      { label: 'Spec version', render: t => { const el = cell(t, 'version'); el.replaceChildren(t.spec_version ? `v${t.spec_version}` : '—'); el.className = ''; return el; } },
      { label: 'Last refresh', render: t => cell(t, 'refresh') },
      { label: 'Calls (24 h)', render: t => cell(t, 'calls') },
      { label: 'Error rate', render: t => cell(t, 'errors') },
      { label: 'p95', render: t => cell(t, 'p95') },
      { label: 'Trend', render: t => cell(t, 'spark') },
    ], list, { caption: 'Tenants', class: 'tenants', rowAttrs: t => ({ 'data-tenant': t.id, class: t.status === 'failed' ? 'failing' : null }) });
    body.replaceChildren(glance, attention, tbl);
    const tbody = tbl.querySelector('tbody');
    const all = { calls: 0, errors: 0, lat: [], counted: 0, replica: false };
    await pool(list, 4, async t => {
      const c = cells.get(t.id);
      const [tl, sv, us] = await Promise.allSettled([
        t.status === 'active' ? tools(t.id) : Promise.resolve(null),
        specVersions(t.id), usage(t.id)]);
      c.tools.replaceChildren(tl.status === 'fulfilled' && tl.value ? String(tl.value.tools.length) : (t.status === 'active' ? '?' : '—'));
      c.tools.className = '';
      const v = sv.status === 'fulfilled' && sv.value.available && sv.value.versions[0];
      const st = sv.status === 'fulfilled' && sv.value.available ? sv.value.status : null;
      if (st && st.serving_version) {
        c.version.replaceChildren(`v${st.serving_version}`, st.pinned_version ? h('span', { class: 'badge st-pinned' }, 'pinned') : '');
        if (st.pinned_version && st.newest_version > st.pinned_version) c.version.title = `v${st.newest_version} is stored but not served`;
      }
      const last = st && st.last_refresh_at || (v && v.fetched_at);
      c.refresh.replaceChildren(last ? ago(last) : '—');
      c.refresh.className = '';
      if (last) c.refresh.title = last;
      if (st && st.last_refresh_error) {
        c.refresh.className = 'bad';
        c.refresh.append(h('div', { class: 'small refresh-error' }, `Failed: ${st.last_refresh_error}`));
        flag(t, 'refresh', st.last_refresh_error, `/tenants/${enc(t.id)}/versions`);
        const row = tbody.querySelector(`tr[data-tenant="${CSS.escape(t.id)}"]`);
        const firstOk = tbody.querySelector('tr:not(.failing)');
        if (row && !row.classList.contains('failing')) {
          row.classList.add('failing');
          if (firstOk && firstOk !== row) firstOk.before(row);
        }
      }
      if (us.status === 'fulfilled' && us.value.available) {
        const u = us.value;
        all.calls += u.calls; all.errors += u.errors; all.lat.push(...u.latencies); all.counted++;
        all.replica = all.replica || u.scope === 'replica';
        c.calls.replaceChildren(String(u.calls)); c.calls.className = '';
        c.errors.replaceChildren(u.calls ? `${(u.errorRate * 100).toFixed(1)} %` : '—');
        c.errors.className = u.errorRate > 0.05 ? 'bad' : '';
        c.p95.replaceChildren(ms(u.p95)); c.p95.className = '';
        c.spark.replaceChildren(sparkline(u.hours)); c.spark.className = '';
        if (u.scope === 'replica') c.calls.title = c.errors.title = 'Calls served by the replica that answered, last 24 h';
      } else {
        for (const k of ['calls', 'errors', 'p95', 'spark']) c[k].replaceChildren('—');
        c.calls.title = c.errors.title = 'Call statistics are not available on this server yet';
      }
    });
    const figure = (label, value, cls) => h('div', { class: `figure ${cls || ''}` }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));
    glance.replaceChildren(h('h2', { id: 'glance-title' }, 'Last 24 hours'),
      h('div', { class: 'figures' },
        figure('tool calls', String(all.calls), 'calls'),
        figure(`errors (${all.calls ? (all.errors / all.calls * 100).toFixed(1) : '0.0'} %)`, String(all.errors), all.errors ? 'errors bad' : 'errors'),
        figure('p95 latency', ms(percentile(all.lat, 0.95)), 'p95'),
        figure('tenants need attention', String(problems.children.length), problems.children.length ? 'attention-count bad' : 'attention-count')),
      all.replica ? h('p', { class: 'muted small' }, 'Calls served by the Portico replica that answered; p95 over its last 1,000 calls per tenant.') : null);
  })();
  return root;
}
