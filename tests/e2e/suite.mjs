// Shared set-up for the e2e files whose tests each open their own tabs: one server and
// one browser per file, started before its tests and stopped after them.

import { after, before } from 'node:test';
import { launchBrowser, openPage, startServer } from './harness.mjs';

/**
 * Registers the file's `before`/`after` hooks. Read `server` and `browser` inside
 * tests (they are set once the hooks ran); `open(query, viewport)` opens the playground
 * and waits until it can run.
 */
export function serverAndBrowser() {
  const stack = {
    server: null,
    browser: null,
    /** @returns {Promise<{page: import('playwright-core').Page, problems: string[]}>} */
    async open(query = '', viewport = { width: 1400, height: 1000 }) {
      const { page, problems } = await openPage(stack.browser.context, stack.server.url + query);
      await page.setViewportSize(viewport);
      await page.waitForSelector('html[data-ready="true"]', { timeout: 30_000 });
      return { page, problems };
    },
  };
  before(async () => {
    stack.server = await startServer();
    stack.browser = await launchBrowser();
  });
  after(async () => {
    await stack.browser?.close();
    await stack.server?.stop();
  });
  return stack;
}
