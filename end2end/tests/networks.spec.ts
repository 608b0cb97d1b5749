// An organization's owner makes a network, puts a VM on it from the create form, opens the
// network's page, sees the VM's address and name there, opens a port to it with a rule, and
// reads the reachability explanation follow the rule (no VM boots: records only).
import { test, expect } from '@playwright/test';
import { addAuthenticator, createOrg, createVm, hydrated, signUp, uniqueName, watchErrors } from './support';

test('a network page lists its VMs, edits its rules and explains what reaches what', async ({ page }) => {
  test.setTimeout(45_000);
  const errors = watchErrors(page);
  await addAuthenticator(page);
  await signUp(page, uniqueName('net'), 'Nadia Network');
  const orgName = await createOrg(page, 'netlab');
  const orgPath = new URL(page.url()).pathname;

  // A second network beside the default one.
  const nets = page.getByTestId('org-networks');
  await page.getByTestId('network-name').fill('back');
  await page.getByTestId('network-subnet').fill('10.1.0.0/24');
  await page.getByTestId('network-create').click();
  await expect(nets.locator('[data-testid=network][data-name=back] [data-testid=network-cidr]')).toHaveText('10.1.0.0/24');

  // web-1 on the default network (the form's preselection); db-1 on back only.
  await createVm(page, orgName, 'web-1');
  await page.goto('/vms');
  await hydrated(page);
  await page.getByTestId('vm-org').selectOption({ label: orgName });
  await page.getByTestId('vm-name').fill('db-1');
  const choice = page.getByTestId('vm-networks');
  await expect(choice.locator('[data-name=default]')).toBeChecked();
  await choice.locator('[data-name=back]').check();
  await choice.locator('[data-name=default]').uncheck();
  await page.getByTestId('vm-start').uncheck();
  await page.getByTestId('vm-create').click();
  await expect(page.getByTestId('vm-title')).toHaveText('db-1');
  await expect(page.getByTestId('vm-nic-0').getByTestId('vm-nic-hostname')).toHaveText('db-1.back.internal');
  await expect(page.getByTestId('vm-nic-1')).toHaveCount(0);

  // The network's page, from the organization's Networks card.
  await page.goto(orgPath);
  await hydrated(page);
  await nets.locator('[data-testid=network][data-name=back] [data-testid=network-link]').click();
  await expect(page.getByTestId('network-title')).toHaveText('back');
  await expect(page.getByTestId('network-subnet-value')).toHaveText('10.1.0.0/24');
  await expect(page.getByTestId('network-gateway')).toHaveText('10.1.0.1');
  await expect(page.getByTestId('network-dns')).toHaveText('10.1.0.2');
  const db = page.locator('[data-testid=network-vm][data-name=db-1]');
  await expect(db.getByTestId('network-vm-address')).toHaveText('10.1.0.10');
  await expect(db.getByTestId('network-vm-hostname')).toHaveText('db-1.back.internal');
  await expect(page.locator('[data-testid=network-vm][data-name=web-1]')).toHaveCount(0);

  // A rule: tcp/5432 from the default network.
  const rules = page.getByTestId('network-rules');
  await expect(rules.getByTestId('no-rules')).toBeVisible();
  await page.getByTestId('rule-protocol').selectOption('tcp');
  await page.getByTestId('rule-port').fill('5432');
  await page.getByTestId('rule-source-network').selectOption({ label: 'default' });
  await page.getByTestId('rule-add').click();
  const rule = rules.locator('[data-testid=network-rule][data-summary="tcp/5432 from network default"]');
  await expect(rule).toBeVisible();

  // web-1 reaches db-1 on tcp/5432 by that rule; on tcp/22 the default refuses.
  await page.getByTestId('reach-from').selectOption({ label: 'web-1' });
  await page.getByTestId('reach-to').selectOption({ label: 'db-1' });
  await page.getByTestId('reach-port').fill('5432');
  await page.getByTestId('reach-explain').click();
  const answer = page.getByTestId('reach-answer');
  await expect(answer).toHaveAttribute('data-allowed', 'true');
  await expect(answer.getByTestId('reach-verdict')).toHaveText('Allowed');
  await expect(answer.getByTestId('reach-decided-by')).toHaveText('the rule “tcp/5432 from network default”');
  await expect(answer.getByTestId('reach-reason')).toContainText('web-1 may reach db-1 on tcp/5432');

  await page.getByTestId('reach-port').fill('22');
  await page.getByTestId('reach-explain').click();
  await expect(answer).toHaveAttribute('data-allowed', 'false');
  await expect(answer.getByTestId('reach-verdict')).toHaveText('Denied');
  await expect(answer.getByTestId('reach-decided-by')).toContainText('the default');
  await expect(answer.getByTestId('reach-reason')).toContainText('web-1 cannot reach db-1 on tcp/22');

  // Removing the rule closes tcp/5432 again: the answer shown is asked again by itself.
  await page.getByTestId('reach-port').fill('5432');
  await page.getByTestId('reach-explain').click();
  await expect(answer).toHaveAttribute('data-allowed', 'true');
  await rule.getByTestId('rule-remove').click();
  await expect(rules.getByTestId('no-rules')).toBeVisible();
  await expect(answer).toHaveAttribute('data-allowed', 'false');
  await expect(answer.getByTestId('reach-reason')).toContainText('web-1 cannot reach db-1 on tcp/5432');
  expect(errors).toEqual([]);
});
