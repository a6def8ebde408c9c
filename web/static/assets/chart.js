// chart.js: the latency/throughput chart, drawn as SVG by hand. Time is cut
// into intervals; bars are calls per interval (errors stacked in red), the
// two lines are latencies (Portico's and the upstream's p95 from the
// fleet's usage buckets).
import { s, ms } from './ui.js';

// usageChart charts usage buckets ({start, calls, errors, portico_ms,
// upstream_ms}) over [t0, t1] with Portico's and the upstream's p95.
export function usageChart(buckets, t0, t1, { bins: n = 48, width = 720, height = 220 } = {}) {
  if (!buckets.length) return null;
  const step = ((t1 - t0) || 1) / n;
  const bins = Array.from({ length: n }, () => ({ n: 0, err: 0, a: null, b: null }));
  for (const u of buckets) {
    const i = Math.min(n - 1, Math.max(0, Math.floor((new Date(u.start).getTime() - t0) / step)));
    const b = bins[i];
    b.n += u.calls; b.err += u.errors;
    b.a = Math.max(b.a ?? 0, u.portico_ms.p95); b.b = Math.max(b.b ?? 0, u.upstream_ms.p95);
  }
  return draw(bins, t0, step, { width, height, a: 'Portico p95', b: 'upstream p95' });
}

function draw(bins, t0, step, { width, height, a, b }) {
  const buckets = bins.length, t1 = t0 + step * buckets;
  const m = { l: 44, r: 48, t: 12, b: 26 }, W = width - m.l - m.r, H = height - m.t - m.b;
  const maxN = Math.max(1, ...bins.map(x => x.n));
  const maxL = Math.max(1, ...bins.map(x => x.b).filter(v => v !== null));
  const bw = W / buckets;
  const x = i => m.l + i * bw;
  const yN = n => m.t + H - (n / maxN) * H;
  const yL = v => m.t + H - (v / maxL) * H;
  const line = (vals, cls) => {
    const d = vals.map((v, i) => v === null ? null : `${x(i) + bw / 2},${yL(v)}`).filter(Boolean);
    return d.length ? s('polyline', { points: d.join(' '), class: cls, fill: 'none' }) : null;
  };
  const fmtT = t => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const total = bins.reduce((k, x) => k + x.n, 0), errs = bins.reduce((k, x) => k + x.err, 0);
  return s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': `${total} calls, ${errs} errors; ${a} latency up to ${ms(Math.max(0, ...bins.map(x => x.a).filter(v => v !== null)))}` },
    s('title', {}, 'Calls per interval and latency'),
    [0, 0.5, 1].map(f => s('line', { x1: m.l, x2: m.l + W, y1: m.t + H * f, y2: m.t + H * f, class: 'grid' })),
    bins.map((bin, i) => [
      s('rect', { x: x(i) + 1, y: yN(bin.n), width: Math.max(1, bw - 2), height: m.t + H - yN(bin.n), class: 'bar' }, s('title', {}, `${fmtT(t0 + i * step)}: ${bin.n} calls, ${bin.err} errors, ${a} ${ms(bin.a)}`)),
      bin.err ? s('rect', { x: x(i) + 1, y: yN(bin.err), width: Math.max(1, bw - 2), height: m.t + H - yN(bin.err), class: 'bar err' }) : null]),
    line(bins.map(x => x.a), 'p50'), line(bins.map(x => x.b), 'p95'),
    s('text', { x: m.l - 6, y: m.t + 10, class: 'axis', 'text-anchor': 'end' }, String(maxN)),
    s('text', { x: m.l - 6, y: m.t + H, class: 'axis', 'text-anchor': 'end' }, '0'),
    s('text', { x: m.l + W + 6, y: m.t + 10, class: 'axis' }, ms(maxL)),
    s('text', { x: m.l, y: height - 6, class: 'axis' }, fmtT(t0)),
    s('text', { x: m.l + W, y: height - 6, class: 'axis', 'text-anchor': 'end' }, fmtT(t1)));
}

// sparkline draws 24 hourly {calls, errors} as tiny bars (errors in red),
// labelled with its totals for screen readers.
export function sparkline(hours, { width = 120, height = 28 } = {}) {
  const max = Math.max(1, ...hours.map(x => x.calls));
  const bw = width / hours.length;
  const total = hours.reduce((k, x) => k + x.calls, 0), errs = hours.reduce((k, x) => k + x.errors, 0);
  const y = n => height - (n / max) * (height - 2);
  return s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'spark', role: 'img', 'aria-label': `${total} calls and ${errs} errors over 24 hours` },
    s('line', { x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5, class: 'grid' }),
    hours.map((x, i) => [
      x.calls ? s('rect', { x: i * bw + 0.5, y: y(x.calls), width: Math.max(1, bw - 1), height: height - y(x.calls), class: 'bar' }) : null,
      x.errors ? s('rect', { x: i * bw + 0.5, y: y(x.errors), width: Math.max(1, bw - 1), height: height - y(x.errors), class: 'bar err' }) : null]));
}
