// The lab on the page: the concurrency sweep (progress, fit, charts, cancel, bad
// values) and each pitfall run wrong-vs-right with its numbers and chart.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, startServer } from './harness.mjs';

const OUT = path.resolve(import.meta.dirname, '..', '..', 'test-output');

let server;
let browser;
let page;
let problems;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ page, problems } = await openPage(browser.context, server.url));
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30_000 });
  await page.fill('[data-testid="field-jobs"]', '60');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
});

after(async () => {
  await page?.locator('#lab').screenshot({ path: path.join(OUT, 'lab.png') });
  assert.deepEqual(problems, []);
  await browser?.close();
  await server?.stop();
});

const sweepState = () => page.getAttribute('[data-testid="sweep-progress-text"]', 'data-state');

test('a sweep measures every worker count for CPU and I/O jobs and fits the law', async () => {
  assert.equal(await page.textContent('#sweep-reason'), '', 'no stale "engine is starting" once it has started');

  await page.fill('[data-testid="sweep-field-maxWorkers"]', '3');
  await page.fill('[data-testid="sweep-field-repetitions"]', '2');
  await page.fill('[data-testid="sweep-field-warmup"]', '0');
  await page.click('[data-testid="sweep-run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="sweep-progress-text"]').dataset.state === 'done',
    null,
    { timeout: 120_000 },
  );
  assert.match(await page.textContent('[data-testid="sweep-progress-text"]'), /^12 \/ 12 runs/);
  for (const curve of ['cpu', 'io']) {
    const recommended = await page.textContent(`[data-testid="sweep-recommended-${curve}"]`);
    assert.match(recommended, /^[1-3]$/, `${curve} recommendation: ${recommended}`);
  }
  for (const chart of ['sweep-throughput', 'sweep-efficiency']) {
    assert.equal(await page.getAttribute(`figure[data-chart="${chart}"]`, 'data-empty'), 'false');
    assert.equal(await page.getAttribute(`figure[data-chart="${chart}"]`, 'data-points'), '3');
  }
});

test('a sweep stops cleanly on Cancel and keeps what it measured', async () => {
  await page.fill('[data-testid="sweep-field-maxWorkers"]', '6');
  await page.fill('[data-testid="sweep-field-repetitions"]', '3');
  await page.click('[data-testid="sweep-run"]');
  await page.waitForFunction(() => Number(document.querySelector('#sweep-progress').value) >= 2, null, {
    timeout: 60_000,
  });
  await page.click('[data-testid="sweep-cancel"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="sweep-progress-text"]').dataset.state === 'cancelled',
    null,
    { timeout: 60_000 },
  );
  assert.match(await page.textContent('[data-testid="sweep-summary"]'), /cancelled: partial results/);
  // The engine is free again.
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
});

test('a bad sweep value is refused with its message under the field', async () => {
  await page.fill('[data-testid="sweep-field-repetitions"]', '0');
  await page.click('[data-testid="sweep-run"]');
  await page.waitForFunction(() => document.querySelector('#sweep-repetitions-error').textContent !== '');
  assert.equal(
    await page.textContent('#sweep-repetitions-error'),
    'repetitions: 0 is out of range; allowed: a whole number 1–10 runs each',
  );
  assert.equal(await sweepState(), 'refused');
  await page.fill('[data-testid="sweep-field-repetitions"]', '3');
});

test('an offered-load sweep measures capacity, the hockey stick, the knee and Little’s law; CSV export', async () => {
  await page.fill('[data-testid="load-sweep-field-from"]', '0.3');
  await page.fill('[data-testid="load-sweep-field-to"]', '2');
  await page.fill('[data-testid="load-sweep-field-steps"]', '3');
  await page.fill('[data-testid="load-sweep-field-stepMs"]', '400');
  await page.click('[data-testid="load-sweep-run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="load-sweep-progress-text"]').dataset.state === 'done',
    null,
    { timeout: 120_000 },
  );
  assert.match(await page.textContent('[data-testid="load-sweep-progress-text"]'), /^4 \/ 4 runs/);
  const note = await page.textContent('[data-testid="load-sweep-note"]');
  assert.match(note, /^Capacity [\d.]+ jobs\/s/);
  assert.match(note, /Little's law \(L = λW\) held within [\d.]+% at every load/);
  // At twice its capacity the pool cannot keep up: the last load is past the knee.
  assert.match(note, /The knee: at (0\.30|1\.15|2\.00) × capacity/);
  for (const i of [0, 1, 2]) assert.ok(await page.isVisible(`[data-testid="load-row-${i}"]`));
  for (const chart of ['load-sweep-throughput', 'load-sweep-latency']) {
    assert.equal(await page.getAttribute(`figure[data-chart="${chart}"]`, 'data-empty'), 'false');
    assert.equal(await page.getAttribute(`figure[data-chart="${chart}"]`, 'data-points'), '3');
  }
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#load-sweep-export-csv')]);
  const text = await (await import('node:fs/promises')).readFile(await csv.path(), 'utf8');
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 4, text);
  assert.match(lines[0], /^load,offered jobs\/s,throughput jobs\/s,utilisation/);
});

test('a bad load sweep value is refused with its message under the field', async () => {
  await page.fill('[data-testid="load-sweep-field-to"]', '0.1');
  await page.click('[data-testid="load-sweep-run"]');
  await page.waitForFunction(() => document.querySelector('#load-sweep-to-error').textContent !== '');
  assert.match(await page.textContent('#load-sweep-to-error'), /^to: 0\.1 is out of range; allowed: 0\.2–3 × capacity/);
  await page.fill('[data-testid="load-sweep-field-to"]', '0.2');
  await page.fill('[data-testid="load-sweep-field-from"]', '0.5');
  await page.click('[data-testid="load-sweep-run"]');
  await page.waitForFunction(() => /not above/.test(document.querySelector('#load-sweep-to-error').textContent));
  await page.fill('[data-testid="load-sweep-field-to"]', '1.5');
  await page.fill('[data-testid="load-sweep-field-from"]', '0.1');
});

/** Pitfalls whose detection does not depend on timing (the ticker's is a benchmark). */
const DETERMINISTIC = new Set(['unbounded', 'leak', 'cancel', 'coordination', 'race']);

for (const id of ['unbounded', 'leak', 'cancel', 'coordination', 'race', 'ticker']) {
  test(`pitfall ${id}: runs wrong vs right and shows the damage`, async () => {
    await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
    await page.click(`[data-testid="pitfall-run-${id}"]`);
    const result = `[data-testid="pitfall-result-${id}"]`;
    await page.waitForFunction((sel) => document.querySelector(`${sel} .verdict, ${sel} .bad`), result, {
      timeout: 120_000,
    });
    assert.equal(await page.locator(`${result} .bad`).count(), 0, await page.textContent(result));
    assert.ok((await page.locator(`${result} tbody tr`).count()) >= 2);
    // The measured damage, for the record (the closing note quotes it).
    const rows = await page.$$eval(`${result} tbody tr`, (trs) =>
      trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim()).join(' | ')),
    );
    console.log(`pitfall ${id}: ${rows.join(' || ')}`);
    if (DETERMINISTIC.has(id))
      assert.equal(
        await page.getAttribute(`${result} .verdict`, 'data-detected'),
        'true',
        await page.textContent(result),
      );
    if (id !== 'race')
      assert.equal(await page.getAttribute(`figure[data-chart="pitfall-${id}"]`, 'data-empty'), 'false');
  });
}
