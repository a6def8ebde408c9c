// ui.js: the small DOM toolkit every view uses. Text goes in through
// textContent only, so nothing a tenant or upstream sends can become markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export function mount(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

// link is an in-app link: the router intercepts it (no reload).
export const link = (href, ...children) => h('a', { href, 'data-link': true }, ...children);

export const loading = (what = 'Loading…') => h('p', { class: 'loading', role: 'status' }, what);

export function empty(title, ...next) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), ...next);
}

// errorBox explains a failed request: what happened, and the server's words.
export function errorBox(err, title) {
  const e = err || {};
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', {}, title || 'Something went wrong'),
    h('p', {}, e.message || String(err)),
    e.fields && e.fields.length ? h('ul', {}, e.fields.map(f => h('li', {}, h('code', {}, f.field), ' ', f.problem))) : null,
    e.hint ? h('p', { class: 'hint' }, e.hint) : null,
    e.requestId ? h('p', { class: 'muted small' }, 'Request id ', h('code', {}, e.requestId)) : null);
}

// fieldProblems lists the fields a server refusal names (field, then its
// problem), or explains the refusal when it names none.
export function fieldProblems(err, title) {
  const e = err || {};
  return e.fields && e.fields.length ? h('ul', {}, e.fields.map(f => h('li', {}, h('code', {}, f.field), ' ', f.problem))) : errorBox(err, title);
}

// unavailable is the state of a screen whose endpoint this server lacks.
export function unavailable(what) {
  return h('div', { class: 'empty unavailable' },
    h('p', { class: 'empty-title' }, `${what} is not available on this server yet`),
    h('p', { class: 'muted' }, 'This Portico build does not have the endpoint behind this screen. Upgrade the server; everything else keeps working.'));
}

export function badge(status) {
  return h('span', { class: `badge st-${status}` }, status);
}

export function toast(text, kind = 'ok') {
  const t = h('div', { class: `toast ${kind}` }, text);
  document.getElementById('toasts').append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

export function copyButton(getText, label = 'Copy') {
  const b = h('button', { type: 'button', class: 'btn small', 'aria-label': label }, label);
  b.addEventListener('click', async () => {
    const text = typeof getText === 'function' ? getText() : getText;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard API needs a secure context; fall back to a selection copy.
      const ta = h('textarea', { class: 'offscreen' }); ta.value = text; document.body.append(ta);
      ta.select(); document.execCommand('copy'); ta.remove();
    }
    b.textContent = 'Copied';
    setTimeout(() => (b.textContent = label), 1500);
  });
  return b;
}

// codeBlock shows text that users copy: monospace, with a copy button.
export function codeBlock(text, label) {
  return h('div', { class: 'code' }, h('pre', { tabindex: 0 }, h('code', {}, text)), copyButton(text, label ? `Copy ${label}` : 'Copy'));
}

// confirm asks in a modal <dialog>; resolves true on the confirming button.
export function confirm({ title, body, ok = 'Confirm', danger = false, typeToConfirm }) {
  return new Promise(resolve => {
    const input = typeToConfirm ? h('input', { type: 'text', 'aria-label': `Type ${typeToConfirm} to confirm`, autocomplete: 'off' }) : null;
    const okBtn = h('button', { type: 'submit', class: danger ? 'btn danger' : 'btn primary', value: 'ok', disabled: !!typeToConfirm }, ok);
    if (input) input.addEventListener('input', () => (okBtn.disabled = input.value !== typeToConfirm));
    const d = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dlg-title' }, title),
        typeof body === 'string' ? h('p', {}, body) : body,
        input ? h('label', {}, `Type `, h('code', {}, typeToConfirm), ' to confirm', input) : null,
        h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'btn', value: 'cancel' }, 'Cancel'), okBtn)));
    d.addEventListener('close', () => { resolve(d.returnValue === 'ok'); d.remove(); });
    document.body.append(d);
    d.showModal();
    (input || okBtn).focus();
  });
}

export function field(label, control, help) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const helpId = help ? id + '-help' : null;
  if (helpId) control.setAttribute('aria-describedby', helpId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('p', { class: 'help', id: helpId }, help) : null);
}

export function fmtTime(v) {
  if (!v) return '—';
  const d = new Date(v);
  if (isNaN(d)) return '—';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function ago(v) {
  if (!v) return '—';
  const sec = (Date.now() - new Date(v).getTime()) / 1000;
  if (isNaN(sec)) return '—';
  if (sec < 60) return 'just now';
  if (sec < 3600) return `${Math.round(sec / 60)} min ago`;
  if (sec < 86400) return `${Math.round(sec / 3600)} h ago`;
  return `${Math.round(sec / 86400)} d ago`;
}

export function ms(v) {
  if (v === null || v === undefined || isNaN(v)) return '—';
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Number(v).toFixed(v < 10 ? 1 : 0)} ms`;
}

// table renders rows; on narrow screens CSS stacks cells using data-label.
export function table(columns, rows, opts = {}) {
  return h('div', { class: 'table-wrap' }, h('table', { class: opts.class || '' },
    opts.caption ? h('caption', { class: 'sr-only' }, opts.caption) : null,
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col' }, c.label)))),
    h('tbody', {}, rows.map(r => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : {},
      columns.map(c => h('td', { 'data-label': c.label }, c.render ? c.render(r) : (r[c.key] ?? '—'))))))));
}

export function pretty(v) {
  try { return JSON.stringify(v, null, 2); } catch { return String(v); }
}

// go navigates inside the app (app.js listens), without a reload.
export const go = path => window.dispatchEvent(new CustomEvent('portico:navigate', { detail: path }));
