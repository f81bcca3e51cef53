// Firefox next to Chromium (issue 17), run by bench/run.mjs: the CPU-scaling and
// dispatch scenarios, unchanged, on the harness page in Debian's firefox-esr (driven by
// puppeteer-core over WebDriver BiDi, tests/e2e/browsers.mjs). Each scenario only calls
// `page.evaluate(fn, arg)`, which both drivers offer with the same meaning.

import { existsSync } from 'node:fs';
import { BROWSER_PATHS, launchNeutral } from '../tests/e2e/browsers.mjs';
import { fmt, mmm, spread } from './stats.mjs';

/**
 * @typedef {(page: any, threads: number) => Promise<any>} Scenario
 * @param {string} harnessUrl the harness page on scalelab-serve
 * @param {{cpu: Scenario, dispatch: Scenario}} scenarios
 */
export async function firefox(harnessUrl, scenarios) {
  if (!existsSync(BROWSER_PATHS.firefox)) return { missing: BROWSER_PATHS.firefox };
  const launched = await launchNeutral('firefox');
  try {
    const page = await launched.browser.newPage();
    await page.goto(harnessUrl);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
    const threads = await page.evaluate(async () => {
      // @ts-expect-error the harness page's globals
      globalThis.engine = await globalThis.scalelab.Engine.start();
      // @ts-expect-error
      return engine.info.threads;
    });
    const cpu = await scenarios.cpu(page, threads);
    const dispatch = await scenarios.dispatch(page, threads);
    return { version: launched.version, threads, cpu, dispatch };
  } finally {
    await launched.close();
  }
}

/**
 * The section: one row per browser for each figure, from the same run.
 * @param {any} r the whole results object (Chromium's rows are its cpuScaling and dispatch)
 */
export function browsersSection(r) {
  const f = r.firefox;
  if (!f || f.missing) return `## 13. Firefox next to Chromium\n\nNot measured: no Firefox at ${f?.missing ?? '?'}.`;
  /** @param {any} cpu @param {any} d @param {string} name */
  const row = (name, cpu, d) => {
    const ours0 = spread(d.ours[0]);
    const wp0 = spread(d.workerpool[0]);
    return `| ${name} | ${mmm(cpu.one, 0)} | ${mmm(cpu.many, 0)} | ${fmt(cpu.speedup)}× | ${mmm(ours0, 3)} | ${mmm(spread(d.ours[10]), 3)} | ${mmm(wp0, 1)} | ${fmt(wp0.median / ours0.median, 0)}× |`;
  };
  return [
    '## 13. Firefox next to Chromium',
    '',
    `The scenarios of sections 1 and 4, unchanged, in ${f.version} (Debian's firefox-esr, headless, driven over WebDriver BiDi by puppeteer-core) after the Chromium runs above, on a pool of ${f.threads} threads. CPU: jobs/s at 1 and ${f.threads} workers (primes); dispatch: the pool's overhead per job (µs), and workerpool's on the same browser.`,
    '',
    `| browser | 1 worker | ${f.threads} workers | speedup | overhead, empty | overhead, 10 µs | workerpool, empty | workerpool ÷ scalelab |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    row(`Chromium ${r.browser}`, r.cpuScaling, r.dispatch),
    row(f.version.replace('firefox/', 'Firefox '), f.cpu, f.dispatch),
  ].join('\n');
}
