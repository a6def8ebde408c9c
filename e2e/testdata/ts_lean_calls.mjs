// The TypeScript SDK client of TestLeanCallsMatchFull (lean_corpus_test.go):
// connects to a tenant in lean listing, lists its tools (so the SDK caches
// which have an output schema: none do), then calls each tool of CALLS_FILE
// ([{name, arguments}]) and prints one JSON line per call: the result's
// content, structuredContent and isError, or the error the SDK raised.
//
// Env: MCP_URL, MCP_TOKEN, CALLS_FILE, NODE_MODULES (the .ci/node/node_modules
// holding @modelcontextprotocol/sdk; ES modules do not honour NODE_PATH).
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");

const client = new Client({ name: "portico-ts-lean", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
});
await client.connect(transport);
let cursor;
let withOutput = 0;
do {
  const page = await client.listTools(cursor ? { cursor } : {});
  withOutput += page.tools.filter((t) => t.outputSchema).length;
  cursor = page.nextCursor;
} while (cursor);
console.log(JSON.stringify({ listed: true, withOutput }));
for (const c of JSON.parse(readFileSync(process.env.CALLS_FILE, "utf8"))) {
  try {
    const r = await client.callTool({ name: c.name, arguments: c.arguments });
    console.log(JSON.stringify({ name: c.name, content: r.content, structured: r.structuredContent ?? null, isError: !!r.isError }));
  } catch (e) {
    console.log(JSON.stringify({ name: c.name, error: String(e && e.message ? e.message : e) }));
  }
}
await client.close();
