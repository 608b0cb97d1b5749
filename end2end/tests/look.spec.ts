// How the main pages look and read, signed in with data: an axe-core audit (no serious or
// critical violation), no sideways scrolling on a 390 px phone, and a full-page screenshot in
// light and dark mode at both widths, kept under target/e2e-results/screens for people to look
// at.
import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import path from 'node:path';
import { addAuthenticator, createOrg, createVm, hydrated, signUp, uniqueName } from './support';

const SCREENS = path.resolve(__dirname, '..', '..', 'target', 'e2e-results', 'screens');
const WIDTHS = [1280, 390];
const SCHEMES = ['light', 'dark'] as const;

/** The serious and critical axe violations on the page, as `rule: target` lines. */
async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${v.help}`));
}

test('every main page passes the accessibility audit and fits a phone, in light and dark', async ({ browser }) => {
  test.setTimeout(180_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  await addAuthenticator(page);
  await signUp(page, uniqueName('look'), 'Look Person');
  const orgName = await createOrg(page, 'look');
  const orgPath = new URL(page.url()).pathname;
  await createVm(page, orgName, 'look-vm');
  const vmPath = new URL(page.url()).pathname;
  const pages: Record<string, string> = {
    dashboard: '/',
    vms: '/vms',
    vm: vmPath,
    services: '/services',
    organizations: '/organizations',
    organization: orgPath,
    settings: '/settings',
    audit: '/audit',
  };
  const found: string[] = [];
  for (const scheme of SCHEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      for (const [name, where] of Object.entries(pages)) {
        await page.goto(where);
        await hydrated(page);
        await page.screenshot({ path: path.join(SCREENS, `${name}-${width}-${scheme}.png`), fullPage: true });
        found.push(...(await violations(page)).map((v) => `${name} ${width} ${scheme}: ${v}`));
        if (width < 400) {
          const wide = await page.evaluate(() => document.documentElement.scrollWidth);
          if (wide > width) found.push(`${name} ${width} ${scheme}: the page is ${wide} px wide`);
        }
      }
    }
  }
  expect(found).toEqual([]);
  await context.close();
});
