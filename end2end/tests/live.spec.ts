// Two people in one organization watch the same VM: one starts it, the other's page follows
// without a reload; a stranger sees nothing; once removed, the member's page drops the VM.
import { test, expect } from '@playwright/test';
import { addAuthenticator, createOrg, createVm, hydrated, signUp, uniqueName, watchErrors } from './support';

test('pages follow changes live, only for those who may see them, and drop revoked ones', async ({ browser }) => {
  test.setTimeout(180_000);
  const contexts = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext()]);
  const [ann, bob, carl] = await Promise.all(contexts.map((c) => c.newPage()));
  const errors = [...watchErrors(ann), ...watchErrors(bob), ...watchErrors(carl)];
  for (const p of [ann, bob, carl]) await addAuthenticator(p);
  await signUp(ann, uniqueName('ann'), 'Ann Live');
  const bobName = await signUp(bob, uniqueName('bob'), 'Bob Live');
  await signUp(carl, uniqueName('carl'), 'Carl Stranger');

  const orgName = await createOrg(ann, 'live');
  const orgUrl = ann.url();
  await ann.getByTestId('member-username').fill(bobName);
  await ann.getByTestId('member-add').click();
  await expect(ann.locator(`[data-testid=member-row][data-username=${bobName}]`)).toBeVisible();

  await createVm(ann, orgName, 'live-1');
  const vmUrl = ann.url();
  const annState = ann.locator('[data-testid=vm-state]').first();
  await expect(annState).toHaveAttribute('data-state', 'stopped', { timeout: 60_000 });

  // Bob watches the VM's page, Carl his (empty) list; both connected live.
  await bob.goto(vmUrl);
  await hydrated(bob);
  const bobState = bob.locator('[data-testid=vm-state]').first();
  await expect(bobState).toHaveAttribute('data-state', 'stopped');
  await expect(bob.getByTestId('live-status')).toHaveAttribute('data-state', 'open');
  await carl.goto('/vms');
  await hydrated(carl);
  await expect(carl.getByTestId('live-status')).toHaveAttribute('data-state', 'open');

  // Ann starts it; Bob's page follows without a reload.
  await ann.getByTestId('vm-start').click();
  await expect(bobState).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  await expect(bob.getByTestId('vm-events')).toContainText('Start requested by');
  await expect(carl.locator('[data-testid=vm-row]')).toHaveCount(0);

  // Ann removes Bob: his open page drops the VM at once.
  await ann.goto(orgUrl);
  await hydrated(ann);
  await ann.locator(`[data-testid=member-row][data-username=${bobName}] [data-testid=member-remove]`).click();
  await expect(ann.locator(`[data-testid=member-row][data-username=${bobName}]`)).toHaveCount(0);
  await expect(bob.getByText('No such virtual machine.')).toBeVisible({ timeout: 15_000 });
  await expect(bob.getByTestId('vm-title')).toHaveCount(0);

  // Clean up: stop the VM.
  await ann.goto(vmUrl);
  await hydrated(ann);
  await ann.getByTestId('vm-stop').click();
  await expect(annState).toHaveAttribute('data-state', 'stopped', { timeout: 60_000 });
  // Bob's page asking for the VM after his removal is answered 404, as it should be.
  expect(errors.filter((e) => !e.includes('status of 404'))).toEqual([]);
  await Promise.all(contexts.map((c) => c.close()));
});
