// harness.mjs: what each dashboard browser test starts with: its
// environment checked, Debian's Chromium opened at 1280×900 with page
// errors and console errors (a CSP violation among them) collected,
// numbered screenshots, and axe-core.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import assert from 'node:assert/strict';

// requireEnv returns the variables names, exiting 2 naming the first unset.
export function requireEnv(names) {
  const env = {};
  for (const k of names) {
    env[k] = process.env[k];
    if (!env[k]) { console.error(`${k} is not set`); process.exit(2); }
  }
  return env;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// openBrowser starts Chromium. shot(name) saves OUT_DIR/<prefix>-NN-name.png
// and logs the step with log; axe(name) fails on any serious or critical
// violation of the page as it is (evaluated through the DevTools protocol,
// so the dashboard's CSP stays) and logs minor ones.
export async function openBrowser({ outDir, prefix, log = console.log }) {
  mkdirSync(outDir, { recursive: true });
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
    const file = join(outDir, `${prefix}-${String(++n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    log(`step ${n}: ${name} → ${file}`);
  }
  async function axe(name) {
    if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(axeSource);
    const r = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
      .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(x => x.target.join(' ') + ': ' + x.failureSummary) })));
    const bad = r.filter(v => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `axe-core on ${name}: ${JSON.stringify(bad, null, 1)}`);
    const minor = r.filter(v => !bad.includes(v));
    if (minor.length) log(`axe-core on ${name}: minor: ${minor.map(v => `${v.id} (${v.impact})`).join(', ')}`);
  }
  return { browser, page, main: page.locator('main'), problems, shot, axe };
}
