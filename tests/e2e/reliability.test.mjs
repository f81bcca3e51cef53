// Reliability: bad input everywhere (the form, links, the JS API) is refused with a
// message naming the field, the value and the range, and nothing starts; an injected
// panic is reported, the engine replaced and the page's state kept; double Run,
// repeated Cancel and a hidden tab leave no duplicate run and no stuck UI.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPage } from './harness.mjs';
import { serverAndBrowser } from './suite.mjs';

const stack = serverAndBrowser();
const { open } = stack;

const LONG = 'x'.repeat(5000);
/** Values no numeric field accepts (zero and negatives are added per field below). */
const ALWAYS_BAD = ['', 'NaN', 'Infinity', '-Infinity', '1e308', 'abc', LONG, '12abc', '0x10'];
/** Numeric fields, the set-up that shows each, and extra values it refuses. */
const FIELDS = [
  { name: 'workers', pattern: 'pool', bad: ['0', '-1', '2.5', '257'] },
  { name: 'queue', pattern: 'pool', bad: ['-1', '1.5', '100001'] },
  { name: 'jobs', pattern: 'pool', bad: ['0', '-5', '3.5', '10000001'] },
  { name: 'duration', pattern: 'pool', bad: ['-1', '3600001'] },
  { name: 'cost', pattern: 'pool', bad: ['0', '-1', '1.5', '10000001'] },
  { name: 'failure', pattern: 'pool', bad: ['-0.1', '1.5'] },
  { name: 'seed', pattern: 'pool', bad: ['-1', '0.5', '9007199254740992'] },
  { name: 'timeout', pattern: 'pool', bad: ['-1', '600001'] },
  { name: 'spread', pattern: 'pool', extra: { distribution: 'uniform' }, bad: ['-0.5', '2'] },
  { name: 'alpha', pattern: 'pool', extra: { distribution: 'pareto' }, bad: ['0', '1', '11'] },
  { name: 'sigma', pattern: 'pool', extra: { distribution: 'lognormal' }, bad: ['0', '-1', '4'] },
  { name: 'rate', pattern: 'ratelimit', bad: ['0', '-10', '100001'] },
  { name: 'burst', pattern: 'ratelimit', bad: ['0', '-1', '1.5', '100001'] },
  { name: 'minWorkers', pattern: 'pool', extra: { scaling: 'queue' }, bad: ['-1', '1.5', '257'] },
  { name: 'maxWorkers', pattern: 'pool', extra: { scaling: 'queue' }, bad: ['0', '257'] },
  { name: 'scaleTarget', pattern: 'pool', extra: { scaling: 'aimd' }, bad: ['0', '1000001'] },
  { name: 'cooldown', pattern: 'pool', extra: { scaling: 'queue' }, bad: ['-1', '600001'] },
  { name: 'backendSlots', pattern: 'pool', extra: { workload: 'backend' }, bad: ['0', '1.5', '1025'] },
  { name: 'maxWeight', pattern: 'pool', extra: { workload: 'backend' }, bad: ['0', '1.5', '1025'] },
  { name: 'arrivalRate', pattern: 'loadtest', bad: ['0', '-1', '100001'] },
  { name: 'stages', pattern: 'loadtest', extra: { arrival: 'stages' }, bad: ['1000:-1', '5:100001', '-1:5', '1000'] },
  { name: 'spikeRate', pattern: 'loadtest', extra: { arrival: 'spike' }, bad: ['0', '100001'] },
  { name: 'spikeAt', pattern: 'loadtest', extra: { arrival: 'spike' }, bad: ['-1', '3600001'] },
  { name: 'spikeFor', pattern: 'loadtest', extra: { arrival: 'spike' }, bad: ['-1', '3600001'] },
  {
    name: 'pipeline',
    pattern: 'pipeline',
    bad: ['sleep:1:1:1', 'sleep:1:0:1,spin:1:1:1', 'nap:1:1:1,spin:1:1:1', 'sleep:1:1:10001,spin:1:1:1', '1'],
  },
  {
    name: 'shedAfter',
    pattern: 'loadtest',
    extra: { arrival: 'poisson', overload: 'shed' },
    bad: ['0', '-1', '600001'],
  },
];
/** The engine's pattern behind a page pattern (the load test is an open-loop pool). */
const enginePattern = (/** @type {string} */ pattern) => (pattern === 'loadtest' ? 'pool' : pattern);

/** The message's shape: "field: value problem; allowed: range". */
function assertMessage(message, field, value) {
  assert.ok(message.startsWith(`${field}: `), `message for ${field}=${value.slice(0, 20)}: ${message}`);
  assert.match(message, /; allowed: .+/);
  const shown = value === '' ? '(empty)' : value.length > 40 ? `${value.slice(0, 40)}…` : value;
  assert.ok(message.includes(shown), `${message} shows ${shown}`);
  // The value is cut to 40 characters; the rest is the problem and what is allowed.
  assert.ok(message.length < 300, 'long values are shortened');
}

test('every bad value typed in the form: inline message, Run disabled, nothing starts', async () => {
  const { page, problems } = await open();
  let tried = 0;
  for (const field of FIELDS) {
    await page.click(`[data-testid="pattern-${field.pattern}"]`);
    for (const [name, value] of Object.entries(field.extra ?? {}))
      await page.selectOption(`[data-testid="field-${name}"]`, value);
    const good = await page.inputValue(`[data-testid="field-${field.name}"]`);
    for (const value of [...ALWAYS_BAD, ...field.bad]) {
      await page.fill(`[data-testid="field-${field.name}"]`, value);
      const error = `[data-testid="error-${field.name}"]`;
      const shown = value === '' ? '(empty)' : value.length > 40 ? `${value.slice(0, 40)}…` : value;
      await page.waitForFunction(
        ([sel, shown]) => document.querySelector(sel).textContent.includes(`: ${shown} `),
        [error, shown],
      );
      assertMessage(await page.textContent(error), field.name, value);
      assert.equal(await page.isDisabled('[data-testid="run"]'), true);
      tried++;
    }
    await page.fill(`[data-testid="field-${field.name}"]`, good);
    await page.waitForFunction(
      (sel) => document.querySelector(sel).textContent === '',
      `[data-testid="error-${field.name}"]`,
    );
  }
  assert.equal(await page.textContent('[data-testid="progress-text"]'), 'No run yet.');
  console.log(`form: ${tried} bad values refused`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('every bad value in a link: the same messages, and the page still loads', async () => {
  let tried = 0;
  for (const value of ALWAYS_BAD) {
    for (const pattern of ['pool', 'ratelimit', 'loadtest']) {
      const fields = FIELDS.filter((f) => f.pattern === pattern && !f.extra);
      const query = new URLSearchParams({ pattern, ...Object.fromEntries(fields.map((f) => [f.name, value])) });
      const { page, problems } = await open(`?${query}`);
      for (const field of fields) {
        const error = `[data-testid="error-${field.name}"]`;
        await page.waitForFunction((sel) => document.querySelector(sel).textContent !== '', error);
        assertMessage(await page.textContent(error), field.name, value.slice(0, 200));
        tried++;
      }
      assert.equal(await page.isDisabled('[data-testid="run"]'), true);
      assert.deepEqual(problems, []);
      await page.close();
    }
  }
  const { page, problems } = await open('?pattern=%3Cscript%3Ealert(1)%3C%2Fscript%3E&workers=2');
  assert.match(
    await page.textContent('#link-banner'),
    /pattern: <script>alert\(1\)<\/script> is not one of the choices; allowed: pool, fanout/,
  );
  assert.equal(await page.isChecked('[data-testid="pattern-pool"]'), true, 'falls back to the worker pool');
  assert.deepEqual(problems, []);
  await page.close();
  console.log(`links: ${tried + 1} bad values refused`);
});

test('every bad value through the JS API: a thrown Error with the same message', async () => {
  const { page, problems } = await openPage(stack.browser.context, new URL('harness/', stack.server.url).href);
  await page.waitForSelector('html[data-ready="true"]');
  const cases = FIELDS.flatMap((f) =>
    [...ALWAYS_BAD, ...f.bad].map((value) => ({
      field: f.name,
      value,
      extra: f.extra ?? {},
      pattern: enginePattern(f.pattern),
    })),
  );
  const messages = await page.evaluate(async (cases) => {
    const engine = await globalThis.scalelab.Engine.start();
    const out = [];
    for (const c of cases) {
      try {
        await engine.run({ pattern: c.pattern, ...c.extra, [c.field]: c.value });
        out.push('resolved');
      } catch (err) {
        out.push(err.message);
      }
    }
    // Numbers (not text) too: NaN and Infinity as JS values.
    for (const value of [NaN, Infinity, -1, 1e308]) {
      try {
        await engine.run({ workers: value });
      } catch (err) {
        out.push(err.message);
      }
    }
    return out;
  }, cases);
  for (const [i, c] of cases.entries()) assertMessage(messages[i].split('\n')[0], c.field, c.value);
  assert.deepEqual(
    messages.slice(cases.length).map((m) => m.split(';')[0]),
    [
      'workers: NaN is not a number',
      'workers: Infinity is out of range',
      'workers: -1 is out of range',
      'workers: 1e+308 is out of range',
    ],
  );
  console.log(`JS API: ${cases.length + 4} bad values refused`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('an injected panic is reported, the engine replaced, the page keeps its state', async () => {
  const { page, problems } = await open();
  await page.fill('[data-testid="field-jobs"]', '40');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.click('[data-testid="run"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done');
  await page.fill('[data-testid="field-jobs"]', '41');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.evaluate(() => globalThis.scalelabTestHooks.injectPanic());
  await page.click('[data-testid="run"]');
  await page.waitForFunction(() => document.documentElement.dataset.restarts === '1', null, { timeout: 30_000 });
  assert.match(
    await page.textContent('#engine-banner'),
    /^engine crashed: .*injected fault: job \d+ panicked on purpose.*The engine was restarted; your settings and earlier runs are kept\.$/s,
  );
  assert.equal(await page.inputValue('[data-testid="field-jobs"]'), '41', 'the form is kept');
  assert.equal(await page.locator('[data-testid="compare-row"]').count(), 1, 'earlier runs are kept');
  // The fresh engine works.
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    { timeout: 30_000 },
  );
  assert.match(await page.textContent('[data-testid="sum-identity"]'), /✓$/);
  assert.equal(await page.locator('[data-testid="compare-row"]').count(), 2);
  // The dying pool thread's trap may surface as an error in a worker's console; nothing else may.
  assert.deepEqual(
    problems.filter((p) => !/unreachable|RuntimeError|panicked|engine crashed/.test(p)),
    [],
  );
  console.log(
    `faults: 1 panic injected and survived (restart ${await page.evaluate(() => document.documentElement.dataset.restarts)})`,
  );
  await page.close();
});

test('double Run starts one run; repeated Cancel and a hidden tab leave the books straight', async () => {
  const { page, problems } = await open();
  await page.fill('[data-testid="field-jobs"]', '30');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.dblclick('[data-testid="run"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done');
  // Idle again (a second run would have started by now and hold the button).
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  assert.equal(await page.locator('[data-testid="compare-row"]').count(), 1, 'one run, not two');

  await page.selectOption('[data-testid="field-workload"]', 'spin');
  await page.fill('[data-testid="field-cost"]', '2000');
  await page.fill('[data-testid="field-jobs"]', '20000');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.click('[data-testid="run"]');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="progress"]').value) > 10);
  for (let i = 0; i < 5; i++) await page.click('[data-testid="cancel"]', { force: true }).catch(() => {});
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'cancelled',
    null,
    { timeout: 30_000 },
  );
  assert.match(await page.textContent('[data-testid="sum-identity"]'), /✓$/);
  assert.equal(await page.isDisabled('[data-testid="run"]'), false, 'the UI is not stuck');

  // Hide the tab mid-run (another tab in front), then come back.
  await page.fill('[data-testid="field-jobs"]', '1500');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.click('[data-testid="run"]');
  const other = await stack.browser.context.newPage();
  await other.bringToFront();
  // Behind another tab the page may get no animation frames, but the run goes on: it
  // ends in the background (the Run button comes back, set on the engine's message;
  // polled on a timer, since a background page may have no frames to poll on).
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled, null, {
    polling: 100,
    timeout: 60_000,
  });
  await page.bringToFront();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    { timeout: 60_000 },
  );
  await other.close();
  assert.match(await page.textContent('[data-testid="sum-identity"]'), /✓$/);
  assert.equal(await page.locator('[data-testid="compare-row"]').count(), 3);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a pool whose threads never start is replaced: Engine.start tries a fresh engine worker', async () => {
  // The first engine worker's pool never starts (as when Firefox now and then never
  // starts a nested worker): its watchdog replaces it with a fresh engine worker.
  const { page, problems } = await openPage(stack.browser.context, new URL('harness/', stack.server.url).href);
  await page.waitForSelector('html[data-ready="true"]');
  const started = await page.evaluate(async () => {
    const engine = await globalThis.scalelab.Engine.start({ poolStartTimeoutMs: 1000, stallPoolStartsForTesting: 1 });
    const report = await engine.run({ pattern: 'pool', jobs: 20, workers: 2 });
    return { attempts: engine.startAttempts, completed: report.counts.completed, identity: report.identityHolds };
  });
  assert.deepEqual(
    { attempts: started.attempts, completed: started.completed, identity: started.identity },
    { attempts: 2, completed: 20, identity: true },
  );
  // Stalled on every attempt: a clear error instead of a page waiting forever.
  const refused = await page.evaluate(() =>
    globalThis.scalelab.Engine.start({ poolStartTimeoutMs: 300, stallPoolStartsForTesting: 3 }).then(
      () => 'started',
      (error) => String(error.message),
    ),
  );
  assert.match(refused, /pool threads did not start: 3 engine workers tried, 0\.3 s each/);
  assert.deepEqual(problems, []);
  await page.close();
});
