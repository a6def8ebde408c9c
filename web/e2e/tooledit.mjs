// The tool editor on the Tools tab, run by e2e/tooledit_browser_test.go
// against a real FastAPI app: a tenant admin renames create_item_items_post
// and its name argument, fixes its tags, adds a jq projection and watches
// the preview follow each keystroke; an invalid jq and an unknown argument
// show the server's message at their field and nothing is saved; a real
// call gives a sample that the projection reshapes as it is edited; then
// the override is saved. The tools/list entry and shaped answer the preview
// showed are written to OUT_DIR (previewed-tool.json, previewed-result.json)
// for the Go test to compare with what an MCP client gets. axe-core checks
// the editor (no serious or critical violation) at desktop and at 390 px,
// where nothing may be wider than the screen.
//
// Env: PORTICO_URL, PORTICO_EMAIL, PORTICO_PASSWORD, TENANT_ID, OUT_DIR.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { requireEnv, openBrowser } from './harness.mjs';

const env = requireEnv(['PORTICO_URL', 'PORTICO_EMAIL', 'PORTICO_PASSWORD', 'TENANT_ID', 'OUT_DIR']);
const { browser, page, main, problems, shot, axe: check } = await openBrowser({ outDir: env.OUT_DIR, prefix: 'tooledit' });
let puts = 0;
page.on('request', r => { if (r.method() === 'PUT' && r.url().endsWith('/settings')) puts++; });
// screen checks and photographs the editor at desktop and phone widths.
async function screen(name) {
  await check(`${name} (desktop)`);
  await shot(`${name}-desktop`);
  await page.setViewportSize({ width: 390, height: 844 });
  await check(`${name} (phone)`);
  await shot(`${name}-phone`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${name} is ${width} px wide on a 390 px screen`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

// until waits for the preview to satisfy fn (the debounced request has
// answered), failing with what it showed last.
async function until(what, fn) {
  let last;
  for (const end = Date.now() + 15000; Date.now() < end;) {
    last = await page.evaluate(() => {
      const txt = sel => { const el = document.querySelector(sel); return el ? el.textContent : null; };
      const json = sel => { try { return JSON.parse(txt(sel)); } catch { return null; } };
      return {
        status: txt('.preview-status'), tool: json('.listed-tool'), shaped: json('.shaped-structured'),
        errors: [...document.querySelectorAll('.field-error:not([hidden])')].map(e => e.textContent),
      };
    });
    if (fn(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what}: the preview showed ${JSON.stringify(last)}`);
}
const props = tl => Object.keys((tl && tl.inputSchema && tl.inputSchema.properties) || {}).sort();
const stored = () => page.evaluate(async id => (await (await fetch(`/api/v1/tenants/${id}`, { credentials: 'same-origin' })).json()).settings, env.TENANT_ID);

try {
  await page.goto(`${env.PORTICO_URL}/login`);
  const pwForm = page.getByRole('form', { name: 'Sign in with your account' });
  await pwForm.getByLabel('Email', { exact: true }).fill(env.PORTICO_EMAIL);
  await pwForm.getByLabel('Password', { exact: true }).fill(env.PORTICO_PASSWORD);
  await pwForm.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();

  // From the tool's page to its editor; the preview starts as the document has it.
  await page.goto(`${env.PORTICO_URL}/tenants/${env.TENANT_ID}/tools/create_item_items_post`);
  await main.getByRole('link', { name: 'Edit how agents see it' }).click();
  await main.getByRole('heading', { name: 'Edit create_item_items_post' }).waitFor();
  let p = await until('the unedited tool', s => s.tool && s.tool.name === 'create_item_items_post');
  assert.deepEqual(props(p.tool), ['name', 'note', 'price', 'tags']);
  await screen('editor');

  const form = main.getByRole('form', { name: 'Overrides' });
  const arg = a => form.locator('fieldset.argrow').filter({ has: page.locator('legend code', { hasText: new RegExp(`^${a}$`) }) });

  // Rename the tool: the preview follows.
  await form.getByLabel('Name', { exact: true }).fill('add_item');
  await until('the renamed tool', s => s.tool && s.tool.name === 'add_item');
  // Rename an argument and fix another: the input schema follows.
  await arg('name').getByLabel('Name agents use').fill('title');
  await arg('tags').getByLabel('Fixed value').fill('["agent"]');
  p = await until('the renamed and fixed arguments', s => s.tool && props(s.tool).join() === 'note,price,title');
  assert.deepEqual(p.tool.inputSchema.required, ['title', 'price']);
  // A jq projection: the output schema follows.
  const jq = form.getByLabel('jq expression');
  await jq.fill('{name, total, tags}');
  p = await until('the projected output schema', s => s.tool && s.tool.outputSchema && Object.keys(s.tool.outputSchema.properties || {}).sort().join() === 'name,tags,total');

  // An invalid jq: the server's message at the field, and saving does not save.
  await jq.fill('{name, total,');
  await until('the jq error at its field', s => s.errors.some(e => /not a valid jq expression/.test(e)));
  assert.equal(await jq.getAttribute('aria-invalid'), 'true');
  const jqMsg = await page.evaluate(() => document.getElementById(document.querySelector('textarea[name=jq]').getAttribute('aria-describedby').split(' ').pop()).textContent);
  assert.match(jqMsg, /not a valid jq expression/, 'the jq field is described by its error');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.getByText('Fix the marked fields; nothing was saved.').waitFor();
  await shot('invalid-jq');
  assert.equal(puts, 0, 'an invalid jq sent no PUT /settings');
  assert.equal((await stored()).tools, undefined, 'nothing was saved');
  await jq.fill('{name, total, tags}');
  await until('the jq fixed', s => s.errors.length === 0 && s.tool && s.tool.outputSchema && s.tool.outputSchema.properties.tags);
  await form.getByText('Fix the marked fields; nothing was saved.').waitFor({ state: 'detached' });

  // An unknown argument: the server's message (with the closest name) at its row.
  await form.getByRole('button', { name: 'Add an override by argument name' }).click();
  const extra = form.locator('fieldset.argrow').last();
  await extra.getByLabel('Argument (as the document names it)').fill('prise');
  await extra.getByLabel('Description').fill('What it costs.');
  await until('the unknown argument at its row', s => s.errors.some(e => /is not an argument of tool create_item_items_post; did you mean "price"\?/.test(e)));
  assert.equal(await extra.getByLabel('Argument (as the document names it)').getAttribute('aria-invalid'), 'true');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.getByText('Fix the marked fields; nothing was saved.').waitFor();
  await shot('unknown-argument');
  assert.equal(puts, 0, 'an unknown argument sent no PUT /settings');
  assert.equal((await stored()).tools, undefined, 'nothing was saved');
  await extra.getByRole('button', { name: 'Remove this argument override' }).click();
  await until('the argument override removed', s => s.errors.length === 0 && /up to date/.test(s.status));

  // A real call under the previewed schema: its answer, shaped, and kept as the sample.
  const aside = main.getByRole('complementary', { name: 'Preview' });
  await aside.getByText('Call the service for a real answer').click();
  await aside.getByLabel(/^title/).fill('lamp');
  await aside.getByLabel(/^price/).fill('2.5');
  await aside.getByRole('button', { name: 'Call the service with these arguments' }).click();
  p = await until('the shaped answer of a real call', s => s.shaped && s.shaped.name === 'lamp');
  assert.deepEqual(p.shaped, { name: 'lamp', total: 5, tags: ['agent'] }, 'FastAPI got the fixed tags, the projection kept three fields');
  const sample = JSON.parse(await aside.getByLabel('The service\'s answer (JSON)').inputValue());
  assert.equal(sample.price, 2.5, 'the sample is the upstream\'s whole answer');
  assert.equal(sample.note, null);
  // Editing the projection reshapes the sample as the admin types, without calling again.
  await jq.fill('{name, total}');
  p = await until('the sample reshaped', s => s.shaped && s.shaped.tags === undefined && s.shaped.total === 5);
  assert.deepEqual(p.shaped, { name: 'lamp', total: 5 });
  await jq.fill('{name, total, tags}');
  p = await until('the sample reshaped back', s => s.shaped && Array.isArray(s.shaped.tags) && s.tool && s.tool.outputSchema.properties.tags);
  // A sample that is not JSON is marked at its field; the tool's preview stays.
  const sampleBox = aside.getByLabel('The service\'s answer (JSON)');
  const goodSample = await sampleBox.inputValue();
  await sampleBox.fill('{"name": ');
  await until('the sample error at its field', s => s.errors.some(e => /^is not valid JSON/.test(e)) && s.tool && s.tool.name === 'add_item');
  assert.equal(await sampleBox.getAttribute('aria-invalid'), 'true');
  await sampleBox.fill(goodSample);
  p = await until('the sample shaped again', s => s.errors.length === 0 && s.shaped && Array.isArray(s.shaped.tags));
  await screen('preview');

  // Save: what the preview shows is what the Go test compares with tools/list.
  const previewed = p.tool;
  assert.equal(puts, 0);
  await form.getByRole('button', { name: 'Save' }).click();
  await page.locator('.toast', { hasText: 'Saved' }).waitFor();
  assert.equal(puts, 1, 'one PUT /settings');
  const saved = await stored();
  assert.deepEqual(saved.tools, { create_item_items_post: { name: 'add_item', args: { name: { name: 'title' }, tags: { fixed: ['agent'] } }, response: { jq: '{name, total, tags}' } } });
  assert.equal(saved.upstream_timeout_ms, 20000, 'the other settings were kept');
  writeFileSync(join(env.OUT_DIR, 'previewed-tool.json'), JSON.stringify(previewed));
  writeFileSync(join(env.OUT_DIR, 'previewed-result.json'), JSON.stringify(p.shaped));
  await shot('saved');

  // Back through the Tools list under the new name: the editor finds the
  // override and still holds the sample, shaped as saved.
  await main.getByRole('link', { name: '← All tools' }).click();
  await main.locator('a.toolrow', { hasText: 'add_item' }).click();
  await main.getByRole('link', { name: 'Edit how agents see it' }).click();
  await main.getByRole('heading', { name: 'Edit create_item_items_post' }).waitFor();
  p = await until('the kept sample shaped', s => s.shaped && s.shaped.name === 'lamp' && s.tool && s.tool.name === 'add_item');
  assert.deepEqual(p.shaped, { name: 'lamp', total: 5, tags: ['agent'] });

  // The editor of a renamed tool is found from its new name after a reload too.
  await page.goto(`${env.PORTICO_URL}/tenants/${env.TENANT_ID}/tools/add_item/edit`);
  await main.getByRole('heading', { name: 'Edit create_item_items_post' }).waitFor();
  assert.equal(await form.getByLabel('Name', { exact: true }).inputValue(), 'add_item');
  await until('the saved override previewed', s => s.tool && s.tool.name === 'add_item');

  assert.deepEqual(problems, [], 'no page errors');
  console.log('tool editor: ok');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
