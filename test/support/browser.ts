/**
 * A real browser for the dashboard's tests: Debian's chromium (installed by .ci/run) driven by
 * playwright-core, headless, with a fresh profile. Screenshots go to test-artifacts/dashboard/ (kept by CI
 * as artifacts; look at them).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const SCREENSHOT_DIR = path.resolve("test-artifacts/dashboard");

export const CHROMIUM = process.env.PONY_CHROMIUM ?? "/usr/bin/chromium";

/** Headless as root on a closed network: no sandbox, no GPU, none of chromium's own network traffic. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export interface TestBrowser {
  browser: Browser;
  /** a new page (its own context: fresh localStorage) at `path` of the dashboard */
  open(pathname: string, opts?: { tenant?: string; token?: string }): Promise<Page>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startBrowser(baseUrl: string): Promise<TestBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "pony-chromium-"));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    browser,
    async open(pathname, opts = {}) {
      const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1400, height: 1000 } });
      if (opts.tenant || opts.token) {
        // runs in the page before the dashboard: the session it starts with (api/session.tsx)
        await context.addInitScript({
          content:
            (opts.tenant ? `localStorage.setItem("pony.tenant", ${JSON.stringify(opts.tenant)});` : "") +
            (opts.token ? `localStorage.setItem("pony.token", ${JSON.stringify(opts.token)});` : ""),
        });
      }
      // well inside a test's 30 s, so that a failed wait says which locator it was
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      await page.goto(pathname);
      return page;
    },
    async screenshot(page, name) {
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
