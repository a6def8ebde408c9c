// report.js: the conformance report of a conversion (tenant.ConversionReport:
// POST /preview's report, POST /activate's report, GET /spec/report): one
// line, then the details on demand. All text goes in through h(), so
// nothing in a tenant's document becomes markup.
import { h, table } from './ui.js';

const list = v => (Array.isArray(v) ? v : []);

// reportSummary is the report in one line, as tenant.ConversionReport.Summary
// writes it on the server (activation answers it as report_summary).
export function reportSummary(r) {
  const parts = [`${r.tools} tools`];
  const add = (n, one, many) => { if (n === 1) parts.push(`1 ${one}`); else if (n > 1) parts.push(`${n} ${many}`); };
  add(r.resources, 'resource', 'resources');
  add(r.resource_templates, 'resource template', 'resource templates');
  add(list(r.excluded).length, 'excluded', 'excluded');
  add(list(r.names_cut).length, 'name cut', 'names cut');
  add(list(r.names_suffixed).length, 'name suffixed', 'names suffixed');
  add(list(r.unsupported).length, 'unsupported feature', 'unsupported features');
  add(list(r.warnings).length, 'warning', 'warnings');
  return `${r.dialect}: ${r.operations_seen} operations -> ${parts.join(', ')}`;
}

const changes = (title, rows, help) => h('section', { class: 'group' },
  h('h4', {}, `${title} (${rows.length})`),
  h('p', { class: 'muted small' }, help),
  table([
    { label: 'Operation', render: c => h('code', {}, c.operation) },
    { label: 'From', render: c => h('code', {}, c.from) },
    { label: 'To', render: c => h('code', {}, c.to) },
  ], rows, { caption: title, class: 'report-names' }));

// tokens writes an estimated token count the way a person reads a cost.
export function tokens(n) {
  if (typeof n !== 'number') return '—';
  if (n < 1000) return String(n);
  if (n < 10000) return `${(n / 1000).toFixed(1)}k`;
  if (n < 1000000) return `${Math.round(n / 1000)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

const kb = n => `${(n / 1024).toFixed(1)} KB`;

// costByName indexes a report's per-tool costs (tenant.ToolSetCost.tools).
export function costByName(cost) {
  const m = new Map();
  for (const c of list(cost && cost.tools)) m.set(c.name, c);
  return m;
}

// costView shows what listing the tools costs a model (report.cost): the
// set's bytes and estimated tokens, split into parts, what discovery mode
// would cost, and the server's recommendation when the set is expensive.
export function costView(cost) {
  if (!cost || !cost.total) return null;
  const t = cost.total;
  return h('div', { class: 'report-cost' },
    h('p', { class: 'small' }, h('strong', {}, 'Cost to a model: '),
      `~${tokens(t.tokens)} tokens (${kb(t.bytes)}) for ${list(cost.tools).length} tools in ${cost.listing} listing — `,
      `names and descriptions ~${tokens(t.name_description.tokens)}, input schemas ~${tokens(t.input_schema.tokens)}, output schemas ~${tokens(t.output_schema.tokens)}`,
      typeof cost.lean_tokens === 'number' && cost.listing !== 'lean' ? `; lean listing ~${tokens(cost.lean_tokens)}` : '',
      `; discovery mode ~${tokens(cost.discovery_tokens)}.`,
      h('span', { class: 'muted' }, ` Tokens: ${cost.tokenizer}.`)),
    cost.recommendation ? h('p', { class: 'warn-box small report-recommendation', role: 'note' }, h('strong', {}, 'Recommendation: '), cost.recommendation) : null);
}

// reportView shows a report: its summary line (the server's, when given)
// and an expandable section with everything the conversion changed or left
// out. opts.open expands it; opts.summary overrides the computed line.
export function reportView(r, opts = {}) {
  const cut = list(r.names_cut), suffixed = list(r.names_suffixed), excluded = list(r.excluded);
  const unsupported = list(r.unsupported), warnings = list(r.warnings);
  const sections = [
    cut.length ? changes('Names cut', cut, 'Longer than the 64 characters MCP clients accept: cut, with a short stable hash so they stay unique.') : null,
    suffixed.length ? changes('Names suffixed', suffixed, 'Two operations wanted the same name: the later ones got a numbered suffix.') : null,
    excluded.length ? h('section', { class: 'group' },
      h('h4', {}, `Excluded operations (${excluded.length})`),
      h('p', { class: 'muted small' }, 'A route map excluded them: agents do not see them.'),
      h('ul', { class: 'oplist report-excluded' }, excluded.map(x => h('li', {}, h('code', {}, x))))) : null,
    unsupported.length ? h('section', { class: 'group' },
      h('h4', {}, `Not carried over (${unsupported.length})`),
      table([
        { label: 'Feature', render: u => u.feature },
        { label: 'Times', render: u => String(u.count) },
        { label: 'What Portico did instead', render: u => u.instead },
      ], unsupported, { caption: 'Features not carried over', class: 'report-unsupported' })) : null,
    warnings.length ? h('section', { class: 'group' },
      h('h4', {}, `Warnings (${warnings.length})`),
      h('ul', { class: 'report-warnings' }, warnings.map(w => h('li', {}, w)))) : null,
  ].filter(Boolean);
  const counts = h('p', { class: 'small' },
    `${r.operations_seen} operation${r.operations_seen === 1 ? '' : 's'} in the document, ${r.operations} converted: `,
    `${r.tools} tools, ${r.resources} resources, ${r.resource_templates} resource templates; ${excluded.length} excluded.`);
  return h('div', { class: 'report' },
    h('p', { class: 'report-summary' }, h('strong', {}, 'Conversion report: '), opts.summary || reportSummary(r),
      r.spec_version ? h('span', { class: 'muted' }, ` (spec v${r.spec_version})`) : null),
    costView(r.cost),
    h('details', { class: 'report-details', open: !!opts.open },
      h('summary', {}, sections.length ? 'What the conversion changed or left out' : 'Details'),
      h('div', { class: 'stack' },
        r.title ? h('p', { class: 'small' }, h('strong', {}, r.title), r.version ? ` ${r.version}` : '', ` (${r.dialect})`) : null,
        counts,
        sections.length ? sections : h('p', { class: 'ok small' }, 'Nothing was cut, renamed, excluded or left out, and there are no warnings.'))));
}
