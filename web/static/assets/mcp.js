// mcp.js: calls a tenant's real MCP endpoint from the browser, exactly as an
// agent would: a JSON-RPC POST over Streamable HTTP with the MCP token. The
// server is stateless and may answer with JSON or with SSE "data:" lines.

let nextId = 1;

export async function mcpCall(url, token, method, params) {
  const id = nextId++;
  const started = performance.now();
  let resp;
  try {
    resp = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        Authorization: 'Bearer ' + token,
        'MCP-Protocol-Version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      credentials: 'omit',
    });
  } catch (e) {
    throw Object.assign(new Error('Portico did not answer the MCP request.'), { code: 'network' });
  }
  const text = await resp.text();
  const totalMs = performance.now() - started;
  if (!resp.ok) {
    let msg = `The MCP endpoint answered HTTP ${resp.status}.`;
    try { const j = JSON.parse(text); if (j.error && j.error.message) msg = j.error.message; } catch { /* not JSON */ }
    throw Object.assign(new Error(msg), { status: resp.status, totalMs });
  }
  const msg = parseMessages(text, resp.headers.get('Content-Type') || '').find(m => m.id === id);
  if (!msg) throw Object.assign(new Error('The MCP endpoint answered without a response to the call.'), { totalMs });
  if (msg.error) throw Object.assign(new Error(`JSON-RPC error ${msg.error.code}: ${msg.error.message}`), { rpc: msg.error, totalMs });
  return { result: msg.result, totalMs };
}

// parseMessages reads a JSON body or an SSE stream of JSON-RPC messages.
export function parseMessages(text, contentType) {
  if (contentType.includes('text/event-stream') || /^\s*(event|data|id):/m.test(text) && !text.trim().startsWith('{')) {
    const out = [];
    for (const block of text.split(/\r?\n\r?\n/)) {
      const data = block.split(/\r?\n/).filter(l => l.startsWith('data:')).map(l => l.slice(5).replace(/^ /, '')).join('\n');
      if (!data) continue;
      try { const v = JSON.parse(data); out.push(...(Array.isArray(v) ? v : [v])); } catch { /* keep-alive or partial */ }
    }
    return out;
  }
  try { const v = JSON.parse(text); return Array.isArray(v) ? v : [v]; } catch { return []; }
}
