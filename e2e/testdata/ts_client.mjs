// The TypeScript SDK client of the client matrix (e2e/clients_test.go):
// connects to a Portico tenant (or `portico run --transport http`), lists
// tools, calls one, calls it again with its stream cut after the priming
// event (the SDK resumes with GET and Last-Event-ID and must get Portico's
// lost-answer error, not hang), reads a resource and a resource template, prints
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
// cutFetch cuts the next tools/call answer's stream after its first event,
// as a dropped connection does.
let cutNext = false;
const cutFetch = async (url, init) => {
  const res = await fetch(url, init);
  if (!cutNext || init?.method !== "POST" || !String(init.body).includes('"tools/call"') || !res.body) return res;
  cutNext = false;
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let seen = "";
  const body = new ReadableStream({
    async pull(c) {
      const { value, done } = await reader.read();
      if (done) return c.close();
      const before = seen.length;
      seen += dec.decode(value, { stream: true });
      const end = seen.indexOf("\n\n");
      if (end < 0) return c.enqueue(value);
      c.enqueue(new TextEncoder().encode(seen.slice(before, end + 2)));
      reader.cancel();
      c.error(new TypeError("connection cut by the test"));
    },
  });
  return new Response(body, { status: res.status, headers: res.headers });
};
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  fetch: cutFetch,
});
await client.connect(transport);
out("connected", { sdk: version, protocol: transport.protocolVersion, sessionId: transport.sessionId ?? "", server: client.getServerVersion()?.name });

const tools = await client.listTools();
out("tools", { names: tools.tools.map((t) => t.name) });
const call = await client.callTool({ name: "test_simple_text", arguments: {} });
out("call", { text: call.content[0].text, isError: !!call.isError });
cutNext = true;
try {
  await client.callTool({ name: "test_simple_text", arguments: {} });
  out("resume", { error: "" });
} catch (e) {
  out("resume", { error: String(e?.message ?? e) });
}
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
