// The dashboard's OAuth2 client-credentials form, run by
// e2e/identity_e2e_test.go against a FastAPI token endpoint: a
// tenant admin adds an oauth2_client_credentials credential on Tokens &
// credentials, tests the connection (a token is issued), replaces the
// secret with a wrong one and tests again (the endpoint's invalid_client is
// shown). The client secret must never come back to the browser.
//
// Env: PORTICO_URL, PORTICO_EMAIL, PORTICO_PASSWORD, TENANT_ID, TOKEN_URL, CLIENT_SECRET, OUT_DIR.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const env = {};
for (const k of ['PORTICO_URL', 'PORTICO_EMAIL', 'PORTICO_PASSWORD', 'TENANT_ID', 'TOKEN_URL', 'CLIENT_SECRET', 'OUT_DIR']) {
  env[k] = process.env[k];
  if (!env[k]) { console.error(`${k} is not set`); process.exit(2); }
}
mkdirSync(env.OUT_DIR, { recursive: true });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
const bodies = [];
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
page.setDefaultTimeout(20000);
page.on('pageerror', e => problems.push(`page error: ${e.message}`));
page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`); });
page.on('response', async r => { try { bodies.push(await r.text()); } catch { /* redirects have no body */ } });
let n = 0;
async function shot(name) {
  const file = join(env.OUT_DIR, `credentials-${String(++n).padStart(2, '0')}-${name}.png`);
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

  const form = main.locator('form:has(input[name=cred_name])');
  await form.locator('input[name=cred_name]').fill('idp');
  await form.getByLabel('Type', { exact: true }).selectOption('oauth2_client_credentials');
  await form.getByLabel('Token URL').fill(env.TOKEN_URL);
  await form.getByLabel('Client id').fill('portico');
  await form.getByLabel('Scopes (space-separated)').fill('reports');
  await form.getByLabel('Client secret (write-only)').fill(env.CLIENT_SECRET);
  await shot('form');
  await form.getByRole('button', { name: 'Save' }).click();
  const row = main.locator('table.creds tbody tr', { hasText: 'idp' });
  await row.waitFor();
  assert.ok((await row.textContent()).includes(env.TOKEN_URL), 'the row shows the token URL');

  await row.getByRole('button', { name: 'Test connection of credential idp' }).click();
  await main.getByText(/idp: the token endpoint issued a Bearer token valid for \d+ s\./).waitFor();
  await shot('tested-ok');

  await row.getByRole('button', { name: 'Replace credential idp' }).click();
  const form2 = main.locator('form:has(input[name=cred_name])');
  assert.equal(await form2.getByLabel('Token URL').inputValue(), env.TOKEN_URL, 'Replace fills in the token URL');
  await form2.getByLabel('Client secret (write-only)').fill('a-wrong-secret');
  await form2.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Credential idp saved.').first().waitFor();
  await main.locator('table.creds tbody tr', { hasText: 'idp' }).getByRole('button', { name: 'Test connection of credential idp' }).click();
  await main.getByText(/invalid_client/).waitFor();
  await shot('tested-refused');

  // The tenant's signed caller identity, on its Settings tab.
  await page.goto(`${env.PORTICO_URL}/tenants/${env.TENANT_ID}/settings`);
  const idOn = main.getByLabel('Signed caller identity');
  assert.ok(await idOn.isChecked(), 'the identity assertion set through the API shows as on');
  await main.getByLabel('Identity header').fill('X-Caller-Identity');
  await main.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText(/Settings saved/).first().waitFor();
  await shot('identity-setting');

  assert.ok(bodies.every(b => !b.includes(env.CLIENT_SECRET) && !b.includes('a-wrong-secret')), 'no response carries a client secret');
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
  console.log('credentials flow passed');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e);
  console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
