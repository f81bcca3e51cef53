// The playground page, end to end in headless Chromium: every pattern runs from the
// form and every chart gets data; Cancel and deadlines; inline validation; shared
// links; exports; keyboard use; a phone-width layout; and the main thread's long tasks
// while a run streams in at the engine's highest rate. Screenshots go to test-output/
// (not committed) for a person to look at.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { serverAndBrowser } from './suite.mjs';

const OUT = path.resolve(import.meta.dirname, '..', '..', 'test-output');
mkdirSync(OUT, { recursive: true });

const stack = serverAndBrowser();
const { open } = stack;

async function fill(page, field, value) {
  const input = page.locator(`[data-testid="field-${field}"]`);
  if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption(value);
  else await input.fill(String(value));
}

/** Clicks Run and waits for the run to end; returns the progress state. */
async function runAndWait(page) {
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => {
      const state = document.querySelector('[data-testid="progress-text"]').dataset.state;
      return (
        state &&
        !['running', 'stopping'].includes(state) &&
        document.querySelector('[data-testid="summary"]').childElementCount > 0
      );
    },
    null,
    { timeout: 60_000 },
  );
  return page.getAttribute('[data-testid="progress-text"]', 'data-state');
}

async function summaryCounts(page) {
  const number = async (id) => Number((await page.textContent(`[data-testid="${id}"] b`)).replaceAll(',', ''));
  return {
    completed: await number('sum-completed'),
    failed: await number('sum-failed'),
    cancelled: await number('sum-cancelled'),
    notStarted: await number('sum-not-started'),
    rejected: await number('sum-rejected'),
    shed: await number('sum-shed'),
  };
}

/** The summary's throughput and notes (cancellation, errgroup, limiter), for the log. */
async function summaryNotes(page) {
  const throughput = (await page.textContent('[data-testid="sum-throughput"] b')).trim();
  const notes = await page.$$eval('[data-testid="summary"] p.note', (ps) =>
    ps.map((p) => p.textContent).filter(Boolean),
  );
  return [`throughput ${throughput}`, ...notes].join(' ');
}

const CASES = [
  {
    pattern: 'pool',
    fields: { jobs: 120, workers: 6 },
    charts: ['timeline', 'throughput', 'load', 'pool', 'latency', 'memory'],
  },
  {
    pattern: 'fanout',
    fields: { jobs: 120, workload: 'sha256', ordered: null },
    charts: ['timeline', 'throughput', 'load', 'latency', 'memory'],
  },
  {
    pattern: 'failfast',
    fields: { jobs: 400, failure: 0.05, workload: 'sleep', cost: 1000 },
    charts: ['timeline', 'throughput', 'load', 'latency', 'memory'],
  },
  {
    pattern: 'ratelimit',
    fields: { jobs: 120, rate: 400, burst: 20 },
    charts: ['timeline', 'throughput', 'load', 'latency', 'limiter', 'memory'],
  },
  {
    pattern: 'ratelimit',
    fields: { jobs: 60, rate: 200, pacing: 'ticker' },
    charts: ['timeline', 'throughput', 'load', 'latency', 'limiter', 'memory'],
    name: 'ticker',
  },
  { pattern: 'deadline', fields: {}, charts: ['timeline', 'throughput', 'load', 'latency', 'memory'] },
  { pattern: 'pipeline', fields: { jobs: 300 }, charts: ['timeline', 'throughput', 'load', 'latency', 'memory'] },
];

for (const c of CASES) {
  test(`${c.name ?? c.pattern}: runs from the form, the books balance, every chart has data`, async () => {
    const { page, problems } = await open();
    await page.click(`[data-testid="pattern-${c.pattern}"]`);
    for (const [field, value] of Object.entries(c.fields)) {
      if (value === null) await page.check(`[data-testid="field-${field}"]`);
      else await fill(page, field, value);
    }
    const jobs = Number(await page.inputValue('[data-testid="field-jobs"]'));
    const state = await runAndWait(page);
    const counts = await summaryCounts(page);
    assert.equal(counts.completed + counts.failed + counts.cancelled + counts.notStarted, jobs, JSON.stringify(counts));
    assert.match(await page.textContent('[data-testid="sum-identity"]'), /✓$/);
    const progressText = (await page.textContent('[data-testid="progress-text"]')).replaceAll(',', '');
    assert.match(progressText, new RegExp(`^${jobs} / ${jobs} jobs`));
    for (const chart of c.charts) {
      // The charts catch up one per animation frame (ChartsView.render), so the last of
      // them may draw a few frames after the summary appears.
      const drawn = await page
        .waitForFunction(
          (name) => document.querySelector(`figure[data-chart="${name}"]`).dataset.empty === 'false',
          chart,
          { timeout: 10_000 },
        )
        .then(
          () => true,
          () => false,
        );
      assert.ok(drawn, `${chart} chart has data`);
    }
    if (c.pattern === 'failfast') {
      assert.equal(state, 'failed fast');
      assert.ok(counts.failed >= 1 && counts.notStarted > 0, JSON.stringify(counts));
      assert.match(await page.textContent('[data-testid="summary"]'), /errgroup's Wait returned: job \d+ failed/);
    } else if (c.pattern === 'deadline') {
      assert.equal(state, 'deadline exceeded');
      assert.ok(counts.notStarted > 0);
      // The timeout runs on the run's own clock: it can fire late (timers), never early.
      const timeout = Number(await page.inputValue('[data-testid="field-timeout"]'));
      const at = Number(
        (await page.textContent('[data-testid="summary"]')).match(/Cancelled \(deadline exceeded\) at ([\d.]+) ms/)[1],
      );
      assert.ok(at >= timeout - 0.01, `deadline hit at ${at} ms of a ${timeout} ms timeout`);
    } else {
      assert.equal(state, 'done');
      assert.equal(counts.completed, jobs);
    }
    if (c.pattern === 'ratelimit') assert.match(await page.textContent('#limiter-note'), /achieved [\d.]+ jobs\/s/);
    const shot = `page-${c.name ?? c.pattern}.png`;
    await page.screenshot({ path: path.join(OUT, shot), fullPage: true });
    console.log(`${shot}: ${progressText}; ${JSON.stringify(counts)}; ${await summaryNotes(page)}`);
    assert.deepEqual(problems, []);
    await page.close();
  });
}

test('the Workers field resizes a running pool; the pool chart and the timeline mark it; the policy rides in the link', async () => {
  const { page, problems } = await open();
  // 2 workers would take 5 s over these jobs; the resize to 10 makes it about 1 s.
  await fill(page, 'workload', 'sleep');
  await fill(page, 'cost', 5000);
  await fill(page, 'jobs', 2000);
  await fill(page, 'workers', 2);
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.click('[data-testid="run"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="progress-text"]').dataset.state === 'running');
  assert.equal(await page.isDisabled('[data-testid="field-workers"]'), false, 'Workers stays live');
  assert.equal(await page.isDisabled('[data-testid="field-jobs"]'), true, 'the rest is locked');
  await fill(page, 'workers', 300);
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="error-workers"]').textContent.includes('300 is out of range'),
  );
  assert.equal(
    await page.textContent('[data-testid="error-workers"]'),
    'workers: 300 is out of range; allowed: a whole number 0–256 goroutines',
  );
  await fill(page, 'workers', 10);
  const state = await page.waitForFunction(
    () => {
      const s = document.querySelector('[data-testid="progress-text"]').dataset.state;
      return s === 'done' && document.querySelector('[data-testid="summary"]').childElementCount > 0 && s;
    },
    null,
    { timeout: 60_000 },
  );
  assert.equal(await state.jsonValue(), 'done');
  assert.equal(await page.textContent('[data-testid="error-workers"]'), '', 'the accepted size cleared the error');
  // The charts (and the note under the pool chart) catch up one per animation frame.
  await page.waitForFunction(() => document.querySelector('[data-testid="pool-note"]').textContent !== '');
  assert.match(await page.textContent('[data-testid="pool-note"]'), /1 resize; latest: [\d.]+ ms 2 → 10 \(manual\)/);
  assert.match(await page.textContent('[data-testid="summary"]'), /resized 1 time\(s\); the last: 2 → 10 workers/);
  await page.waitForFunction(() => document.querySelector('figure[data-chart="pool"]').dataset.empty === 'false');
  await page.screenshot({ path: path.join(OUT, 'page-resize.png'), fullPage: true });
  // An autoscaled run: the policy's fields appear, and the link keeps them.
  await fill(page, 'scaling', 'aimd');
  await fill(page, 'workload', 'backend');
  await fill(page, 'cost', 10000);
  await fill(page, 'backendSlots', 4);
  await fill(page, 'scaleTarget', 11);
  await fill(page, 'jobs', 300);
  await fill(page, 'workers', 1);
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  // The link follows the form: wait until it has the last field changed (workers=1).
  await page.waitForFunction(() => new URLSearchParams(location.search).get('workers') === '1');
  const link = new URL(await page.evaluate(() => location.href));
  assert.equal(link.searchParams.get('scaling'), 'aimd');
  assert.equal(link.searchParams.get('scaleTarget'), '11');
  assert.equal(link.searchParams.get('backendSlots'), '4');
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="progress-text"]').dataset.state === 'done' &&
      document.querySelector('[data-testid="summary"]').childElementCount > 0,
    null,
    { timeout: 60_000 },
  );
  await page.waitForFunction(() => document.querySelector('[data-testid="pool-note"]').textContent.includes('aimd'));
  const note = await page.textContent('[data-testid="pool-note"]');
  assert.match(note, /aimd: latency [\d.]+ ms (under|over) 11\.0 ms/, note);
  console.log(`page-resize.png; autoscaled: ${note}`);
  await page.screenshot({ path: path.join(OUT, 'page-aimd.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('Load test: open-loop stages past capacity, rejections counted, offered-load and tail charts, the CO card', async () => {
  const { page, problems } = await open();
  await page.click('[data-testid="pattern-loadtest"]');
  assert.equal(await page.inputValue('[data-testid="field-arrival"]'), 'stages');
  assert.ok(await page.isHidden('[data-testid="field-spikeRate"]'), 'spike settings only for spike arrivals');
  await fill(page, 'stages', '300:300,300:1500,300:300');
  await fill(page, 'workers', '2');
  await fill(page, 'queue', '20');
  const state = await runAndWait(page);
  assert.equal(state, 'done');
  assert.match(await page.textContent('[data-testid="sum-identity"]'), /✓$/);
  const counts = await summaryCounts(page);
  assert.ok(counts.rejected > 0, `past capacity the full queue rejects: ${JSON.stringify(counts)}`);
  for (const chart of ['offered', 'tail']) {
    const drawn = await page
      .waitForFunction(
        (name) => document.querySelector(`figure[data-chart="${name}"]`).dataset.empty === 'false',
        chart,
        {
          timeout: 10_000,
        },
      )
      .then(
        () => true,
        () => false,
      );
    assert.ok(drawn, `${chart} chart has data`);
  }
  assert.match(
    await page.textContent('[data-testid="co-card"]'),
    /p99 latency from each job's intended start: [\d.]+ ms/,
  );
  assert.match(await page.textContent('[data-testid="co-card"]'), /rejected/);
  // The open-loop charts belong to open-loop runs only.
  await page.click('[data-testid="pattern-pool"]');
  await fill(page, 'jobs', '20');
  await runAndWait(page);
  // (the charts catch up one per animation frame)
  await page.waitForFunction(() => document.querySelector('figure[data-chart="offered"]').hidden);
  assert.ok(await page.isHidden('figure[data-chart="tail"]'));
  assert.deepEqual(problems, []);
});

test('weighted backend calls: the weight shows with the backend workload, too heavy is refused at the field, the books balance', async () => {
  const { page, problems } = await open();
  assert.ok(await page.isHidden('[data-testid="field-maxWeight"]'), 'only the backend workload has weights');
  await fill(page, 'workload', 'backend');
  await fill(page, 'backendSlots', 4);
  await fill(page, 'maxWeight', 5);
  await page.waitForFunction(() => document.querySelector('[data-testid="error-maxWeight"]').textContent !== '');
  assert.match(
    await page.textContent('[data-testid="error-maxWeight"]'),
    /^maxWeight: 5 is more than backendSlots \(4\).*allowed: a whole number 1–4 slots \(backendSlots\)$/,
  );
  assert.ok(await page.isDisabled('[data-testid="run"]'));
  await fill(page, 'maxWeight', 3);
  await fill(page, 'jobs', 60);
  await fill(page, 'cost', 2000);
  assert.equal(await runAndWait(page), 'done');
  const counts = await summaryCounts(page);
  assert.equal(counts.completed, 60, JSON.stringify(counts));
  assert.match(await page.textContent('[data-testid="sum-identity"]'), /✓$/);
  // The Go program takes the same weights: Acquire(ctx, j.weight).
  await page.click('[data-testid="show-go"]');
  await page.waitForSelector('[data-testid="go-dialog"][open]');
  const source = await page.textContent('[data-testid="go-source"]');
  assert.match(source, /maxWeight += int64\(3\)/);
  assert.match(source, /backend\.Acquire\(ctx, j\.weight\)/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a pipeline: stages set in one field, the bottleneck named and highlighted, workers moved to it, rows grouped by stage, its Go program', async () => {
  const { page, problems } = await open();
  await page.click('[data-testid="pattern-pipeline"]');
  assert.ok(await page.isVisible('[data-testid="field-pipeline"]'));
  assert.ok(await page.isHidden('[data-testid="field-workers"]'), 'a pipeline has a pool per stage');
  await fill(page, 'pipeline', 'sleep:1000:4:4,backend:1000:1:4');
  await page.waitForFunction(() => document.querySelector('[data-testid="error-pipeline"]').textContent !== '');
  assert.match(
    await page.textContent('[data-testid="error-pipeline"]'),
    /^pipeline: sleep:1000:4:4,backend:1000:1:4 has a stage whose workload cannot be a stage; allowed: 2–4 stages workload:cost:workers:queue/,
  );
  assert.ok(await page.isDisabled('[data-testid="run"]'));
  await fill(page, 'pipeline', 'sleep:1000:4:4,sleep:1000:1:4,sleep:1000:4:4');
  await fill(page, 'jobs', 300);
  assert.equal(await runAndWait(page), 'done');
  assert.equal((await summaryCounts(page)).completed, 300);
  // The stages as the last progress batch saw them, in order.
  assert.match(
    await page.textContent('[data-testid="stages-live"]'),
    /^1 sleep: \d+ workers?, \d+ waiting, \d+% busy → 2 sleep: .* → 3 sleep: /,
  );
  assert.match(
    await page.textContent('[data-testid="sum-bottleneck"]'),
    /^The stage 2 sleep is the bottleneck: \d+% busy/,
  );
  assert.equal(await page.getAttribute('[data-testid="stage-1"]', 'class'), 'bottleneck');
  assert.equal(await page.getAttribute('[data-testid="stage-0"]', 'class'), '');
  assert.match(await page.textContent('[data-testid="stage-1"]'), /^2 sleep \(bottleneck\)1/);
  // The timeline has a row per stage worker, grouped by stage: 4 + 1 + 4.
  await page.waitForFunction(() => document.querySelector('figure[data-chart="timeline"]').dataset.empty === 'false');
  const rows = await page.$eval('figure[data-chart="timeline"]', (f) => ({ ...f.dataset }));
  assert.equal(rows.rows, '9');
  assert.equal(rows.rowGroups, '1 sleep:0,2 sleep:4,3 sleep:5');
  await page.screenshot({ path: path.join(OUT, 'page-pipeline.png'), fullPage: true });
  // The CSV has a row per stage pass, each with its stage: job 0 through stages 1, 2, 3.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const lines = readFileSync(await csv.path(), 'utf8')
    .trim()
    .split('\n');
  assert.equal(lines.length, 1 + 300 * 3);
  assert.deepEqual(
    lines.slice(1, 4).map((l) => l.split(',').at(-1)),
    ['1', '2', '3'],
  );
  assert.ok(lines.slice(1, 4).every((l) => l.startsWith('0,')));
  // Scale the bottleneck: workers move to stage 2, none are added.
  await fill(page, 'scaling', 'bottleneck');
  await fill(page, 'cooldown', 20);
  await fill(page, 'jobs', 1500);
  assert.equal(await runAndWait(page), 'done');
  assert.match(await page.textContent('[data-testid="sum-moves"]'), /^The bottleneck policy moved \d+ worker\(s\)/);
  assert.match(await page.textContent('[data-testid="stage-1"]'), /^2 sleep( \(bottleneck\))?1 → \d/);
  await page.click('[data-testid="show-go"]');
  await page.waitForSelector('[data-testid="go-dialog"][open]');
  const source = await page.textContent('[data-testid="go-source"]');
  assert.match(source, /func runStage\(ctx context\.Context/);
  assert.match(source, /\{name: "2 sleep", work: workSleep, cost: 1000, workers: 1, queue: 4\}/);
  assert.match(source, /scaling=bottleneck: Go's standard library cannot move a goroutine/);
  console.log(`page-pipeline.png; ${await page.textContent('[data-testid="sum-bottleneck"]')}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('Cancel mid-run: running jobs stop, the rest never start, the timeline marks it', async () => {
  const { page, problems } = await open();
  await fill(page, 'workload', 'spin');
  await fill(page, 'cost', 2000);
  await fill(page, 'jobs', 20000);
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.click('[data-testid="run"]');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="progress"]').value) > 20);
  await page.click('[data-testid="cancel"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'cancelled',
    null,
    { timeout: 30_000 },
  );
  await page.waitForSelector('[data-testid="sum-completed"]');
  const counts = await summaryCounts(page);
  assert.ok(counts.completed > 0 && counts.notStarted > 0, JSON.stringify(counts));
  assert.equal(counts.completed + counts.failed + counts.cancelled + counts.notStarted, 20000);
  assert.match(
    await page.textContent('[data-testid="summary"]'),
    /Cancelled \(canceled\) at .*“Cancel pressed”.* 0 started after the cancel/,
  );
  await page.screenshot({ path: path.join(OUT, 'page-cancelled.png'), fullPage: true });
  console.log(`page-cancelled.png: ${JSON.stringify(counts)}; ${await summaryNotes(page)}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a bad value shows an inline message, disables Run with the reason, and starts nothing', async () => {
  const { page, problems } = await open();
  await fill(page, 'workers', '0');
  await page.waitForFunction(() => document.querySelector('[data-testid="error-workers"]').textContent !== '');
  assert.equal(
    await page.textContent('[data-testid="error-workers"]'),
    'workers: 0 is out of range; allowed: a whole number 1–256 goroutines',
  );
  assert.equal(await page.getAttribute('[data-testid="field-workers"]', 'aria-invalid'), 'true');
  assert.equal(await page.isDisabled('[data-testid="run"]'), true);
  assert.match(
    await page.textContent('[data-testid="run-reason"]'),
    /Run is disabled until this setting is fixed: workers/,
  );
  // Enter in a field submits the form: still nothing runs.
  await page.press('[data-testid="field-workers"]', 'Enter');
  assert.equal(await page.textContent('[data-testid="progress-text"]'), 'No run yet.');
  await fill(page, 'workers', '3');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  assert.equal(await page.textContent('[data-testid="error-workers"]'), '');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a shared link restores the set-up; values from a link are validated like typed input', async () => {
  const { page, problems } = await open('?pattern=fanout&jobs=123&workload=sha256&cost=900&ordered=true&seed=7');
  assert.equal(await page.isChecked('[data-testid="pattern-fanout"]'), true);
  assert.equal(await page.inputValue('[data-testid="field-jobs"]'), '123');
  assert.equal(await page.inputValue('[data-testid="field-workload"]'), 'sha256');
  assert.equal(await page.inputValue('[data-testid="field-cost"]'), '900');
  assert.equal(await page.isChecked('[data-testid="field-ordered"]'), true);
  assert.equal(await page.inputValue('[data-testid="field-seed"]'), '7');
  // The page keeps the link current as the form changes.
  await fill(page, 'jobs', 124);
  await page.waitForFunction(() => location.search.includes('jobs=124'));
  await page.close();

  const bad = await open('?pattern=pool&workers=1e308&jobs=%3Cimg%20src%3Dx%3E&colour=red');
  await bad.page.waitForFunction(() => document.querySelector('[data-testid="error-workers"]').textContent !== '');
  assert.equal(
    await bad.page.textContent('[data-testid="error-workers"]'),
    'workers: 1e308 is out of range; allowed: a whole number 1–256 goroutines',
  );
  assert.equal(
    await bad.page.textContent('[data-testid="error-jobs"]'),
    'jobs: <img src=x> is not a number; allowed: a whole number 1–10000000 jobs',
  );
  assert.equal(await bad.page.locator('img').count(), 0, 'text from a link is never markup');
  assert.match(await bad.page.textContent('#link-banner'), /colour is not a known setting/);
  assert.equal(await bad.page.isDisabled('[data-testid="run"]'), true);
  assert.deepEqual(bad.problems, []);
  assert.deepEqual(problems, []);
  await bad.page.close();
});

test('keyboard: the pattern group, the fields and Run work without a mouse', async () => {
  const { page, problems } = await open();
  await page.focus('[data-testid="pattern-pool"]');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.isChecked('[data-testid="pattern-fanout"]'), true);
  await page.focus('[data-testid="field-jobs"]');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('40');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    { timeout: 30_000 },
  );
  assert.deepEqual(problems, []);
  await page.close();
});

test('compare, exports (JSON, CSV) and chart PNGs', async () => {
  const { page, problems } = await open();
  await fill(page, 'jobs', 80);
  await runAndWait(page);
  await page.click('[data-testid="pattern-fanout"]');
  await fill(page, 'jobs', 80);
  await runAndWait(page);
  assert.equal(await page.locator('[data-testid="compare-row"]').count(), 2);
  assert.equal(await page.getAttribute('figure[data-chart="compare"]', 'data-empty'), 'false');

  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const exported = JSON.parse(readFileSync(await json.path(), 'utf8'));
  assert.equal(exported.jobs.length, 80);
  assert.equal(exported.report.counts.completed, 80);
  assert.equal(exported.settings.pattern, 'fanout');

  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const lines = readFileSync(await csv.path(), 'utf8')
    .trim()
    .split('\n');
  assert.equal(lines.length, 81);
  assert.equal(lines[0], 'id,worker,thread,cost,intendedMs,queuedMs,startedMs,finishedMs,outcome,result,error,stage');

  const [traceFile] = await Promise.all([page.waitForEvent('download'), page.click('#export-trace')]);
  const trace = JSON.parse(readFileSync(await traceFile.path(), 'utf8'));
  assert.equal(trace.traceEvents.filter((e) => e.ph === 'X').length, 80, 'a complete event per job');

  const [png] = await Promise.all([page.waitForEvent('download'), page.click('button[data-png="timeline"]')]);
  const bytes = readFileSync(await png.path());
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  assert.deepEqual(problems, []);
  await page.close();
});

test("Show as Go: the downloaded program runs in Go and prints the summary's accounting line", async () => {
  const { page, problems } = await open();
  await fill(page, 'jobs', 40);
  await fill(page, 'distribution', 'uniform');
  await fill(page, 'failure', 0.2);
  await fill(page, 'seed', 77);
  await runAndWait(page);
  const accounting = (await page.textContent('[data-testid="sum-accounting"]')).trim();
  assert.match(accounting, /^accounting: submitted=40 completed=\d+ failed=\d+ cancelled=0 notStarted=0 checksum=\d+$/);

  const timeUse = await page.textContent('[data-testid="sum-time-use"]');
  assert.match(timeUse, /^Where the time went: [\d.]+ ms of goroutine time — running jobs [\d.]+ ms/);
  assert.match(
    await page.getAttribute('[data-testid="sum-time-use"] .time-use-bar', 'aria-label'),
    /^running jobs [\d.]+%/,
  );

  await page.click('[data-testid="show-go"]');
  await page.waitForSelector('[data-testid="go-dialog"][open]');
  const shown = await page.textContent('[data-testid="go-source"]');
  assert.match(shown, /^\/\/ Command main is generated by scalelab/);
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#go-download')]);
  const source = readFileSync(await file.path(), 'utf8');
  assert.equal(source, shown);
  const dir = mkdtempSync(path.join(tmpdir(), 'scalelab-go-'));
  writeFileSync(path.join(dir, 'main.go'), source);
  const output = execFileSync('go', ['run', 'main.go'], {
    cwd: dir,
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode' },
    encoding: 'utf8',
  });
  assert.equal(output.trim().split('\n').at(-1), accounting, 'Go and the page agree job for job');

  await page.keyboard.press('Escape');
  await page.waitForSelector('[data-testid="go-dialog"]:not([open])', { state: 'attached' });
  assert.deepEqual(problems, []);
  await page.close();
});

test('pointing at a timeline bar names its job: worker, thread, times, outcome', async () => {
  const { page, problems } = await open();
  await fill(page, 'jobs', 120);
  await fill(page, 'workers', 2);
  await runAndWait(page);
  await page.waitForFunction(() => document.querySelector('figure[data-chart="timeline"]').dataset.empty === 'false');
  await page.locator('#chart-timeline .u-over').scrollIntoViewIfNeeded();
  const over = await page.locator('#chart-timeline .u-over').boundingBox();
  const inspector = '[data-testid="timeline-inspect"]';
  // Worker 0's row is the top half. Two workers share the run, so its row is mostly
  // busy, but where its bars are depends on the run: sweep across it, middle first.
  let found = null;
  const across = Array.from({ length: 19 }, (_, i) => 0.5 + (i % 2 ? 1 : -1) * Math.ceil(i / 2) * 0.05);
  for (const fx of across) {
    await page.mouse.move(over.x + over.width * fx, over.y + over.height * 0.25);
    const onBar = await page
      .waitForFunction((sel) => Number(document.querySelector(sel)?.dataset.job) >= 0, inspector, { timeout: 250 })
      .then(
        () => true,
        () => false,
      );
    if (onBar) {
      found = await page.textContent(inspector);
      break;
    }
  }
  assert.ok(found, 'a bar was found under the pointer');
  assert.match(
    found,
    /^job \d+ · worker 0 on thread \d+ · queued at [\d.]+ ms, started [\d.]+ ms, ended [\d.]+ ms · waited [\d.]+ ms · ran [\d.]+ ms · completed \(result \d+\)$/,
  );
  await page.mouse.move(over.x + over.width / 2, over.y + over.height + 150); // off the plot
  await page.waitForFunction((sel) => document.querySelector(sel).dataset.job === '-1', inspector);
  assert.equal(await page.textContent(inspector), 'Point at a bar to see its job.');
  assert.deepEqual(problems, []);
  await page.close();
});

test('an exported run imports back for comparison; a bad or hostile file is refused or shown as text', async () => {
  const { page, problems } = await open();
  await fill(page, 'jobs', 60);
  await runAndWait(page);
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const exported = readFileSync(await json.path(), 'utf8');
  const rows = () => page.locator('[data-testid="compare-row"]').count();
  const importFile = (name, text) =>
    page.setInputFiles('[data-testid="import-run"]', { name, mimeType: 'application/json', buffer: Buffer.from(text) });
  const status = () => page.textContent('[data-testid="import-status"]');

  // Round trip: the same figures come back as a compared run.
  await importFile('earlier.json', exported);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="compare-row"]').length === 2);
  const row = page.locator('[data-testid="compare-row"]').nth(1);
  assert.match(await row.textContent(), /imported: pool · \d+ workers · primes \(earlier\.json\)/);
  assert.match(await row.textContent(), /60 \/ 0 \/ 0 \/ 0/);
  assert.match(await status(), /^Added “imported: pool/);

  // Markup in the file stays text: no element is made from it.
  const hostile = JSON.parse(exported);
  hostile.pattern = '<img src=x onerror="document.title=1">';
  await importFile('<b>bold</b>.json', JSON.stringify(hostile));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="compare-row"]').length === 3);
  assert.match(
    await page.locator('[data-testid="compare-row"]').nth(2).textContent(),
    /imported: <img src=x onerror="document.title=1">.*\(<b>bold<\/b>\.json\)/,
  );
  assert.equal(await page.locator('#compare-table img, #compare-table b, #import-status img').count(), 0);

  // Refused, with the field, the value and what was expected; nothing added.
  const refusals = [
    ['not-json.json', 'hello', /^import "not-json\.json" is not a scalelab run export: file: hello is not JSON/],
    [
      'other.json',
      '{"scalelab": 99}',
      /is not a scalelab run export: scalelab: 99 .*; allowed: 1–2 \(a run exported by scalelab\)/,
    ],
    [
      'nan.json',
      exported.replace(/"throughputPerS": [\d.e+-]+/, '"throughputPerS": "fast"'),
      /report\.throughputPerS: "fast" is not a number ≥ 0; allowed: a finite number ≥ 0/,
    ],
    [
      // Every problem at once, settings checked by the form's own parser.
      'neg.json',
      exported.replace(/"completed": \d+/, '"completed": -3').replace(/"workers": "\d+"/, '"workers": "0"'),
      /settings\.workers: 0 .*; allowed: .*; report\.counts\.completed: -3 is not a whole number ≥ 0/,
    ],
    ['array.json', '[1,2]', /file: \[1,2\] is not an object; allowed: an object/],
  ];
  for (const [name, text, message] of refusals) {
    await importFile(name, text);
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="import-status"]').textContent.includes(n),
      name,
    );
    assert.match(await status(), message, name);
    assert.equal(await page.getAttribute('[data-testid="import-status"]', 'class'), 'import-status error');
    assert.equal(await rows(), 3, `${name} added nothing`);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('speedup vs one worker is measured on request', async () => {
  const { page, problems } = await open();
  await fill(page, 'jobs', 200);
  await fill(page, 'workers', 2);
  await runAndWait(page);
  await page.click('[data-testid="measure-speedup"]');
  await page.waitForFunction(
    () =>
      /Speedup vs one worker: [\d.]+×/.test(document.querySelector('[data-testid="sum-speedup"]')?.textContent ?? ''),
    null,
    { timeout: 60_000 },
  );
  assert.deepEqual(problems, []);
  await page.close();
});

test('phone width: everything fits without sideways scrolling', async () => {
  const { page, problems } = await open('', { width: 390, height: 844 });
  await fill(page, 'jobs', 60);
  await runAndWait(page);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await page.screenshot({ path: path.join(OUT, 'page-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the main thread stays responsive while a run streams at the highest rate', async () => {
  const { page, problems } = await open();
  await page.evaluate(() => {
    globalThis.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        globalThis.longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask' });
  });
  // Empty jobs as fast as the pool goes: the largest and most frequent batches.
  await page.click('[data-testid="pattern-fanout"]');
  await fill(page, 'workload', 'spin');
  await fill(page, 'cost', 0);
  await fill(page, 'jobs', 100000);
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  const started = await page.evaluate(() => performance.now());
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    { timeout: 60_000 },
  );
  const streamedUntil = await page.evaluate(() => performance.now());
  // Long-task entries reach the observer after their task: two frames later they are in.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const tasks = await page.evaluate(() => globalThis.longTasks);
  const during = tasks.filter((t) => t.start >= started && t.start < streamedUntil);
  const worst = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
  console.log(`long tasks: ${during.length} while streaming, ${tasks.length} in all; longest ${worst.toFixed(0)} ms`);
  // The 50 ms target is measured by the benchmark (bench/run.mjs, repeated runs); here,
  // on a shared machine, the test only insists the page never freezes.
  assert.ok(worst < 250, `the main thread froze for ${worst} ms`);
  assert.deepEqual(problems, []);
  await page.close();
});
