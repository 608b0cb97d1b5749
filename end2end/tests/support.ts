// Shared helpers: hydration, console errors, Chromium's virtual passkey authenticator, sign-up.
import { expect, type Page, type CDPSession } from '@playwright/test';

/** Collects console errors and uncaught exceptions for the life of a page. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  return errors;
}

/** Waits until the WASM bundle has hydrated the page (an effect that only runs in the browser). */
export async function hydrated(page: Page) {
  await expect(page.locator('#app')).toHaveAttribute('data-hydrated', 'true', { timeout: 15_000 });
}

export interface Authenticator {
  cdp: CDPSession;
  id: string;
}

/** Gives the page a platform authenticator with resident keys and user verification. */
export async function addAuthenticator(page: Page): Promise<Authenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

/** A fresh username that satisfies Strata's rules. */
export function uniqueName(prefix = 'u'): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Signs up a new account with the page's authenticator and waits for the dashboard. */
export async function signUp(page: Page, username = uniqueName(), displayName = 'Test Person') {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByRole('button', { name: 'Create account with a passkey' }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByTestId('me')).toHaveText(displayName);
  // Sign-up ends in a full page load of `/`: its server-rendered buttons do nothing until the
  // WASM has hydrated them, so a click right away (sign-out, say) could be lost.
  await hydrated(page);
  return username;
}

/** Starts an organization named `<prefix>-<time>` from the Organizations page; returns its name.
 * The page is left on the new organization's page. */
export async function createOrg(page: Page, prefix: string): Promise<string> {
  const orgName = `${prefix}-${Date.now().toString(36)}`;
  await page.goto('/organizations');
  await hydrated(page);
  await page.getByTestId('org-name').fill(orgName);
  await page.getByTestId('org-create').click();
  await expect(page.getByTestId('org-title')).toHaveText(orgName);
  return orgName;
}

/** Creates a VM named `name` in `orgName` from the VMs page, stopped (a record only, nothing
 * boots) unless `start` is set, in `region` if given; the page is left on the new VM's page. */
export async function createVm(page: Page, orgName: string, name: string, start = false, region?: string) {
  await page.goto('/vms');
  await hydrated(page);
  await page.getByTestId('vm-org').selectOption({ label: orgName });
  await page.getByTestId('vm-name').fill(name);
  if (region) await page.getByTestId('vm-region').selectOption(region);
  if (start) await expect(page.getByTestId('vm-start')).toBeChecked();
  else await page.getByTestId('vm-start').uncheck();
  await page.getByTestId('vm-create').click();
  await expect(page.getByTestId('vm-title')).toHaveText(name);
}
