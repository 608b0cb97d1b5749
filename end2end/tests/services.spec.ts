// A person creates a one-replica service, waits for it to run, is told why a broken
// configuration is refused, then saves and deploys a new one and watches the rollout's log and
// status follow live (no reload) until version 2 runs.
import { test, expect } from '@playwright/test';
import { addAuthenticator, createOrg, hydrated, signUp, uniqueName, watchErrors } from './support';

test('a service deploys a new configuration while its page follows the rollout live', async ({ page }) => {
  test.setTimeout(360_000);
  const errors = watchErrors(page);
  await addAuthenticator(page);
  await signUp(page, uniqueName('svc'), 'Sam Service');

  const orgName = await createOrg(page, 'svc');

  // Create: one replica of the ready image with an empty configuration.
  await page.goto('/services');
  await hydrated(page);
  await page.getByTestId('service-org').selectOption({ label: orgName });
  await expect(page.getByTestId('service-image').locator('option').first()).toContainText('strata-test-guest');
  await page.getByLabel('Name').fill('web');
  await expect(page.getByLabel('Replicas')).toHaveValue('1');
  await expect(page.getByLabel('Version')).toHaveValue('1');
  await expect(page.getByLabel('Configuration')).toHaveValue('{}');
  await expect(page.getByLabel('Config schema')).toHaveValue('');
  await page.getByRole('button', { name: 'Create service' }).click();
  await expect(page.getByTestId('service-title')).toHaveText('web');
  const serviceUrl = page.url();
  expect(serviceUrl).toMatch(/\/services\/[^/]+$/);

  // It comes up without a reload: one replica, configuration version 1.
  const status = page.locator('[data-testid=service-status]').first();
  await expect(status).toHaveText('Running', { timeout: 90_000 });
  // The rollout's end and its replica's observed state reach the page as separate updates.
  await expect(page.getByTestId('service-replicas')).toHaveText('1/1', { timeout: 30_000 });
  await expect(page.getByTestId('replica-row')).toHaveCount(1);
  await expect(page.getByTestId('config-version')).toHaveCount(1);

  // Everything below must happen in this page load.
  await page.evaluate(() => ((window as unknown as { __sameLoad: boolean }).__sameLoad = true));

  // A configuration that is not JSON is refused with a reason, and saves no version.
  const editor = page.getByLabel('Configuration');
  await expect(editor).toHaveValue(/^\{\s*\}$/);
  await editor.fill('{');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('config-error')).toBeVisible();
  await expect(page.getByTestId('config-error')).not.toBeEmpty();
  await expect(page.getByTestId('config-version')).toHaveCount(1);
  await expect(editor).toHaveValue('{');

  // Save and deploy a good one: the status, the deployment and its log follow live.
  await editor.fill('{"greeting": "hello from playwright"}');
  await page.getByRole('button', { name: 'Save and deploy' }).click();
  await expect(page.getByTestId('config-error')).toHaveCount(0);
  await expect(page.getByTestId('config-version')).toHaveCount(2);
  const newest = page.getByTestId('deployment-row').first();
  await expect(newest).toHaveAttribute('data-kind', 'deploy');
  const log = page.getByTestId('deployment-log');
  await expect(page.getByTestId('deployment-log-title')).toHaveText(/Log of deployment \d+/);
  await expect(log).toContainText('config v2', { timeout: 60_000 });
  await expect(page.getByTestId('deployment-log-line').first()).toBeVisible();
  // The rollout's own lines arrive as it goes: the new replica starts before the old one stops.
  await expect(log).toContainText('Starting replica web-2', { timeout: 60_000 });
  await expect(log).toContainText('Stopping old replica web-1', { timeout: 90_000 });
  await expect(log).toContainText(/Deployment \d+ succeeded/, { timeout: 180_000 });
  await expect(newest.getByTestId('deployment-state')).toHaveAttribute('data-state', 'succeeded');
  await expect(status).toHaveText('Running', { timeout: 90_000 });

  // Version 2 is current, and the replica runs it.
  await expect(page.getByTestId('service-config-version')).toHaveText('v2');
  await expect(page.locator('[data-testid=config-version][data-version="2"]')).toContainText('current');
  await expect(page.getByTestId('replica-row')).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId('replica-row').getByTestId('replica-config')).toHaveText('v2');
  await expect(editor).toHaveValue(/hello from playwright/);

  // The two versions' diff shows the added field.
  for (const v of ['1', '2']) {
    await page.locator(`[data-testid=config-version][data-version="${v}"] [data-testid=config-compare]`).check();
  }
  await page.getByTestId('config-diff-go').click();
  const added = page.getByTestId('config-diff').locator('[data-tag="+"]');
  await expect(added.filter({ hasText: 'hello from playwright' })).toHaveCount(1);

  expect(await page.evaluate(() => (window as unknown as { __sameLoad?: boolean }).__sameLoad)).toBe(true);
  expect(page.url()).toBe(serviceUrl);

  // The list shows it running, with its CPU sparkline.
  await page.goto('/services');
  await hydrated(page);
  const row = page.locator('[data-testid=service-row][data-name=web]');
  await expect(row.getByTestId('service-status')).toHaveText('Running');
  await expect(row.getByTestId('service-replicas')).toHaveText('1/1');
  await expect(row.getByTestId('sparkline')).toBeVisible();

  // The refused configuration was answered 400, as it should be.
  expect(errors.filter((e) => !/status of (400|404)/.test(e))).toEqual([]);
});
