// Two people with passkeys share an organization and see exactly what the schema allows them;
// the Access panel explains grants and refusals; removing a member hides everything at once.
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { addAuthenticator, createOrg, createVm, hydrated, signUp, uniqueName, watchErrors } from './support';

const ROOT = path.resolve(__dirname, '..', '..');
// The first account of the run (Ann, below) is the platform administrator; the second test
// signs in as her with the session the first one kept.
const ADMIN_STATE = path.join(ROOT, 'target', 'e2e-results', 'admin-state.json');
test.describe.configure({ mode: 'serial' });

test('an owner adds a member, both see the VM as the schema says, removal hides it', async ({ browser }) => {
  const annContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const ann = await annContext.newPage();
  const bob = await bobContext.newPage();
  const errors = [...watchErrors(ann), ...watchErrors(bob)];
  await addAuthenticator(ann);
  await addAuthenticator(bob);
  const annName = await signUp(ann, uniqueName('ann'), 'Ann Owner');
  const bobName = await signUp(bob, uniqueName('bob'), 'Bob Member');

  // Ann starts an organization and becomes its owner.
  const orgName = await createOrg(ann, 'acme');
  const orgUrl = ann.url();
  await expect(ann.locator(`[data-testid=member-row][data-username=${annName}] [data-testid=member-role]`)).toHaveText('Owner');

  // Bob, in no organization yet, is told how to get into one.
  await bob.goto('/vms');
  await hydrated(bob);
  await expect(bob.getByText('To create a machine, join or')).toBeVisible();
  await expect(bob.getByTestId('org-switcher')).toHaveCount(0);

  // She adds Bob as a member.
  await ann.getByTestId('member-username').fill(bobName);
  await ann.getByTestId('member-add').click();
  const bobRow = ann.locator(`[data-testid=member-row][data-username=${bobName}]`);
  await expect(bobRow.getByTestId('member-role')).toHaveText('Member');

  // Bob's open page follows his membership without a reload: the Create form for the
  // organization, and the switcher in the top bar.
  await expect(bob.getByTestId('vm-create-form')).toBeVisible();
  await expect(bob.getByTestId('vm-org')).toContainText(orgName);
  await expect(bob.getByTestId('org-switcher')).toBeVisible();
  await expect(bob.getByText('To create a machine, join or')).toHaveCount(0);

  // A VM in the organization.
  // A record is enough here; vms.spec.ts boots one.
  await createVm(ann, orgName, 'web-1');
  const vmUrl = ann.url();
  const people = (page: typeof ann, permission: string) =>
    page.locator(`[data-testid=access-row][data-permission=${permission}] [data-testid=access-people]`);
  await expect(people(ann, 'read')).toHaveText(`${annName}, ${bobName}`);
  await expect(people(ann, 'delete')).toHaveText(annName);
  await expect(ann.getByTestId('vm-delete')).toBeVisible();

  // Bob sees it in his list and on its page, without the owner's powers.
  await bob.goto('/vms');
  await hydrated(bob);
  await expect(bob.locator('[data-testid=vm-row][data-name=web-1]')).toBeVisible();
  await bob.goto(vmUrl);
  await hydrated(bob);
  await expect(bob.getByTestId('vm-title')).toHaveText('web-1');
  await expect(bob.getByTestId('vm-delete')).toHaveCount(0);

  // The Access panel explains a refusal and a grant.
  await bob.getByTestId('explain-user').fill(bobName);
  await bob.getByTestId('explain-permission').selectOption('delete');
  await bob.getByTestId('explain-go').click();
  await expect(bob.getByTestId('explanation')).toHaveAttribute('data-granted', 'false');
  await expect(bob.getByTestId('explain-sentence')).toHaveText(`${bobName} may not delete web-1: no relation in the schema gives it to ${bobName} here.`);
  await bob.getByTestId('explain-permission').selectOption('start');
  await bob.getByTestId('explain-go').click();
  await expect(bob.getByTestId('explanation')).toHaveAttribute('data-granted', 'true');
  // A sentence first; the exact chain behind a disclosure.
  await expect(bob.getByTestId('explain-sentence')).toHaveText(
    `${bobName} may start web-1 because ${bobName} is a member of organization ${orgName}, and the schema lets members of ${orgName} start it.`,
  );
  await expect(bob.getByTestId('explain-path')).toBeHidden();
  await bob.getByText('The exact chain').click();
  await expect(bob.getByTestId('explain-path')).toBeVisible();
  await expect(bob.getByTestId('explain-path')).toContainText(`organization:${orgName}#member@user:${bobName}`);

  // The org switcher takes Ann back to her organization.
  await ann.getByTestId('org-switcher').selectOption({ label: orgName });
  await expect(ann).toHaveURL(orgUrl);
  await hydrated(ann);
  // Its quota panel counts the VM (stopped: no vCPUs held); no limits are set.
  const quota = (name: string) => ann.locator(`[data-testid=quota][data-name="${name}"] [data-testid=quota-text]`);
  await expect(quota('VMs')).toHaveText('1, no limit');
  await expect(quota('vCPUs')).toHaveText('0, no limit');

  // Ann removes Bob: his very next requests show nothing.
  await ann.locator(`[data-testid=member-row][data-username=${bobName}]`).getByTestId('member-remove').click();
  await expect(ann.locator(`[data-testid=member-row][data-username=${bobName}]`)).toHaveCount(0);
  await bob.goto('/vms');
  await expect(bob.getByText('No virtual machines yet')).toBeVisible();
  await bob.goto(vmUrl);
  await expect(bob.getByRole('alert')).toHaveText('No such virtual machine.');
  await bob.goto(orgUrl);
  await expect(bob.getByRole('alert')).toHaveText('No such organization.');

  // The audit log shows who did it; people who manage nothing cannot read it.
  await ann.goto('/audit');
  await hydrated(ann);
  await expect(ann.locator('[data-testid=audit-row][data-action="organization.remove_member"]').first()).toBeVisible();
  await ann.getByTestId('audit-actor').fill(bobName);
  await ann.getByTestId('audit-apply').click();
  await expect(ann.getByTestId('audit-row')).toHaveCount(1);
  await expect(ann.getByTestId('audit-row').first()).toHaveAttribute('data-action', 'account.sign_up');
  await expect(ann.getByTestId('audit-export-csv')).toHaveAttribute('href', `/api/audit/export?format=csv&actor=${bobName}`);
  // The export is a real download of the filtered rows (the router once took the link as a
  // page of its own and showed the 404 page), and the audit page stays.
  const [download] = await Promise.all([ann.waitForEvent('download'), ann.getByTestId('audit-export-csv').click()]);
  expect(download.suggestedFilename()).toBe('strata-audit.csv');
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  expect(csv).toHaveLength(2);
  expect(csv[1]).toContain('account.sign_up');
  expect(csv[1]).toContain(bobName);
  await expect(ann).toHaveURL(/\/audit$/);
  await expect(ann.getByTestId('audit-row')).toHaveCount(1);
  await bob.goto('/audit');
  await expect(bob.getByRole('alert')).toHaveText('Only organization owners and platform administrators can see the audit log.');

  expect(errors.filter((e) => !e.includes('404') && !e.includes('Failed to load resource'))).toEqual([]);
  await annContext.storageState({ path: ADMIN_STATE });
  await annContext.close();
  await bobContext.close();
});

test('an invite link says who sent it and until when; once used, that it no longer works', async ({ browser }) => {
  const adminContext = await browser.newContext({ storageState: ADMIN_STATE });
  const admin = await adminContext.newPage();
  await admin.goto('/admin/users');
  await hydrated(admin);
  await admin.getByTestId('create-invite').click();
  const link = new URL((await admin.getByTestId('link-url').textContent()) ?? '');
  const invitePath = link.pathname + link.search;

  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  const errors = watchErrors(guest);
  await addAuthenticator(guest);
  await guest.goto(invitePath);
  await hydrated(guest);
  await expect(guest.getByTestId('invite-info')).toContainText('Ann Owner invited you to this Strata installation. The invite works once, until');
  await guest.getByLabel('Username').fill(uniqueName('inv'));
  await guest.getByLabel('Display name').fill('Invited Person');
  await guest.getByRole('button', { name: 'Create account with a passkey' }).click();
  await expect(guest).toHaveURL('/');
  await expect(guest.getByTestId('me')).toHaveText('Invited Person');

  // The same link in another browser: the page says at once that it no longer works.
  const laterContext = await browser.newContext();
  const later = await laterContext.newPage();
  await later.goto(invitePath);
  await hydrated(later);
  await expect(later.getByTestId('invite-info')).toContainText('This link has already been used or has expired.');
  expect(errors).toEqual([]);
  await Promise.all([adminContext.close(), guestContext.close(), laterContext.close()]);
});

test('the administrator adds a host with the pasted command, places a VM on it, cordons it, sees it and its VM go unreachable and removes it', async ({ browser }) => {
  test.setTimeout(120_000);
  const context = await browser.newContext({ storageState: ADMIN_STATE });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto('/admin/nodes');
  await hydrated(page);
  const name = `e2e-${Date.now().toString(36)}`;
  await page.getByTestId('node-add-name').fill(name);
  await page.getByTestId('node-add').click();
  const command = (await page.getByTestId('join-command').textContent()) ?? '';
  expect(command).toContain('strata agent --token strata-join-1.');
  const row = page.locator(`[data-testid=node-row][data-name="${name}"]`);
  await expect(row.getByTestId('node-status')).toHaveText('Waiting to join');

  // The pasted command, with this run's binary, region and data directory.
  const args = command.trim().split(/\s+/).slice(1);
  const set = (flag: string, value: string) => { args[args.indexOf(flag) + 1] = value; };
  set('--region', 'e2e');
  set('--data-dir', path.join(ROOT, 'target', 'e2e-data', `agent-${name}`));
  const run = () => spawn(path.join(ROOT, 'target', 'release', 'strata'), [...args, '--log', 'warn'], { stdio: 'ignore' });
  let agent = run();
  try {
    // Linked: Ready, with its capacity.
    await expect(row.getByTestId('node-status')).toHaveText('Ready', { timeout: 30_000 });
    await expect(row.getByTestId('node-cpus')).toContainText('CPUs)');
    await expect(row.getByTestId('node-region')).toHaveText('e2e');
    await expect(row.getByTestId('node-seen')).toContainText('last seen');

    // A VM asked for in its region lands on it: its disk is made there, through the agent.
    const orgName = await createOrg(page, 'hosts');
    await createVm(page, orgName, `on-${name}`, false, 'e2e');
    const vmUrl = page.url();
    await expect(page.getByTestId('vm-node')).toHaveText(name);
    await expect(page.getByTestId('vm-state')).toHaveText('Stopped', { timeout: 30_000 });

    // Cordoned: it takes no new VMs until uncordoned.
    await page.goto('/admin/nodes');
    await hydrated(page);
    await row.getByTestId('node-cordon').click();
    await expect(row.getByTestId('node-status')).toHaveText('Cordoned');
    await expect(row.getByTestId('node-cordon')).toHaveText('Uncordon');

    // The host dies: the page says so by itself within 15 s of its last heartbeat, and the
    // VM's page says its state is unknown, and why.
    agent.kill('SIGKILL');
    await expect(row.getByTestId('node-status')).toHaveText('Unreachable', { timeout: 25_000 });
    await page.goto(vmUrl);
    await hydrated(page);
    await expect(page.getByTestId('vm-state')).toHaveText('Unknown');
    await expect(page.getByTestId('vm-reason')).toContainText(`node ${name} unreachable since`);

    // Back (the same command: the host keeps its identity), the VM is deleted through it.
    agent = run();
    await expect(page.getByTestId('vm-state')).toHaveText('Stopped', { timeout: 40_000 });
    await page.getByTestId('vm-delete').click();
    await expect(page.getByText('No such virtual machine.')).toBeVisible({ timeout: 30_000 });

    // Removed while linked: its agent is told, and stops.
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    await page.goto('/admin/nodes');
    await hydrated(page);
    await expect(row.getByTestId('node-status')).toHaveText('Cordoned');
    await row.getByTestId('node-remove').click();
    await exited;
  } finally {
    agent.kill('SIGKILL');
  }
  await expect(row).toHaveCount(0);
  // The deleted VM's page asked for it once more, answered 404 (as in vms.spec.ts).
  expect(errors.filter((e) => !e.includes('status of 404'))).toEqual([]);
  await context.close();
});
