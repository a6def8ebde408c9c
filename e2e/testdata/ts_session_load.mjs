// The TypeScript SDK session client of TestSessionsAcrossReplicas
// (e2e/replicas_e2e_test.go): connects at the SDK's default protocol
// (2025-11-25, with a session), calls TOOL CALLS times in a row, pausing
// halfway until a line arrives on stdin (the test stops a replica there),
// then prints "ready" and waits for notifications/tools/list_changed.
// One JSON line per step on stdout.
//
// Env: MCP_URL, MCP_TOKEN, TOOL, CALLS, NODE_MODULES (the .ci/node/node_modules
// holding @modelcontextprotocol/sdk; ES modules do not honour NODE_PATH).
import { pathToFileURL } from "node:url";
import { createInterface } from "node:readline";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { ToolListChangedNotificationSchema } = await sdk("types.js");

const out = (step, v = {}) => console.log(JSON.stringify({ step, ...v }));
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
let changes = 0;
let changed;
const gotChange = new Promise((resolve) => (changed = resolve));

const client = new Client({ name: "portico-ts-session-load", version: "1.0.0" });
client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changes++; changed(); });
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
});
await client.connect(transport);
const session = transport.sessionId;
out("connected", { protocol: transport.protocolVersion, session: !!session });

const calls = Number(process.env.CALLS);
let ok = 0, errors = 0, firstError = "";
for (let i = 0; i < calls; i++) {
  if (i === Math.floor(calls / 2)) {
    out("half", { ok, errors });
    await lines.next();
  }
  try {
    const r = await client.callTool({ name: process.env.TOOL, arguments: { user_id: 1 + (i % 50) } });
    if (r.isError || !r.structuredContent || r.structuredContent.id !== 1 + (i % 50)) {
      errors++;
      firstError ||= JSON.stringify(r).slice(0, 300);
    } else {
      ok++;
    }
  } catch (e) {
    errors++;
    firstError ||= String(e).slice(0, 300);
  }
}
out("calls", { ok, errors, firstError, sameSession: transport.sessionId === session });

out("ready");
const timer = setTimeout(() => { out("timeout"); process.exit(2); }, 30000);
await gotChange;
clearTimeout(timer);
// A client that hears list_changed lists again. With EXPECT_TOOL set it
// keeps listing (on the next notification, or every 250 ms, 10 s at most)
// until that tool is there, and says how many lists it took: right after
// the notification a list may reach a replica still applying the change.
let after = await client.listTools();
let lists = 1;
const expect = process.env.EXPECT_TOOL;
const deadline = Date.now() + 10000;
while (expect && !after.tools.some((t) => t.name === expect) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 250));
  after = await client.listTools();
  lists++;
}
out("list_changed", { names: after.tools.map((t) => t.name).sort(), changes, lists });
await client.close();
process.exit(0);
