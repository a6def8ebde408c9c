// The TypeScript SDK client of TestToolsetsAcrossReplicas: connects to a
// toolset's MCP URL (a 2025-11-25 session), lists the tools, calls
// CALL_TOOL with CALL_ARGS (JSON), prints "ready", then prints "changed"
// with the new list each time tools/list_changed arrives, until stdin
// closes. One JSON line per step on stdout.
//
// Env: MCP_URL, MCP_TOKEN, NODE_MODULES (as ts_client.mjs), CALL_TOOL, CALL_ARGS.
import { pathToFileURL } from "node:url";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { ToolListChangedNotificationSchema } = await sdk("types.js");

const out = (step, v = {}) => console.log(JSON.stringify({ step, ...v }));
const names = async () => (await client.listTools()).tools.map((t) => t.name).sort();
const client = new Client({ name: "portico-ts-toolset", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
});
client.setNotificationHandler(ToolListChangedNotificationSchema, async () => out("changed", { names: await names() }));
await client.connect(transport);
const call = await client.callTool({ name: process.env.CALL_TOOL, arguments: JSON.parse(process.env.CALL_ARGS) });
out("ready", { names: await names(), text: call.content[0]?.text ?? "", isError: !!call.isError, session: transport.sessionId ?? "" });
process.stdin.resume();
process.stdin.on("end", async () => {
  await client.close();
  process.exit(0);
});
