// The dashboard's prompt editor, run by e2e/prompts_e2e_test.go
// against real `portico serve` replicas: an admin writes a prompt with an
// argument on the Prompts tab; a placeholder naming no argument is refused
// at its field by the server's check as they type (nothing saved); the
// preview renders the messages with a sample value; the prompt is saved.
// It prints one JSON line with the rendered preview so the Go test can
// check that prompts/get on another replica returns exactly that. axe-core
// checks the editor; at 390 px nothing may be wider than the screen.
//
// Env: PORTICO_URL, ADMIN_KEY, TENANT_ID, OUT_DIR.
import assert from 'node:assert/strict';
import { requireEnv, openBrowser } from './harness.mjs';

const env = requireEnv(['PORTICO_URL', 'ADMIN_KEY', 'TENANT_ID', 'OUT_DIR']);
const { browser, page, main, problems, shot, axe } = await openBrowser({ outDir: env.OUT_DIR, prefix: 'prompts', log: console.error });

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
