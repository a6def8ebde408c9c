// Per-user delegated access in the dashboard, run by
// e2e/delegated_e2e_test.go against a FastAPI provider: a member
// opens the link URL a tool error gave them (Connected accounts tab), links
// their provider account (authorization code + PKCE, the provider's own
// sign-in page), sees it linked, unlinks it; on the OAuth consent page they
// see they have not linked, link from there and come back to the consent
// page, which still approves; "Test connection" of the credential reports
// every check passed, their own link included; a tenant admin sees the link
// on Tokens & credentials and revokes it. No provider token may reach the browser.
//
// Env: PORTICO_URL, PORTICO_EMAIL, PORTICO_PASSWORD, TENANT_ID, UPSTREAM_USER,
// CONSENT_URL, CALLBACK_URL, TOKEN_PREFIX, OUT_DIR.
import assert from 'node:assert/strict';
import { requireEnv, openBrowser } from './harness.mjs';

const env = requireEnv(['PORTICO_URL', 'PORTICO_EMAIL', 'PORTICO_PASSWORD', 'TENANT_ID', 'UPSTREAM_USER', 'CONSENT_URL', 'CALLBACK_URL', 'TOKEN_PREFIX', 'OUT_DIR']);
const { browser, page, main, problems, shot, axe } = await openBrowser({ outDir: env.OUT_DIR, prefix: 'linked' });
const bodies = [];
page.on('response', async r => { try { bodies.push(await r.text()); } catch { /* redirects have no body */ } });
const accounts = `${env.PORTICO_URL}/tenants/${env.TENANT_ID}/accounts`;

// signInAtProvider answers the provider's own sign-in page.
async function signInAtProvider() {
  await page.locator('#idp-username').waitFor();
  await shot('provider-sign-in');
  await page.locator('#idp-username').fill(env.UPSTREAM_USER);
  await page.locator('#idp-allow').click();
}

try {
  // The link URL a tool error names, before signing in.
  await page.goto(`${accounts}?link=notes`);
  await page.waitForURL(/\/login\?next=/);
  await main.getByLabel('Email').fill(env.PORTICO_EMAIL);
  await main.getByLabel('Password').fill(env.PORTICO_PASSWORD);
  await main.getByRole('button', { name: 'Sign in' }).first().click();
  await page.waitForURL(/\/accounts\?link=notes$/);
  await main.locator('[data-unlinked=notes]').waitFor();
  await shot('not-linked');
  await axe('connected accounts, not linked');

  await main.getByRole('button', { name: 'Link your 127.0.0.1 account for notes' }).click();
  await signInAtProvider();
  await main.locator('#link-outcome').waitFor();
  assert.match(page.url(), /\/accounts\?.*linked=notes/, 'the callback returns to the accounts tab');
  await main.locator('[data-linked=notes]').waitFor();
  await shot('linked');
  await axe('connected accounts, linked');

  await main.getByRole('button', { name: 'Unlink your 127.0.0.1 account for notes' }).click();
  await page.locator('dialog').getByRole('button', { name: 'Unlink' }).click();
  await main.locator('[data-unlinked=notes]').waitFor();
  await page.getByText('Account unlinked.').first().waitFor();
  await shot('unlinked');

  // The consent page: not linked; link from there and come back.
  await page.goto(env.CONSENT_URL);
  await main.locator('#consent-accounts [data-unlinked=notes]').waitFor();
  await shot('consent-not-linked');
  await axe('consent page with an account to link');
  await main.getByRole('button', { name: 'Link your 127.0.0.1 account' }).click();
  await signInAtProvider();
  await main.locator('#consent-accounts [data-linked=notes]').waitFor();
  assert.match(page.url(), /\/oauth\/consent\?.*linked=notes/, 'the callback returns to the consent page');
  await shot('consent-linked');
  await main.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(u => u.href.startsWith(env.CALLBACK_URL));
  assert.ok(new URL(page.url()).searchParams.get('code'), 'approval after linking sends a code to the client');

  // Test connection of the credential: its endpoints answer, the provider
  // accepts the client id and secret, and the member's own link refreshes.
  await page.goto(`${env.PORTICO_URL}/tenants/${env.TENANT_ID}/access`);
  await main.getByRole('button', { name: 'Test connection of credential notes' }).click();
  const report = main.getByRole('group', { name: 'Test of credential notes' });
  await report.waitFor();
  for (const check of ['authorize_endpoint', 'token_endpoint', 'client_authentication', 'linked_account']) {
    assert.equal(await report.locator(`[data-check=${check}]`).getAttribute('data-status'), 'ok', `check ${check} passes`);
  }
  assert.match(await report.locator('[data-check=client_authentication]').textContent(), /invalid_grant/, 'the client check names the code the provider answered');
  await report.getByText('every check passed').waitFor();
  await shot('test-connection');
  await axe('credential test report');

  // A tenant admin sees who linked on Tokens & credentials, and revokes.
  const row = main.locator('#linked-accounts table.linked tbody tr', { hasText: env.PORTICO_EMAIL });
  await row.waitFor();
  assert.ok((await row.textContent()).includes('notes'), 'the row names the credential');
  await shot('admin-list');
  await axe('linked user accounts');
  await row.getByRole('button', { name: `Revoke ${env.PORTICO_EMAIL}'s link for notes` }).click();
  await page.locator('dialog').getByRole('button', { name: 'Revoke' }).click();
  await main.locator('#linked-accounts').getByText('Nobody has linked an account yet.').waitFor();
  await shot('admin-revoked');

  assert.ok(bodies.every(b => !b.includes(env.TOKEN_PREFIX)), 'no response carries a provider token');
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
  console.log('linked accounts flow passed');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e);
  console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
