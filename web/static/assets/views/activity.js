// Activity: recent calls (filtered by tool and status on the server) with a
// latency/throughput chart, and the audit log.
import { h, loading, errorBox, unavailable, empty, table, fmtTime, ms } from '../ui.js';
import { auditSection } from './audit.js';
import { calls as loadCalls } from '../data.js';
import { callChart, bucketChart } from '../chart.js';

export async function activityTab(t) {
  const callsBox = h('div', {}, loading('Loading calls…'));
  (async () => {
    let r;
    try { r = await loadCalls(t.id, '?limit=1000'); } catch (e) { callsBox.replaceChildren(errorBox(e, 'Could not load calls')); return; }
    if (!r.available) { callsBox.replaceChildren(unavailable('Call history')); return; }
    if (!r.calls.length) { callsBox.replaceChildren(empty('No calls yet.', h('p', {}, 'Try a tool in the Tools tab, or connect an agent.'))); return; }
    const toolSel = h('select', { 'aria-label': 'Tool', name: 'tool' }, h('option', { value: '' }, 'All tools'), [...new Set(r.calls.map(c => c.tool))].sort().map(n => h('option', { value: n }, n)));
    const statuses = [...new Set(r.calls.map(c => c.status).filter(s => s !== 'ok' && s !== 'error'))].sort();
    const statusSel = h('select', { 'aria-label': 'Status', name: 'status' }, h('option', { value: '' }, 'Any status'), h('option', { value: 'ok' }, 'Succeeded'), h('option', { value: 'error' }, 'Failed'),
      statuses.map(s => h('option', { value: s }, s)));
    const view = h('div', { class: 'stack', 'aria-live': 'polite' });
    const scope = r.scope === 'replica' ? h('p', { class: 'muted small' }, 'Calls served by the Portico replica that answered this page (kept in memory: the last 1,000 calls and 24 h of per-minute totals). Prometheus has every replica\'s.') : null;
    const show = (list, chart, legend, summary) => view.replaceChildren(
      summary, chart || h('p', { class: 'muted' }, 'No timed calls to chart.'), legend,
      list.length ? table([
        { label: 'Time', render: c => fmtTime(c.at) },
        { label: 'Tool', render: c => h('code', {}, c.tool) },
        { label: 'Status', render: c => h('span', { class: c.ok ? 'ok' : 'bad', title: c.error || '' }, c.status, c.upstreamStatus ? ` (HTTP ${c.upstreamStatus})` : '') },
        { label: 'Total', render: c => ms(c.total) },
        { label: 'Portico', render: c => ms(c.gateway) },
        { label: 'Upstream', render: c => ms(c.upstream) },
      ], list.slice(0, 200), { caption: 'Recent calls', class: 'calls' }) : empty('No calls match these filters.'));
    const legend = (a, b) => h('p', { class: 'legend small' }, h('span', { class: 'sw bar' }), ' calls ', h('span', { class: 'sw err' }), ' errors ', h('span', { class: 'sw p50' }), ` ${a} latency `, h('span', { class: 'sw p95' }), ` ${b} latency`);
    const sum = s => h('p', { class: 'summary' }, `Last 24 h: ${s.calls} calls, ${s.errors} failed (${s.calls ? (s.error_rate * 100).toFixed(1) : '0.0'} %).`);
    const draw = async () => {
      if (!toolSel.value && !statusSel.value) {
        // Unfiltered: 24 h of the server's per-minute totals, when it has them.
        const now = Date.now();
        const chart = r.buckets ? bucketChart(r.buckets, now - 86400e3, now) : callChart(r.calls);
        show(r.calls, chart, r.buckets ? legend('mean', 'max') : legend('median', 'p95'), sum(r.summary));
        return;
      }
      const q = new URLSearchParams({ limit: '1000' });
      if (toolSel.value) q.set('tool', toolSel.value);
      if (statusSel.value) q.set('status', statusSel.value);
      try {
        const f = await loadCalls(t.id, '?' + q);
        show(f.calls, callChart(f.calls), legend('median', 'p95'), h('p', { class: 'summary' }, `${f.calls.length} matching calls (of the last 1,000).`));
      } catch (e) { view.replaceChildren(errorBox(e, 'Could not load calls')); }
    };
    toolSel.addEventListener('change', draw); statusSel.addEventListener('change', draw);
    await draw();
    callsBox.replaceChildren(h('div', { class: 'row filters' }, toolSel, statusSel), scope, view);
  })();
  return h('div', { class: 'stack' },
    h('section', { class: 'card stack' }, h('h2', {}, 'Recent calls'), callsBox),
    auditSection(t));
}
