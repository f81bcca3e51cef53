// The playground page as the benchmarks drive it: opened at a desktop size, ready, and
// watched for long main-thread tasks (PerformanceObserver 'longtask': over 50 ms).

import { openPage } from '../tests/e2e/harness.mjs';

/** Opens the page at `url` and starts recording its long tasks. */
export async function openPlayground(context, url) {
  const { page } = await openPage(context, url);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30_000 });
  await page.evaluate(() => {
    globalThis.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) globalThis.longTasks.push({ at: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask' });
  });
  return page;
}

/** The long tasks so far: when each began (the page's clock, ms) and how long it took. */
export function longTasks(page) {
  return page.evaluate(() => /** @type {{at: number, ms: number}[]} */ (globalThis.longTasks));
}
