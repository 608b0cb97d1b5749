// Passkeys in a real browser, with Chromium's virtual authenticator: sign-up, sign-out, one-click
// sign-in, adding and removing passkeys, revoking another session, and the sign-in redirect (which
// never leaves the site, whatever `?next=` says).
import { test, expect } from '@playwright/test';
import { addAuthenticator, hydrated, signUp, uniqueName, watchErrors } from './support';

test('an anonymous visit lands on sign-in and returns to the page afterwards', async ({ page }) => {
  const auth = await addAuthenticator(page);
  const name = await signUp(page);
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL('/signin');

  await page.goto('/vms');
  await expect(page).toHaveURL('/signin?next=/vms');
  await hydrated(page);
  // Username first this time.
  await page.getByLabel('Username').fill(name);
  await page.getByRole('button', { name: 'Continue with username' }).click();
  await expect(page).toHaveURL('/vms');
  await expect(page.getByText('No virtual machines yet')).toBeVisible();
  await auth.cdp.detach();
});

test('sign up, sign out, sign in with one click, manage passkeys and sessions', async ({ browser, page }) => {
  const errors = watchErrors(page);
  const first = await addAuthenticator(page);
  await signUp(page, uniqueName('ada'), 'Ada Lovelace');

  // Sign out ends the session on the server: the old cookie no longer opens pages.
  const cookies = await page.context().cookies();
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL('/signin');
  const stale = await browser.newContext();
  await stale.addCookies(cookies);
  const stalePage = await stale.newPage();
  await stalePage.goto('/settings');
  await expect(stalePage).toHaveURL('/signin?next=/settings');
  await stale.close();

  // One click, no username.
  await hydrated(page);
  await page.getByTestId('signin-passkey').click();
  await expect(page).toHaveURL('/');
  await expect(page.getByTestId('me')).toHaveText('Ada Lovelace');

  // A second passkey, on a new authenticator (the first one is excluded by the server).
  await page.goto('/settings');
  await hydrated(page);
  const passkeys = page.getByTestId('passkey');
  await expect(passkeys).toHaveCount(1);
  await expect(passkeys.first().getByRole('button', { name: 'Remove' })).toBeDisabled();
  const { credentials } = await first.cdp.send('WebAuthn.getCredentials', { authenticatorId: first.id });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);
  await first.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: first.id });
  const second = await addAuthenticator(page);
  await page.getByTestId('add-passkey').click();
  await expect(passkeys).toHaveCount(2);

  // Remove the first; the second still signs in.
  await passkeys.first().getByRole('button', { name: 'Remove' }).click();
  await expect(passkeys).toHaveCount(1);
  await expect(passkeys.first().getByLabel('Passkey name')).toHaveValue('Chrome on Linux (2)');

  // Another device signs in with a copy of the passkey; this one revokes it.
  const { credentials: copy } = await second.cdp.send('WebAuthn.getCredentials', { authenticatorId: second.id });
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  const otherAuth = await addAuthenticator(otherPage);
  await otherAuth.cdp.send('WebAuthn.addCredential', { authenticatorId: otherAuth.id, credential: copy[0] });
  await otherPage.goto('/signin');
  await hydrated(otherPage);
  await otherPage.getByTestId('signin-passkey').click();
  await expect(otherPage.getByTestId('me')).toHaveText('Ada Lovelace');

  await page.reload();
  await hydrated(page);
  const sessions = page.getByTestId('session');
  await expect(sessions).toHaveCount(2);
  await sessions.filter({ hasNot: page.getByText('This session') }).getByRole('button', { name: 'Revoke' }).click();
  await expect(sessions).toHaveCount(1);
  await expect(sessions.first()).toContainText('This session');

  await otherPage.goto('/');
  await expect(otherPage).toHaveURL('/signin?next=/');
  await other.close();
  expect(errors).toEqual([]);
});

test('sign-in never sends the browser to another site, whatever ?next= says', async ({ page, baseURL }) => {
  const errors = watchErrors(page);
  const auth = await addAuthenticator(page);
  await signUp(page, uniqueName('nx'), 'Next Tester');
  const origin = new URL(baseURL!).origin;
  // Raw query strings: browsers drop tabs and newlines from URLs and read `\` as `/`, so each
  // of these once became another origin.
  const bad = [
    '/%09/evil.example/x',
    '/%0A/evil.example/x',
    '/%0D/evil.example/x',
    '/%0D%0A/evil.example/x',
    '%09//evil.example/x',
    '//evil.example/x',
    '/%5Cevil.example/x',
    '%5C%5Cevil.example/x',
    'https://evil.example/x',
    'https:evil.example/x',
    'javascript:alert(document.domain)',
  ];
  page.on('dialog', (d) => {
    errors.push(`a dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  for (const next of bad) {
    await page.goto(`/signin?next=${next}`);
    await hydrated(page);
    await page.getByTestId('signin-passkey').click();
    await expect(page, next).toHaveURL(`${origin}/`);
    expect(new URL(page.url()).origin, next).toBe(origin);
    await expect(page.getByTestId('me')).toHaveText('Next Tester');
  }
  // A local path with a query still works.
  await page.goto('/signin?next=/vms%3Fx%3D1');
  await hydrated(page);
  await page.getByTestId('signin-passkey').click();
  await expect(page).toHaveURL(`${origin}/vms?x=1`);
  await auth.cdp.detach();
  expect(errors).toEqual([]);
});
