// The TypeScript SDK client of TestPromptsAcrossReplicas: connects (a
// 2025-11-25 session), lists the prompts, gets PROMPT with PROMPT_ARGS
// (JSON), completes its argument COMPLETE_ARG from "", prints "ready", then
// prints "changed" with the new list each time prompts/list_changed
// arrives, until stdin closes. One JSON line per step on stdout.
//
// Env: MCP_URL, MCP_TOKEN, NODE_MODULES (as ts_client.mjs), PROMPT,
// PROMPT_ARGS, COMPLETE_ARG.
import { pathToFileURL } from "node:url";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { PromptListChangedNotificationSchema } = await sdk("types.js");

const out = (step, v = {}) => console.log(JSON.stringify({ step, ...v }));
const client = new Client({ name: "portico-ts-prompts", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
});
client.setNotificationHandler(PromptListChangedNotificationSchema, async () => {
  const list = await client.listPrompts();
  out("changed", { names: list.prompts.map((p) => p.name) });
});
await client.connect(transport);
const caps = client.getServerCapabilities();
const list = await client.listPrompts();
const got = await client.getPrompt({ name: process.env.PROMPT, arguments: JSON.parse(process.env.PROMPT_ARGS) });
const comp = await client.complete({ ref: { type: "ref/prompt", name: process.env.PROMPT }, argument: { name: process.env.COMPLETE_ARG, value: "" } });
out("ready", {
  prompts: caps.prompts ?? null,
  names: list.prompts.map((p) => p.name),
  texts: got.messages.map((m) => m.content.text ?? ""),
  values: comp.completion.values,
});
process.stdin.resume();
process.stdin.on("end", async () => {
  await client.close();
  process.exit(0);
});
