// Spec versions: history with diffs, refresh now, pin (rollback).
import { h, loading, errorBox, unavailable, fmtTime, ago, toast, confirm, empty } from '../ui.js';
import { api, enc } from '../api.js';
import { watch } from '../progress.js';
import { specVersions } from '../data.js';

export function diffView(d) {
  if (!d) return null;
  const item = x => typeof x === 'string' ? h('code', {}, x)
    : [h('code', {}, x.name || JSON.stringify(x)), x.method ? h('span', { class: 'muted small' }, ` ${x.method} ${x.path || ''}`) : null,
      x.fields && x.fields.length ? h('span', { class: 'small' }, ` (${x.fields.join(', ')})`) : null];
  const part = (label, cls, items) => items && items.length ? h('div', { class: `diff ${cls}` }, h('strong', {}, `${label} (${items.length})`),
    h('ul', {}, items.map(x => h('li', {}, item(x))))) : null;
  const n = ['added', 'removed', 'changed'].reduce((a, k) => a + ((d[k] || []).length), 0);
  if (!n) return h('p', { class: 'muted small' }, 'No tool changes.');
  return h('div', { class: 'diffs' }, part('Added', 'add', d.added), part('Removed', 'del', d.removed), part('Changed', 'chg', d.changed));
}

const summaryText = d => d ? [d.added && `+${d.added} added`, d.removed && `−${d.removed} removed`, d.changed && `~${d.changed} changed`].filter(Boolean).join(', ') || 'no tool changes' : '';

export async function versionsTab(t) {
  const id = enc(t.id);
  const result = h('div', { 'aria-live': 'polite' });
  const state = h('div', { 'aria-live': 'polite' });
  const list = h('div', {}, loading('Loading versions…'));
  const btn = h('button', { type: 'button', class: 'btn primary' }, 'Refresh now');
  const phases = h('div', { class: 'refresh-progress', 'aria-live': 'polite' });
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    result.replaceChildren(loading('Fetching the spec…'));
    const stop = await watch(t.id, 'refresh', phases);
    try {
      const r = await api.post(`/tenants/${id}/spec/refresh`).finally(stop);
      result.replaceChildren(h('div', { class: 'card stack refresh-result' },
        h('h3', {}, r.changed ? `New version v${r.version}` : `Unchanged (still v${r.version})`),
        r.changed ? diffView(r.diff) : h('p', { class: 'muted' }, 'The service serves the same document as before.')));
      draw();
    } catch (e) {
      result.replaceChildren(e.missing ? unavailable('Refreshing the spec') : errorBox(e, e.status === 502 ? 'The service is unreachable; the last good version keeps serving' : 'Refresh failed'));
    } finally { btn.disabled = false; }
  });
  const act = async (path, msg) => {
    try { await api.post(`/tenants/${id}${path}`); toast(msg); result.replaceChildren(); draw(); }
    catch (e) { toast(e.missing ? 'Pinning is not available on this server yet.' : e.message, 'error'); }
  };
  async function draw() {
    let r;
    try { r = await specVersions(t.id); } catch (e) { list.replaceChildren(errorBox(e, 'Could not load versions')); return; }
    if (!r.available) { list.replaceChildren(unavailable('Spec version history')); return; }
    const st = r.status || {};
    state.replaceChildren(st.serving_version ? h('div', { class: 'card row spread spec-state' },
      h('p', {}, st.pinned_version
        ? [h('strong', {}, `Pinned to v${st.pinned_version}.`), st.newest_version > st.pinned_version ? ` v${st.newest_version} is stored but not served.` : ' Refreshes are stored but not served until you unpin.']
        : [h('strong', {}, `Serving the newest version, v${st.serving_version}.`), ' Refreshes go live at once.'],
        st.last_refresh_at ? h('span', { class: 'muted small' }, ` Last refresh ${ago(st.last_refresh_at)}.`) : null,
        st.last_refresh_error ? h('span', { class: 'bad small' }, ` Last refresh failed: ${st.last_refresh_error}`) : null),
      st.pinned_version ? h('button', { type: 'button', class: 'btn', onclick: async () => {
        if (!await confirm({ title: 'Follow the newest version?', body: `Portico will serve v${st.newest_version} and every later refresh.`, ok: 'Unpin' })) return;
        act('/spec/unpin', `Unpinned; serving v${st.newest_version}.`);
      } }, 'Unpin (serve the newest)') : null) : null);
    if (!r.versions.length) { list.replaceChildren(empty('No versions yet.', h('p', {}, 'The first version is fetched when you activate the tenant.'))); return; }
    list.replaceChildren(h('ol', { class: 'versions' }, r.versions.map(v => {
      const pinned = r.pinned === v.version;
      const serving = (st.serving_version || t.spec_version) === v.version;
      const diffBox = h('div', {});
      const det = v.version > 1 ? h('details', { class: 'version-diff' }, h('summary', {}, `Changes from v${v.version - 1}: ${summaryText(v.diff_summary)}`), diffBox) : h('p', { class: 'muted small' }, 'First version.');
      if (det.tagName === 'DETAILS') det.addEventListener('toggle', async () => {
        if (!det.open || diffBox.childNodes.length) return;
        diffBox.replaceChildren(loading('Loading the diff…'));
        try { diffBox.replaceChildren(diffView((await api.get(`/tenants/${id}/spec/versions/${v.version}`)).diff || {})); }
        catch (e) { diffBox.replaceChildren(errorBox(e, 'Could not load the diff')); }
      });
      return h('li', { class: 'card stack version', 'data-version': String(v.version) },
        h('div', { class: 'row spread' },
          h('div', {}, h('strong', {}, `v${v.version}`), pinned ? h('span', { class: 'badge st-pinned' }, 'pinned') : null, serving ? h('span', { class: 'badge st-active' }, 'serving') : null,
            h('span', { class: 'muted small' }, ` fetched ${fmtTime(v.fetched_at)} (${ago(v.fetched_at)}) · ${v.tool_count} tools · sha256 ${String(v.sha256 || '').slice(0, 12)}`)),
          pinned ? null : h('button', { type: 'button', class: 'btn small', 'aria-label': `Pin version ${v.version}`, onclick: async () => {
            if (!await confirm({ title: `Serve v${v.version}?`, body: 'Pinning serves this version until you unpin or pin another; refreshes are stored but not served.', ok: 'Pin' })) return;
            act(`/spec/versions/${v.version}/pin`, `v${v.version} pinned.`);
          } }, serving ? 'Pin' : 'Pin / roll back')),
        v.warnings && v.warnings.length ? h('details', {}, h('summary', {}, `${v.warnings.length} warnings`), h('ul', {}, v.warnings.map(w => h('li', {}, w)))) : null,
        det);
    })));
  }
  draw();
  return h('div', { class: 'stack' },
    h('div', { class: 'card row spread' }, h('p', {}, 'Portico re-fetches the spec on its refresh interval. Refresh now to pick up a change at once.'), btn),
    phases,
    result, state, list);
}
