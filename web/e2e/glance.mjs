// The dashboard at a glance, run by e2e/glance_browser_test.go:
// the home overview, an activation's phases, ranked search and tag groups
// over GitHub's 1,223 tools, Markdown descriptions, URL editing, and the
// audit log with its filters. Every screen is checked with axe-core (no
// serious or critical violation) and photographed at desktop and phone
// widths into OUT_DIR.
//
// Env: PORTICO_URL, PORTICO_EMAIL, PORTICO_PASSWORD, UPSTREAM_URL, OUT_DIR,
// DOCS_ID, GITHUB_ID, FLAKY_ID, GONE_ID (tenants the test prepared).
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const env = process.env;
const need = ['PORTICO_URL', 'PORTICO_EMAIL', 'PORTICO_PASSWORD', 'UPSTREAM_URL', 'OUT_DIR', 'DOCS_ID', 'GITHUB_ID', 'FLAKY_ID', 'GONE_ID'];
for (const k of need) if (!env[k]) { console.error(`${k} is not set`); process.exit(2); }
const base = env.PORTICO_URL, out = env.OUT_DIR;
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
page.setDefaultTimeout(30000);
const problems = [];
page.on('pageerror', e => problems.push(`page error: ${e.message}`));
page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`); });
const main = page.locator('main');

// check runs axe-core on the page as it is (the dashboard's CSP forbids
// injected scripts; evaluation through the DevTools protocol is allowed)
// and fails on any serious or critical violation, naming the elements.
const checked = [];
async function check(name) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary) }));
  });
  const bad = r.filter(v => v.impact === 'serious' || v.impact === 'critical');
  checked.push(name);
  assert.deepEqual(bad, [], `axe-core on ${name}: ${JSON.stringify(bad, null, 1)}`);
  const minor = r.filter(v => !bad.includes(v));
  if (minor.length) console.log(`axe-core on ${name}: minor: ${minor.map(v => `${v.id} (${v.impact})`).join(', ')}`);
}

// screen checks the current screen and photographs it at desktop width,
// then at phone width (390 px, where nothing may be wider than the screen),
// then goes back to desktop.
let n = 0;
async function screen(name, ready) {
  await ready();
  await check(`${name} (desktop)`);
  await page.screenshot({ path: join(out, `${String(++n).padStart(2, '0')}-${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await ready();
  await check(`${name} (phone)`);
  await page.screenshot({ path: join(out, `${String(n).padStart(2, '0')}-${name}-phone.png`), fullPage: true });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${name} is ${width} px wide on a 390 px screen`);
  await page.setViewportSize({ width: 1280, height: 860 });
  console.log(`screen ${n}: ${name}`);
}

try {
  // Sign in; the sign-in page is a screen too.
  await page.goto(base + '/login');
  await screen('sign-in', () => page.getByRole('heading', { name: 'Sign in to Portico' }).waitFor());
  const pwForm = page.getByRole('form', { name: 'Sign in with your account' });
  await pwForm.getByLabel('Email', { exact: true }).fill(env.PORTICO_EMAIL);
  await pwForm.getByLabel('Password', { exact: true }).fill(env.PORTICO_PASSWORD);
  await pwForm.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();

  // No focus ring around the whole page after load.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main', 'main has the focus after navigation');
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none', 'the focused page has no outline');

  // 1. Home: the day at a glance, failing tenants first with their reasons.
  const figures = main.locator('.glance .figures');
  await figures.waitFor();
  assert.equal(await figures.locator('.calls .value').innerText(), '4', 'four calls across tenants');
  assert.equal(await figures.locator('.errors .value').innerText(), '1', 'one failed');
  assert.match(await figures.locator('.p95 .value').innerText(), /\d/, 'a p95 latency');
  const attention = main.locator('.attention');
  await attention.locator(`li[data-tenant="${env.GONE_ID}"][data-kind=failed]`).waitFor();
  await attention.locator(`li[data-tenant="${env.FLAKY_ID}"][data-kind=refresh]`).waitFor();
  assert.match(await attention.locator(`li[data-tenant="${env.GONE_ID}"] .reason`).innerText(), /spec_url/, 'the failed activation says why');
  assert.match(await attention.locator(`li[data-tenant="${env.FLAKY_ID}"] .reason`).innerText(), /500|spec/i, 'the failed refresh says why');
  const rows = main.locator('table.tenants tbody tr');
  const order = await rows.evaluateAll(rs => rs.map(r => r.dataset.tenant));
  assert.deepEqual(order.slice(0, 2).sort(), [env.GONE_ID, env.FLAKY_ID].sort(), `failing tenants first: ${order}`);
  assert.match(await main.locator(`tr[data-tenant="${env.GONE_ID}"] .status-reason`).innerText(), /spec_url/, 'the list shows the failed reason');
  await main.locator(`tr[data-tenant="${env.DOCS_ID}"] svg.spark`).waitFor();
  assert.match(await main.locator(`tr[data-tenant="${env.DOCS_ID}"] svg.spark`).getAttribute('aria-label'), /^4 calls and 1 errors/);
  await screen('home', () => main.locator(`tr[data-tenant="${env.DOCS_ID}"] svg.spark`).waitFor());

  // 2. Activate GitHub's document from its page: the phases show, each done.
  await page.goto(`${base}/tenants/${env.GITHUB_ID}`);
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Activate' }).click();
  await page.locator('.tenant .page-head .badge', { hasText: 'active' }).waitFor({ timeout: 120000 });
  const phases = main.locator('.tenant-progress .phase');
  await main.locator('.tenant-progress .progress[data-op=activate]').waitFor();
  assert.deepEqual(await phases.evaluateAll(ps => ps.map(p => p.dataset.phase + ':' + p.className.split(' ').pop())),
    ['download:done', 'parse:done', 'convert:done', 'store:done', 'serve:done'], 'every phase of the activation is done');
  assert.match(await main.locator('.tenant-progress .phase[data-phase=parse] .ph-detail').innerText(), /MB, 1223 operations/);
  await main.locator('.tenant-progress').getByText(/Done in/).waitFor();
  await screen('activation-phases', () => main.locator('.tenant-progress .phase').first().waitFor());

  // 3. Search ranks by words: "create issue" finds issues_create first;
  // without a query, the tools are grouped by tag with counts.
  await page.goto(`${base}/tenants/${env.GITHUB_ID}/tools`);
  const groups = main.locator('details.toolgroup');
  await groups.first().waitFor();
  assert.ok(await groups.count() > 20, 'GitHub\'s tools are grouped by tag');
  assert.match(await main.locator('details.toolgroup[data-tag=issues] summary').innerText(), /^issues \d+ tools$/);
  await screen('tools-groups', () => groups.first().waitFor());
  await main.getByRole('searchbox', { name: 'Search tools' }).fill('create issue');
  await main.getByText(/of 1223, best match first/).waitFor();
  assert.equal(await main.locator('.toolrow .name').first().innerText(), 'issues_create', 'create issue → issues_create first');
  await screen('tools-search', () => main.locator('.toolrow .name').first().waitFor());

  // 4. A description rendered as Markdown; its raw HTML stays text.
  await page.goto(`${base}/tenants/${env.DOCS_ID}/tools/get_note`);
  const md = main.locator('.description .md');
  await md.waitFor();
  assert.equal(await md.locator('strong').first().innerText(), 'one note');
  assert.equal(await md.locator('p code').first().innerText(), 'id');
  assert.equal(await md.locator('ul li').count(), 2, 'a bullet list');
  assert.equal(await md.locator('a[href="https://docs.example.com/notes"]').innerText(), 'the guide');
  await md.locator('a[href="https://example.com/api"]').waitFor();
  await md.locator('pre code').getByText('curl /notes/1').waitFor();
  assert.equal(await md.locator('img, script').count(), 0, 'raw HTML is not markup');
  await md.getByText('<img src=x onerror="window.__pwned=1">', { exact: false }).waitFor();
  assert.equal(await md.locator('a[href^="javascript"]').count(), 0, 'a javascript: link stays text');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing in the description ran');
  await screen('tool-markdown', () => md.waitFor());

  // 5. Edit the URLs on the tenant page, with the API's checks.
  await page.goto(`${base}/tenants/${env.DOCS_ID}`);
  await main.getByRole('button', { name: 'Edit the base URL and spec URL' }).click();
  const urlForm = main.getByRole('form', { name: 'Service URLs' });
  await urlForm.getByLabel('Base URL', { exact: true }).fill('http://169.254.169.254/latest');
  await urlForm.getByRole('button', { name: 'Save URLs' }).click();
  await urlForm.locator('.error-box li code').getByText('base_url', { exact: true }).waitFor();
  assert.equal(await urlForm.getByLabel('Base URL', { exact: true }).getAttribute('aria-invalid'), 'true', 'the refused field is marked');
  await screen('url-edit-refused', () => urlForm.locator('.error-box').waitFor());
  await urlForm.getByLabel('Base URL', { exact: true }).fill(env.UPSTREAM_URL + '/docs2');
  await urlForm.getByRole('button', { name: 'Save URLs' }).click();
  await main.locator('code.base-url', { hasText: env.UPSTREAM_URL + '/docs2' }).waitFor();
  assert.equal(await main.locator('code.spec-url').innerText(), env.UPSTREAM_URL + '/docs2/openapi.json', 'the default spec URL follows the base URL');
  const kind = await page.goto(`${base}/tenants/${env.DOCS_ID}/tools`).then(() => main.locator('.toolrow .kind').first());
  await kind.waitFor();
  assert.equal(await kind.evaluate(e => getComputedStyle(e).borderTopStyle), 'none', 'the kind badge has no input-like border');

  // 6. The audit log: people by email and keys by name, sentences, the
  // URL change as a before/after diff, and filters by who and what.
  await page.goto(`${base}/tenants/${env.DOCS_ID}/activity`);
  const audit = main.locator('table.audit');
  await audit.waitFor();
  const update = audit.locator('tbody tr[data-action="tenant.update"]').first();
  assert.equal(await update.locator('td[data-label=Who]').innerText(), env.PORTICO_EMAIL, 'the change is by the signed-in person');
  assert.match(await update.locator('td[data-label=What] .what').innerText(), /^changed the base URL, spec URL$/);
  const diff = update.locator('table.diff-table');
  assert.equal(await diff.locator('tr', { hasText: 'base URL' }).locator('td.before').innerText(), env.UPSTREAM_URL + '/docs');
  assert.equal(await diff.locator('tr', { hasText: 'base URL' }).locator('td.after').innerText(), env.UPSTREAM_URL + '/docs2');
  const created = audit.locator('tbody tr[data-action="tenant.create"]');
  assert.equal(await created.locator('td[data-label=Who]').innerText(), 'API key “e2e”', 'the test\'s admin key by its name');
  assert.equal(await created.locator('td[data-label=What] .what').innerText(), 'registered the tenant “docs”');
  await screen('audit', () => audit.waitFor());
  await main.getByRole('combobox', { name: 'Who' }).selectOption({ label: env.PORTICO_EMAIL });
  await audit.locator('tbody tr').first().waitFor();
  await page.waitForFunction(e => [...document.querySelectorAll('table.audit td[data-label=Who]')].every(td => td.textContent === e), env.PORTICO_EMAIL);
  assert.equal(await audit.locator('tbody tr[data-action="tenant.create"]').count(), 0, 'the key\'s entries are filtered out');
  await main.getByRole('combobox', { name: 'Who' }).selectOption('');
  await main.getByRole('combobox', { name: 'What' }).selectOption('tenant.status');
  await page.waitForFunction(() => { const rs = [...document.querySelectorAll('table.audit tbody tr')]; return rs.length > 0 && rs.every(r => r.dataset.action === 'tenant.status'); });
  assert.equal(await audit.locator('tbody tr td[data-label=What] .what').first().innerText(), 'activated the tenant (was pending)');
  await screen('audit-filtered', () => audit.waitFor());

  // 7. The other screens pass the same checks.
  await page.goto(`${base}/tenants/${env.FLAKY_ID}/versions`);
  await screen('versions-failed-refresh', () => main.locator('li.version').first().waitFor());
  await page.goto(`${base}/tenants/${env.GONE_ID}`);
  await screen('tenant-failed', () => main.getByText('Activation failed').first().waitFor());
  await page.goto(`${base}/tenants/${env.DOCS_ID}/access`);
  await screen('access', () => main.locator('table.tokens').waitFor());
  await page.goto(`${base}/tenants/${env.DOCS_ID}/settings`);
  await screen('settings', () => main.getByRole('button', { name: 'Save settings' }).waitFor());
  await page.goto(`${base}/new`);
  await screen('wizard', () => page.getByRole('heading', { name: 'Register a service' }).waitFor());

  assert.deepEqual(problems, [], 'no page errors or console errors');
  console.log(`axe-core: no serious or critical violations on ${checked.length} checks: ${checked.join(', ')}`);
} catch (e) {
  await page.screenshot({ path: join(out, 'FAILED.png'), fullPage: true }).catch(() => {});
  console.error(`failed after screen ${n}; screenshot ${join(out, 'FAILED.png')}; page problems: ${JSON.stringify(problems)}`);
  await browser.close();
  throw e;
}
await browser.close();
console.log('dashboard at a glance: all steps passed');
