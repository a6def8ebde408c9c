// markdown.js: tool descriptions (from tenants' OpenAPI documents, so
// untrusted) rendered as a safe subset of Markdown, built as DOM nodes:
// every character of the source reaches the page through text nodes, so
// raw HTML in a description shows as text and can never become markup.
// Maintained Markdown libraries produce HTML strings, which would have to
// be parsed into the page and sanitized; this builds elements directly.
//
// Blocks: paragraphs, ATX headings (shown one level below the page's),
// bullet and numbered lists, fenced and indented code, block quotes,
// thematic breaks. Inline: `code`, **strong**, *emphasis*, [links](url)
// and <autolinks> to http, https and mailto only; anything else is text.
import { h } from './ui.js';

export function markdown(src) {
  const root = h('div', { class: 'md' });
  blocks(String(src || '').replace(/\r\n?/g, '\n').split('\n'), root);
  return root;
}

function blocks(lines, parent) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }
    let m;
    if ((m = line.match(/^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*)/))) {
      const fence = m[1], code = [];
      for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence); i++) code.push(lines[i]);
      i++;
      parent.append(h('pre', { tabindex: 0 }, h('code', {}, code.join('\n'))));
      continue;
    }
    if (/^( {4}|\t)/.test(line)) {
      const code = [];
      for (; i < lines.length && (/^( {4}|\t)/.test(lines[i]) || !lines[i].trim()); i++) code.push(lines[i].replace(/^( {4}|\t)/, ''));
      parent.append(h('pre', { tabindex: 0 }, h('code', {}, code.join('\n').replace(/\n+$/, ''))));
      continue;
    }
    if ((m = line.match(/^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/))) {
      parent.append(h(`h${Math.min(6, m[1].length + 3)}`, {}, inline(m[2])));
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) { parent.append(h('hr', {})); i++; continue; }
    if (/^\s{0,3}>/.test(line)) {
      const inner = [];
      for (; i < lines.length && /^\s{0,3}>/.test(lines[i]); i++) inner.push(lines[i].replace(/^\s{0,3}>\s?/, ''));
      const q = h('blockquote', {});
      blocks(inner, q);
      parent.append(q);
      continue;
    }
    const item = /^(\s{0,3})([-*+]|\d{1,9}[.)])\s+(.*)$/;
    if ((m = line.match(item))) {
      const ordered = /\d/.test(m[2]);
      const list = h(ordered ? 'ol' : 'ul', {});
      while (i < lines.length && (m = lines[i].match(item)) && /\d/.test(m[2]) === ordered) {
        const text = [m[3]];
        for (i++; i < lines.length && lines[i].trim() && !item.test(lines[i]) && /^\s+/.test(lines[i]); i++) text.push(lines[i].trim());
        list.append(h('li', {}, inline(text.join(' '))));
      }
      parent.append(list);
      continue;
    }
    const para = [];
    for (; i < lines.length && lines[i].trim() && !/^\s{0,3}(#{1,6}\s|>|`{3,}|~{3,}|[-*+]\s|\d{1,9}[.)]\s)/.test(lines[i]); i++) para.push(lines[i].trim());
    if (!para.length) { para.push(lines[i].trim()); i++; }
    parent.append(h('p', {}, inline(para.join('\n'))));
  }
}

// safeURL keeps http, https and mailto links; everything else (javascript:,
// data:, relative paths into Portico) stays text.
function safeURL(u) {
  try {
    const url = new URL(u);
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch { return null; }
}

// inline turns one block's text into nodes.
export function inline(text) {
  const out = [];
  let buf = '';
  const flush = () => { if (buf) { out.push(buf); buf = ''; } };
  for (let i = 0; i < text.length;) {
    const rest = text.slice(i);
    let m;
    if (rest[0] === '\\' && /^[\\`*_[\]()<>#+\-.!{}]/.test(rest.slice(1))) { buf += rest[1]; i += 2; continue; }
    if (rest[0] === '\n') { flush(); out.push(h('br', {})); i++; continue; }
    if ((m = rest.match(/^(`+)([\s\S]*?[^`])\1(?!`)/))) { flush(); out.push(h('code', {}, m[2].trim())); i += m[0].length; continue; }
    if ((m = rest.match(/^\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/))) {
      const href = safeURL(m[2]);
      flush();
      out.push(href ? h('a', { href, rel: 'noopener noreferrer nofollow', target: '_blank' }, inline(m[1])) : inline(m[1]));
      i += m[0].length;
      continue;
    }
    if ((m = rest.match(/^<((?:https?|mailto):[^\s<>]+)>/))) {
      const href = safeURL(m[1]);
      flush();
      out.push(href ? h('a', { href, rel: 'noopener noreferrer nofollow', target: '_blank' }, m[1]) : m[0]);
      i += m[0].length;
      continue;
    }
    // Underscores open emphasis only after a space or at the start, so
    // snake_case and window.__x stay as written.
    const wordBefore = i > 0 && !/\s/.test(text[i - 1]);
    if ((m = rest.match(/^(\*\*|__)(?=\S)([\s\S]*?\S)\1(?!\w)/)) && (m[1] === '**' || !wordBefore)) { flush(); out.push(h('strong', {}, inline(m[2]))); i += m[0].length; continue; }
    if ((m = rest.match(/^(\*|_)(?=\S)([\s\S]*?\S)\1(?![*_\w])/)) && (m[1] === '*' || !wordBefore)) { flush(); out.push(h('em', {}, inline(m[2]))); i += m[0].length; continue; }
    if (rest[0] === '_') { while (text[i] === '_') { buf += '_'; i++; } continue; }
    buf += rest[0];
    i++;
  }
  flush();
  return out;
}

// plain is a description's first line without Markdown markers, for lists.
export function plain(src) {
  const first = String(src || '').split('\n').find(l => l.trim()) || '';
  return first.replace(/^\s{0,3}(#{1,6}\s+|[-*+]\s+|>\s?)/, '').replace(/\[([^\]]+)\]\([^)]*\)/g, '$1').replace(/(\*\*|__|`)/g, '').trim();
}
