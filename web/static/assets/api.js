// api.js: every REST call the dashboard makes. Sign-in is an API key kept in
// sessionStorage (gone when the tab closes) and sent as a bearer token, or,
// where the server has accounts, a session cookie plus X-CSRF-Token on writes.

const KEY = 'portico.apiKey';
let csrf = sessionStorage.getItem('portico.csrf') || '';

export const auth = {
  key: () => sessionStorage.getItem(KEY) || '',
  setKey(k) { sessionStorage.setItem(KEY, k.trim()); },
  csrfToken: () => csrf,
  setCSRF(t) { csrf = t || ''; if (t) sessionStorage.setItem('portico.csrf', t); else sessionStorage.removeItem('portico.csrf'); },
  session: () => sessionStorage.getItem('portico.session') === '1',
  setSession(on) { if (on) sessionStorage.setItem('portico.session', '1'); else sessionStorage.removeItem('portico.session'); },
  signedIn() { return !!this.key() || this.session(); },
  clear() { sessionStorage.removeItem(KEY); sessionStorage.removeItem('portico.session'); this.setCSRF(''); },
};

// ApiError carries the server's error shape: {"error":{"code","message","details"}}.
export class ApiError extends Error {
  constructor(status, body, requestId) {
    const e = (body && body.error) || {};
    super(e.message || `The server answered HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http_' + status);
    this.details = e.details || {};
    this.fields = this.details.fields || [];
    this.requestId = requestId;
    this.hint = hintFor(this);
  }
  get missing() { return this.status === 404 && (this.code === 'route_not_found' || this.code === 'http_404'); }
}

function hintFor(e) {
  switch (e.code) {
    case 'network': return 'Portico did not answer. Is it still running?';
    case 'spec_unreachable': return 'Check that the service is running and that Portico may reach it. Portico refuses loopback and private addresses unless the operator allows them (PORTICO_ALLOW_UPSTREAM_CIDRS; `portico dev` allows 127.0.0.0/8).';
    case 'spec_invalid': return 'The URL answered, but not with an OpenAPI document Portico can read. FastAPI serves it at /openapi.json; set a spec URL if yours is elsewhere.';
    case 'spec_too_large': return 'The document is larger than the server accepts.';
    case 'forbidden': return 'Sign in with a key that has the needed scope (write for changes, an admin key to create tenants).';
    case 'database_unavailable': return 'Portico cannot reach its database right now; try again in a few seconds.';
  }
  return '';
}

export async function request(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth.key()) headers.Authorization = 'Bearer ' + auth.key();
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let resp;
  try {
    resp = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, null);
  }
  const rid = resp.headers.get('X-Request-Id');
  if (resp.status === 204) return null;
  let data = null;
  const text = await resp.text();
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data, rid);
    if (resp.status === 401 && !quiet401) {
      auth.clear();
      window.dispatchEvent(new CustomEvent('portico:signedout', { detail: err.message }));
    }
    throw err;
  }
  return data;
}

export const api = {
  get: (p, o) => request('GET', p, undefined, o),
  post: (p, b, o) => request('POST', p, b === undefined ? {} : b, o),
  put: (p, b) => request('PUT', p, b),
  patch: (p, b) => request('PATCH', p, b),
  del: p => request('DELETE', p),
};

export const enc = encodeURIComponent;
