// The dashboard's prompt editor, run by cmd/portico/prompts_e2e_test.go
// against real `portico serve` replicas: an admin writes a prompt with an
// argument on the Prompts tab; a placeholder naming no argument is refused
// at its field by the server's check as they type (nothing saved); the
// preview renders the messages with a sample value; the prompt is saved.
// It prints one JSON line with the rendered preview so the Go test can
// check that prompts/get on another replica returns exactly that. axe-core
// checks the editor; at 390 px nothing may be wider than the screen.
//
// Env: PORTICO_URL, ADMIN_KEY, TENANT_ID, OUT_DIR.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const env = {};
for (const k of ['PORTICO_URL', 'ADMIN_KEY', 'TENANT_ID', 'OUT_DIR']) {
  env[k] = process.env[k];
  if (!env[k]) { console.error(`${k} is not set`); process.exit(2); }
}
mkdirSync(env.OUT_DIR, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
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
  const file = join(env.OUT_DIR, `prompts-${String(++n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.error(`step ${n}: ${name} → ${file}`);
}
async function axe(name) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(axeSource);
  const r = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map(x => x.target.join(' ')) })));
  const bad = r.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe-core on ${name}: ${JSON.stringify(bad)}`);
}
const main = page.locator('main');

try {
  await page.goto(`${env.PORTICO_URL}/login?next=/tenants/${env.TENANT_ID}/prompts`);
  await main.locator('input[name=api_key]').fill(env.ADMIN_KEY);
  await main.locator('input[name=api_key]').press('Enter');
  await page.waitForURL(/\/prompts$/);
  await main.getByRole('button', { name: 'New prompt' }).click();
  const editor = main.locator('.prompt-editor');
  await editor.getByLabel('Name', { exact: true }).fill('summarize');
  await editor.getByLabel('Description').fill('Summarize a topic for the team');
  await editor.getByRole('button', { name: 'Add argument' }).click();
  await editor.getByLabel('Argument 1 name').fill('topic');
  await editor.getByLabel('Argument 1 required').check();
  await editor.getByLabel('Message 1 text').fill('Summarize {{ topic }} for {{audience}}.');
  // {{audience}} names no argument: the server says so at the field.
  await editor.locator('.field-problems code', { hasText: 'messages[0].text' }).waitFor();
  await shot('refused-placeholder');
  await editor.getByLabel('Message 1 text').fill('Summarize {{ topic }} for the team.');
  await editor.locator('.field-problems code').waitFor({ state: 'detached' });
  await editor.getByLabel('Sample value of topic').fill('pricing');
  await editor.locator('[data-preview=messages] li', { hasText: 'Summarize pricing for the team.' }).waitFor();
  const preview = (await editor.locator('[data-preview=messages] li').first().textContent()).replace(/^user: /, '');
  await axe('prompt editor (desktop)');
  await shot('editor');
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `the editor is ${wide} px wide on a 390 px screen`);
  await axe('prompt editor (phone)');
  await shot('editor-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
  await editor.getByRole('button', { name: 'Create prompt' }).click();
  const card = main.locator('section.prompt[data-prompt=summarize]');
  await card.waitFor();
  assert.ok((await card.textContent()).includes('topic (required)'), 'the card lists the argument');
  await shot('created');
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
  console.log(JSON.stringify({ name: 'summarize', args: { topic: 'pricing' }, text: preview }));
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e);
  console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
