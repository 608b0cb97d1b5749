// Playwright runs against the release build (`cargo xtask build`) in Debian's
// Chromium; it never downloads a browser. The server gets a fresh data directory each run.
import { defineConfig } from '@playwright/test';
import path from 'node:path';

const PORT = Number(process.env.STRATA_E2E_PORT ?? 3100);
const ROOT = path.resolve(__dirname, '..');
const DATA = path.join(ROOT, 'target', 'e2e-data');

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  reporter: [['list']],
  outputDir: path.join(ROOT, 'target', 'e2e-results'),
  use: {
    baseURL: `http://localhost:${PORT}`,
    browserName: 'chromium',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `rm -rf "${DATA}" && exec "${ROOT}/target/release/strata" serve`,
    cwd: ROOT,
    url: `http://localhost:${PORT}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      STRATA_LISTEN: `127.0.0.1:${PORT}`,
      STRATA_AGENT_LISTEN: `127.0.0.1:${PORT + 1}`,
      STRATA_PUBLIC_URL: `http://localhost:${PORT}`,
      STRATA_DATA_DIR: DATA,
      STRATA_SITE_ROOT: path.join(ROOT, 'target', 'site'),
      STRATA_LOG: 'warn',
      // Every test signs up its own people; the first becomes the admin.
      STRATA_SIGNUP_POLICY: 'open',
      STRATA_AUTH_RATE_PER_MINUTE: '1000',
    },
  },
});
