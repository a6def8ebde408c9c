// The revocation half of the OAuth browser test, run by
// e2e/oauth_flow_test.go after the client holds tokens: the tenant
// admin opens Tokens & credentials, finds the application under Connected
// applications (with who approved it) and revokes it. The Go test then
// checks the application's tokens are refused.
//
// Env: PORTICO_URL, PORTICO_EMAIL, PORTICO_PASSWORD, TENANT_ID, CLIENT_NAME, OUT_DIR.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const env = {};
for (const k of ['PORTICO_URL', 'PORTICO_EMAIL', 'PORTICO_PASSWORD', 'TENANT_ID', 'CLIENT_NAME', 'OUT_DIR']) {
  env[k] = process.env[k];
  if (!env[k]) { console.error(`${k} is not set`); process.exit(2); }
}
mkdirSync(env.OUT_DIR, { recursive: true });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
page.setDefaultTimeout(20000);
page.on('pageerror', e => problems.push(`page error: ${e.message}`));
page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`); });
let n = 0;
async function shot(name) {
  const file = join(env.OUT_DIR, `oauth-grants-${String(++n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`step ${n}: ${name} → ${file}`);
}
const main = page.locator('main');

try {
  await page.goto(`${env.PORTICO_URL}/tenants/${env.TENANT_ID}/access`);
  await page.waitForURL(/\/login\?next=/);
  await main.getByLabel('Email').fill(env.PORTICO_EMAIL);
  await main.getByLabel('Password').fill(env.PORTICO_PASSWORD);
  await main.getByRole('button', { name: 'Sign in' }).first().click();
  await page.waitForURL(/\/access$/);
  const apps = page.locator('#connected-apps');
  const row = apps.locator('tbody tr', { hasText: env.CLIENT_NAME });
  await row.waitFor();
  assert.equal(await apps.locator('tbody tr').count(), 1, 'one connected application');
  assert.ok((await row.textContent()).includes(env.PORTICO_EMAIL), 'who approved it is shown');
  await shot('connected-applications');
  await row.getByRole('button', { name: `Revoke ${env.CLIENT_NAME}` }).click();
  await page.locator('dialog').getByRole('button', { name: 'Revoke' }).click();
  await apps.getByText('No application is connected').waitFor();
  await shot('revoked');
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
  console.log('oauth grants flow passed');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e);
  console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
