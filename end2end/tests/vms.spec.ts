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
  // The new organization has its default network; its owner adds another.
  const nets = page.getByTestId('org-networks');
  await expect(nets.locator('[data-testid=network][data-name=default] [data-testid=network-cidr]')).toHaveText('10.0.0.0/24');
  await page.getByTestId('network-name').fill('back');
  await page.getByTestId('network-subnet').fill('10.1.0.0/24');
  await page.getByTestId('network-create').click();
  await expect(nets.locator('[data-testid=network][data-name=back] [data-testid=network-cidr]')).toHaveText('10.1.0.0/24');
  // An overlapping subnet is refused with the reason.
  await page.getByTestId('network-name').fill('dup');
  await page.getByTestId('network-subnet').fill('10.1.0.0/16');
  await page.getByTestId('network-create').click();
  await expect(nets).toContainText('overlaps network back');

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
  // Its card on the default network: the page names its address, and the guest got it by DHCP.
  await expect(page.getByTestId('vm-nic-0').getByTestId('vm-nic-address')).toHaveText('10.0.0.10');
  await expect(page.getByTestId('vm-nic-0').getByTestId('vm-nic-hostname')).toHaveText('box-1.default.internal');
  await expect(out).toContainText('STRATA-NET: eth0 10.0.0.10 box-1');

  // Typing reaches the guest's shell.
  await page.getByTestId('console-in').fill('echo typed-$((40+2))');
  await page.getByTestId('console-in').press('Enter');
  await expect(out).toContainText('typed-42', { timeout: 15_000 });

  // Its metrics: the first sample within seconds, on charts with a value axis in their unit, a
  // time axis, and each minute's values on hover (a tooltip naming the VM and the value).
  const cpu = page.locator('[data-testid=metrics-chart][data-title=CPU]');
  await expect(cpu.getByTestId('chart-y')).toContainText('%', { timeout: 20_000 });
  await expect(cpu.getByTestId('chart-x')).toHaveText(/^60 min ago.*now$/);
  await expect(cpu.getByTestId('chart-slice').last().locator('title')).toHaveText(/^(now|1 min ago): box-1: \d+\.\d %$/);
  const memory = page.locator('[data-testid=metrics-chart][data-title="Memory (RSS)"]');
  await expect(memory.getByTestId('chart-y')).toContainText('MiB');

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
  // The deleted VM's page asking for it once more is answered 404, and the overlapping subnet
  // 409, as they should be.
  expect(errors.filter((e) => !e.includes('status of 404') && !e.includes('status of 409'))).toEqual([]);
});

test('the VM list shows 50 machines a page and pages through the rest', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchErrors(page);
  await addAuthenticator(page);
  await signUp(page, uniqueName('pg'), 'Paula Pager');
  await createOrg(page, 'fleet');
  const orgId = new URL(page.url()).pathname.split('/').pop();

  // 52 stopped machines through the same server function the form calls.
  const statuses = await page.evaluate(async (organization_id) => {
    const out: number[] = [];
    for (let i = 0; i < 52; i++) {
      const vm = {
        organization_id, name: `m-${String(i).padStart(2, '0')}`, description: '', image_id: null,
        cpu_count: 1, memory_mb: 128, disk_gb: 1, start: false, region: null,
      };
      const res = await fetch('/api/vms/create', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vm }),
      });
      out.push(res.status);
    }
    return out;
  }, orgId);
  expect(statuses.filter((s) => s !== 200)).toEqual([]);

  await page.goto('/vms');
  await hydrated(page);
  const rows = page.getByTestId('vm-row');
  await expect(rows).toHaveCount(50);
  await expect(page.getByTestId('vm-page-range')).toHaveText('1–50 of 52');
  await expect(rows.first()).toHaveAttribute('data-name', 'm-00');
  await expect(page.getByTestId('vm-page-prev')).toBeDisabled();

  await page.getByTestId('vm-page-next').click();
  await expect(page.getByTestId('vm-page-range')).toHaveText('51–52 of 52');
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toHaveAttribute('data-name', 'm-50');
  await expect(page.getByTestId('vm-page-next')).toBeDisabled();

  await page.getByTestId('vm-page-prev').click();
  await expect(page.getByTestId('vm-page-range')).toHaveText('1–50 of 52');

  // A filter starts over on its first page: no machine is running.
  await page.getByTestId('filter-state').selectOption('running');
  await expect(page.getByTestId('vm-page-range')).toHaveText('No machine matches.');
  await expect(rows).toHaveCount(0);
  expect(errors).toEqual([]);
});
