// Browser-neutral launching for the smoke suite and the cross-browser benchmarks:
// puppeteer-core drives Debian's Chromium (DevTools protocol) and Debian's firefox-esr
// (WebDriver BiDi) through one API, so a test written once runs on both. The rest of
// the end-to-end tests use playwright-core, whose Firefox support needs Playwright's
// own patched build; stock Firefox speaks only WebDriver (BiDi).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { fromOrigin } from './harness.mjs';

/** @typedef {'chromium' | 'firefox'} BrowserName */

/** Where `./build.sh setup` puts each browser (override with CHROMIUM / FIREFOX). */
export const BROWSER_PATHS = {
  chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
  firefox: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
};

/** @returns {BrowserName[]} the browsers installed here, Chromium first. */
export function installedBrowsers() {
  return /** @type {BrowserName[]} */ (Object.keys(BROWSER_PATHS)).filter((name) => existsSync(BROWSER_PATHS[name]));
}

/**
 * Launches one headless browser with a fresh profile.
 * @param {BrowserName} name
 * @returns {Promise<{browser: import('puppeteer-core').Browser, version: string, close: () => Promise<void>}>}
 */
export async function launchNeutral(name) {
  const userDataDir = mkdtempSync(path.join(tmpdir(), `scalelab-${name}-`));
  const browser =
    name === 'firefox'
      ? await puppeteer.launch({
          browser: 'firefox',
          protocol: 'webDriverBiDi',
          executablePath: BROWSER_PATHS.firefox,
          headless: true,
          userDataDir,
          // No update checks, telemetry or first-run pages on a closed network.
          extraPrefsFirefox: {
            'app.update.enabled': false,
            'datareporting.policy.dataSubmissionEnabled': false,
            'browser.shell.checkDefaultBrowser': false,
          },
        })
      : await puppeteer.launch({
          browser: 'chrome',
          executablePath: BROWSER_PATHS.chromium,
          headless: true,
          userDataDir,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
          ],
        });
  return {
    browser,
    version: await browser.version(),
    close: async () => {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `url` in a new tab, recording what should fail a test: page errors, console
 * errors and warnings, and requests to any other origin.
 * @param {import('puppeteer-core').Browser} browser
 * @param {string} url
 * @returns {Promise<{page: import('puppeteer-core').Page, problems: string[]}>}
 */
export async function openNeutral(browser, url) {
  const origin = new URL(url).origin;
  const page = await browser.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error instanceof Error ? error.message : error}`));
  // Warnings too: the page itself warns only when misused, so one here is a regression
  // (e.g. a library's deprecation warning from every pool thread).
  page.on('console', (message) => {
    const type = message.type();
    if (type === 'error' || type === 'warn') problems.push(`console ${type}: ${message.text()}`);
  });
  page.on('request', (request) => {
    const target = request.url();
    if (!fromOrigin(target, origin)) problems.push(`request to another origin: ${target}`);
  });
  await page.setViewport({ width: 1400, height: 1000 });
  await page.goto(url);
  return { page, problems };
}
