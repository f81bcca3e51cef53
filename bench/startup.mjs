// Size and start-up (issue 17), run by bench/run.mjs: the wasm module's size (raw, and
// as gzip and brotli would send it), and on the playground page the time from
// navigation to the engine ready (`performance.mark('scalelab:ready')`) and from Run to
// the first run's first result (`scalelab:first-result`) — on a cold cache (a fresh
// browser profile) and a warm one (a reload in the same profile).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { launchBrowser } from '../tests/e2e/harness.mjs';
import { openPlayground } from './playground.mjs';
import { median } from './stats.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The page's mark `name` (ms since navigation), waiting for it. */
async function mark(page, name) {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout: 60_000 });
  return page.evaluate((n) => performance.getEntriesByName(n)[0].startTime, name);
}

/** Ready, then Run → first result, on the page as it is now. */
async function measureOnce(page) {
  const readyMs = await mark(page, 'scalelab:ready');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  const clickedMs = await page.evaluate(() => {
    const at = performance.now();
    /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="run"]')).click();
    return at;
  });
  const firstMs = await mark(page, 'scalelab:first-result');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    {
      timeout: 60_000,
    },
  );
  return { readyMs, firstResultMs: firstMs - clickedMs };
}

/**
 * @param {string} url the served page
 * @param {number} reps
 */
export async function startup(url, reps) {
  const wasm = readFileSync(path.join(ROOT, 'www', 'pkg', 'scalelab_bg.wasm'));
  const sizes = {
    raw: wasm.length,
    gzip: zlib.gzipSync(wasm, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(wasm).length,
  };
  const cold = [];
  const warm = [];
  for (let r = 0; r < reps; r++) {
    const browser = await launchBrowser(); // a fresh profile: nothing cached
    try {
      const page = await openPlayground(browser.context, `${url}?jobs=20&workload=sleep&cost=1000`);
      cold.push(await measureOnce(page));
      await page.reload();
      warm.push(await measureOnce(page));
    } finally {
      await browser.close();
    }
  }
  return { sizes, cold, warm };
}

/** Section: size and start-up. */
export function startupSection(s) {
  const kb = (b) => `${(b / 1024).toFixed(0)} KB`;
  const f = (xs, key) => `${median(xs.map((x) => x[key])).toFixed(0)} ms`;
  return [
    '## 12. Size and start-up',
    '',
    `wasm module: ${kb(s.sizes.raw)} (gzip ${kb(s.sizes.gzip)}, brotli ${kb(s.sizes.brotli)}; scalelab-serve sends the gzip copy to browsers that accept it). The playground page, median of ${s.cold.length} fresh browser profiles (cold) and a reload in each (warm):`,
    '',
    '| cache | navigation → engine ready | Run → first result |',
    '| --- | ---: | ---: |',
    `| cold | ${f(s.cold, 'readyMs')} | ${f(s.cold, 'firstResultMs')} |`,
    `| warm | ${f(s.warm, 'readyMs')} | ${f(s.warm, 'firstResultMs')} |`,
  ].join('\n');
}
