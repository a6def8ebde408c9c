// The dashboard's toolset editor, run by e2e/toolsets_e2e_test.go
// against a real `portico serve` and FastAPI app: an admin makes a
// read-only toolset on the Toolsets tab, sees the live preview change as
// tools are chosen and read-only is turned on, sees a bad name refused at
// its field (nothing saved), creates it, then creates a token restricted
// to it on the Tokens tab. It prints one JSON line with what the preview
// showed and the token, so the Go test can check that an agent on the
// toolset's URL lists exactly that. axe-core checks the editor; at 390 px
// nothing may be wider than the screen.
//
// Env: PORTICO_URL, ADMIN_KEY, TENANT_ID, OUT_DIR.
import assert from 'node:assert/strict';
import { requireEnv, openBrowser } from './harness.mjs';

const env = requireEnv(['PORTICO_URL', 'ADMIN_KEY', 'TENANT_ID', 'OUT_DIR']);
const { browser, page, main, problems, shot, axe } = await openBrowser({ outDir: env.OUT_DIR, prefix: 'toolsets', log: console.error });
const preview = () => main.locator('[data-preview=serves] li').allTextContents();

try {
  await page.goto(`${env.PORTICO_URL}/login?next=/tenants/${env.TENANT_ID}/toolsets`);
  await main.locator('input[name=api_key]').fill(env.ADMIN_KEY);
  await main.locator('input[name=api_key]').press('Enter');
  await page.waitForURL(/\/toolsets$/);
  await main.getByRole('button', { name: 'New toolset' }).click();
  const editor = main.locator('.toolset-editor');
  await editor.getByLabel('Name (the last part of its URL)').fill('helpdesk');
  await editor.getByLabel('Description').fill('Lookups for the help desk');
  // Nothing chosen: every tool.
  await page.waitForFunction(() => document.querySelectorAll('[data-preview=serves] li').length === 5);
  await editor.getByLabel('Filter tools').fill('user');
  await editor.getByLabel('Include get_user_users').check();
  await editor.getByLabel('Include delete_user_users').check();
  await page.waitForFunction(() => document.querySelectorAll('[data-preview=serves] li').length === 2);
  assert.deepEqual((await preview()).sort(), ['delete_user_users', 'get_user_users'], 'the preview lists the chosen tools');
  await editor.getByLabel(/Read-only/).check();
  await page.waitForFunction(() => document.querySelectorAll('[data-preview=serves] li').length === 1);
  const shown = await preview();
  assert.deepEqual(shown, ['get_user_users'], 'read-only leaves the DELETE out of the preview');
  await axe('toolset editor (desktop)');
  await shot('editor');
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `the editor is ${wide} px wide on a 390 px screen`);
  await axe('toolset editor (phone)');
  await shot('editor-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // A bad name is refused at its field by the server's check; nothing saved.
  await editor.getByLabel('Name (the last part of its URL)').fill('Help Desk');
  await editor.locator('.field-problems').getByText('must be 1-63 of lowercase letters').waitFor();
  await editor.getByRole('button', { name: 'Create toolset' }).click();
  await editor.locator('.field-problems code', { hasText: 'name' }).first().waitFor();
  await shot('refused-name');
  await editor.getByLabel('Name (the last part of its URL)').fill('helpdesk');
  await editor.locator('.field-problems').filter({ hasText: 'lowercase' }).waitFor({ state: 'detached' }).catch(() => {});
  await editor.getByRole('button', { name: 'Create toolset' }).click();
  const card = main.locator('section.toolset[data-toolset=helpdesk]');
  await card.waitFor();
  const url = `${env.PORTICO_URL}/t/${env.TENANT_ID}/mcp/helpdesk`;
  assert.ok((await card.textContent()).includes(url), 'the card shows the toolset URL');
  await card.getByText('Serves 1 tool').click();
  assert.deepEqual(await card.locator('ul li').allTextContents(), shown, 'the saved toolset serves what the preview showed');
  await shot('created');

  // A token restricted to it.
  await page.goto(`${env.PORTICO_URL}/tenants/${env.TENANT_ID}/access`);
  await main.locator('input[name=token_name]').fill('help desk agent');
  await main.getByLabel('helpdesk').check();
  await main.getByRole('button', { name: 'Create token' }).click();
  await main.getByText('Restricted to helpdesk').waitFor();
  const secret = (await main.locator('.secret-once pre code').first().textContent()).trim();
  const row = main.locator('table.tokens tbody tr', { hasText: 'help desk agent' });
  assert.ok((await row.textContent()).includes('toolsets helpdesk'), 'the token row says which toolsets it may use');
  await shot('token');
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
  console.log(JSON.stringify({ preview: shown, url, secret }));
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e);
  console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
