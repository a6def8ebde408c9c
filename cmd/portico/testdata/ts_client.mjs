// The TypeScript SDK client of the client matrix (cmd/portico/clients_test.go):
// connects to a Portico tenant (or `portico run --transport http`), lists
// tools, calls one, reads a resource and a resource template, prints
// "ready", then waits for notifications/tools/list_changed unless told not
// to. One JSON line per step on stdout.
//
// Env: MCP_URL, MCP_TOKEN (none: no Authorization header), NODE_MODULES (the
// .ci/node/node_modules holding @modelcontextprotocol/sdk; ES modules do not
// honour NODE_PATH), MCP_WAIT_LIST_CHANGED=0 to stop after "ready".
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { ToolListChangedNotificationSchema } = await sdk("types.js");
const version = JSON.parse(readFileSync(`${nm}/@modelcontextprotocol/sdk/package.json`, "utf8")).version;

const out = (step, v = {}) => console.log(JSON.stringify({ step, ...v }));
let changed;
const gotChange = new Promise((resolve) => (changed = resolve));

const client = new Client({ name: "portico-ts-client", version: "1.0.0" });
client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed());
const token = process.env.MCP_TOKEN;
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
});
await client.connect(transport);
out("connected", { sdk: version, protocol: transport.protocolVersion, sessionId: transport.sessionId ?? "", server: client.getServerVersion()?.name });

const tools = await client.listTools();
out("tools", { names: tools.tools.map((t) => t.name) });
const call = await client.callTool({ name: "test_simple_text", arguments: {} });
out("call", { text: call.content[0].text, isError: !!call.isError });
const res = await client.readResource({ uri: "test://static-text" });
out("resource", { text: res.contents[0].text });
const tpl = await client.readResource({ uri: "test://template/7/data" });
out("template", { text: tpl.contents[0].text });

out("ready");
if (process.env.MCP_WAIT_LIST_CHANGED === "0") {
  await client.close();
  process.exit(0);
}
const timer = setTimeout(() => { out("timeout"); process.exit(2); }, 30000);
await gotChange;
clearTimeout(timer);
const after = await client.listTools();
out("list_changed", { names: after.tools.map((t) => t.name) });
await client.close();
