// The app shell: server rendering, hydration, styling, navigation, the 404 page and the
// Content-Security-Policy it all runs under.
import { test, expect } from '@playwright/test';
import { addAuthenticator, createOrg, createVm, hydrated, signUp, uniqueName, watchErrors } from './support';

test('without JavaScript the dashboard content is in the server-rendered HTML', async ({ browser, page }) => {
  await addAuthenticator(page);
  await signUp(page);
  const storageState = await page.context().storageState();
  const html = await (await page.request.get('/')).text();
  expect(html).toContain('data-testid="count-nodes"');
  expect(html).toContain('data-hydrated="false"');

  const context = await browser.newContext({ javaScriptEnabled: false, storageState });
  const noJs = await context.newPage();
  await noJs.goto('/');
  await expect(noJs.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(noJs.getByTestId('count-nodes')).toContainText('1');
  await expect(noJs.getByTestId('database')).toHaveText('SQLite');
  await expect(noJs.locator('#app')).toHaveAttribute('data-hydrated', 'false');
  await context.close();
});

test('after hydration the controls work, the CSS applies and nothing logs an error', async ({ page }) => {
  const errors = watchErrors(page);
  await addAuthenticator(page);
  await signUp(page);
  await page.goto('/');
  await hydrated(page);

  // Tailwind's w-56 gives the navigation 14rem; unstyled it would span the page.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav).toBeVisible();
  expect((await nav.boundingBox())?.width).toBe(224);

  // Folding the navigation is pure client-side state: it only works once hydrated.
  const toggle = page.getByTestId('nav-toggle');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(nav).toBeHidden();
  await toggle.click();
  await expect(nav).toBeVisible();

  // The refresh button calls the dashboard server function from the browser.
  const call = page.waitForResponse((r) => r.url().endsWith('/api/dashboard') && r.status() === 200);
  await page.getByTestId('refresh').click();
  const body = await (await call).json();
  expect(body.counts.nodes).toBe(1);
  await expect(page.getByTestId('count-nodes')).toContainText('1');

  expect(errors).toEqual([]);
});

test('the dashboard shows what needs attention and the newest audit rows, live', async ({ page, context }) => {
  const errors = watchErrors(page);
  await addAuthenticator(page);
  await signUp(page);
  const orgName = await createOrg(page, 'dash');
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByTestId('attention')).toContainText('Nothing is failing.');
  const recent = page.getByTestId('recent-audit');
  await expect(recent.getByTestId('recent-row').first()).toContainText('organization.create');

  // A VM made in another tab appears in the recent activity without a reload.
  const other = await context.newPage();
  await createVm(other, orgName, 'dash-1');
  await expect(recent.getByTestId('recent-row').first()).toContainText('vm.create');
  await recent.getByRole('link', { name: 'The audit log' }).click();
  await expect(page).toHaveURL('/audit');
  expect(errors).toEqual([]);
});

test('navigation happens in the browser and marks the current page', async ({ page }) => {
  const errors = watchErrors(page);
  await addAuthenticator(page);
  await signUp(page);
  await page.goto('/');
  await hydrated(page);
  // A full page load would reset this marker; client-side routing keeps it.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

  for (const [name, path, empty] of [
    ['Virtual machines', '/vms', 'No virtual machines yet'],
    ['Services', '/services', 'No services yet'],
    ['Organizations', '/organizations', 'No organizations yet'],
  ]) {
    const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
    await link.click();
    await expect(page).toHaveURL(path);
    await expect(page.getByText(empty)).toBeVisible();
    await expect(link).toHaveAttribute('aria-current', 'page');
  }
  await expect(page).toHaveTitle('Organizations · Strata');
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  expect(errors).toEqual([]);
});

test('an unknown address shows the 404 page with status 404', async ({ page }) => {
  await addAuthenticator(page);
  await signUp(page);
  const response = await page.goto('/this/does/not/exist');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
});

test('the hashed assets are compressed and cached for good', async ({ page, request }) => {
  await addAuthenticator(page);
  await signUp(page);
  const assets: { url: string; encoding?: string; cache?: string }[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/pkg/')) {
      assets.push({ url: r.url(), encoding: r.headers()['content-encoding'], cache: r.headers()['cache-control'] });
    }
  });
  await page.goto('/');
  await hydrated(page);
  // The main module, by name (a split build puts page chunks beside it).
  const wasm = assets.find((a) => /\/pkg\/strata\.[^/]+\.wasm$/.test(a.url));
  expect(wasm, JSON.stringify(assets)).toBeTruthy();
  expect(wasm!.url).toMatch(/\/pkg\/strata\.[A-Za-z0-9_-]+\.wasm$/);
  expect(wasm!.cache).toContain('immutable');
  expect(wasm!.encoding).toBe('br');

  const css = await request.get(assets.find((a) => a.url.endsWith('.css'))!.url, {
    headers: { 'accept-encoding': 'gzip' },
  });
  expect(css.status()).toBe(200);
  expect(css.headers()['content-encoding']).toBe('gzip');
});

test('the Content-Security-Policy holds and nothing the app does violates it', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchErrors(page);
  // Reported by the browser on every page this tab loads (a CDP binding, outside the policy).
  const violations: string[] = [];
  await page.exposeFunction('__cspViolation', (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __cspViolation: (v: string) => void }).__cspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  await addAuthenticator(page);

  // Sign-up: the WASM bundle, its inline hydration script and the passkey ceremony.
  const signup = await page.goto('/signup');
  const policy = signup?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("'nonce-");
  expect(policy).toContain("'wasm-unsafe-eval'");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain('unsafe-inline');
  await signUp(page, uniqueName('csp'), 'Policy Person');

  // The dashboard, streamed in order with its resources inline.
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByTestId('count-nodes')).toBeVisible();

  // A page with live updates: the WebSocket connects and a new VM's state arrives live.
  const orgName = await createOrg(page, 'csp');
  await page.goto('/vms');
  await hydrated(page);
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'open');
  await page.getByTestId('vm-org').selectOption({ label: orgName });
  await page.getByTestId('vm-name').fill('csp-1');
  await page.getByTestId('vm-start').uncheck();
  await page.getByTestId('vm-create').click();
  await expect(page.getByTestId('vm-title')).toHaveText('csp-1');
  await expect(page.locator('[data-testid=vm-state]').first()).toHaveAttribute('data-state', 'stopped', {
    timeout: 60_000,
  });

  // Settings, where passkeys are managed.
  await page.goto('/settings');
  await hydrated(page);
  await expect(page.getByTestId('passkey')).toHaveCount(1);

  expect(violations).toEqual([]);
  expect(errors.filter((e) => e.includes('Content Security Policy') || e.includes('Refused to'))).toEqual([]);
  expect(errors).toEqual([]);
});
