// A web app's MCP client, run by e2e/cors_test.go: Chromium opens a
// page served from another origin than Portico's, whose script (the
// TypeScript MCP SDK) connects to a tenant endpoint (or `portico run`)
// through CORS. Once from an origin the endpoint allows, once (when
// UNLISTED_PAGE_URL is set) from one it does not. Prints
// {"listed": …, "unlisted": …} as JSON on stdout.
//
// Env: MCP_URL, MCP_TOKEN (empty for `portico run`), PAGE_URL,
// UNLISTED_PAGE_URL (optional).
import { chromium } from 'playwright-core';

const { MCP_URL: url, MCP_TOKEN: token = '', PAGE_URL: pageURL, UNLISTED_PAGE_URL: unlistedURL } = process.env;
for (const [k, v] of Object.entries({ MCP_URL: url, PAGE_URL: pageURL })) {
  if (!v) { console.error(`${k} is not set`); process.exit(2); }
}
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const run = async at => {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(20000);
  page.on('console', m => console.error(`[${new URL(at).host}] console ${m.type()}: ${m.text()}`));
  page.on('pageerror', e => console.error(`[${new URL(at).host}] page error: ${e.message}`));
  await page.goto(at);
  await page.waitForFunction(() => window.ready === true);
  return page.evaluate(([u, t]) => window.runClient(u, t), [url, token]);
};
try {
  const listed = await run(pageURL);
  const unlisted = unlistedURL ? await run(unlistedURL) : null;
  console.log(JSON.stringify({ listed, unlisted }));
} finally {
  await browser.close();
}
