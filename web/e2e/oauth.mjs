// The consent half of the OAuth browser test, run by
// e2e/oauth_flow_test.go: an MCP client has sent the user to
// Portico's authorization endpoint; the user signs in, reads who asks for
// which tenant and scope, and approves. A second request, for a tenant
// where the user is only a viewer, cannot be approved and is denied. The
// Go test plays the client: it built both URLs and its redirect URI
// (CALLBACK_URL) records what comes back.
//
// Env: APPROVE_URL, DENY_URL (authorization requests), CALLBACK_URL,
// PORTICO_EMAIL, PORTICO_PASSWORD, CLIENT_NAME, TENANT_NAME, TENANT_ID,
// VIEWER_TENANT_ID, OUT_DIR.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const env = {};
for (const k of ['APPROVE_URL', 'DENY_URL', 'CALLBACK_URL', 'PORTICO_EMAIL', 'PORTICO_PASSWORD', 'CLIENT_NAME', 'TENANT_NAME', 'TENANT_ID', 'VIEWER_TENANT_ID', 'OUT_DIR']) {
  env[k] = process.env[k];
  if (!env[k]) { console.error(`${k} is not set`); process.exit(2); }
}
mkdirSync(env.OUT_DIR, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(20000);
page.on('pageerror', e => problems.push(`page error: ${e.message}`));
// A CSP violation shows up as a console error: the consent page must work
// under the dashboard's policy (no inline script).
page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`); });

let n = 0;
async function shot(name) {
  const file = join(env.OUT_DIR, `oauth-${String(++n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`step ${n}: ${name} → ${file}`);
}
const main = page.locator('main');

try {
  // 1. The client sends the user to the authorization endpoint; with no
  //    session the dashboard asks them to sign in first.
  await page.goto(env.APPROVE_URL);
  await page.waitForURL(/\/login\?next=/);
  await main.getByLabel('Email').fill(env.PORTICO_EMAIL);
  await main.getByLabel('Password').fill(env.PORTICO_PASSWORD);
  await shot('sign-in');
  await main.getByRole('button', { name: 'Sign in' }).first().click();

  // 2. The consent page names the client, the tenant (name and id) and the scope.
  await page.waitForURL(/\/oauth\/consent\?/);
  await main.getByRole('heading', { name: `Allow ${env.CLIENT_NAME} to use ${env.TENANT_NAME}?` }).waitFor();
  assert.equal(await page.locator('#consent-client').textContent(), env.CLIENT_NAME);
  assert.equal(await page.locator('#consent-tenant').textContent(), env.TENANT_NAME);
  assert.ok((await main.textContent()).includes(env.TENANT_ID), 'the tenant id is shown');
  assert.ok((await page.locator('#consent-scopes').textContent()).includes('mcp'), 'the scope is shown');
  await shot('consent');

  // 3. Approve: the browser lands on the client's redirect URI.
  await main.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(u => u.href.startsWith(env.CALLBACK_URL));
  assert.ok(new URL(page.url()).searchParams.get('code'), 'the redirect carries a code');
  await shot('approved');

  // 4. A tenant where the user is a viewer: Approve is disabled with the
  //    reason; Deny sends error=access_denied back.
  await page.goto(env.DENY_URL);
  await page.waitForURL(/\/oauth\/consent\?/);
  await page.locator('#consent-reason').waitFor();
  assert.ok((await page.locator('#consent-reason').textContent()).includes('viewer'), 'the reason names the role');
  assert.ok(await main.getByRole('button', { name: 'Approve' }).isDisabled(), 'a viewer cannot approve');
  assert.ok((await main.textContent()).includes(env.VIEWER_TENANT_ID));
  await shot('viewer-cannot-approve');
  await main.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(u => u.href.startsWith(env.CALLBACK_URL));
  assert.equal(new URL(page.url()).searchParams.get('error'), 'access_denied');
  await shot('denied');

  assert.deepEqual(problems, [], 'no page errors or CSP violations');
  console.log('oauth consent flow passed');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e);
  console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
