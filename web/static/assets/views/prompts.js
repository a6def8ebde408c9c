// Prompts: the tenant's message templates, served to MCP clients as
// prompts/list and prompts/get. The editor checks with the server as the
// user types (POST or PUT …/prompts?dry_run=true: the same checks as a
// save, nothing stored) and shows the messages rendered with sample
// arguments, {{argument}} filled in as prompts/get fills it.
import { h, loading, errorBox, empty, confirm, toast, field, fieldProblems } from '../ui.js';
import { api, enc } from '../api.js';

// render fills {{argument}} placeholders (spaces inside the braces
// allowed) as the server does; an argument not given renders empty.
export function render(text, args) {
  return String(text).replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_, name) => args[name] ?? '');
}

const problemsList = e => fieldProblems(e, 'The server refused it');

export async function promptsTab(t) {
  const id = enc(t.id);
  const box = h('div', { class: 'stack' }, loading());
  let toolsets = [];
  try { toolsets = (await api.get(`/tenants/${id}/toolsets`)).toolsets.map(ts => ts.name); } catch { toolsets = []; }

  async function drawList() {
    let list;
    try { list = (await api.get(`/tenants/${id}/prompts`)).prompts; } catch (e) { box.replaceChildren(errorBox(e, 'Could not load prompts')); return; }
    box.replaceChildren(
      h('div', { class: 'card stack' },
        h('p', {}, 'Prompts are message templates agents list and fill in (MCP prompts/list and prompts/get). Write arguments as ', h('code', {}, '{{name}}'),
          '. The tenant’s URL serves every prompt; a toolset’s URL serves those attached to it.'),
        h('div', {}, h('button', { type: 'button', class: 'btn primary', onclick: () => drawEditor(null) }, 'New prompt'))),
      ...(list.length ? list.map(card) : [empty('No prompts yet.', h('p', { class: 'muted' }, 'Agents see no prompts until you add one.'))]));
  }

  function card(p) {
    const del = h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete prompt ${p.name}`, onclick: async () => {
      if (!await confirm({ title: `Delete prompt “${p.name}”?`, body: 'Connected agents hear prompts/list_changed and no longer list it.', ok: 'Delete', danger: true })) return;
      try { await api.del(`/tenants/${id}/prompts/${enc(p.name)}`); toast(`Prompt ${p.name} deleted.`); drawList(); } catch (e) { box.prepend(errorBox(e, `Could not delete ${p.name}`)); }
    } }, 'Delete');
    return h('section', { class: 'card stack prompt', 'data-prompt': p.name },
      h('div', { class: 'page-head' }, h('h2', {}, p.title ? `${p.title} (${p.name})` : p.name),
        h('span', { class: 'actions' }, h('button', { type: 'button', class: 'btn small', 'aria-label': `Edit prompt ${p.name}`, onclick: () => drawEditor(p) }, 'Edit'), ' ', del)),
      p.description ? h('p', {}, p.description) : null,
      p.arguments.length ? h('p', { class: 'small' }, 'Arguments: ', p.arguments.map((a, i) => [i ? ', ' : '', h('code', {}, a.name), a.required ? ' (required)' : ''])) : h('p', { class: 'muted small' }, 'No arguments.'),
      h('ol', { class: 'messages small' }, p.messages.map(m => h('li', {}, h('strong', {}, m.role), ': ', m.text ?? (m.image ? `[image ${m.image.mime_type}]` : `[resource ${m.resource?.uri}]`)))),
      p.toolsets && p.toolsets.length ? h('p', { class: 'muted small' }, 'Also on toolsets: ', p.toolsets.join(', ')) : null);
  }

  function drawEditor(p) {
    const editing = !!p;
    p = p ? structuredClone(p) : { name: '', title: '', description: '', arguments: [], messages: [{ role: 'user', text: '' }], toolsets: [] };
    const name = h('input', { name: 'prompt_name', value: p.name, autocomplete: 'off', placeholder: 'triage_ticket' });
    const title = h('input', { name: 'prompt_title', value: p.title || '', autocomplete: 'off' });
    const desc = h('input', { name: 'prompt_description', value: p.description || '', autocomplete: 'off' });
    const argsBox = h('div', { class: 'stack' });
    const msgsBox = h('div', { class: 'stack' });
    const sample = {};
    const samples = h('div', { class: 'stack' });
    const rendered = h('ol', { class: 'messages small', 'data-preview': 'messages', 'aria-live': 'polite' });
    const problems = h('div', { class: 'field-problems', role: 'alert', 'aria-live': 'polite' });
    const chosenSets = new Set(p.toolsets || []);

    const drawArgs = () => argsBox.replaceChildren(...p.arguments.map((a, i) => {
      const n = h('input', { value: a.name, 'aria-label': `Argument ${i + 1} name`, autocomplete: 'off' });
      const d = h('input', { value: a.description || '', 'aria-label': `Argument ${i + 1} description`, autocomplete: 'off' });
      const r = h('input', { type: 'checkbox', checked: !!a.required, 'aria-label': `Argument ${i + 1} required` });
      n.addEventListener('input', () => { a.name = n.value.trim(); changed(); });
      d.addEventListener('input', () => { a.description = d.value; changed(); });
      r.addEventListener('change', () => { a.required = r.checked; changed(); });
      return h('div', { class: 'arg-row' }, n, d, h('label', { class: 'check' }, r, ' required'),
        h('button', { type: 'button', class: 'btn small', 'aria-label': `Remove argument ${i + 1}`, onclick: () => { p.arguments.splice(i, 1); drawArgs(); changed(); } }, 'Remove'));
    }), h('div', {}, h('button', { type: 'button', class: 'btn small', onclick: () => { p.arguments.push({ name: '', required: false }); drawArgs(); changed(); } }, 'Add argument')));

    const drawMsgs = () => msgsBox.replaceChildren(...p.messages.map((m, i) => {
      if (m.text === undefined) {
        return h('div', { class: 'msg-row muted small' }, `${m.role}: ${m.image ? 'an image' : 'an embedded resource'} (kept as it is; change it through the API)`);
      }
      const role = h('select', { 'aria-label': `Message ${i + 1} role` }, ['user', 'assistant'].map(r => h('option', { value: r, selected: m.role === r }, r)));
      const text = h('textarea', { rows: 3, 'aria-label': `Message ${i + 1} text` });
      text.value = m.text;
      role.addEventListener('change', () => { m.role = role.value; changed(); });
      text.addEventListener('input', () => { m.text = text.value; changed(); });
      return h('div', { class: 'msg-row' }, role, text,
        h('button', { type: 'button', class: 'btn small', 'aria-label': `Remove message ${i + 1}`, onclick: () => { p.messages.splice(i, 1); drawMsgs(); changed(); } }, 'Remove'));
    }), h('div', {}, h('button', { type: 'button', class: 'btn small', onclick: () => { p.messages.push({ role: 'user', text: '' }); drawMsgs(); changed(); } }, 'Add message')));

    const body = () => ({
      name: name.value.trim(), title: title.value.trim(), description: desc.value.trim(),
      arguments: p.arguments.map(a => ({ ...a })), messages: p.messages, toolsets: [...chosenSets],
    });
    const send = dry => (editing ? api.put : api.post)((editing ? `/tenants/${id}/prompts/${enc(p.name)}` : `/tenants/${id}/prompts`) + (dry ? '?dry_run=true' : ''), body());

    function drawPreview() {
      const b = body();
      samples.replaceChildren(...b.arguments.filter(a => a.name).map(a => {
        const input = h('input', { value: sample[a.name] || '', 'aria-label': `Sample value of ${a.name}`, autocomplete: 'off', placeholder: a.required ? 'required' : 'optional' });
        input.addEventListener('input', () => { sample[a.name] = input.value; drawRendered(); });
        return field(`Sample ${a.name}`, input);
      }));
      drawRendered();
    }
    function drawRendered() {
      rendered.replaceChildren(...body().messages.map(m => h('li', {}, h('strong', {}, m.role), ': ', m.text !== undefined ? render(m.text, sample) : '(not text)')));
    }
    let seq = 0, timer = null;
    function changed() {
      drawPreview();
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++seq;
        try { await send(true); if (mine === seq) problems.replaceChildren(); } catch (e) { if (mine === seq) problems.replaceChildren(problemsList(e)); }
      }, 250);
    }
    for (const el of [name, title, desc]) el.addEventListener('input', changed);
    const setsControl = toolsets.length ? h('fieldset', { class: 'tags' }, h('legend', {}, 'Also serve on toolsets'),
      toolsets.map(n => {
        const cb = h('input', { type: 'checkbox', value: n, checked: chosenSets.has(n) });
        cb.addEventListener('change', () => { if (cb.checked) chosenSets.add(n); else chosenSets.delete(n); changed(); });
        return h('label', { class: 'tag-choice' }, cb, ' ', n);
      })) : null;

    const form = h('form', { class: 'stack', 'aria-label': editing ? `Edit prompt ${p.name}` : 'New prompt' },
      field('Name', name, 'Letters, digits, _ . -; what agents ask for.'),
      field('Title (optional)', title), field('Description', desc),
      h('fieldset', { class: 'stack' }, h('legend', {}, 'Arguments'), argsBox),
      h('fieldset', { class: 'stack' }, h('legend', {}, 'Messages'), msgsBox),
      setsControl, problems,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => drawList() }, 'Cancel'), ' ',
        h('button', { type: 'submit', class: 'btn primary' }, editing ? 'Save prompt' : 'Create prompt')));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      try { const r = await send(false); toast(`Prompt ${r.name} saved.`); drawList(); } catch (err) { problems.replaceChildren(problemsList(err)); }
    });
    box.replaceChildren(h('section', { class: 'card prompt-editor' },
      h('h2', {}, editing ? `Edit prompt ${p.name}` : 'New prompt'),
      h('div', { class: 'editor-grid' }, form,
        h('aside', { class: 'preview-pane', 'aria-label': 'Preview' }, h('h3', {}, 'What prompts/get returns'), samples, rendered))));
    drawArgs(); drawMsgs(); changed();
    name.focus();
  }

  await drawList();
  return box;
}
