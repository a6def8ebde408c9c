// The TypeScript SDK client of TestDelegatedAccessElicitation: two
// 2025-11-25 sessions of one user, one declaring URL-mode elicitation
// (capabilities.elicitation.url) and one declaring nothing, each calling
// CALL_TOOL. Prints one JSON line per client: "url" with the
// UrlElicitationRequiredError's code, message and elicitations, or the
// tool result; "plain" likewise.
//
// Env: MCP_URL, MCP_TOKEN, NODE_MODULES (as ts_client.mjs), CALL_TOOL.
import { pathToFileURL } from "node:url";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { UrlElicitationRequiredError } = await sdk("types.js");

const out = (step, v = {}) => console.log(JSON.stringify({ step, ...v }));
for (const [step, capabilities] of [["url", { elicitation: { url: {} } }], ["plain", {}]]) {
  const client = new Client({ name: "portico-ts-elicit", version: "1.0.0" }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
    requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
  });
  await client.connect(transport);
  try {
    const res = await client.callTool({ name: process.env.CALL_TOOL, arguments: {} });
    out(step, { isError: !!res.isError, text: res.content[0]?.text ?? "" });
  } catch (e) {
    out(step, { urlElicitationRequired: e instanceof UrlElicitationRequiredError, code: e.code, message: e.message, elicitations: e.elicitations ?? null });
  }
  await client.close();
}
process.exit(0);
