// Sign-in: an API key today (pasted once, kept for this tab only); email and
// password as well when the server has accounts (GET /api/v1/auth/me answers).
import { h, field, errorBox, go } from '../ui.js';
import { auth, api, ApiError } from '../api.js';

export async function loginView() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  const dest = next.startsWith('/') && !next.startsWith('//') ? next : '/';
  // Accounts: a live session goes straight in; 404 means this server has none.
  let accounts = false;
  try {
    const me = await api.get('/auth/me', { quiet401: true });
    auth.setSession(true);
    if (me && me.csrf_token) auth.setCSRF(me.csrf_token);
    go(dest);
    return h('p', { class: 'loading' }, 'Signing in…');
  } catch (e) {
    accounts = e instanceof ApiError && e.status !== 404 && e.status !== 0;
  }
  const out = h('div', { class: 'msg' });
  const keyInput = h('input', { type: 'password', name: 'api_key', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'pk_…' });
  const keyForm = h('form', { class: 'card stack', 'aria-labelledby': 'key-h' },
    h('h2', { id: 'key-h' }, 'Sign in with an API key'),
    field('API key', keyInput, 'Printed by `portico dev`, or create one with `portico admin key create --name you`. It is kept only in this browser tab.'),
    h('button', { type: 'submit', class: 'btn primary' }, 'Sign in'));
  keyForm.addEventListener('submit', async e => {
    e.preventDefault();
    const k = keyInput.value.trim();
    if (!k.startsWith('pk_')) { out.replaceChildren(errorBox({ message: 'API keys start with pk_. (An mcp_ token is for agents, not for the dashboard.)' }, 'That is not an API key')); return; }
    auth.setKey(k);
    try {
      await api.get('/tenants', { quiet401: true });
      go(dest);
    } catch (err) {
      auth.clear();
      out.replaceChildren(errorBox(err, err.status === 401 ? 'That key was not accepted' : 'Could not sign in'));
    }
  });
  let pwForm = null;
  if (accounts) {
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
    const pw = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
    pwForm = h('form', { class: 'card stack', 'aria-labelledby': 'pw-h' },
      h('h2', { id: 'pw-h' }, 'Sign in with your account'),
      field('Email', email), field('Password', pw),
      h('button', { type: 'submit', class: 'btn primary' }, 'Sign in'));
    pwForm.addEventListener('submit', async e => {
      e.preventDefault();
      try {
        const r = await api.post('/auth/login', { email: email.value, password: pw.value }, { quiet401: true });
        auth.setSession(true);
        if (r && r.csrf_token) auth.setCSRF(r.csrf_token);
        go(dest);
      } catch (err) {
        out.replaceChildren(errorBox(err, 'Could not sign in'));
      } finally { pw.value = ''; }
    });
  }
  return h('section', { class: 'login' },
    h('h1', {}, 'Sign in to Portico'),
    h('p', { class: 'lead' }, 'Turn your OpenAPI or FastAPI service into an MCP server your agents can use, and see what they will see before it goes live.'),
    out, pwForm, keyForm);
}
