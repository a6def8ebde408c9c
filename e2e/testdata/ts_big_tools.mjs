// The TypeScript SDK client's view of a big tenant (e2e/ts_schemas_test.go):
// connects, lists every tool with Client.listTools (following nextCursor),
// which compiles every outputSchema, then compiles each tool's inputSchema
// with the SDK's own Ajv provider (AjvJsonSchemaValidator, the validator Client uses for
// structured output), and prints one JSON line with the result.
//
// Client.listTools parses the page with the SDK's zod schemas and compiles
// every outputSchema (cacheToolMetadata): one malformed schema makes it throw
// and the agent gets no tools at all. When that happens this script lists
// again with a plain tools/list request, so the report can name the tools at
// fault.
//
// Env: MCP_URL, MCP_TOKEN, NODE_MODULES (the .ci/node/node_modules holding
// @modelcontextprotocol/sdk; ES modules do not honour NODE_PATH).
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { ListToolsResultSchema } = await sdk("types.js");
const { AjvJsonSchemaValidator } = await sdk("validation/ajv-provider.js");
const version = JSON.parse(readFileSync(`${nm}/@modelcontextprotocol/sdk/package.json`, "utf8")).version;

// Minutes, not the SDK's 60 s default: a very large tools/list is slow to
// build and to parse.
const timeout = 15 * 60 * 1000;
const client = new Client({ name: "portico-ts-big-tools", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
});
await client.connect(transport, { timeout });

async function listAll(list) {
  const tools = [];
  let cursor;
  let pages = 0;
  do {
    const page = await list(cursor);
    pages++;
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return { tools, pages };
}

const started = Date.now();
let listed;
let rejected = null;
try {
  listed = await listAll((cursor) => client.listTools(cursor ? { cursor } : {}, { timeout }));
} catch (e) {
  rejected = String(e?.message ?? e).slice(0, 2000);
  listed = await listAll((cursor) =>
    client.request({ method: "tools/list", params: cursor ? { cursor } : {} }, ListToolsResultSchema, { timeout }));
}
const listMs = Date.now() - started;

const failures = [];
const compile = (tool, which, schema) => {
  if (schema === undefined) return;
  try {
    // A fresh provider per schema: what each client compiles is independent.
    new AjvJsonSchemaValidator().getValidator(schema);
  } catch (e) {
    failures.push({ tool: tool.name, schema: which, error: String(e?.message ?? e).slice(0, 500) });
  }
};
const compileStart = Date.now();
let outputs = 0;
for (const tool of listed.tools) {
  compile(tool, "inputSchema", tool.inputSchema);
  if (tool.outputSchema !== undefined) outputs++;
  // Client.listTools has compiled every outputSchema already when it
  // succeeded; after a rejection, find the ones at fault.
  if (rejected) compile(tool, "outputSchema", tool.outputSchema);
}
console.log(JSON.stringify({
  sdk: version,
  protocol: transport.protocolVersion,
  tools: listed.tools.length,
  pages: listed.pages,
  names: [...new Set(listed.tools.map((t) => t.name))].length,
  bytes: JSON.stringify(listed.tools).length,
  outputs,
  rejected,
  failures,
  list_ms: listMs,
  compile_ms: Date.now() - compileStart,
}));
await client.close();
