// The cross-browser smoke suite: the same tests on every browser installed here
// (Chromium and Firefox after `./build.sh setup`), written once against puppeteer-core
// (browsers.mjs). It covers what someone opening a shared link does first: the page
// loads cross-origin isolated with a thread pool, each pattern runs from the form with
// every job accounted for, Cancel stops a run, a sweep measures, a pitfall card runs.
// The deeper checks of each feature live in the Chromium-only files beside it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { installedBrowsers, launchNeutral, openNeutral } from './browsers.mjs';
import { startServer } from './harness.mjs';

/** @typedef {import('puppeteer-core').Page} Page */

const browsers = installedBrowsers();
test('both browsers the README promises are installed (./build.sh setup)', () => {
  assert.deepEqual(browsers, ['chromium', 'firefox']);
});

/** @param {Page} page @param {string} field @param {string | number} value */
async function fill(page, field, value) {
  await page.locator(`[data-testid="field-${field}"]`).fill(String(value));
}

/** @param {Page} page @param {string} testid */
async function text(page, testid) {
  return page.$eval(`[data-testid="${testid}"]`, (el) => el.textContent ?? '');
}

/** @param {Page} page */
async function waitUntilIdle(page) {
  await page.waitForFunction(
    () => !(/** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="run"]')).disabled),
    { timeout: 60_000 },
  );
}

/** Clicks Run, waits for the run's summary; returns the final state. @param {Page} page */
async function runAndWait(page) {
  await waitUntilIdle(page);
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => {
      const state = /** @type {HTMLElement} */ (document.querySelector('[data-testid="progress-text"]')).dataset.state;
      return (
        state &&
        !['running', 'stopping'].includes(state) &&
        /** @type {HTMLElement} */ (document.querySelector('[data-testid="summary"]')).childElementCount > 0
      );
    },
    { timeout: 90_000 },
  );
  return page.$eval('[data-testid="progress-text"]', (el) => /** @type {HTMLElement} */ (el).dataset.state);
}

/** The summary's counts, by outcome. @param {Page} page */
async function counts(page) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const id of ['completed', 'failed', 'cancelled', 'not-started', 'rejected', 'shed']) {
    out[id] = Number((await text(page, `sum-${id}`)).replace(/[^\d]/g, ''));
  }
  return out;
}

/** Every submitted job has exactly one outcome. @param {Record<string, number>} c */
const accounted = (c) => c.completed + c.failed + c.cancelled + c['not-started'];

/** What each pattern is set to, and the state its run must end in. */
const PATTERNS = [
  { pattern: 'pool', fields: { jobs: 60, workers: 4 }, state: 'done' },
  { pattern: 'fanout', fields: { jobs: 60, workload: 'sha256' }, state: 'done' },
  { pattern: 'failfast', fields: { jobs: 200, failure: 0.05, workload: 'sleep', cost: 1000 }, state: 'failed fast' },
  { pattern: 'ratelimit', fields: { jobs: 40, rate: 400, burst: 10 }, state: 'done' },
  { pattern: 'loadtest', fields: { stages: '300:300', workers: 2, queue: 20 }, state: 'done' },
  { pattern: 'deadline', fields: {}, state: 'deadline exceeded' },
  { pattern: 'pipeline', fields: { jobs: 200 }, state: 'done' },
];

for (const name of browsers) {
  describe(`smoke on ${name}`, () => {
    /** @type {{url: string, stop: () => Promise<void>}} */
    let server;
    /** @type {Awaited<ReturnType<typeof launchNeutral>>} */
    let launched;
    /** @type {Page} */
    let page;
    /** @type {string[]} */
    let problems;

    before(async () => {
      server = await startServer();
      launched = await launchNeutral(name);
      ({ page, problems } = await openNeutral(launched.browser, server.url));
    });
    after(async () => {
      await launched?.close();
      await server?.stop();
    });

    test('loads cross-origin isolated, starts its thread pool and passes the self-test', async () => {
      await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
      const env = await page.evaluate(() => ({
        isolated: crossOriginIsolated,
        threads: navigator.hardwareConcurrency,
        shared: typeof SharedArrayBuffer,
      }));
      assert.deepEqual({ isolated: env.isolated, shared: env.shared }, { isolated: true, shared: 'function' });
      // The self-test runs after the page is ready (it must not delay the form): wait for its answer.
      await page.waitForSelector('[data-testid="selftest"][data-primes]', { timeout: 60_000 });
      assert.match(await text(page, 'selftest'), /^π\(10⁷\) ✓ \d+ ms$/);
      console.log(`${name} ${launched.version}: ${env.threads} threads`);
      assert.deepEqual(problems, []);
    });

    for (const c of PATTERNS) {
      test(`${c.pattern}: runs from the form and accounts for every job`, async () => {
        await waitUntilIdle(page);
        await page.click(`[data-testid="pattern-${c.pattern}"]`);
        for (const [field, value] of Object.entries(c.fields)) await fill(page, field, value);
        const state = await runAndWait(page);
        const got = await counts(page);
        assert.equal(state, c.state, JSON.stringify(got));
        const submitted = Number(
          (await text(page, 'progress-text')).replaceAll(',', '').match(/^\d+ \/ (\d+) jobs/)?.[1],
        );
        assert.equal(accounted(got), submitted, JSON.stringify(got));
        assert.match(await text(page, 'sum-identity'), /✓$/);
        // The timeline draws on a canvas in every browser.
        await page.waitForFunction(
          () =>
            /** @type {HTMLElement} */ (document.querySelector('figure[data-chart="timeline"]')).dataset.empty ===
            'false',
          { timeout: 10_000 },
        );
        console.log(`${name} ${c.pattern}: ${state} ${JSON.stringify(got)}`);
        assert.deepEqual(problems, []);
      });
    }

    test('Cancel stops a run: running jobs stop, the rest never start', async () => {
      await waitUntilIdle(page);
      await page.click('[data-testid="pattern-pool"]');
      await fill(page, 'workload', 'spin');
      await fill(page, 'cost', 2000);
      await fill(page, 'jobs', 20000);
      await waitUntilIdle(page); // the new values validated
      await page.click('[data-testid="run"]');
      // This run's progress, not the last run's (whose bar may still read past 20).
      await page.waitForFunction(
        () =>
          /** @type {HTMLElement} */ (document.querySelector('[data-testid="progress-text"]')).dataset.state ===
            'running' &&
          /\/ 20,000 jobs/.test(document.querySelector('[data-testid="progress-text"]')?.textContent ?? '') &&
          Number(/** @type {HTMLProgressElement} */ (document.querySelector('[data-testid="progress"]')).value) > 20,
        { timeout: 30_000 },
      );
      await page.click('[data-testid="cancel"]');
      await page
        .waitForFunction(
          () =>
            /** @type {HTMLElement} */ (document.querySelector('[data-testid="progress-text"]')).dataset.state ===
              'cancelled' &&
            /** @type {HTMLElement} */ (document.querySelector('[data-testid="summary"]')).childElementCount > 0,
          { timeout: 30_000 },
        )
        .catch(async (/** @type {Error} */ err) => {
          throw new Error(`${err.message}; the page shows: ${await text(page, 'progress-text')}`);
        });
      const got = await counts(page);
      assert.ok(got.completed > 0 && got['not-started'] > 0, JSON.stringify(got));
      assert.equal(accounted(got), 20000, JSON.stringify(got));
      assert.match(await text(page, 'summary'), /0 started after the cancel/);
      assert.deepEqual(problems, []);
      await fill(page, 'jobs', 60);
      await fill(page, 'workload', 'primes');
    });

    test('a concurrency sweep measures every worker count', async () => {
      await waitUntilIdle(page);
      await page.locator('[data-testid="sweep-field-maxWorkers"]').fill('2');
      await page.locator('[data-testid="sweep-field-repetitions"]').fill('1');
      await page.locator('[data-testid="sweep-field-warmup"]').fill('0');
      await page.click('[data-testid="sweep-run"]');
      await page.waitForFunction(
        () =>
          /** @type {HTMLElement} */ (document.querySelector('[data-testid="sweep-progress-text"]')).dataset.state ===
          'done',
        { timeout: 120_000 },
      );
      assert.match(await text(page, 'sweep-progress-text'), /^4 \/ 4 runs/);
      for (const curve of ['cpu', 'io']) assert.match(await text(page, `sweep-recommended-${curve}`), /^[12]$/);
      assert.deepEqual(problems, []);
    });

    test('a pitfall card runs wrong against right and detects the leak', async () => {
      await waitUntilIdle(page);
      await page.click('[data-testid="pitfall-run-leak"]');
      const result = '[data-testid="pitfall-result-leak"]';
      await page.waitForSelector(`${result} .verdict, ${result} .bad`, { timeout: 120_000 });
      assert.equal(
        await page.$$eval(`${result} .bad`, (bad) => bad.length),
        0,
        await text(page, 'pitfall-result-leak'),
      );
      assert.equal(
        await page.$eval(`${result} .verdict`, (v) => /** @type {HTMLElement} */ (v).dataset.detected),
        'true',
      );
      assert.deepEqual(problems, []);
    });
  });
}
