// app.js: the dashboard's entry point: a tiny History API router, the top
// bar, and sign-in gating. Each screen is a module under views/.
import { h, mount, toast } from './ui.js';
import { auth, api } from './api.js';
import { loginView } from './views/login.js';
import { tenantsView } from './views/tenants.js';
import { wizardView } from './views/wizard.js';
import { tenantView } from './views/tenant.js';
import { consentView } from './views/consent.js';

const routes = [
  [/^\/login$/, () => loginView(), { public: true }],
  [/^\/$/, () => tenantsView()],
  [/^\/tenants\/?$/, () => tenantsView()],
  [/^\/new$/, () => wizardView()],
  [/^\/oauth\/consent$/, () => consentView()],
  [/^\/tenants\/([^/]+)(?:\/([a-z]+))?(?:\/(.+))?$/, (id, tab, rest) => tenantView(decodeURIComponent(id), tab || 'overview', rest ? decodeURIComponent(rest) : '')],
];

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path); else history.pushState(null, '', path);
  render();
}

let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  const path = location.pathname;
  const main = document.getElementById('main');
  topnav();
  for (const [re, view, opts] of routes) {
    const m = path.match(re);
    if (!m) continue;
    if (!(opts && opts.public) && !auth.signedIn()) {
      navigate('/login?next=' + encodeURIComponent(path + location.search), { replace: true });
      return;
    }
    const el = await view(...m.slice(1));
    if (seq !== renderSeq) return; // a newer navigation won
    mount(main, el);
    const heading = main.querySelector('h1');
    document.title = heading ? `${heading.textContent} · Portico` : 'Portico';
    if (!main.contains(document.activeElement) || document.activeElement === document.body) main.focus({ preventScroll: true });
    return;
  }
  mount(main, h('div', { class: 'empty' }, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/', 'data-link': true }, 'Back to your tenants'))));
}

function topnav() {
  const nav = document.getElementById('topnav');
  if (!auth.signedIn()) { mount(nav); return; }
  mount(nav,
    h('a', { href: '/', 'data-link': true }, 'Tenants'),
    h('a', { href: '/new', 'data-link': true, class: 'btn small primary' }, 'New tenant'),
    h('button', { type: 'button', class: 'btn small', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  if (auth.session()) { try { await api.post('/auth/logout', {}, { quiet401: true }); } catch { /* already gone */ } }
  auth.clear();
  toast('Signed out.');
  navigate('/login');
}

// In-app links: plain <a href> with data-link, so they also work with
// middle-click, keyboard and "open in new tab".
document.addEventListener('click', e => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);
window.addEventListener('portico:signedout', e => {
  toast(e.detail ? `Signed out: ${e.detail}` : 'Your sign-in expired.', 'error');
  if (location.pathname !== '/login') navigate('/login?next=' + encodeURIComponent(location.pathname), { replace: true });
});
window.addEventListener('portico:navigate', e => navigate(e.detail));

render();
