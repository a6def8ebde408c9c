// A newcomer's first minutes, run by e2e/browser_test.go against
// `portico dev`: open the dashboard URL it printed, sign in with the email
// and password it printed, and call a demo tool in the playground, reading
// nothing but the screens. Screenshots go to OUT_DIR/dev-NN-step.png.
//
// Env: PORTICO_URL, PORTICO_EMAIL, PORTICO_PASSWORD, OUT_DIR.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const { PORTICO_URL: base, PORTICO_EMAIL: email, PORTICO_PASSWORD: password, OUT_DIR: out } = process.env;
for (const [k, v] of Object.entries({ PORTICO_URL: base, PORTICO_EMAIL: email, PORTICO_PASSWORD: password, OUT_DIR: out })) {
  if (!v) { console.error(`${k} is not set`); process.exit(2); }
}
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
page.setDefaultTimeout(20000);
const problems = [];
page.on('pageerror', e => problems.push(`page error: ${e.message}`));
page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`); });
let n = 0;
const shot = async name => {
  const file = join(out, `dev-${String(++n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`dev step ${n}: ${name} → ${file}`);
};
const main = page.locator('main');
try {
  await page.goto(base);
  const form = page.getByRole('form', { name: 'Sign in with your account' });
  await form.getByLabel('Email', { exact: true }).fill(email);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await shot('sign-in');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await main.locator('table.tenants').getByRole('link', { name: 'demo' }).click();
  await page.getByRole('heading', { name: 'demo' }).waitFor();
  await shot('demo-tenant');
  await main.getByRole('link', { name: 'Tools', exact: true }).click();
  await main.getByRole('link', { name: /list_books_books_get/ }).click();
  await page.getByRole('heading', { name: 'Playground' }).waitFor();
  await page.getByRole('button', { name: 'Create a playground token' }).click();
  await page.waitForFunction(() => document.querySelector('input[name=mcp_token]').value.startsWith('mcp_'));
  await page.getByRole('button', { name: 'Call tool' }).click();
  await main.locator('.result .latency').waitFor();
  assert.equal(await main.locator('.result .badge').innerText(), 'success');
  await shot('playground-call');
  assert.deepEqual(problems, [], 'no page errors or console errors');
} catch (e) {
  await page.screenshot({ path: join(out, 'dev-FAILED.png'), fullPage: true }).catch(() => {});
  console.error(`dev walk failed after step ${n}; page problems: ${JSON.stringify(problems)}`);
  await browser.close();
  throw e;
}
await browser.close();
console.log('dev walk: signed in with what portico dev printed and called a demo tool');
