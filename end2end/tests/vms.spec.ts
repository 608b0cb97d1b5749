// A person creates a VM from the ready image, watches it boot in the browser console, types
// into the guest, stops it and deletes it.
import { test, expect } from '@playwright/test';
import { addAuthenticator, createOrg, hydrated, signUp, uniqueName, watchErrors } from './support';

test('a VM boots from the ready image, its console is interactive, it stops and is deleted', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = watchErrors(page);
  await addAuthenticator(page);
  await signUp(page, uniqueName('vm'), 'Vera Machine');

  const orgName = await createOrg(page, 'lab');

  await page.goto('/vms');
  await hydrated(page);
  await page.getByTestId('vm-org').selectOption({ label: orgName });
  await expect(page.getByTestId('vm-image').locator('option').first()).toContainText('strata-test-guest');
  await page.getByTestId('vm-name').fill('box-1');
  await expect(page.getByTestId('vm-start')).toBeChecked();
  await page.getByTestId('vm-create').click();
  await expect(page.getByTestId('vm-title')).toHaveText('box-1');

  // It boots without a reload, and its console shows the guest's boot marker.
  const state = page.locator('[data-testid=vm-state]').first();
  await expect(state).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  const out = page.getByTestId('console-out');
  await expect(out).toContainText('STRATA-GUEST-READY', { timeout: 30_000 });
  await expect(page.getByTestId('console-status')).toHaveText('Connected');

  // Typing reaches the guest's shell.
  await page.getByTestId('console-in').fill('echo typed-$((40+2))');
  await page.getByTestId('console-in').press('Enter');
  await expect(out).toContainText('typed-42', { timeout: 15_000 });

  // Stop: the guest powers off on the button; the timeline and operations say so.
  await page.getByTestId('vm-stop').click();
  await expect(state).toHaveAttribute('data-state', 'stopped', { timeout: 60_000 });
  await expect(page.getByTestId('vm-events')).toContainText('Stop requested by');
  await expect(page.locator('[data-testid=operation-row][data-kind="vm.stop"]')).toHaveAttribute('data-state', 'succeeded');
  await expect(page.getByTestId('vm-start')).toBeVisible();

  // Delete: the page says so once the VM and its files are gone.
  await page.getByTestId('vm-delete').click();
  await expect(page.getByText('No such virtual machine.')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('back-to-vms').click();
  await expect(page).toHaveURL('/vms');
  await expect(page.locator('[data-testid=vm-row][data-name=box-1]')).toHaveCount(0);

  await page.goto('/operations');
  await hydrated(page);
  await expect(page.locator('[data-testid=operation-row][data-kind="vm.delete"]')).toHaveAttribute('data-state', 'succeeded');
  // The deleted VM's page asking for it once more is answered 404, as it should be.
  expect(errors.filter((e) => !e.includes('status of 404'))).toEqual([]);
});
