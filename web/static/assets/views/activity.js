// Activity: usage of every replica over a chosen time range (calls, errors,
// Portico and upstream latency per bucket and per tool), the recent calls
// (filtered by tool and status on the server, paged with a cursor) and the
// audit log.
import { h, loading, errorBox, unavailable, empty, table, fmtTime, ms } from '../ui.js';
import { enc } from '../api.js';
import { auditSection } from './audit.js';
import { calls as loadCalls, usage as loadUsage } from '../data.js';
import { usageChart } from '../chart.js';

// RANGES: what the range picker offers, with the bucket each is charted in.
const RANGES = [
  { value: '1h', label: 'Last hour', ms: 3600e3, bucket: 'minute' },
  { value: '24h', label: 'Last 24 h', ms: 86400e3, bucket: 'hour' },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86400e3, bucket: 'hour' },
  { value: '30d', label: 'Last 30 days', ms: 30 * 86400e3, bucket: 'day' },
];

const pcts = l => `${ms(l.p50)} / ${ms(l.p95)} / ${ms(l.p99)}`;
const bytes = n => n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

export async function activityTab(t) {
  const usageBox = h('div', {}, loading('Loading usage…'));
  const callsBox = h('div', {}, loading('Loading calls…'));
  const rangeSel = h('select', { 'aria-label': 'Time range', name: 'range' }, RANGES.map(r => h('option', { value: r.value, selected: r.value === '24h' }, r.label)));
  const toolSel = h('select', { 'aria-label': 'Tool', name: 'tool' }, h('option', { value: '' }, 'All tools'));
  const statusSel = h('select', { 'aria-label': 'Status', name: 'status' }, h('option', { value: '' }, 'Any status'), h('option', { value: 'ok' }, 'Succeeded'), h('option', { value: 'error' }, 'Failed'),
    ['tool_error', 'upstream_4xx', 'upstream_5xx', 'timeout', 'transport', 'rate_limited', 'circuit_open', 'busy', 'invalid_args'].map(s => h('option', { value: s }, s)));
  const range = () => {
    const r = RANGES.find(x => x.value === rangeSel.value) || RANGES[1];
    const to = new Date(), from = new Date(to.getTime() - r.ms);
    return { ...r, from, to };
  };
  let usageAvailable = true;

  const drawUsage = async () => {
    const r = range();
    const q = new URLSearchParams({ from: r.from.toISOString(), to: new Date(r.to.getTime() + 60e3).toISOString(), bucket: r.bucket });
    if (toolSel.value) q.set('tool', toolSel.value);
    let u;
    try { u = await loadUsage(t.id, '?' + q); } catch (e) { usageBox.replaceChildren(errorBox(e, 'Could not load usage')); return; }
    if (!u.available) { usageAvailable = false; usageBox.replaceChildren(unavailable('Usage')); return; }
    const d = u.data;
    if (!toolSel.value) {
      const keep = toolSel.value;
      toolSel.replaceChildren(h('option', { value: '' }, 'All tools'), ...d.tools.map(x => x.tool).sort().map(n => h('option', { value: n }, n)));
      toolSel.value = keep;
    }
    const tot = d.total;
    usageBox.replaceChildren(...[
      h('p', { class: 'summary' }, `${r.label}: ${tot.calls} calls, ${tot.errors} failed (${tot.calls ? (tot.errors / tot.calls * 100).toFixed(1) : '0.0'} %), ${bytes(tot.upstream_bytes)} from the upstream.`),
      d.buckets.length ? usageChart(d.buckets, r.from.getTime(), r.to.getTime()) : h('p', { class: 'muted' }, 'No calls in this range.'),
      h('p', { class: 'legend small' }, h('span', { class: 'sw bar' }), ' calls ', h('span', { class: 'sw err' }), ' errors ', h('span', { class: 'sw p50' }), ' Portico p95 ', h('span', { class: 'sw p95' }), ' upstream p95'),
      d.tools.length ? table([
        { label: 'Tool', render: x => h('code', {}, x.tool) },
        { label: 'Calls', render: x => String(x.calls) },
        { label: 'Errors', render: x => x.errors ? h('span', { class: 'bad' }, String(x.errors)) : '0' },
        { label: 'Portico p50 / p95 / p99', render: x => pcts(x.portico_ms) },
        { label: 'Upstream p50 / p95 / p99', render: x => pcts(x.upstream_ms) },
        { label: 'Upstream bytes', render: x => bytes(x.upstream_bytes) },
      ], d.tools, { caption: 'Per tool', class: 'usage' }) : null,
      h('p', { class: 'muted small' }, 'Every replica\'s calls, from the durable call history. ',
        h('a', { href: `/api/v1/tenants/${enc(t.id)}/usage?${new URLSearchParams({ from: r.from.toISOString(), to: r.to.toISOString(), bucket: 'day', format: 'csv' })}`, download: '' }, 'Daily usage as CSV'))].filter(Boolean));
  };

  const drawCalls = async () => {
    const r = range();
    const q = new URLSearchParams({ limit: '200', from: r.from.toISOString() });
    if (toolSel.value) q.set('tool', toolSel.value);
    if (statusSel.value) q.set('status', statusSel.value);
    const filtered = toolSel.value || statusSel.value;
    let list = [], next = '';
    const more = h('button', { type: 'button', class: 'secondary' }, 'Load older calls');
    const render = () => callsBox.replaceChildren(...[h('div', { class: 'row filters' }, rangeSel, toolSel, statusSel),
      filtered ? h('p', { class: 'summary' }, `${list.length} matching calls${next ? ' so far' : ''}.`) : null,
      list.length ? table([
        { label: 'Time', render: c => fmtTime(c.at) },
        { label: 'Tool', render: c => h('code', {}, c.tool) },
        { label: 'Status', render: c => h('span', { class: c.ok ? 'ok' : 'bad', title: c.error || '' }, c.status, c.upstreamStatus && !c.ok ? ` (HTTP ${c.upstreamStatus})` : '') },
        { label: 'Total', render: c => ms(c.total) },
        { label: 'Portico', render: c => ms(c.gateway) },
        { label: 'Upstream', render: c => ms(c.upstream) },
      ], list, { caption: 'Recent calls', class: 'calls' }) : empty(filtered ? 'No calls match these filters.' : 'No calls in this range.', filtered ? '' : h('p', {}, 'Try a tool in the Tools tab, or connect an agent.')),
      next ? more : null].filter(Boolean));
    const page = async () => {
      if (next) q.set('cursor', next);
      let f;
      try { f = await loadCalls(t.id, '?' + q); } catch (e) { callsBox.replaceChildren(errorBox(e, 'Could not load calls')); return; }
      if (!f.available) { callsBox.replaceChildren(unavailable('Call history')); return; }
      list = list.concat(f.calls); next = f.next || '';
      render();
    };
    more.addEventListener('click', page);
    await page();
  };

  rangeSel.addEventListener('change', () => { drawUsage(); drawCalls(); });
  toolSel.addEventListener('change', () => { drawUsage(); drawCalls(); });
  statusSel.addEventListener('change', drawCalls);
  (async () => { await drawUsage(); if (usageAvailable) await drawCalls(); else callsBox.replaceChildren(unavailable('Call history')); })();
  return h('div', { class: 'stack' },
    h('section', { class: 'card stack' }, h('h2', {}, 'Usage'), usageBox),
    h('section', { class: 'card stack' }, h('h2', {}, 'Recent calls'), callsBox),
    auditSection(t));
}
