// The REST API from the browser's side: API tokens made under Settings, used by a script (no
// cookies), shown with their last use, revoked with one click; the API's reference page.
import { test, expect } from '@playwright/test';
import { addAuthenticator, createOrg, hydrated, signUp, watchErrors } from './support';

test('a person makes an API token, a script uses it, and revoking it stops it', async ({ page, request }) => {
  const errors = watchErrors(page);
  await addAuthenticator(page);
  await signUp(page);
  const org = await createOrg(page, 'tok');

  await page.goto('/settings');
  await hydrated(page);
  await expect(page.getByTestId('tokens-empty')).toBeVisible();
  await page.getByTestId('token-name').fill('deploy-bot');
  await page.getByTestId('token-actions').selectOption('read');
  await page.getByTestId('token-scope').selectOption({ label: `Only organization ${org}` });
  await page.getByTestId('token-create').click();
  const secretBox = page.getByTestId('token-secret');
  await expect(secretBox).toHaveValue(/^strata_[A-Za-z0-9_-]{43}$/);
  const secret = await secretBox.inputValue();
  const row = page.getByTestId('token-row').filter({ hasText: 'deploy-bot' });
  await expect(row).toHaveAttribute('data-status', 'active');
  await expect(row).toContainText(`organization ${org}`);
  await expect(row.getByTestId('token-used')).toHaveText('never');

  // A script, with the token and no cookie: it sees this organization and may not act.
  const auth = { Authorization: `Bearer ${secret}` };
  const orgs = await request.get('/api/v1/organizations', { headers: auth });
  expect(orgs.status()).toBe(200);
  expect((await orgs.json()).items.map((o: { name: string }) => o.name)).toEqual([org]);
  const create = await request.post('/api/v1/vms', {
    headers: auth,
    data: { organization_id: (await orgs.json()).items[0].id, name: 'nope', description: '', image_id: null, cpu_count: 1, memory_mb: 128, disk_gb: 1, start: false },
  });
  expect(create.status()).toBe(403);
  expect(create.headers()['content-type']).toBe('application/problem+json');

  // Its last use shows; one click revokes it, and the script is refused from then on.
  await page.reload();
  await hydrated(page);
  await expect(row.getByTestId('token-used')).toContainText('from 127.0.0.1');
  await row.getByTestId('token-revoke').click();
  await expect(row).toHaveAttribute('data-status', 'revoked');
  const after = await request.get('/api/v1/organizations', { headers: auth });
  expect(after.status()).toBe(401);
  expect((await after.json()).code).toBe('unauthenticated');
  expect(errors).toEqual([]);
});

test('the API reference page shows every route from the generated document', async ({ page, request }) => {
  const errors = watchErrors(page);
  const spec = await (await request.get('/api/v1/openapi.json')).json();
  await page.goto('/api/v1/docs');
  await expect(page.locator('.swagger-ui .title')).toContainText('Strata API');
  // One block per operation, as many as the document has.
  const operations = Object.values(spec.paths as Record<string, object>)
    .map((item) => Object.keys(item).length)
    .reduce((a, b) => a + b, 0);
  await expect(page.locator('.opblock')).toHaveCount(operations);
  await expect(page.locator('.opblock-summary-path').filter({ hasText: '/api/v1/vms/{id}/{action}' })).toHaveCount(1);
  expect(errors, 'no CSP violation or script error').toEqual([]);
});
