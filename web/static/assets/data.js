// data.js: reads shared by several screens, tolerant of the endpoints this
// server may not have yet (spec versions, calls): those resolve to
// {available: false} on 404 so the screen can say so instead of failing.
import { api, enc, ApiError } from './api.js';

async function optional(path) {
  try {
    return { available: true, data: await api.get(path) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.code !== 'not_found') return { available: false };
    if (e instanceof ApiError && e.status === 404 && /route|endpoint/i.test(e.message)) return { available: false };
    throw e;
  }
}

const num = (...vs) => { for (const v of vs) if (v !== undefined && v !== null && !isNaN(v)) return Number(v); return null; };

// normalizeCall maps a call record to {tool, ok, status, total, upstream, gateway, at}.
export function normalizeCall(c) {
  const total = num(c.latency_ms, c.total_ms, c.duration_ms);
  const upstream = num(c.upstream_ms, c.upstream_latency_ms);
  let gateway = num(c.gateway_ms, c.portico_ms);
  if (gateway === null && total !== null && upstream !== null) gateway = Math.max(0, total - upstream);
  let ok;
  if (typeof c.is_error === 'boolean') ok = !c.is_error;
  else if (typeof c.ok === 'boolean') ok = c.ok;
  else if (typeof c.status === 'string') ok = !/err|fail|timeout/i.test(c.status);
  else if (typeof c.status === 'number') ok = c.status < 400;
  else ok = !c.error;
  return {
    tool: c.tool || c.tool_name || c.name || '—',
    ok, status: c.status ?? (ok ? 'ok' : 'error'),
    upstreamStatus: c.upstream_status ?? c.http_status ?? null,
    total, upstream, gateway,
    at: c.at || c.created_at || c.started_at || c.time || null,
    error: c.error || c.error_message || '',
  };
}

export async function calls(id, query = '') {
  const r = await optional(`/tenants/${enc(id)}/calls${query}`);
  if (!r.available) return r;
  const d = r.data || {};
  const list = d.calls || d.items || [];
  return { available: true, calls: list.map(normalizeCall), buckets: d.buckets || null, summary: d.summary || summary24h(list.map(normalizeCall)), scope: d.scope || '', next: d.next_cursor || '' };
}

// usage reads the fleet's usage of tenant id: {from, to, bucket, buckets, tools, total}.
export async function usage(id, query = '') {
  return optional(`/tenants/${enc(id)}/usage${query}`);
}

export async function specVersions(id) {
  const r = await optional(`/tenants/${enc(id)}/spec/versions`);
  if (!r.available) return r;
  const list = (r.data && (r.data.versions || r.data.spec_versions)) || [];
  list.sort((a, b) => b.version - a.version);
  const st = (r.data && r.data.status) || {};
  return { available: true, versions: list, status: st, pinned: st.pinned_version ?? (r.data && r.data.pinned_version) ?? null };
}

export async function tools(id) {
  try {
    return { live: true, tools: (await api.get(`/tenants/${enc(id)}/tools`)).tools };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { live: false, tools: [], message: e.message };
    throw e;
  }
}

// summary24h is calls and error rate over the last day.
export function summary24h(list) {
  const since = Date.now() - 86400e3;
  const recent = list.filter(c => !c.at || new Date(c.at).getTime() >= since);
  const errors = recent.filter(c => !c.ok).length;
  return { calls: recent.length, errors, error_rate: recent.length ? errors / recent.length : 0 };
}

// pool runs fn over items with at most n at a time.
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) { const k = i++; try { out[k] = await fn(items[k]); } catch (e) { out[k] = { error: e }; } }
  }));
  return out;
}
