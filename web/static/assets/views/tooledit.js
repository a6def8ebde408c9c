// Tool editor: one tool's overrides (settings.tools[key]) beside a live
// preview of the tool exactly as agents will list it and of a sample answer
// run through its response shape. Every edit asks the server
// (POST /tenants/{id}/preview) after a short pause; its refusals show at the
// field they name. Saving replaces settings with every other setting kept.
import { h, link, loading, errorBox, pretty, field, toast, go } from '../ui.js';
import { api, enc } from '../api.js';
import { schemaView, schemaForm, typeLabel } from '../schema.js';
import { markdown } from '../markdown.js';

const DEBOUNCE_MS = 300;
// The last sample of each tool, kept while the dashboard stays open (not
// stored: it is the service's data), so reopening an editor reshapes it.
const samples = new Map();
const HINTS = [['readOnlyHint', 'Read-only'], ['destructiveHint', 'Destructive'], ['idempotentHint', 'Idempotent'], ['openWorldHint', 'Open world']];

// editPath is the editor's address for the tool a settings key (or a tool
// name) names.
export const editPath = (id, key) => `/tenants/${enc(id)}/tools/${enc(key)}/edit`;

const normKey = k => { const m = /^([A-Za-z]+) (\/.*)$/.exec(k); return m ? `${m[1].toUpperCase()} ${m[2]}` : k; };
const matches = (item, k) => k === item.name || (item.operation_id && k === item.operation_id) || normKey(k) === `${item.method} ${item.path}`;
const sameOp = (a, b) => a.method === b.method && a.path === b.path;
const fieldOf = (key, ...parts) => `settings.tools[${JSON.stringify(key)}]` + parts.map(p => '.' + p).join('');

export async function toolEditor(t, ref) {
  const id = t.id;
  const s = t.settings || {};
  let stored;
  try { stored = await api.post(`/tenants/${enc(id)}/preview`, {}); } catch (e) { return h('div', {}, errorBox(e, 'Could not read the tenant\'s tools'), back(id)); }
  const tools = s.tools || {};
  // The tool: listed under ref, or reshaped by the key ref (also when it is hidden).
  let item = stored.tools.find(x => x.name === ref) || stored.tools.find(x => x.settings_key === ref);
  let key = item ? (item.settings_key || item.name) : (tools[ref] ? ref : null);
  if (!key) return h('div', {}, errorBox({ message: `No tool named ${ref} in the tenant's serving document.` }, 'Not found'), back(id));
  // The tool as the document gives it: previewed without this override.
  const others = { ...tools }; delete others[key];
  let base;
  try {
    const bp = await api.post(`/tenants/${enc(id)}/preview`, { settings: { ...s, tools: others } });
    base = bp.tools.find(x => (item ? sameOp(x, item) : matches(x, key)));
  } catch (e) { return h('div', {}, errorBox(e, 'Could not read the tool as the document gives it'), back(id)); }
  if (!base) return h('div', {}, errorBox({ message: `settings.tools[${JSON.stringify(key)}] names no tool of the serving document.` }, 'Not found'), back(id));
  const ov = structuredClone(tools[key] || {});
  const inSchema = base.input_schema || { type: 'object', properties: {} };
  const props = inSchema.properties || {};
  const required = new Set(inSchema.required || []);

  // Where each field's problems show: field path → [control, message element].
  const slots = new Map();
  const slot = (path, control) => {
    const msg = h('p', { class: 'field-error', hidden: true });
    slots.set(path, { control, msg });
    return msg;
  };
  const text = (name, value, attrs = {}) => h('input', { name, value: value || '', autocomplete: 'off', spellcheck: 'false', ...attrs });
  const tri = (name, value) => {
    const sel = h('select', { name },
      h('option', { value: '' }, 'As the method says'), h('option', { value: 'true' }, 'Yes'), h('option', { value: 'false' }, 'No'));
    sel.value = value === true ? 'true' : value === false ? 'false' : '';
    return sel;
  };
  const jsonText = v => (v === undefined ? '' : JSON.stringify(v));
  const ff = (label, control, path, help) => {
    const f = field(label, control, help);
    if (path) f.append(slot(path, control));
    return f;
  };

  // The tool's own fields.
  const nameIn = text('name', ov.name, { class: 'mono', maxlength: 128, placeholder: base.name });
  const titleIn = text('title', ov.title, { placeholder: base.title || 'No title' });
  const descIn = h('textarea', { name: 'description', rows: 4, placeholder: base.description });
  descIn.value = ov.description || '';
  const tagsIn = text('tags', (ov.tags || []).join(', '), { placeholder: 'support, read' });
  const hiddenIn = h('input', { type: 'checkbox', name: 'hidden', checked: !!ov.hidden });
  const ann = ov.annotations || {};
  const hintIns = HINTS.map(([k, label]) => [k, tri(k, ann[k]), label]);

  // One row per argument of the document's tool, plus overrides of names
  // it does not have (typed here, or saved before the document changed).
  const argBox = h('div', { class: 'stack' });
  const argRows = [];
  const addArg = (arg, o = {}, known = true) => {
    const schema = props[arg] || {};
    const argName = known ? null : text('arg', arg, { class: 'mono', placeholder: 'argument' });
    const get = () => (known ? arg : argName.value.trim());
    const rename = text('arg_name', o.name, { class: 'mono', placeholder: arg || 'new name' });
    const desc = text('arg_description', o.description, { placeholder: schema.description || 'Description for agents' });
    const def = text('arg_default', jsonText(o.default), { class: 'mono', placeholder: 'JSON, e.g. "acme" or 10' });
    const fixed = text('arg_fixed', jsonText(o.fixed), { class: 'mono', placeholder: 'JSON; always sent, not shown' });
    const hid = h('input', { type: 'checkbox', name: 'arg_hidden', checked: !!o.hidden });
    const req = tri('arg_required', o.required);
    req.options[0].textContent = 'As the document says';
    const row = h('fieldset', { class: 'argrow' });
    // Problems are matched by path when they arrive; paths read the name then.
    const p = a => `${fieldOf(key)}.args[${JSON.stringify(get())}]${a}`;
    const legend = h('legend', {}, known ? h('code', {}, arg) : 'Argument', ' ', known ? h('span', { class: 'type' }, typeLabel(schema, inSchema)) : null,
      known && required.has(arg) ? h('span', { class: 'req' }, 'required') : null);
    const head = h('div', { class: 'argrow-head' });
    const rowMsg = h('p', { class: 'field-error', hidden: true });
    if (!known) {
      head.append(field('Argument (as the document names it)', argName));
      head.append(h('button', { type: 'button', class: 'btn small', 'aria-label': 'Remove this argument override', onclick: () => { row.remove(); argRows.splice(argRows.indexOf(entry), 1); schedule(); } }, 'Remove'));
    }
    const grid = h('div', { class: 'argrow-grid' });
    const cells = {
      name: field('Name agents use', rename), description: field('Description', desc), default: field('Default', def),
      fixed: field('Fixed value', fixed), hidden: field('Hidden', hid), required: field('Required', req),
    };
    for (const c of Object.values(cells)) grid.append(c);
    const msgs = {};
    for (const [k, c] of Object.entries(cells)) { msgs[k] = h('p', { class: 'field-error', hidden: true }); c.append(msgs[k]); }
    row.append(legend, head, rowMsg, grid);
    argBox.append(row);
    const controls = { name: rename, description: desc, default: def, fixed, hidden: hid, required: req };
    const entry = {
      arg: get, schema, controls, msgs, rowMsg, rowControl: known ? rename : argName, path: p,
      read(problems) {
        const a = get();
        if (!a) return null;
        const out = { ...(ov.args && ov.args[a]) };
        for (const k of ['name', 'description', 'default', 'fixed', 'hidden', 'required']) delete out[k];
        if (rename.value.trim()) out.name = rename.value.trim();
        if (desc.value.trim()) out.description = desc.value.trim();
        for (const [k, c] of [['default', def], ['fixed', fixed]]) {
          const v = c.value.trim();
          if (!v) continue;
          try { out[k] = JSON.parse(v); } catch {
            if (schema.type === 'string' || (!schema.type && !known)) out[k] = v; // a bare string is meant as one
            else problems.push({ field: `${p('')}.${k}`, problem: 'is not valid JSON: write a value as JSON, e.g. "text", 10, true or ["a"]' });
          }
        }
        if (hid.checked) out.hidden = true;
        if (req.value) out.required = req.value === 'true';
        return [a, out];
      },
    };
    argRows.push(entry);
    return entry;
  };
  for (const arg of Object.keys(props)) addArg(arg, (ov.args || {})[arg] || {});
  for (const [arg, o] of Object.entries(ov.args || {})) if (!(arg in props)) addArg(arg, o, false);

  const resp = ov.response || {};
  const jqIn = h('textarea', { name: 'jq', rows: 3, class: 'mono', spellcheck: 'false', placeholder: '{id, name} or .items | map({id, title})' });
  jqIn.value = resp.jq || '';
  const maxIn = h('input', { name: 'max_bytes', type: 'number', min: 0, inputmode: 'numeric', value: resp.max_bytes || '', placeholder: 'No cut' });
  const selectIn = h('input', { type: 'checkbox', name: 'select', checked: !!resp.select });

  // override reads the form into settings.tools[key], keeping fields this
  // form does not show; problems found here (bad JSON) are added to problems.
  const override = problems => {
    const o = { ...ov };
    for (const k of ['name', 'title', 'description', 'tags', 'hidden', 'annotations', 'args', 'response']) delete o[k];
    if (nameIn.value.trim()) o.name = nameIn.value.trim();
    if (titleIn.value.trim()) o.title = titleIn.value.trim();
    if (descIn.value.trim()) o.description = descIn.value.trim();
    const tags = tagsIn.value.split(',').map(x => x.trim()).filter(Boolean);
    if (tags.length) o.tags = tags;
    if (hiddenIn.checked) o.hidden = true;
    const a = { ...(ov.annotations || {}) };
    for (const [k, sel] of hintIns) { delete a[k]; if (sel.value) a[k] = sel.value === 'true'; }
    if (Object.keys(a).length) o.annotations = a;
    const args = {};
    for (const r of argRows) {
      const got = r.read(problems);
      if (got && Object.keys(got[1]).length) args[got[0]] = got[1];
    }
    if (Object.keys(args).length) o.args = args;
    const rs = { ...(ov.response || {}) };
    delete rs.jq; delete rs.max_bytes; delete rs.select;
    if (jqIn.value.trim()) rs.jq = jqIn.value.trim();
    if (maxIn.value) rs.max_bytes = Number(maxIn.value);
    if (selectIn.checked) rs.select = true;
    if (Object.keys(rs).length) o.response = rs;
    return o;
  };
  const settingsWith = (base, o) => {
    const out = { ...base };
    const ts = { ...(base.tools || {}) };
    delete ts[key];
    if (Object.keys(o).length) ts[key] = o;
    if (Object.keys(ts).length) out.tools = ts; else delete out.tools;
    return out;
  };

  // The preview pane.
  const status = h('p', { class: 'muted small preview-status', role: 'status' });
  const general = h('div');
  const shown = h('div', { class: 'stack tool-preview' });
  const sampleIn = h('textarea', { name: 'sample', rows: 6, class: 'mono', spellcheck: 'false', placeholder: '{"id": 1, "name": "…"} as the service answers' });
  const sampleKey = `${id}\u0000${key}`;
  sampleIn.value = samples.get(sampleKey) || '';
  const sampleMsg = slot('sample.body', sampleIn);
  const shaped = h('div', { class: 'stack', 'aria-live': 'polite' });
  const callBox = h('div', { class: 'stack' });
  let current = null; // the last good preview's tool (listed form)

  const clearErrors = () => {
    for (const { control, msg } of slots.values()) { msg.hidden = true; msg.textContent = ''; control.removeAttribute('aria-invalid'); }
    for (const r of argRows) {
      for (const [k, m] of Object.entries(r.msgs)) { m.hidden = true; m.textContent = ''; r.controls[k].removeAttribute('aria-invalid'); }
      r.rowMsg.hidden = true; r.rowMsg.textContent = ''; r.rowControl.removeAttribute('aria-invalid');
    }
    general.replaceChildren();
  };
  const mark = (control, msg, problem) => {
    msg.textContent = problem; msg.hidden = false;
    control.setAttribute('aria-invalid', 'true');
    if (!msg.id) msg.id = `err-${Math.random().toString(36).slice(2, 9)}`;
    const by = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!by.includes(msg.id)) control.setAttribute('aria-describedby', [...by, msg.id].join(' '));
  };
  // showProblems puts each problem at the field it names; what no field
  // of this form holds is listed above the form.
  const showProblems = problems => {
    const rest = [];
    for (const pr of problems) {
      const sl = slots.get(pr.field);
      if (sl) { mark(sl.control, sl.msg, pr.problem); continue; }
      let done = false;
      for (const r of argRows) {
        const a = r.path('');
        if (pr.field === a) { mark(r.rowControl, r.rowMsg, pr.problem); done = true; break; }
        const m = pr.field.startsWith(a + '.') ? pr.field.slice(a.length + 1) : null;
        if (m && r.controls[m]) { mark(r.controls[m], r.msgs[m], pr.problem); done = true; break; }
      }
      if (!done) rest.push(pr);
    }
    if (rest.length) general.replaceChildren(errorBox({ message: 'The server refused these settings:', fields: rest }, 'Not valid'));
  };

  let seq = 0;
  let timer = null;
  // refresh asks for the preview of the form as it is now; only the newest
  // answer is shown. It resolves true when the settings are valid.
  const refresh = async (call = null) => {
    clearTimeout(timer);
    const mine = ++seq;
    const problems = [];
    const o = override(problems);
    if (problems.length) { clearErrors(); showProblems(problems); status.textContent = 'Fix the marked fields to see the preview.'; return false; }
    // A sample that is not JSON does not stop the preview of the tool; a
    // hidden tool has no answer to shape.
    let sample = null;
    let sampleProblem = null;
    const raw = sampleIn.value.trim();
    if (!call && raw && !hiddenIn.checked) {
      try { sample = { tool: key, body: JSON.parse(raw) }; } catch (e) { sampleProblem = { field: 'sample.body', problem: `is not valid JSON: ${e.message}` }; }
    }
    status.textContent = call ? 'Calling the service…' : 'Updating the preview…';
    const body = { settings: settingsWith(s, o) };
    if (call) body.call = { tool: key, arguments: call };
    else if (sample) body.sample = sample;
    let r;
    try { r = await api.post(`/tenants/${enc(id)}/preview`, body); } catch (e) {
      if (mine !== seq) return false;
      clearErrors();
      if (e.fields && e.fields.length) { showProblems(e.fields); status.textContent = 'Not valid: see the marked fields. Nothing is saved.'; }
      else { general.replaceChildren(errorBox(e, 'Could not preview')); status.textContent = ''; }
      return false;
    }
    if (mine !== seq) return false;
    clearErrors();
    if (sampleProblem) showProblems([sampleProblem]);
    const it = r.tools.find(x => sameOp(x, base));
    const listed = it ? (r.listed || []).find(x => x.name === it.name) : null;
    current = listed;
    shown.replaceChildren(listed ? listedView(listed) : h('p', { class: 'warn-box hidden-note' }, 'Hidden: agents do not see this tool and cannot call it.'));
    if (call && r.sample) {
      if (r.sample.upstream && r.sample.upstream.body !== undefined) sampleIn.value = pretty(r.sample.upstream.body);
      else if (r.sample.upstream && r.sample.upstream.text) sampleIn.value = r.sample.upstream.text;
      samples.set(sampleKey, sampleIn.value);
    }
    shaped.replaceChildren(r.sample ? sampleView(r.sample) : h('p', { class: 'muted small' }, listed ? 'Paste an answer of the service, or call it below, to see what the agent gets.' : 'A hidden tool answers nothing.'));
    drawCall(listed);
    status.textContent = 'Preview up to date. Not saved yet.';
    if (msg.querySelector('.error-box')) msg.replaceChildren();
    return true;
  };
  const schedule = () => { clearTimeout(timer); status.textContent = 'Typing…'; timer = setTimeout(() => refresh(), DEBOUNCE_MS); };

  // The live call form follows the previewed input schema: arguments as the
  // agent will send them.
  let callSchemaJSON = '';
  const drawCall = listed => {
    const schema = listed ? listed.inputSchema : null;
    const sj = JSON.stringify(schema);
    if (sj === callSchemaJSON) return;
    callSchemaJSON = sj;
    if (!schema) { callBox.replaceChildren(); return; }
    const form = schemaForm(schema);
    const callBtn = h('button', { type: 'button', class: 'btn' }, 'Call the service with these arguments');
    const callMsg = h('div');
    callBtn.addEventListener('click', async () => {
      let args;
      try { args = form.read(); } catch (e) { callMsg.replaceChildren(errorBox({ message: e.message }, 'Check the arguments')); return; }
      callMsg.replaceChildren();
      callBtn.disabled = true;
      try { await refresh(args); } finally { callBtn.disabled = false; }
    });
    const callArgsSlot = slot('call.arguments', callBtn);
    callBox.replaceChildren(h('details', { class: 'call-details' },
      h('summary', {}, 'Call the service for a real answer'),
      h('p', { class: 'muted small' }, 'Sends one real request with the tenant\'s credentials, as an agent\'s call of the previewed tool would; its answer becomes the sample above.'),
      form, h('div', { class: 'actions' }, callBtn), callArgsSlot, callMsg));
  };

  const msg = h('div');
  const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
  const reset = h('button', { type: 'button', class: 'btn', disabled: !tools[key] }, 'Remove all overrides');
  const form = h('form', { class: 'stack tooledit-form', 'aria-label': 'Overrides' },
    general,
    h('section', { class: 'card stack' }, h('h2', {}, 'Tool'),
      h('div', { class: 'grid2' },
        ff('Name', nameIn, fieldOf(key, 'name'), `Empty keeps ${base.name}.`),
        ff('Title', titleIn, fieldOf(key, 'title'), 'A human-readable name clients may show.'),
        ff('Tags', tagsIn, fieldOf(key, 'tags'), 'Comma-separated.'),
        ff('Hidden', hiddenIn, fieldOf(key, 'hidden'), 'Agents neither see nor call it.')),
      ff('Description', descIn, fieldOf(key, 'description'), 'Empty keeps the document\'s (shown as placeholder).'),
      h('fieldset', { class: 'hints' }, h('legend', {}, 'Hints to clients'),
        h('div', { class: 'grid4' }, hintIns.map(([k, sel, label]) => ff(label, sel, fieldOf(key, 'annotations', k)))))),
    h('section', { class: 'card stack' }, h('h2', {}, 'Arguments'),
      h('p', { class: 'muted small' }, 'Rename or describe an argument; a default is sent when the agent gives none; a fixed value is always sent and the argument leaves the schema; hidden needs a default.'),
      argBox,
      h('div', {}, h('button', { type: 'button', class: 'btn small', onclick: () => { const e = addArg('', {}, false); e.rowControl.focus(); } }, 'Add an override by argument name'))),
    h('section', { class: 'card stack' }, h('h2', {}, 'Response'),
      ff('jq expression', jqIn, fieldOf(key, 'response', 'jq'), 'Turns the service\'s JSON into what the agent gets; the output schema follows it.'),
      h('div', { class: 'grid2' },
        ff('Cut text at (bytes)', maxIn, fieldOf(key, 'response', 'max_bytes'), 'Longer results are cut with a note saying how to ask for less.'),
        ff('Let agents pass _select', selectIn, fieldOf(key, 'response', 'select'), 'Agents may add their own jq expression per call.'))),
    msg,
    h('div', { class: 'actions sticky' }, reset, save));
  form.addEventListener('input', e => { if (!callBox.contains(e.target)) schedule(); });
  form.addEventListener('change', e => { if (!callBox.contains(e.target)) schedule(); });
  sampleIn.addEventListener('input', () => { samples.set(sampleKey, sampleIn.value); schedule(); });

  // persist saves settings as the server has them now with this tool's
  // override replaced: every other setting stays as it is.
  const persist = async o => {
    const fresh = await api.get(`/tenants/${enc(id)}`);
    await api.put(`/tenants/${enc(id)}/settings`, settingsWith(fresh.settings || {}, o));
  };
  form.addEventListener('submit', async e => {
    e.preventDefault();
    save.disabled = true;
    msg.replaceChildren(loading('Checking…'));
    try {
      if (!await refresh()) { msg.replaceChildren(errorBox({ message: 'Fix the marked fields; nothing was saved.' }, 'Not saved')); return; }
      msg.replaceChildren(loading('Saving…'));
      await persist(override([]));
      msg.replaceChildren();
      toast(t.status === 'active' ? 'Saved: agents see the tool as previewed now.' : 'Saved.');
      const saved = settingsWith(s, override([])).tools;
      if (saved) s.tools = saved; else delete s.tools;
      reset.disabled = !(s.tools && s.tools[key]);
      history.replaceState(null, '', editPath(id, key));
    } catch (err) {
      msg.replaceChildren(errorBox(err, 'Not saved'));
      if (err.fields) showProblems(err.fields);
    } finally { save.disabled = false; }
  });
  reset.addEventListener('click', async () => {
    reset.disabled = true;
    try { await persist({}); toast('Overrides removed.'); go(editPath(id, base.name)); }
    catch (err) { msg.replaceChildren(errorBox(err, 'Not saved')); reset.disabled = false; }
  });

  const aside = h('aside', { class: 'stack tooledit-preview', 'aria-label': 'Preview' },
    h('section', { class: 'card stack' }, h('h2', {}, 'As agents will see it'), status, shown),
    h('section', { class: 'card stack' }, h('h2', {}, 'Sample answer'),
      field('The service\'s answer (JSON)', sampleIn, 'Run through the response shape as you type.'), sampleMsg,
      shaped, callBox));
  const page = h('div', { class: 'stack' },
    h('p', { class: 'crumbs' }, link(`/tenants/${enc(id)}/tools`, '← All tools')),
    h('div', { class: 'row spread' }, h('h2', { class: 'mono' }, `Edit ${base.name}`),
      h('span', { class: 'muted small' }, h('span', { class: `method m-${base.method}` }, base.method), ' ', h('code', {}, base.path), ' · settings key ', h('code', {}, key))),
    h('div', { class: 'tooledit' }, form, aside));
  shown.append(loading('Previewing…'));
  refresh();
  return page;
}

const back = id => link(`/tenants/${enc(id)}/tools`, '← All tools');

// listedView shows a tools/list entry: what a model reads.
function listedView(tl) {
  const a = tl.annotations || {};
  const hints = HINTS.filter(([k]) => a[k] === true).map(([, label]) => h('span', { class: 'tag' }, label));
  return h('div', { class: 'stack' },
    h('p', {}, h('code', { class: 'listed-name' }, tl.name), tl.title ? [' ', h('span', { class: 'listed-title' }, tl.title)] : null),
    hints.length ? h('p', { class: 'hint-tags' }, hints) : null,
    h('div', { class: 'description listed-description' }, markdown(tl.description || '')),
    h('h3', {}, 'Input'), schemaView(tl.inputSchema || {}),
    h('details', {}, h('summary', {}, 'Input schema (JSON)'), h('pre', { class: 'json listed-input', tabindex: 0 }, pretty(tl.inputSchema))),
    h('h3', {}, 'Output'),
    tl.outputSchema ? [schemaView(tl.outputSchema), h('details', {}, h('summary', {}, 'Output schema (JSON)'), h('pre', { class: 'json listed-output', tabindex: 0 }, pretty(tl.outputSchema)))]
      : h('p', { class: 'muted' }, 'No output schema: agents get the answer as text.'),
    h('details', {}, h('summary', {}, 'The whole tools/list entry'), h('pre', { class: 'json listed-tool', tabindex: 0 }, pretty(tl))));
}

// sampleView shows a shaped answer: what the agent gets, and from what.
function sampleView(sm) {
  const res = sm.result || {};
  const texts = (res.content || []).filter(c => c.type === 'text').map(c => c.text);
  const up = sm.upstream;
  return h('div', { class: `stack shaped ${res.isError ? 'is-error' : 'is-ok'}` },
    h('p', {}, h('span', { class: res.isError ? 'badge st-failed' : 'badge st-active' }, res.isError ? 'tool error' : 'what the agent gets'),
      up ? h('span', { class: 'muted small' }, ` from HTTP ${up.status}, ${up.bytes} bytes${sm.source === 'call' ? ' (a real call)' : ''}`) : null),
    res.structuredContent !== undefined ? h('div', {}, h('h3', {}, 'Structured content'), h('pre', { class: 'json shaped-structured', tabindex: 0 }, pretty(res.structuredContent))) : null,
    texts.length && res.structuredContent === undefined ? h('div', {}, h('h3', {}, res.isError ? 'Error' : 'Text'), h('pre', { class: 'json prewrap shaped-text', tabindex: 0 }, texts.join('\n'))) : null,
    h('details', {}, h('summary', {}, 'Full MCP result'), h('pre', { class: 'json', tabindex: 0 }, pretty(res))));
}
