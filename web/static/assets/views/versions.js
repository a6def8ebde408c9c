// Spec versions: history with diffs, refresh now, pin (rollback).
import { h, loading, errorBox, unavailable, fmtTime, ago, toast, confirm, empty } from '../ui.js';
import { api, enc } from '../api.js';
import { specVersions } from '../data.js';

export function diffView(d) {
  if (!d) return null;
  const part = (label, cls, items) => items && items.length ? h('div', { class: `diff ${cls}` }, h('strong', {}, `${label} (${items.length})`),
    h('ul', {}, items.map(x => h('li', {}, h('code', {}, typeof x === 'string' ? x : x.name || JSON.stringify(x)))))) : null;
  const n = ['added', 'removed', 'changed'].reduce((a, k) => a + ((d[k] || []).length), 0);
  if (!n) return h('p', { class: 'muted small' }, 'No tool changes.');
  return h('div', { class: 'diffs' }, part('Added', 'add', d.added), part('Removed', 'del', d.removed), part('Changed', 'chg', d.changed));
}

export async function versionsTab(t) {
  const id = enc(t.id);
  const result = h('div', { 'aria-live': 'polite' });
  const list = h('div', {}, loading('Loading versions…'));
  const btn = h('button', { type: 'button', class: 'btn primary' }, 'Refresh now');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    result.replaceChildren(loading('Fetching the spec…'));
    try {
      const r = await api.post(`/tenants/${id}/spec/refresh`);
      result.replaceChildren(h('div', { class: 'card stack refresh-result' },
        h('h3', {}, r.changed ? `New version v${r.version}` : `Unchanged (still v${r.version})`),
        r.changed ? diffView(r.diff) : h('p', { class: 'muted' }, 'The service serves the same document as before.')));
      draw();
    } catch (e) {
      result.replaceChildren(e.missing ? unavailable('Refreshing the spec') : errorBox(e, e.status === 502 ? 'The service is unreachable; the last good version keeps serving' : 'Refresh failed'));
    } finally { btn.disabled = false; }
  });
  async function draw() {
    let r;
    try { r = await specVersions(t.id); } catch (e) { list.replaceChildren(errorBox(e, 'Could not load versions')); return; }
    if (!r.available) { list.replaceChildren(unavailable('Spec version history')); return; }
    if (!r.versions.length) { list.replaceChildren(empty('No versions yet.', h('p', {}, 'The first version is fetched when you activate the tenant.'))); return; }
    list.replaceChildren(h('ol', { class: 'versions' }, r.versions.map(v => {
      const pinned = v.pinned || r.pinned === v.version;
      return h('li', { class: 'card stack version' },
        h('div', { class: 'row spread' },
          h('div', {}, h('strong', {}, `v${v.version}`), pinned ? h('span', { class: 'badge st-pinned' }, 'pinned') : null, v.version === t.spec_version ? h('span', { class: 'badge st-active' }, 'newest') : null,
            h('span', { class: 'muted small' }, ` fetched ${fmtTime(v.fetched_at)} (${ago(v.fetched_at)}) · ${v.tool_count} tools · sha256 ${String(v.sha256 || '').slice(0, 12)}`)),
          pinned ? null : h('button', { type: 'button', class: 'btn small', 'aria-label': `Pin version ${v.version}`, onclick: async () => {
            if (!await confirm({ title: `Serve v${v.version}?`, body: 'Pinning serves this version until you pin another; refreshes are stored but not served.', ok: 'Pin' })) return;
            try { await api.post(`/tenants/${id}/spec/versions/${v.version}/pin`); toast(`v${v.version} pinned.`); draw(); }
            catch (e) { toast(e.missing ? 'Pinning is not available on this server yet.' : e.message, 'error'); }
          } }, 'Pin / roll back')),
        v.warnings && v.warnings.length ? h('details', {}, h('summary', {}, `${v.warnings.length} warnings`), h('ul', {}, v.warnings.map(w => h('li', {}, w)))) : null,
        diffView(v.diff));
    })));
  }
  draw();
  return h('div', { class: 'stack' },
    h('div', { class: 'card row spread' }, h('p', {}, 'Portico re-fetches the spec on its refresh interval. Refresh now to pick up a change at once.'), btn),
    result, list);
}
