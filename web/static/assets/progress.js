// progress.js: the phases of a running activation or spec refresh
// (download, parse, convert, store, serve), polled from GET /progress while
// the request that runs them is in flight. Any replica answers the poll.
import { h, ms } from './ui.js';
import { api, enc } from './api.js';

const PHASES = ['download', 'parse', 'convert', 'store', 'serve'];

// progressView draws p's phases: done ones with their time, the current one
// marked, the rest to come; null p draws the phases as all to come.
export function progressView(p, op) {
  const steps = (p && p.steps) || [];
  const at = ph => steps.find(s => s.phase === ph);
  const end = (i) => {
    const next = steps[i + 1];
    return next ? new Date(next.at) : p && p.done ? new Date(p.at) : null;
  };
  return h('div', { class: 'progress', dataset: { op } },
    h('ol', { class: 'phases' }, PHASES.map(ph => {
      const i = steps.findIndex(s => s.phase === ph);
      const s = at(ph);
      const state = !s ? (p && p.done ? 'skipped' : 'todo') : (i === steps.length - 1 && !(p && p.done)) ? 'now' : (p && p.error && i === steps.length - 1) ? 'failed' : 'done';
      const took = s && end(i) ? ms(end(i) - new Date(s.at)) : '';
      return h('li', { class: `phase ${state}`, dataset: { phase: ph }, 'aria-current': state === 'now' ? 'step' : null },
        h('span', { class: 'ph-name' }, ph), ' ',
        h('span', { class: 'ph-state' }, state === 'todo' ? 'to come' : state === 'skipped' ? (p.error ? 'not run' : 'not needed') : state === 'now' ? 'running…' : state === 'failed' ? 'failed' : `done${took ? ' in ' + took : ''}`),
        s && s.detail ? h('span', { class: 'ph-detail small muted' }, s.detail) : null);
    })),
    p && p.done ? h('p', { class: p.error ? 'bad small' : 'ok small' }, p.error ? `Failed: ${p.error}` : `Done in ${ms(new Date(p.at) - new Date(p.started_at))}${p.detail ? ': ' + p.detail : ''}.`) : null);
}

// watch polls tenant id's progress of op into box until the returned stop()
// (which polls once more, so the last phases show). Await it before
// sending the request that starts the work: work already on the board then
// is not ours and is not shown.
export async function watch(id, op, box) {
  let timer = null, stopped = false;
  const get = async () => { try { return (await api.get(`/tenants/${enc(id)}/progress`, { quiet401: true })).progress; } catch { return null; } };
  const before = await get();
  const old = before ? before.started_at : null;
  const poll = async () => {
    const p = await get();
    if (p && p.op === op && p.started_at !== old) box.replaceChildren(progressView(p, op));
  };
  box.replaceChildren(progressView(null, op));
  (async () => { while (!stopped) { await new Promise(r => (timer = setTimeout(r, 300))); if (!stopped) await poll(); } })();
  return async () => { stopped = true; clearTimeout(timer); await poll(); };
}

// follow shows tenant id's work in box when some is on the board (running,
// or ended in the last minute: an activation's phases stay readable after
// the page reloads), polling until it ends or box leaves the page.
export async function follow(id, box) {
  for (let first = true; ; first = false) {
    let p = null;
    try { p = (await api.get(`/tenants/${enc(id)}/progress`, { quiet401: true })).progress; } catch { return; }
    if (!p) { if (!first) box.replaceChildren(); return; }
    box.replaceChildren(h('h2', { class: 'sr-only' }, p.op === 'refresh' ? 'Spec refresh' : 'Activation'), progressView(p, p.op));
    if (p.done) return;
    await new Promise(r => setTimeout(r, 500));
    if (!box.isConnected) return;
  }
}
