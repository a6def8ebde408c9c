// Toolsets: named subsets of the tenant's tools, each at its own MCP URL.
// The editor's preview is the server's own answer (POST or PUT
// …/toolsets?dry_run=true): what the toolset would serve, or the fields it
// refuses, before anything is saved.
import { h, loading, errorBox, empty, confirm, toast, codeBlock, field, fieldProblems } from '../ui.js';
import { api, enc } from '../api.js';
import { tools as loadTools } from '../data.js';

export async function toolsetsTab(t) {
  const id = enc(t.id);
  let live = null;
  try { const r = await loadTools(t.id); if (r.live) live = r.tools; } catch { live = null; }
  const box = h('div', { class: 'stack' }, loading());

  async function drawList() {
    let list;
    try { list = (await api.get(`/tenants/${id}/toolsets`)).toolsets; } catch (e) { box.replaceChildren(errorBox(e, 'Could not load toolsets')); return; }
    const add = h('button', { type: 'button', class: 'btn primary', onclick: () => drawEditor(null) }, 'New toolset');
    box.replaceChildren(
      h('div', { class: 'card stack' },
        h('p', {}, 'A toolset serves some of this tenant’s tools at its own MCP URL: give a support agent five read-only tools instead of the whole API. ',
          'The tenant’s own URL keeps serving everything. On the Tokens tab, a token can be restricted to toolsets; it is refused (403) everywhere else.'),
        h('div', {}, add)),
      ...(list.length ? list.map(ts => toolsetCard(ts)) : [empty('No toolsets yet.', h('p', { class: 'muted' }, 'Every agent sees every tool until you make one.'))]));
  }

  function selection(ts) {
    const parts = [];
    if (ts.tools.length) parts.push(`${ts.tools.length} named tool${ts.tools.length === 1 ? '' : 's'}`);
    if (ts.tags.length) parts.push(`tag${ts.tags.length === 1 ? '' : 's'} ${ts.tags.join(', ')}`);
    if (!parts.length) parts.push('every tool');
    return parts.join(' and ') + (ts.read_only ? ', read-only only' : '');
  }

  function toolsetCard(ts) {
    const del = h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete toolset ${ts.name}`, onclick: async () => {
      if (!await confirm({ title: `Delete toolset “${ts.name}”?`, body: `Its URL answers 404 at once and its agents' streams end. Prompts attached to it are detached.`, ok: 'Delete', danger: true })) return;
      try { await api.del(`/tenants/${id}/toolsets/${enc(ts.name)}`); toast(`Toolset ${ts.name} deleted.`); drawList(); }
      catch (e) { box.prepend(errorBox(e, `Could not delete ${ts.name}`)); }
    } }, 'Delete');
    const serves = ts.serves;
    return h('section', { class: 'card stack toolset', 'data-toolset': ts.name },
      h('div', { class: 'page-head' }, h('h2', {}, ts.name),
        h('span', { class: 'actions' }, h('button', { type: 'button', class: 'btn small', 'aria-label': `Edit toolset ${ts.name}`, onclick: () => drawEditor(ts) }, 'Edit'), ' ', del)),
      ts.description ? h('p', {}, ts.description) : null,
      codeBlock(ts.mcp_url, `MCP URL of ${ts.name}`),
      h('p', { class: 'muted small' }, 'Selects ', selection(ts), '.'),
      serves ? h('details', {}, h('summary', {}, `Serves ${serves.length} tool${serves.length === 1 ? '' : 's'}`),
        serves.length ? h('ul', { class: 'plain mono small' }, serves.map(n => h('li', {}, n))) : h('p', { class: 'muted small' }, 'Nothing: no tool matches.'))
        : h('p', { class: 'muted small' }, 'What it serves shows once the tenant is active.'));
  }

  function drawEditor(ts) {
    const editing = !!ts;
    ts = ts || { name: '', description: '', tools: [], tags: [], read_only: false };
    const name = h('input', { name: 'toolset_name', value: ts.name, required: true, autocomplete: 'off', placeholder: 'support' });
    const desc = h('input', { name: 'toolset_description', value: ts.description || '', autocomplete: 'off', placeholder: 'Read-only lookups for the support team' });
    const ro = h('input', { type: 'checkbox', name: 'toolset_read_only', checked: ts.read_only });
    const chosen = new Set(ts.tools);
    const tags = new Set(ts.tags);
    const problems = h('div', { class: 'field-problems', role: 'alert', 'aria-live': 'polite' });
    const preview = h('div', { class: 'toolset-preview', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'The preview shows what agents on this toolset’s URL will list.'));
    const count = h('p', { class: 'muted small' });

    // Tools: a searchable checklist of the live tools; without them (the
    // tenant is not active), names one per line.
    let toolsControl;
    const allTags = [...new Set((live || []).flatMap(x => x.tags || []))].sort();
    if (live) {
      const q = h('input', { type: 'search', placeholder: 'Filter tools', 'aria-label': 'Filter tools', autocomplete: 'off' });
      const list = h('ul', { class: 'checklist' });
      const drawTools = () => {
        const words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
        const shown = live.filter(x => words.every(w => `${x.name} ${x.method || ''} ${x.path || ''} ${(x.tags || []).join(' ')}`.toLowerCase().includes(w)));
        const rows = shown.slice(0, 300).map(x => {
          const cb = h('input', { type: 'checkbox', value: x.name, checked: chosen.has(x.name), 'aria-label': `Include ${x.name}` });
          cb.addEventListener('change', () => { if (cb.checked) chosen.add(x.name); else chosen.delete(x.name); changed(); });
          return h('li', {}, h('label', {}, cb, ' ', h('code', {}, x.name), ' ', x.method ? h('span', { class: `method m-${x.method}` }, x.method) : null, ' ', h('span', { class: 'muted small' }, x.path || x.uri || '')));
        });
        if (shown.length > 300) rows.push(h('li', { class: 'muted small' }, `${shown.length - 300} more: filter to find them.`));
        list.replaceChildren(...rows);
      };
      q.addEventListener('input', drawTools);
      drawTools();
      toolsControl = h('div', { class: 'field' }, h('span', { class: 'label' }, 'Tools'), q, list, count,
        h('p', { class: 'help' }, 'None chosen, and no tag: the toolset serves every tool (read-only ones only, when checked).'));
    } else {
      const ta = h('textarea', { name: 'toolset_tools', rows: 4, placeholder: 'get_user\nlistTickets\nGET /tickets/{id}' });
      ta.value = ts.tools.join('\n');
      ta.addEventListener('input', () => { chosen.clear(); ta.value.split('\n').map(s => s.trim()).filter(Boolean).forEach(n => chosen.add(n)); changed(); });
      toolsControl = field('Tools (one per line: a tool name, an operationId or METHOD /path)', ta, 'The tenant is not active, so its tools are not listed here; Portico checks the names against the spec when it is.');
    }
    const tagsControl = allTags.length ? h('fieldset', { class: 'tags' }, h('legend', {}, 'Tags (every tool with one of them)'),
      allTags.map(tag => {
        const cb = h('input', { type: 'checkbox', value: tag, checked: tags.has(tag) });
        cb.addEventListener('change', () => { if (cb.checked) tags.add(tag); else tags.delete(tag); changed(); });
        return h('label', { class: 'tag-choice' }, cb, ' ', tag);
      })) : null;

    const body = () => ({ name: name.value.trim(), description: desc.value.trim(), tools: [...chosen], tags: [...tags], read_only: ro.checked });
    const path = () => editing ? `/tenants/${id}/toolsets/${enc(ts.name)}` : `/tenants/${id}/toolsets`;
    const send = (dry) => (editing ? api.put : api.post)(path() + (dry ? '?dry_run=true' : ''), body());

    let seq = 0, timer = null;
    function changed() {
      count.textContent = `${chosen.size} chosen`;
      clearTimeout(timer);
      timer = setTimeout(runPreview, 250);
    }
    async function runPreview() {
      const mine = ++seq;
      let r;
      try { r = await send(true); } catch (e) {
        if (mine !== seq) return;
        problems.replaceChildren(fieldProblems(e, 'The preview failed'));
        preview.replaceChildren(h('p', { class: 'muted' }, 'Fix the fields above to see the preview.'));
        return;
      }
      if (mine !== seq) return;
      problems.replaceChildren();
      if (!r.serves) { preview.replaceChildren(h('p', { class: 'muted' }, 'The tenant is not active: the preview shows once it is.')); return; }
      preview.replaceChildren(
        h('p', {}, h('strong', {}, `Agents on ${r.name ? r.mcp_url : 'this toolset'} will list ${r.serves.length} tool${r.serves.length === 1 ? '' : 's'}`), r.serves.length ? ':' : '.'),
        r.serves.length ? h('ul', { class: 'plain mono small', 'data-preview': 'serves' }, r.serves.map(n => h('li', {}, n))) : h('p', { class: 'muted small' }, 'No tool matches: choose tools or tags, or uncheck read-only.'));
    }
    for (const el of [name, desc]) el.addEventListener('input', changed);
    ro.addEventListener('change', changed);

    const form = h('form', { class: 'stack', 'aria-label': editing ? `Edit toolset ${ts.name}` : 'New toolset' },
      field('Name (the last part of its URL)', name, 'Lowercase letters, digits, - and _.'),
      field('Description', desc),
      h('label', { class: 'check' }, ro, ' Read-only: only tools that change nothing (GET and HEAD, or annotated read-only)'),
      tagsControl, toolsControl, problems,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => drawList() }, 'Cancel'), ' ',
        h('button', { type: 'submit', class: 'btn primary' }, editing ? 'Save toolset' : 'Create toolset')));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      try {
        const r = await send(false);
        toast(`Toolset ${r.name} saved: ${r.mcp_url}`);
        drawList();
      } catch (err) {
        problems.replaceChildren(fieldProblems(err, 'Could not save the toolset'));
      }
    });
    box.replaceChildren(h('section', { class: 'card toolset-editor' },
      h('h2', {}, editing ? `Edit toolset ${ts.name}` : 'New toolset'),
      h('div', { class: 'editor-grid' }, form, h('aside', { class: 'preview-pane', 'aria-label': 'Preview' }, h('h3', {}, 'Preview'), preview))));
    changed();
    name.focus();
  }

  await drawList();
  return box;
}

// toolsetChoices is the token form's optional restriction: one checkbox
// per toolset of the tenant; value() is the chosen names.
export async function toolsetChoices(tenantID) {
  let list = [];
  try { list = (await api.get(`/tenants/${enc(tenantID)}/toolsets`)).toolsets; } catch { list = []; }
  const boxes = list.map(ts => h('input', { type: 'checkbox', value: ts.name, name: 'token_toolsets' }));
  const el = list.length ? h('fieldset', { class: 'tags' }, h('legend', {}, 'Restrict to toolsets (optional)'),
    boxes.map((cb, i) => h('label', { class: 'tag-choice' }, cb, ' ', list[i].name))) : null;
  return { el, value: () => boxes.filter(b => b.checked).map(b => b.value), url: name => (list.find(ts => ts.name === name) || {}).mcp_url };
}

