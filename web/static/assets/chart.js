// chart.js: the latency/throughput chart, drawn as SVG by hand. Calls are
// bucketed over time; bars are calls per bucket (errors stacked in red),
// lines are median and p95 total latency.
import { s, ms } from './ui.js';

const pct = (xs, p) => { if (!xs.length) return null; const a = [...xs].sort((x, y) => x - y); return a[Math.min(a.length - 1, Math.floor(p * a.length))]; };

export function callChart(calls, { buckets = 24, width = 720, height = 220 } = {}) {
  const pts = calls.filter(c => c.at).map(c => ({ ...c, t: new Date(c.at).getTime() }));
  if (!pts.length) return null;
  const t1 = Math.max(...pts.map(p => p.t)), t0 = Math.min(...pts.map(p => p.t), t1 - 3600e3);
  const span = (t1 - t0) || 1, step = span / buckets;
  const bins = Array.from({ length: buckets }, () => ({ n: 0, err: 0, lat: [] }));
  for (const p of pts) {
    const b = bins[Math.min(buckets - 1, Math.floor((p.t - t0) / step))];
    b.n++; if (!p.ok) b.err++; if (p.total !== null) b.lat.push(p.total);
  }
  const m = { l: 44, r: 48, t: 12, b: 26 }, W = width - m.l - m.r, H = height - m.t - m.b;
  const maxN = Math.max(1, ...bins.map(b => b.n));
  const p50 = bins.map(b => pct(b.lat, 0.5)), p95 = bins.map(b => pct(b.lat, 0.95));
  const maxL = Math.max(1, ...p95.filter(v => v !== null));
  const bw = W / buckets;
  const x = i => m.l + i * bw;
  const yN = n => m.t + H - (n / maxN) * H;
  const yL = v => m.t + H - (v / maxL) * H;
  const line = (vals, cls) => {
    const d = vals.map((v, i) => v === null ? null : `${x(i) + bw / 2},${yL(v)}`).filter(Boolean);
    return d.length ? s('polyline', { points: d.join(' '), class: cls, fill: 'none' }) : null;
  };
  const fmtT = t => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const total = pts.length, errs = pts.filter(p => !p.ok).length;
  return s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': `${total} calls, ${errs} errors; median latency up to ${ms(Math.max(0, ...p50.filter(v => v !== null)))}` },
    s('title', {}, 'Calls per interval and latency'),
    [0, 0.5, 1].map(f => s('line', { x1: m.l, x2: m.l + W, y1: m.t + H * f, y2: m.t + H * f, class: 'grid' })),
    bins.map((b, i) => [
      s('rect', { x: x(i) + 1, y: yN(b.n), width: Math.max(1, bw - 2), height: m.t + H - yN(b.n), class: 'bar' }, s('title', {}, `${fmtT(t0 + i * step)}: ${b.n} calls, ${b.err} errors, median ${ms(p50[i])}`)),
      b.err ? s('rect', { x: x(i) + 1, y: yN(b.err), width: Math.max(1, bw - 2), height: m.t + H - yN(b.err), class: 'bar err' }) : null]),
    line(p50, 'p50'), line(p95, 'p95'),
    s('text', { x: m.l - 6, y: m.t + 10, class: 'axis', 'text-anchor': 'end' }, String(maxN)),
    s('text', { x: m.l - 6, y: m.t + H, class: 'axis', 'text-anchor': 'end' }, '0'),
    s('text', { x: m.l + W + 6, y: m.t + 10, class: 'axis' }, ms(maxL)),
    s('text', { x: m.l, y: height - 6, class: 'axis' }, fmtT(t0)),
    s('text', { x: m.l + W, y: height - 6, class: 'axis', 'text-anchor': 'end' }, fmtT(t1)));
}
