// The dashboard's browser test, run by e2e/browser_test.go against a
// real Portico and a real FastAPI app. It walks the whole flow a new tenant
// admin takes and saves a screenshot of each step in OUT_DIR.
//
// Env: PORTICO_URL, PORTICO_ADMIN_KEY, PORTICO_EMAIL, PORTICO_PASSWORD (a
// user made with `portico admin user create`), FASTAPI_URL, OUT_DIR, CANARY
// (the upstream credential value, which must never come back to the browser).
//
// The main walk signs in with email and password (session cookie, CSRF
// token on writes); a second, short walk in a fresh browser context signs in
// with the API key.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const { PORTICO_URL: base, PORTICO_ADMIN_KEY: adminKey, PORTICO_EMAIL: email, PORTICO_PASSWORD: password, FASTAPI_URL: upstream, OUT_DIR: out, CANARY: canary } = process.env;
for (const [k, v] of Object.entries({ PORTICO_URL: base, PORTICO_ADMIN_KEY: adminKey, PORTICO_EMAIL: email, PORTICO_PASSWORD: password, FASTAPI_URL: upstream, OUT_DIR: out, CANARY: canary })) {
  if (!v) { console.error(`${k} is not set`); process.exit(2); }
}
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// Every response body the dashboard receives (headers included), and every
// page's HTML, is checked for the credential value.
const seen = [];
const problems = [];
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const p = await context.newPage();
  p.setDefaultTimeout(20000);
  p.on('response', async r => {
    const headers = JSON.stringify(await r.allHeaders().catch(() => ({})));
    try { seen.push({ url: r.url(), body: headers + '\n' + await r.text() }); } catch { seen.push({ url: r.url(), body: headers }); /* redirects, aborted */ }
  });
  p.on('pageerror', e => problems.push(`page error: ${e.message}`));
  // Failed requests are logged by Chromium as console errors; the flow causes
  // some on purpose (a wrong password or key, an unreachable service).
  p.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`); });
  return p;
}
let page = await newPage();

let n = 0;
const htmls = [];
async function shot(name) {
  const file = join(out, `${String(++n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  htmls.push(await page.content());
  console.log(`step ${n}: ${name} → ${file}`);
}
let main = page.locator('main');

try {
  // 1. Sign in with email and password (a wrong password first).
  await page.goto(base + '/');
  await page.waitForURL(/\/login/);
  await page.getByRole('heading', { name: 'Sign in to Portico' }).waitFor();
  await shot('sign-in');
  const pwForm = page.getByRole('form', { name: 'Sign in with your account' });
  await pwForm.getByLabel('Email', { exact: true }).fill(email);
  await pwForm.getByLabel('Password', { exact: true }).fill('not the password');
  await pwForm.getByRole('button', { name: 'Sign in' }).click();
  await main.getByText('Could not sign in').waitFor();
  await shot('sign-in-rejected');
  await pwForm.getByLabel('Password', { exact: true }).fill(password);
  await pwForm.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();
  const cookies = await page.context().cookies();
  assert.ok(cookies.some(c => /portico_session$/.test(c.name) && c.httpOnly), 'signed in with an HttpOnly session cookie');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('portico.apiKey')), null, 'no API key in the tab: the session cookie carries the sign-in');
  await main.getByText('No tenants yet.').waitFor();
  await shot('tenants-empty');

  // 2. Create a tenant: first an unreachable URL, then the real one.
  await main.getByRole('link', { name: 'Register your first service' }).click();
  await page.getByRole('heading', { name: 'Register a service' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('users');
  await page.getByLabel('Base URL', { exact: true }).fill('http://127.0.0.1:9');
  await page.getByRole('button', { name: 'Preview tools' }).click();
  await main.getByText('The service is unreachable').waitFor();
  await shot('wizard-unreachable');
  await page.getByLabel('Base URL', { exact: true }).fill(upstream);
  await page.getByRole('button', { name: 'Preview tools' }).click();
  await page.getByRole('heading', { name: '2. What your agents will see' }).waitFor();
  for (const tool of ['get_user_users', 'whoami_whoami_get', 'create_item_items_post']) await main.getByText(tool, { exact: true }).waitFor();
  // The conformance report: the app's 5 operations, all tools, nothing to report.
  await main.locator('.report-summary').getByText('OpenAPI 3.0.2: 5 operations -> 5 tools').waitFor();
  await main.locator('.report-details summary').click();
  await main.locator('.report-details').getByText('Nothing was cut, renamed, excluded or left out').waitFor();
  // Its cost to a model: the set's line and each tool's estimate.
  await main.locator('.report-cost').getByText('Cost to a model:').waitFor();
  assert.match(await main.locator('.report-cost').innerText(), /~\d+ tokens \([\d.]+ KB\) for 5 tools in full listing/);
  assert.equal(await main.locator('.ops .cost').count(), 5, 'each previewed tool shows its estimated tokens');
  await shot('wizard-preview');
  await page.getByRole('button', { name: /Create tenant/ }).click();

  // 3. Credential (write-only).
  await page.getByRole('heading', { name: '3. Credentials your service needs' }).waitFor();
  await page.getByLabel('Value', { exact: true }).fill(canary);
  await page.getByRole('button', { name: 'Save credential' }).click();
  await main.getByText('saved').waitFor();
  assert.equal(await page.getByLabel('Value', { exact: true }).inputValue(), '', 'the credential input is cleared after saving');
  await shot('wizard-credential');
  await page.getByRole('button', { name: 'Next: route maps' }).click();

  // 4. Route maps: exclude /slow and watch the live preview match it.
  await page.getByRole('heading', { name: '4. Route maps (optional)' }).waitFor();
  await page.getByRole('button', { name: 'Add rule' }).click();
  await page.getByLabel('Path pattern (regex)').fill('^/slow');
  await main.getByText('Matches 1 operation').waitFor();
  await page.getByRole('button', { name: 'Check with Portico' }).click();
  await main.getByText('Excluded by a route map:').waitFor();
  await main.locator('.report-summary').getByText('5 operations -> 4 tools, 1 excluded').waitFor();
  await main.locator('.report-details summary').click();
  await main.locator('.report-excluded').getByText('GET /slow', { exact: true }).waitFor();
  await shot('wizard-route-maps');
  await page.getByRole('button', { name: 'Next: activate' }).click();

  // 5. Activate; the MCP URL, a token shown once and client snippets follow.
  await page.getByRole('heading', { name: '5. Go live' }).waitFor();
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByRole('heading', { name: 'users is live' }).waitFor();
  const wizardToken = (await main.locator('.secret-once code').innerText()).trim();
  assert.match(wizardToken, /^mcp_/);
  const mcpURL = (await main.locator('code.mcp-url').innerText()).trim();
  for (const client of ['Claude Desktop', 'Claude Code', 'Cursor', 'VS Code', 'MCP Inspector']) await main.getByRole('tab', { name: client }).waitFor();
  await main.getByRole('tab', { name: 'Cursor' }).click();
  await main.getByText('"Authorization": "Bearer ' + wizardToken).waitFor();
  // Activation answers the report of the stored spec: its tool count is what
  // the tenant serves, and the route map's exclusion is listed.
  const liveReport = main.locator('.activation-report');
  await liveReport.locator('.report-summary').getByText('OpenAPI 3.0.2: 5 operations -> 4 tools, 1 excluded').waitFor();
  await liveReport.locator('.report-summary').getByText('(spec v1)').waitFor();
  const served = await page.evaluate(async u => (await (await fetch(`/api/v1/tenants/${u.split('/t/')[1].split('/')[0]}/tools`)).json()), mcpURL);
  const servedTools = (served.tools || served).filter(x => (x.kind || 'tool') === 'tool').length;
  assert.equal(servedTools, 4, `the tenant serves ${servedTools} tools, as the report says`);
  await liveReport.locator('.report-details summary').click();
  await liveReport.locator('.report-excluded').getByText('GET /slow', { exact: true }).waitFor();
  await liveReport.screenshot({ path: join(out, 'report-activation.png') });
  await shot('wizard-live');

  // 6. Playground: call a tool that needs the credential, through real MCP.
  await main.getByRole('link', { name: 'Try a tool in the playground' }).click();
  // Sorted by cost, the costliest tool comes first (the report's figures).
  await main.locator('.report-cost').getByText('Cost to a model:').waitFor();
  await main.getByRole('combobox', { name: 'Sort' }).selectOption('cost');
  const costs = await main.locator('.toolrow .cost').allInnerTexts();
  const nums = costs.map(c => Number(c.replace(/[^\d.]/g, '')));
  assert.ok(nums.length === 4 && nums.every((x, i) => i === 0 || nums[i - 1] >= x), `tools sorted by cost: ${costs}`);
  await main.getByRole('combobox', { name: 'Sort' }).selectOption('');
  await main.getByRole('searchbox', { name: 'Search tools' }).fill('who');
  await shot('tools-search');
  await main.getByRole('link', { name: /whoami_whoami_get/ }).click();
  await page.getByRole('heading', { name: 'Playground' }).waitFor();
  await page.getByRole('button', { name: 'Create a playground token' }).click();
  await page.waitForFunction(() => document.querySelector('input[name=mcp_token]').value.startsWith('mcp_'));
  await page.getByRole('button', { name: 'Call tool' }).click();
  await main.locator('.result .latency').waitFor();
  await main.locator('.result').getByText('service-account').first().waitFor();
  assert.equal(await main.locator('.result .badge').innerText(), 'success');
  assert.notEqual(await main.locator('.lat-upstream').innerText(), '—', 'upstream latency is shown');
  await shot('playground-result');

  // A tool with arguments, from the generated form.
  await page.goto(base + new URL(page.url()).pathname.replace(/whoami_whoami_get$/, 'get_user_users'));
  await page.getByLabel(/^user_id/).fill('42');
  await page.getByRole('button', { name: 'Call tool' }).click();
  await main.locator('.result').getByText('"id": 42').first().waitFor();
  await shot('playground-arguments');

  // 7. Change the spec, refresh, see the diff.
  const sw = await fetch(upstream + '/_e2e/spec-v2', { method: 'POST' });
  assert.equal(sw.status, 200);
  const tenantPath = new URL(page.url()).pathname.replace(/\/tools\/.*$/, '');
  await page.goto(base + tenantPath + '/versions');
  await page.getByRole('button', { name: 'Refresh now' }).click();
  const refreshed = main.locator('.refresh-result, .unavailable').first();
  await refreshed.waitFor();
  assert.equal(await main.locator('.unavailable').count(), 0, 'POST /spec/refresh is served');
  await main.locator('.refresh-result').getByRole('heading', { name: 'New version v2' }).waitFor();
  await main.locator('.refresh-result .diff.add').getByText('get_order_orders', { exact: true }).waitFor();
  await main.locator('li.version[data-version="2"]').getByText('serving').waitFor();
  await shot('spec-refresh');
  // The history shows each version's diff on demand.
  await main.locator('li.version[data-version="2"] summary').click();
  await main.locator('li.version[data-version="2"] .diff.add').getByText('get_order_orders', { exact: true }).waitFor();
  await shot('spec-history-diff');
  const liveTools = async () => (await (await page.evaluate(async id => {
    const r = await fetch(`/api/v1/tenants/${id}/tools`); return r.text();
  }, tenantPath.split('/')[2]))).toString();
  assert.ok((await liveTools()).includes('get_order_orders'), 'v2 serves the added tool');

  // Pin (roll back to) v1: the added tool goes away; unpin brings it back.
  await main.getByRole('button', { name: 'Pin version 1' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Pin' }).click();
  await main.locator('.spec-state').getByText('Pinned to v1.').waitFor();
  await main.locator('li.version[data-version="1"]').getByText('pinned').waitFor();
  await page.waitForFunction(async id => !(await (await fetch(`/api/v1/tenants/${id}/tools`)).text()).includes('get_order_orders'), tenantPath.split('/')[2], { polling: 200, timeout: 10000 });
  await shot('spec-pinned-v1');
  await main.getByRole('button', { name: 'Unpin (serve the newest)' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Unpin' }).click();
  await main.locator('.spec-state').getByText('Serving the newest version, v2.').waitFor();
  await page.waitForFunction(async id => (await (await fetch(`/api/v1/tenants/${id}/tools`)).text()).includes('get_order_orders'), tenantPath.split('/')[2], { polling: 200, timeout: 10000 });
  await shot('spec-unpinned');

  // 8. Revoke the wizard's token; the MCP endpoint refuses it at once.
  await page.goto(base + tenantPath + '/access');
  await main.locator('table.tokens').waitFor();
  await shot('tokens');
  await main.getByRole('button', { name: 'Revoke token first agent (created by the wizard)' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('Token revoked.').waitFor();
  await shot('token-revoked');
  const after = await fetch(mcpURL, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: 'Bearer ' + wizardToken }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}' });
  assert.equal(after.status, 401, 'a revoked token is refused');

  // 9. Settings, activity, overview with lifecycle confirmation, the list.
  // A setting the page does not show (a REST rate limit) survives a save
  // from the page, and so do the browser origins it shows.
  const putHidden = await page.evaluate(async (p) => {
    const r = await fetch('/api/v1' + p + '/settings', { method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('portico.csrf') || '' }, body: JSON.stringify({ ...(await (await fetch('/api/v1' + p)).json()).settings, rest_rate_limit_per_second: 40, rest_rate_limit_burst: 80, cors_origins: ['https://app.example.com', 'http://127.0.0.1:5173'] }) });
    return r.status;
  }, tenantPath.replace(/^.*(\/tenants\/[^/]+).*$/, '$1'));
  assert.equal(putHidden, 200, 'set a REST limit through the API');
  await page.goto(base + tenantPath + '/settings');
  await main.getByText('Matches 1 operation').waitFor();
  assert.equal(await main.getByLabel('Browser origins (CORS)').inputValue(), 'https://app.example.com, http://127.0.0.1:5173', 'the page shows the browser origins');
  await shot('settings');
  await main.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText(/Settings saved/).first().waitFor();
  const kept = await page.evaluate(async (p) => (await (await fetch('/api/v1' + p)).json()).settings, tenantPath.replace(/^.*(\/tenants\/[^/]+).*$/, '$1'));
  assert.equal(kept.rest_rate_limit_per_second, 40, 'saving from the page keeps settings it does not show');
  assert.ok(kept.route_maps && kept.route_maps.length, 'and the route maps it edits');
  assert.deepEqual(kept.cors_origins, ['https://app.example.com', 'http://127.0.0.1:5173'], 'and the browser origins');
  await page.goto(base + tenantPath + '/activity');
  await main.getByRole('heading', { name: 'Audit log' }).waitFor();
  await main.locator('table').getByText('credential.create').first().waitFor();
  await main.locator('table').getByText('spec.pin').first().waitFor();
  // The playground's calls, recorded by the data plane: chart, latency split, filters.
  const callRows = main.locator('table.calls tbody tr');
  await callRows.first().waitFor();
  assert.ok(await callRows.count() >= 2, 'the playground calls are listed');
  await main.locator('svg.chart').waitFor();
  await main.getByText(/Last 24 h: \d+ calls/).waitFor();
  const who = main.locator('table.calls tbody tr', { hasText: 'whoami_whoami_get' }).first();
  assert.equal(await who.locator('td[data-label=Status]').innerText(), 'ok');
  assert.match(await who.locator('td[data-label=Upstream]').innerText(), /\d/, 'upstream latency recorded');
  assert.match(await who.locator('td[data-label=Portico]').innerText(), /\d/, 'gateway latency recorded');
  await shot('activity');
  // Usage of the fleet: a per-tool breakdown with both latency splits, and a range picker.
  const usageRow = main.locator('table.usage tbody tr', { hasText: 'whoami_whoami_get' });
  assert.equal(await usageRow.locator('td[data-label=Calls]').innerText(), '1', 'the per-tool breakdown counts the call');
  assert.match(await usageRow.locator('td[data-label="Upstream p50 / p95 / p99"]').innerText(), /\d.* \/ .*\d/, 'upstream percentiles shown');
  await main.getByRole('combobox', { name: 'Time range' }).selectOption('1h');
  await main.getByText(/Last hour: \d+ calls/).waitFor();
  await main.getByRole('combobox', { name: 'Time range' }).selectOption('24h');
  await main.getByText(/Last 24 h: \d+ calls/).waitFor();
  await main.getByRole('combobox', { name: 'Tool' }).selectOption('get_user_users');
  await main.getByText(/matching calls/).waitFor();
  for (const td of await main.locator('table.calls td[data-label=Tool]').allInnerTexts()) assert.equal(td, 'get_user_users');
  await main.getByRole('combobox', { name: 'Status' }).selectOption('error');
  await main.getByText('No calls match these filters.').waitFor();
  await shot('activity-filtered');
  await page.goto(base + tenantPath);
  // The overview's conversion report is about the serving version, v2.
  const overviewReport = main.locator('.conversion-report');
  await overviewReport.locator('.report-summary').getByText('OpenAPI 3.0.2: 6 operations -> 5 tools, 1 excluded').waitFor();
  await overviewReport.locator('.report-summary').getByText('(spec v2)').waitFor();
  await overviewReport.locator('.report-details summary').click();
  await overviewReport.locator('.report-excluded').getByText('GET /slow', { exact: true }).waitFor();
  await overviewReport.screenshot({ path: join(out, 'report-overview.png') });
  await shot('overview-report');
  await main.getByRole('button', { name: 'Deactivate' }).click();
  await page.getByRole('dialog').waitFor();
  await shot('deactivate-confirm');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await page.goto(base + '/');
  await main.locator('table.tenants').getByText('users').waitFor();
  await main.locator('table.tenants td[data-label=Tools]').getByText('5', { exact: true }).waitFor(); // v2: four tools and the added one
  await main.locator('table.tenants td[data-label="Spec version"]').getByText('v2').waitFor();
  await page.waitForFunction(() => /^[1-9]\d*$/.test(document.querySelector('table.tenants td[data-label="Calls (24 h)"]').textContent.trim()));
  await main.locator('table.tenants td[data-label="Error rate"]').getByText('0.0 %').waitFor();
  await shot('tenants');
  // A tenant that was never activated has no report: the overview says why.
  const draft = await page.evaluate(async () => {
    const r = await fetch('/api/v1/tenants', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('portico.csrf') || '' }, body: JSON.stringify({ name: 'draft', base_url: 'http://127.0.0.1:9' }) });
    return r.json();
  });
  assert.ok(draft.id, `created a draft tenant: ${JSON.stringify(draft)}`);
  await page.goto(base + '/tenants/' + draft.id);
  await main.locator('.conversion-report').getByText('No conversion report yet').waitFor();
  await main.locator('.conversion-report').getByText(/has no stored spec yet/).waitFor();
  await shot('overview-no-report');
  const gone = await page.evaluate(async id => (await fetch('/api/v1/tenants/' + id, { method: 'DELETE', headers: { 'X-CSRF-Token': sessionStorage.getItem('portico.csrf') || '' } })).status, draft.id);
  assert.equal(gone, 204, 'the draft tenant is deleted');
  // A document with a name over 64 characters, two operations wanting one
  // name, an OAuth 2 scheme and a webhook: the preview's report lists each,
  // and the markup in its title stays text.
  await page.goto(base + '/new');
  await page.getByLabel('Name', { exact: true }).fill('odd');
  await page.getByLabel('Base URL', { exact: true }).fill(upstream);
  await main.getByText('Spec somewhere else?').click();
  await page.getByLabel('Spec URL', { exact: true }).fill(upstream + '/_e2e/odd-openapi.json');
  await page.getByRole('button', { name: 'Preview tools' }).click();
  await page.getByRole('heading', { name: '2. What your agents will see' }).waitFor();
  const odd = main.locator('.report');
  await odd.locator('.report-summary').getByText('OpenAPI 3.1.0: 3 operations -> 3 tools, 1 name cut, 1 name suffixed, 2 unsupported features, 1 warning').waitFor();
  await odd.locator('.report-details summary').click();
  const cutRow = odd.locator('table.report-names tbody tr', { hasText: 'GET /reports/quarterly/{year}' });
  await cutRow.getByText('get_the_quarterly_financial_report_for_a_given_year_with_all_details_included', { exact: true }).waitFor();
  assert.match(await cutRow.locator('td[data-label=To]').innerText(), /^get_the_quarterly_financial_report_for_a_given_year_wit_[0-9a-f]{8}$/);
  assert.ok((await cutRow.locator('td[data-label=To]').innerText()).length <= 64, 'the cut name is at most 64 characters');
  const sufRow = odd.locator('table.report-names tbody tr', { hasText: 'GET /things/all' });
  assert.equal(await sufRow.locator('td[data-label=From]').innerText(), 'list_things');
  assert.equal(await sufRow.locator('td[data-label=To]').innerText(), 'list_things_2');
  await odd.locator('table.report-unsupported').getByText('webhooks', { exact: true }).waitFor();
  await odd.locator('table.report-unsupported').getByText(/no flow is run/).waitFor();
  await odd.locator('.report-warnings').getByText(/is longer than 64 characters/).waitFor();
  await main.locator('.warn-box').getByText('Not carried over: webhooks', { exact: false }).waitFor();
  await odd.getByText('Odd <b>report</b> API', { exact: true }).waitFor();
  assert.equal(await main.locator('.preview b').count(), 0, 'markup in the document stays text');
  await odd.screenshot({ path: join(out, 'report-preview-odd.png') });
  await shot('wizard-preview-report');

  // 10. A phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + '/');
  await main.locator('table.tenants').waitFor();
  await shot('tenants-phone');
  await page.goto(base + tenantPath + '/versions');
  await main.locator('li.version[data-version="2"]').waitFor();
  await shot('versions-phone');
  await page.goto(base + tenantPath + '/activity');
  await main.locator('table.calls tbody tr').first().waitFor();
  await shot('activity-phone');
  // Nothing is wider than the phone's screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `the page is ${overflow} px wide on a 390 px screen`);
  await page.goto(base + tenantPath);
  await main.locator('.conversion-report .report-details summary').click();
  await main.locator('.conversion-report .report-excluded').getByText('GET /slow', { exact: true }).waitFor();
  await shot('overview-report-phone');
  const reportWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(reportWidth <= 390, `the overview with its report is ${reportWidth} px wide on a 390 px screen`);
  await page.goto(base + tenantPath + '/tools/whoami_whoami_get');
  await page.getByRole('heading', { name: 'Playground' }).waitFor();
  await shot('playground-phone');

  // 11. Keyboard: the playground's fields and Call button are reached by Tab
  // alone, and Enter on the focused button calls the tool.
  let reached = false;
  for (let k = 0; k < 40 && !reached; k++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.textContent === 'Call tool');
  }
  assert.ok(reached, 'the Call tool button is reachable with Tab');
  await page.keyboard.press('Enter');
  await main.locator('.result .latency').waitFor();
  await shot('playground-keyboard-phone');

  // 12. The API-key path: a fresh browser, a wrong key, then the admin key;
  // reads and a write (a new token) work with the key as a bearer token.
  page = await newPage();
  main = page.locator('main');
  await page.goto(base + '/login');
  const keyForm = page.getByRole('form', { name: 'Sign in with an API key' });
  await keyForm.getByLabel('API key', { exact: true }).fill('pk_wrong');
  await keyForm.getByRole('button', { name: 'Sign in' }).click();
  await main.getByText('That key was not accepted').waitFor();
  await keyForm.getByLabel('API key', { exact: true }).fill(adminKey);
  await keyForm.getByRole('button', { name: 'Sign in' }).click();
  await main.locator('table.tenants').getByText('users').waitFor();
  await shot('api-key-tenants');
  await page.goto(base + tenantPath + '/access');
  await main.locator('table.tokens').waitFor();
  const tokenForm = main.locator('form', { has: page.getByRole('button', { name: 'Create token' }) });
  await tokenForm.getByLabel('Name', { exact: true }).fill('key-path agent');
  await tokenForm.getByRole('button', { name: 'Create token' }).click();
  await main.locator('.secret-once code').first().waitFor();
  assert.match(await main.locator('.secret-once code').first().innerText(), /^mcp_/);
  await shot('api-key-token-created');

  // The credential value never reached the browser.
  await page.waitForTimeout(300);
  const leaks = seen.filter(r => r.body.includes(canary)).map(r => r.url);
  assert.deepEqual(leaks, [], 'no response the dashboard received carries the credential value');
  assert.ok(seen.length > 20, `checked ${seen.length} responses`);
  assert.ok(htmls.every(h => !h.includes(canary)), 'no page HTML carries the credential value');
  console.log(`canary: absent from ${seen.length} responses and ${htmls.length} page snapshots`);

  assert.deepEqual(problems, [], 'no page errors or console errors');
} catch (e) {
  await page.screenshot({ path: join(out, 'FAILED.png'), fullPage: true }).catch(() => {});
  console.error(`failed after step ${n}; screenshot ${join(out, 'FAILED.png')}; page problems: ${JSON.stringify(problems)}`);
  await browser.close();
  throw e;
}
await browser.close();
console.log('dashboard flow: all steps passed');
