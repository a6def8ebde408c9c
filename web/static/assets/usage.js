// usage.js: a tenant's tool-call figures for the last 24 h on the home
// screen, the one place it reads them: GET /calls, which reads the fleet's
// durable call history (per-minute totals of every replica, and the last
// 1,000 calls for the p95).
import { calls } from './data.js';

const DAY = 86400e3;

// usage resolves to {available, calls, errors, errorRate, p95, hours, scope}:
// hours is 24 hourly {calls, errors} buckets, oldest first; p95 is the 95th
// percentile latency in ms of the recent calls within the day (null if none).
export async function usage(id, now = Date.now()) {
  const r = await calls(id, '?limit=1000');
  if (!r.available) return { available: false };
  const since = now - DAY;
  const hours = Array.from({ length: 24 }, () => ({ calls: 0, errors: 0 }));
  const slot = t => Math.min(23, Math.floor((t - since) / 3600e3));
  if (r.buckets) {
    for (const b of r.buckets) {
      const t = new Date(b.start).getTime();
      if (t < since) continue;
      const h = hours[slot(t)]; h.calls += b.calls; h.errors += b.errors;
    }
  } else {
    for (const c of r.calls) {
      const t = c.at ? new Date(c.at).getTime() : now;
      if (t < since) continue;
      const h = hours[slot(t)]; h.calls++; if (!c.ok) h.errors++;
    }
  }
  const lat = r.calls.filter(c => c.total !== null && (!c.at || new Date(c.at).getTime() >= since)).map(c => c.total);
  const total = hours.reduce((k, h) => k + h.calls, 0), errors = hours.reduce((k, h) => k + h.errors, 0);
  return { available: true, calls: total, errors, errorRate: total ? errors / total : 0, p95: percentile(lat, 0.95), latencies: lat, hours, scope: r.scope };
}

// percentile is the nearest-rank percentile of xs (null when empty).
export function percentile(xs, p) {
  if (!xs.length) return null;
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil(p * a.length) - 1))];
}
