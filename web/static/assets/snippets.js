// snippets.js: ready-to-paste client configuration for a tenant's MCP URL.
import { h, codeBlock } from './ui.js';

export function slug(name) {
  return (name || 'portico').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'portico';
}

export function snippets(name, url, token) {
  const key = slug(name);
  const auth = `Bearer ${token}`;
  return [
    ['Claude Desktop', 'claude_desktop_config.json (Claude Desktop speaks stdio; mcp-remote bridges it to HTTP)',
      JSON.stringify({ mcpServers: { [key]: { command: 'npx', args: ['-y', 'mcp-remote', url, '--header', `Authorization:${auth}`] } } }, null, 2)],
    ['Claude Code', 'run in a terminal',
      `claude mcp add --transport http ${key} ${url} --header "Authorization: ${auth}"`],
    ['Cursor', '.cursor/mcp.json',
      JSON.stringify({ mcpServers: { [key]: { url, headers: { Authorization: auth } } } }, null, 2)],
    ['VS Code', '.vscode/mcp.json',
      JSON.stringify({ servers: { [key]: { type: 'http', url, headers: { Authorization: auth } } } }, null, 2)],
    ['MCP Inspector', 'list the tools from a terminal',
      `npx @modelcontextprotocol/inspector-cli --cli ${url} --transport http --header "Authorization: ${auth}" --method tools/list`],
  ];
}

// snippetTabs shows each client's snippet behind an accessible tab list.
export function snippetTabs(name, url, token) {
  const items = snippets(name, url, token);
  const panel = h('div', { class: 'tabpanel', role: 'tabpanel' });
  const buttons = items.map(([label], i) => h('button', {
    type: 'button', role: 'tab', class: 'tab', 'aria-selected': i === 0 ? 'true' : 'false', tabindex: i === 0 ? 0 : -1,
    onclick: () => select(i),
    onkeydown: e => {
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        const j = (i + (e.key === 'ArrowRight' ? 1 : items.length - 1)) % items.length;
        select(j); buttons[j].focus();
      }
    },
  }, label));
  function select(i) {
    buttons.forEach((b, j) => { b.setAttribute('aria-selected', String(i === j)); b.tabIndex = i === j ? 0 : -1; });
    const [label, where, text] = items[i];
    panel.replaceChildren(h('p', { class: 'muted small' }, where), codeBlock(text, `${label} configuration`));
  }
  select(0);
  return h('div', { class: 'snippets' }, h('div', { role: 'tablist', 'aria-label': 'Client configuration', class: 'tabs small' }, buttons), panel);
}
