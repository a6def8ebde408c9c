// schema.js: JSON Schema made readable (a property tree) and made into a form
// (the playground), for the schemas Portico's conversion produces.
import { h } from './ui.js';

// resolve follows a local $ref into $defs/definitions of root.
function resolve(schema, root, seen = new Set()) {
  if (!schema || typeof schema !== 'object') return schema || {};
  if (schema.$ref && typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')) {
    if (seen.has(schema.$ref)) return { type: 'object', description: '(recursive: ' + schema.$ref.split('/').pop() + ')' };
    seen.add(schema.$ref);
    let t = root;
    for (const part of schema.$ref.slice(2).split('/')) t = t && t[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))];
    return resolve({ ...(t || {}), ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$ref')) }, root, seen);
  }
  return schema;
}

// nonNull unwraps FastAPI's Optional: anyOf [X, {type: null}] → X (nullable).
function nonNull(schema, root) {
  const s = resolve(schema, root);
  const alts = s.anyOf || s.oneOf;
  if (Array.isArray(alts)) {
    const rest = alts.filter(a => resolve(a, root).type !== 'null');
    if (rest.length === 1) return { ...resolve(rest[0], root), nullable: true, description: s.description || resolve(rest[0], root).description, default: s.default, title: s.title };
  }
  if (Array.isArray(s.type)) {
    const t = s.type.filter(x => x !== 'null');
    if (t.length === 1) return { ...s, type: t[0], nullable: s.type.includes('null') };
  }
  return s;
}

export function typeLabel(schema, root) {
  const s = nonNull(schema, root);
  let t;
  if (s.enum) t = 'enum';
  else if (s.type === 'array') t = `array of ${typeLabel(s.items || {}, root)}`;
  else if (s.anyOf || s.oneOf) t = (s.anyOf || s.oneOf).map(a => typeLabel(a, root)).join(' | ');
  else t = s.type || (s.properties ? 'object' : 'any');
  if (s.format) t += ` (${s.format})`;
  return s.nullable ? t + ' | null' : t;
}

// schemaView renders an object schema as a nested list of properties.
export function schemaView(schema, root = schema, depth = 0) {
  const s = nonNull(schema, root);
  if (!s || (!s.properties && s.type !== 'object' && depth === 0)) {
    return h('p', { class: 'muted' }, s && s.type ? `A ${typeLabel(s, root)}.` : 'No schema.');
  }
  const props = Object.entries(s.properties || {});
  if (!props.length) return h('p', { class: 'muted' }, depth ? 'Any object.' : 'No arguments.');
  const req = new Set(s.required || []);
  return h('ul', { class: 'schema' }, props.map(([name, p]) => {
    const ps = nonNull(p, root);
    const item = ps.type === 'array' ? nonNull(ps.items || {}, root) : null;
    const nested = ps.properties ? ps : item && item.properties ? item : null;
    return h('li', {},
      h('code', { class: 'prop' }, name), ' ',
      h('span', { class: 'type' }, typeLabel(p, root)),
      req.has(name) ? h('span', { class: 'req' }, 'required') : null,
      ps.description ? h('div', { class: 'desc' }, ps.description) : null,
      ps.enum ? h('div', { class: 'desc' }, 'One of: ', ps.enum.map((v, i) => [i ? ', ' : '', h('code', {}, JSON.stringify(v))])) : null,
      ps.default !== undefined ? h('div', { class: 'desc' }, 'Default: ', h('code', {}, JSON.stringify(ps.default))) : null,
      nested && depth < 6 ? schemaView(nested, root, depth + 1) : null);
  }));
}

// schemaForm builds inputs for an object schema. read() returns the
// arguments object (only filled fields), or throws naming the bad field.
export function schemaForm(schema, root = schema) {
  const s = nonNull(schema, root);
  const props = Object.entries(s.properties || {});
  const req = new Set(s.required || []);
  const readers = [];
  const rows = props.map(([name, p]) => {
    const ps = nonNull(p, root);
    const id = 'arg-' + name.replace(/[^A-Za-z0-9_-]/g, '_');
    const label = h('label', { for: id }, name, req.has(name) ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null, ' ', h('span', { class: 'type' }, typeLabel(p, root)));
    let control, read;
    const placeholder = ps.default !== undefined ? `default: ${JSON.stringify(ps.default)}` : (ps.examples && ps.examples[0] !== undefined ? `e.g. ${JSON.stringify(ps.examples[0])}` : '');
    if (ps.enum) {
      control = h('select', { id, name }, h('option', { value: '' }, '—'), ps.enum.map(v => h('option', { value: JSON.stringify(v) }, String(v))));
      read = () => control.value === '' ? undefined : JSON.parse(control.value);
    } else if (ps.type === 'boolean') {
      control = h('select', { id, name }, h('option', { value: '' }, '—'), h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
      read = () => control.value === '' ? undefined : control.value === 'true';
    } else if (ps.type === 'integer' || ps.type === 'number') {
      control = h('input', { id, name, type: 'number', step: ps.type === 'integer' ? '1' : 'any', inputmode: ps.type === 'integer' ? 'numeric' : 'decimal', min: ps.minimum, max: ps.maximum, placeholder });
      read = () => {
        if (control.value === '') return undefined;
        const n = Number(control.value);
        if (!Number.isFinite(n) || (ps.type === 'integer' && !Number.isInteger(n))) throw new Error(`${name} must be ${ps.type === 'integer' ? 'an integer' : 'a number'}`);
        return n;
      };
    } else if (ps.type === 'string') {
      control = h('input', { id, name, type: 'text', placeholder, autocomplete: 'off' });
      read = () => control.value === '' ? undefined : control.value;
    } else {
      // arrays, objects and unions: JSON, with a skeleton to start from
      control = h('textarea', { id, name, rows: 3, spellcheck: 'false', class: 'mono', placeholder: ps.type === 'array' ? '[ … ] as JSON' : '{ … } as JSON' });
      read = () => {
        if (control.value.trim() === '') return undefined;
        try { return JSON.parse(control.value); } catch (e) { throw new Error(`${name} is not valid JSON: ${e.message}`); }
      };
    }
    readers.push([name, read, req.has(name)]);
    return h('div', { class: 'field' }, label, control, ps.description ? h('p', { class: 'help' }, ps.description) : null);
  });
  const form = h('div', { class: 'schema-form' }, rows.length ? rows : h('p', { class: 'muted' }, 'This tool takes no arguments.'));
  form.read = () => {
    const out = {};
    for (const [name, read, required] of readers) {
      const v = read();
      if (v === undefined) { if (required) throw new Error(`${name} is required`); continue; }
      out[name] = v;
    }
    return out;
  };
  return form;
}
