// What a first visit costs: the WASM bytes a cold load of a page fetches (brotli, from the
// network log of a browser with an empty cache), and the time until the page is interactive,
// printed for docs/performance.md. The goal is 250 KB for the first load of any page and 400 KB
// for any page in all; it is not met yet (docs/performance.md says what limits it), so the
// budgets below are today's sizes with a little room: a change that makes a page's WASM grow
// fails here until the budget is raised on purpose.
import { test, expect, type Browser, type Page } from '@playwright/test';
import { addAuthenticator, createOrg, createVm, hydrated, signUp, uniqueName } from './support';

/** The most WASM (bytes on the wire) a cold load of each page may fetch. */
const BUDGET: Record<string, number> = {
  // Measured 2026-12-03 (docs/performance.md), after the page-pattern change moved about
  // 19 KB into the main module (raised on purpose; the cause is the next cut). 2026-12-02 the
  // dashboard was 248,984 B, under the 250,000 goal.
  '/': 318_600, // 303,431 B: the dashboard's attention, work, nodes and activity panels (2026-12-07)
  // 2026-12-07: the VM page's Network card (its cards: address, name, MAC) and the networks'
  // types grew it by 23.7 KB, raised on purpose; over the 400 KB goal before already.
  vm: 456_000, // 451,630 B (2026-12-08: the charts' axes, gridlines and minute tooltips)
  // 2026-12-06: the VM list pages (a pager, filters sent to the server) grew it by 14.8 KB,
  // raised on purpose.
  '/vms': 391_500, // 389,875 B (2026-12-07: the create form's choice of networks)
  // 2026-12-07: the API's fields on services' models (deployments name their operation).
  '/services': 377_000, // 375,449 B (2026-12-07: the service's address)
  // 2026-12-08: npm's Binaryen through its JS API, one process per core (tools/site/optimize.mjs)
  // writes about 0.2% more bytes than its CLI did, once per module.
  '/organizations': 309_000, // 307,444 B
  // 2026-12-07: Settings → API tokens (form, secret, list, revoke; the organization list for
  // the scope) grew it by 67 KB, raised on purpose, under the 400 KB goal; the next cut.
  '/settings': 400_000, // 398,194 B (2026-12-07: the networks' types)
  '/audit': 307_500, // 305,799 B (2026-12-07: the networks' types)
  // A network's page (its VMs, rules and the reachability explanation), added 2026-12-07:
  // measured over the 400 KB goal at its first run, like the VM page.
  network: 407_000, // 405,098 B (2026-12-07: the network page, over the 400 KB goal)
};

interface Load {
  wasm: { url: string; bytes: number; encoding?: string }[];
  total: number;
  interactiveMs: number;
}

/** Records every WASM response a page receives, with its size on the wire; `settled()` waits
 * for the sizes of every response seen so far. */
function recordWasm(page: Page): { settled: () => Promise<Load['wasm']> } {
  const pending: Promise<Load['wasm'][number]>[] = [];
  page.on('requestfinished', (request) => {
    if (!new URL(request.url()).pathname.endsWith('.wasm')) return;
    pending.push(
      (async () => {
        const response = await request.response();
        const sizes = await request.sizes();
        return { url: request.url(), bytes: sizes.responseBodySize, encoding: response?.headers()['content-encoding'] };
      })(),
    );
  });
  return {
    settled: () => Promise.all(pending),
  };
}

/** Loads `path` in a new browser context (empty cache) signed in with `storageState`. */
async function coldLoad(browser: Browser, storageState: Awaited<ReturnType<Page['context']>['storageState']>, path: string): Promise<Load> {
  const context = await browser.newContext({ storageState });
  const page = await context.newPage();
  const recorder = recordWasm(page);
  await page.goto(path);
  await hydrated(page);
  const interactiveMs = await page.evaluate(() => performance.now());
  // Every WASM request the page started has finished once the network is idle.
  await page.waitForLoadState('networkidle');
  const wasm = await recorder.settled();
  await context.close();
  return { wasm, total: wasm.reduce((sum, w) => sum + w.bytes, 0), interactiveMs };
}

test('a cold load of each page fetches no more WASM than its budget', async ({ browser, page }) => {
  test.setTimeout(120_000);
  await addAuthenticator(page);
  await signUp(page, uniqueName('budget'), 'Budget Person');

  // A VM to show on its own page (stopped: nothing boots).
  const orgName = await createOrg(page, 'budget');
  const networkPath = await page.locator('[data-testid=network][data-name=default] [data-testid=network-link]').getAttribute('href');
  await createVm(page, orgName, 'budget-1');
  const vmPath = new URL(page.url()).pathname;
  const storageState = await page.context().storageState();

  for (const [name, budget] of Object.entries(BUDGET)) {
    const path = name === 'vm' ? vmPath : name === 'network' ? (networkPath ?? '/networks/missing') : name;
    const load = await coldLoad(browser, storageState, path);
    const detail = load.wasm.map((w) => `${new URL(w.url).pathname} ${w.bytes} B ${w.encoding ?? 'identity'}`).join(', ');
    console.log(`cold load ${name}: ${load.total} B of WASM in ${load.wasm.length} files, interactive after ${Math.round(load.interactiveMs)} ms`);
    expect(load.wasm.length, `${path} loaded no WASM`).toBeGreaterThan(0);
    for (const w of load.wasm) expect(w.encoding, `${w.url} was not sent compressed`).toBe('br');
    // Soft: every page is measured and reported, even after one is over.
    expect.soft(load.total, `${path}: ${detail}`).toBeLessThanOrEqual(budget);
  }
});
