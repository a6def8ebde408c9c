// The TypeScript SDK client of TestToolTransformEndToEnd: connects, lists
// the tools, calls MCP_TOOL with MCP_ARGS (JSON) and prints the tool as
// listed and the result. The SDK validates structuredContent against the
// listed outputSchema and throws when they disagree, so a printed result
// is one the schema accepts. One JSON line per step on stdout.
//
// Env: MCP_URL, MCP_TOKEN, NODE_MODULES (as ts_client.mjs), MCP_TOOL, MCP_ARGS.
import { pathToFileURL } from "node:url";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");

const out = (step, v = {}) => console.log(JSON.stringify({ step, ...v }));
const client = new Client({ name: "portico-ts-transform", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
});
await client.connect(transport);
const tools = await client.listTools();
const tool = tools.tools.find((t) => t.name === process.env.MCP_TOOL);
out("tool", { tool: tool ?? null, names: tools.tools.map((t) => t.name) });
const res = await client.callTool({ name: process.env.MCP_TOOL, arguments: JSON.parse(process.env.MCP_ARGS) });
out("call", { structured: res.structuredContent ?? null, text: res.content[0]?.text ?? "", isError: !!res.isError });
await client.close();
