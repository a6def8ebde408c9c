// The TypeScript SDK's OAuth client against a Portico tenant endpoint, run by
// TestOAuthWithTypeScriptSDKClient (e2e/oauth_sdk_test.go), headless
// as a command-line MCP client does it: the SDK's StreamableHTTPClientTransport
// with an OAuthClientProvider gets a 401, discovers the protected resource
// and its authorization server (RFC 9728, 8414), registers itself (RFC 7591)
// and prints the authorization URL; the user approves in a browser (the test,
// over HTTP), which lands on this script's loopback redirect URI with the
// code; the SDK exchanges it (PKCE), then the client lists tools and calls
// one. One JSON line per step on stdout.
//
// Env: MCP_URL, NODE_MODULES (the .ci/node/node_modules holding
// @modelcontextprotocol/sdk; ES modules do not honour NODE_PATH).
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";

const nm = process.env.NODE_MODULES;
const sdk = (p) => import(pathToFileURL(`${nm}/@modelcontextprotocol/sdk/dist/esm/${p}`).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { UnauthorizedError } = await sdk("client/auth.js");
const version = JSON.parse(readFileSync(`${nm}/@modelcontextprotocol/sdk/package.json`, "utf8")).version;

const out = (step, v = {}) => console.log(JSON.stringify({ step, ...v }));
const fail = (msg) => { out("error", { message: msg }); process.exit(1); };
setTimeout(() => fail("no result within 60 s"), 60000).unref();

// The redirect URI: a loopback server of this process (RFC 8252 7.3).
let delivered;
const callback = new Promise((resolve) => (delivered = resolve));
const server = createServer((req, res) => {
  const u = new URL(req.url, "http://127.0.0.1");
  if (u.pathname !== "/callback") {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "Content-Type": "text/plain" }).end("Signed in; you may close this window.");
  delivered(u.searchParams);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const redirectUrl = `http://127.0.0.1:${server.address().port}/callback`;

// An in-memory OAuthClientProvider: one authorization session.
class Provider {
  #state = randomBytes(16).toString("base64url");
  #client; #tokens; #verifier;
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return {
      client_name: "TypeScript SDK client",
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() { return this.#state; }
  clientInformation() { return this.#client; }
  saveClientInformation(info) {
    this.#client = info;
    out("registered", { client_id: info.client_id, client_name: info.client_name, redirect_uris: info.redirect_uris });
  }
  tokens() { return this.#tokens; }
  saveTokens(tokens) {
    this.#tokens = tokens;
    out("tokens", { token_type: tokens.token_type, refresh_token: !!tokens.refresh_token, expires_in: tokens.expires_in });
  }
  redirectToAuthorization(url) { out("authorize", { url: url.href }); }
  saveCodeVerifier(v) { this.#verifier = v; }
  codeVerifier() { return this.#verifier; }
  expectedState() { return this.#state; }
}

const provider = new Provider();
const open = () => {
  const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), { authProvider: provider });
  return { transport, client: new Client({ name: "portico-ts-oauth-client", version: "1.0.0" }) };
};

// First attempt: no token yet, so the SDK runs discovery and registration
// and hands over the authorization URL, then gives up with UnauthorizedError.
let { transport, client } = open();
try {
  await client.connect(transport);
  fail("connected without authorization");
} catch (e) {
  if (!(e instanceof UnauthorizedError)) fail(`first connect: ${e}`);
}
const params = await callback;
if (params.get("error")) fail(`authorization refused: ${params.get("error")} ${params.get("error_description")}`);
if (params.get("state") !== provider.expectedState()) fail(`state ${params.get("state")} is not the one sent`);
out("callback", { iss: params.get("iss") });
await transport.finishAuth(params.get("code"));

({ transport, client } = open());
await client.connect(transport);
out("connected", { sdk: version, protocol: transport.protocolVersion, sessionId: transport.sessionId ?? "" });
const tools = await client.listTools();
out("tools", { names: tools.tools.map((t) => t.name) });
const call = await client.callTool({ name: "test_simple_text", arguments: {} });
out("call", { text: call.content[0].text, isError: !!call.isError });
await client.close();
server.close();
