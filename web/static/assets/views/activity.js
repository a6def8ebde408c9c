// Activity: recent calls with filters and a chart, and the audit log.
import { h, loading, errorBox, unavailable, empty, table, fmtTime, ms } from '../ui.js';
import { api, enc } from '../api.js';
import { calls as loadCalls } from '../data.js';
import { callChart } from '../chart.js';

export async function activityTab(t) {
  const callsBox = h('div', {}, loading('Loading calls…'));
  const auditBox = h('div', {}, loading('Loading the audit log…'));
  (async () => {
    let r;
    try { r = await loadCalls(t.id, '?limit=1000'); } catch (e) { callsBox.replaceChildren(errorBox(e, 'Could not load calls')); return; }
    if (!r.available) { callsBox.replaceChildren(unavailable('Call history')); return; }
    if (!r.calls.length) { callsBox.replaceChildren(empty('No calls yet.', h('p', {}, 'Try a tool in the Tools tab, or connect an agent.'))); return; }
    const toolSel = h('select', { 'aria-label': 'Tool' }, h('option', { value: '' }, 'All tools'), [...new Set(r.calls.map(c => c.tool))].sort().map(n => h('option', { value: n }, n)));
    const statusSel = h('select', { 'aria-label': 'Status' }, h('option', { value: '' }, 'Any status'), h('option', { value: 'ok' }, 'Succeeded'), h('option', { value: 'error' }, 'Failed'));
    const view = h('div', { class: 'stack' });
    const draw = () => {
      const shown = r.calls.filter(c => (!toolSel.value || c.tool === toolSel.value) && (!statusSel.value || (statusSel.value === 'ok') === c.ok));
      view.replaceChildren(
        callChart(shown) || h('p', { class: 'muted' }, 'No timed calls to chart.'),
        h('p', { class: 'legend small' }, h('span', { class: 'sw bar' }), ' calls ', h('span', { class: 'sw err' }), ' errors ', h('span', { class: 'sw p50' }), ' median latency ', h('span', { class: 'sw p95' }), ' p95 latency'),
        table([
          { label: 'Time', render: c => fmtTime(c.at) },
          { label: 'Tool', render: c => h('code', {}, c.tool) },
          { label: 'Status', render: c => h('span', { class: c.ok ? 'ok' : 'bad' }, c.ok ? 'ok' : 'error', c.upstreamStatus ? ` (HTTP ${c.upstreamStatus})` : '') },
          { label: 'Total', render: c => ms(c.total) },
          { label: 'Portico', render: c => ms(c.gateway) },
          { label: 'Upstream', render: c => ms(c.upstream) },
        ], shown.slice(0, 200), { caption: 'Recent calls' }));
    };
    toolSel.addEventListener('change', draw); statusSel.addEventListener('change', draw);
    draw();
    callsBox.replaceChildren(h('div', { class: 'row filters' }, toolSel, statusSel), view);
  })();
  (async () => {
    try {
      const list = (await api.get(`/tenants/${enc(t.id)}/audit?limit=200`)).audit;
      auditBox.replaceChildren(list.length ? table([
        { label: 'When', render: a => fmtTime(a.created_at) },
        { label: 'Who', render: a => h('code', {}, a.actor) },
        { label: 'What', render: a => h('code', {}, a.action) },
        { label: 'Details', render: a => a.details ? h('code', { class: 'small' }, JSON.stringify(a.details)) : '—' },
      ], list, { caption: 'Audit log' }) : empty('No changes recorded yet.'));
    } catch (e) { auditBox.replaceChildren(errorBox(e, 'Could not load the audit log')); }
  })();
  return h('div', { class: 'stack' },
    h('section', { class: 'card stack' }, h('h2', {}, 'Recent calls'), callsBox),
    h('section', { class: 'card stack' }, h('h2', {}, 'Audit log'), auditBox));
}
