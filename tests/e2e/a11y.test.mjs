// Accessibility, measured: axe-core (pinned in package-lock.json, injected from
// node_modules, nothing fetched) checks the page in each state — idle, a run going, a
// run finished, the lab's results, an error shown under a field, the Go dialog open —
// and there must be no serious or critical violation.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { serverAndBrowser } from './suite.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const OUT = path.resolve(import.meta.dirname, '..', '..', 'test-output');
mkdirSync(OUT, { recursive: true });

const stack = serverAndBrowser();

/**
 * Runs axe on the page as it is; fails listing every serious or critical violation.
 * @param {import('playwright-core').Page} page
 * @param {string} state
 */
async function noSeriousViolations(page, state) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    // @ts-expect-error: axe is the injected global
    const result = await globalThis.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.impact} ${v.id}: ${v.help} — ${v.nodes
            .map((n) => n.target.join(' '))
            .slice(0, 5)
            .join(', ')}`,
      );
  });
  console.log(`axe, ${state}: ${violations.length} serious or critical`);
  assert.deepEqual(violations, [], `${state}:\n${violations.join('\n')}`);
}

test('no serious or critical accessibility violation in any state of the page', async () => {
  const { page, problems } = await stack.open();
  await noSeriousViolations(page, 'idle');

  await page.fill('[data-testid="field-jobs"]', '20000');
  await page.selectOption('[data-testid="field-workload"]', 'sleep');
  await page.click('[data-testid="run"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="progress-text"]').dataset.state === 'running');
  await noSeriousViolations(page, 'running');
  await page.click('[data-testid="cancel"]');
  await page.waitForFunction(
    () => !['running', 'stopping'].includes(document.querySelector('[data-testid="progress-text"]').dataset.state),
  );
  await page.waitForFunction(() => document.querySelector('[data-testid="summary"]').childElementCount > 0);
  await noSeriousViolations(page, 'finished');

  await page.click('[data-testid="pitfall-run-race"]');
  await page.waitForSelector('[data-testid="pitfall-result-race"] .verdict', { timeout: 60_000 });
  await noSeriousViolations(page, 'lab results');

  await page.fill('[data-testid="field-workers"]', '0');
  await page.waitForFunction(() => document.querySelector('[data-testid="run"]').disabled);
  await noSeriousViolations(page, 'an error shown');
  await page.fill('[data-testid="field-workers"]', '4');

  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.click('[data-testid="show-go"]');
  await page.waitForSelector('[data-testid="go-dialog"][open]');
  await noSeriousViolations(page, 'the Go dialog');
  assert.deepEqual(problems, []);
  await page.close();
});

test('dark mode: the page follows prefers-color-scheme, with no serious or critical violation', async () => {
  const { page, problems } = await stack.open();
  await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  const ground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(ground, 'rgb(247, 248, 250)', 'the dark ground is used');
  await noSeriousViolations(page, 'dark, idle');
  await page.fill('[data-testid="field-jobs"]', '60');
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    {
      timeout: 30_000,
    },
  );
  await noSeriousViolations(page, 'dark, finished');
  await page.screenshot({ path: path.join(OUT, 'page-dark.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('keyboard only: Tab to the form, change a field, Run, Escape cancels — focus always visible', async () => {
  const { page, problems } = await stack.open();
  /** Presses Tab until `testid` has focus (at most `limit` times), checking each stop shows focus. */
  const tabTo = async (testid, limit = 80) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      const stop = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return { id: null, visible: true };
        const style = getComputedStyle(el);
        const visible = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0;
        return { id: el.getAttribute('data-testid') ?? el.id, visible };
      });
      assert.ok(stop.visible, `focus is visible on ${stop.id}`);
      if (stop.id === testid) return;
    }
    assert.fail(`Tab never reached ${testid}`);
  };
  await tabTo('field-jobs');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('20000');
  await tabTo('field-workload');
  await page.keyboard.press('End'); // the last workload: backend, an I/O wait
  await tabTo('run');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="progress-text"]').dataset.state === 'running');
  await page.keyboard.press('Escape');
  await page.waitForFunction(
    () => !['running', 'stopping'].includes(document.querySelector('[data-testid="progress-text"]').dataset.state),
  );
  const counts = await page.textContent('[data-testid="sum-accounting"]');
  assert.match(counts, /notStarted=[1-9]/, 'Escape cancelled the run: jobs never started');
  assert.deepEqual(problems, []);
  await page.close();
});

test('colour-blind readers: the outcomes on the timeline differ in fill as well as colour, bars and key alike', async () => {
  const { page, problems } = await stack.open();
  const keys = await page.evaluate(async () => {
    // The page's own module instance: the table the engine installed when it was ready.
    const { outcomes } = await import('/lib/outcomes.js');
    return outcomes()
      .filter((o) => o.started)
      .map((o) => {
        const key = document.querySelector(`.legend-row .key.${o.name}`);
        const style = key && getComputedStyle(key, '::before');
        return {
          name: o.name,
          fill: o.fill,
          colour: style?.backgroundColor,
          image: style?.backgroundImage ?? 'no key',
        };
      });
  });
  // The key draws each outcome's declared fill: plain, one set of stripes, or two.
  const stripes = { solid: 0, hatch: 1, 'cross-hatch': 2 };
  for (const k of keys) {
    const drawn = k.image === 'none' ? 0 : k.image.split('repeating-linear-gradient').length - 1;
    assert.equal(drawn, stripes[k.fill], `${k.name}: key ${k.image}, declared ${k.fill}`);
  }
  assert.equal(new Set(keys.map((k) => k.fill)).size, keys.length, JSON.stringify(keys));
  assert.equal(new Set(keys.map((k) => k.colour)).size, keys.length, JSON.stringify(keys));
  assert.deepEqual(problems, []);
  await page.close();
});
