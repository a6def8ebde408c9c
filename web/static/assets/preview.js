// preview.js: shows what a spec becomes (POST /api/v1/preview's answer).
import { h } from './ui.js';
import { reportView, costByName, tokens } from './report.js';

function itemRow(t, cost) {
  const c = t.kind === 'tool' || !t.kind ? cost.get(t.name) : null;
  return h('li', { class: 'op' },
    h('div', {}, h('code', { class: 'name' }, t.name), ' ', h('span', { class: `method m-${t.method}` }, t.method), ' ', h('code', { class: 'muted' }, t.path),
      c ? h('span', { class: 'muted small cost', title: `${c.bytes} bytes: name and description ~${c.name_description.tokens}, input ~${c.input_schema.tokens}, output ~${c.output_schema.tokens} tokens` }, ` ~${tokens(c.tokens)} tokens`) : null),
    t.uri ? h('div', { class: 'muted small mono' }, t.uri) : null,
    h('div', { class: 'small' }, t.description.split('\n')[0]));
}

export function previewView(p) {
  const r = p.report;
  const cost = costByName(r.cost);
  const group = (title, items, help) => h('section', { class: 'group' },
    h('h3', {}, `${title} (${items.length})`),
    items.length ? h('ul', { class: 'ops' }, items.map(t => itemRow(t, cost))) : h('p', { class: 'muted small' }, help));
  return h('div', { class: 'preview' },
    h('p', { class: 'lead' }, r.title ? `${r.title}${r.version ? ' ' + r.version : ''}: ` : '',
      `${r.operations} operation${r.operations === 1 ? '' : 's'} become `,
      h('strong', {}, `${p.tools.length} tools`), ', ', h('strong', {}, `${p.resources.length} resources`), ' and ',
      h('strong', {}, `${p.resource_templates.length} resource templates`), '.'),
    r.warnings.length || (r.excluded && r.excluded.length) || (r.unsupported && r.unsupported.length) ? h('div', { class: 'warn-box', role: 'note' },
      h('strong', {}, 'Worth a look before going live'),
      h('ul', {},
        r.warnings.map(w => h('li', {}, w)),
        (r.excluded || []).map(x => h('li', {}, 'Excluded by a route map: ', h('code', {}, x))),
        (r.unsupported || []).map(u => h('li', {}, `Not carried over: ${u.feature} (${u.instead}).`)))) : h('p', { class: 'ok small' }, 'No warnings.'),
    reportView(r),
    group('Tools', p.tools, 'No tools.'),
    group('Resources', p.resources, 'None. Route maps can serve GET operations without parameters as resources.'),
    group('Resource templates', p.resource_templates, 'None. Route maps can serve GET operations with path parameters as templates.'));
}
