// The charts of an open-loop run (the Load test pattern): offered load against what the
// generator sent and the pool completed, with the jobs rejected and shed; the p99
// latency over time measured from each job's intended start (corrected for coordinated
// omission) next to the same jobs measured from enqueue ("as hey would report it");
// and a card that explains the difference with the run's own numbers.

import { outcomes } from '../../lib/outcomes.js';
import { Chart, COLORS, lineOptions, steppedPaths } from './chart.js';
import { byId, el } from './dom.js';

/** @typedef {import('../model/live-run.js').LiveRun} LiveRun */
/** @typedef {import('../../pkg/scalelab.js').Sample} Sample */
/** @typedef {import('../../vendor/uplot/uPlot.esm.js').Series} Series */

/** Whether `run` was driven by an open-loop generator. @param {LiveRun} run */
export function isOpenLoop(run) {
  const arrival = run.settings.arrival;
  return arrival !== undefined && arrival !== 'closed';
}

/** The colour the engine gives outcome `name`. @param {string} name */
function outcomeColour(name) {
  return outcomes().find((o) => o.name === name)?.colour ?? COLORS.ideal;
}

/** @param {number} ms */
const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

export class LoadCharts {
  constructor() {
    this.rates = new Chart('offered', lineOptions({ yLabel: 'jobs / s', y2Label: 'jobs dropped', series: [] }), 0);
    this.tail = new Chart(
      'tail',
      lineOptions({
        yLabel: 'p99 ms',
        series: [
          { label: 'p99 from the intended start (corrected)', stroke: COLORS.failed, width: 2 },
          { label: 'p99 from enqueue (as hey reports it)', stroke: COLORS.line, width: 2, dash: [6, 3] },
        ],
      }),
      2,
    );
    this.card = byId('co-card');
    /** Whether the rates chart has its series (their colours come with the engine). */
    this.built = false;
  }

  /** The charts, for resizing and PNG export. */
  get charts() {
    return [this.rates, this.tail];
  }

  reset() {
    for (const c of this.charts) c.reset();
    this.card.replaceChildren();
  }

  /** @returns {Series[]} */
  rateSeries() {
    return [
      { label: 'ms' },
      { label: 'offered (the schedule)', stroke: COLORS.ideal, width: 2, dash: [4, 4] },
      { label: 'sent by the generator', stroke: COLORS.line, width: 2 },
      { label: 'completed', stroke: outcomeColour('completed'), width: 2 },
      {
        label: 'rejected (total)',
        scale: 'y2',
        stroke: outcomeColour('rejected'),
        width: 2,
        paths: steppedPaths({ align: 1 }),
      },
      {
        label: 'shed (total)',
        scale: 'y2',
        stroke: outcomeColour('shed'),
        width: 2,
        paths: steppedPaths({ align: 1 }),
      },
    ];
  }

  /** @param {LiveRun} run */
  update(run) {
    const open = isOpenLoop(run);
    for (const c of this.charts) c.figure.hidden = !open;
    this.card.hidden = !open;
    if (!open) return;
    /** @type {Sample[]} */
    const samples = run.report?.samples ?? run.samples;
    /** @type {number[]} */ const t = [];
    /** @type {(number | null)[][]} */ const cols = [[], [], [], [], []];
    for (let k = 1; k < samples.length; k++) {
      const a = samples[k - 1];
      const b = samples[k];
      const dt = (b.tMs - a.tMs) / 1000;
      if (dt <= 0) continue;
      t.push(b.tMs);
      cols[0].push(((b.scheduled ?? 0) - (a.scheduled ?? 0)) / dt);
      cols[1].push(((b.offered ?? 0) - (a.offered ?? 0)) / dt);
      cols[2].push((b.completed - a.completed) / dt);
      cols[3].push(b.rejected);
      cols[4].push(b.shed);
    }
    if (this.built) this.rates.setData([t, ...cols]);
    else {
      this.rates.replace(this.rateSeries(), [t, ...cols]);
      this.built = true;
    }
    const tails = samples.filter((s) => s.p99Ms != null || s.p99IntendedMs != null);
    this.tail.setData([
      tails.map((s) => s.tMs),
      tails.map((s) => s.p99IntendedMs ?? null),
      tails.map((s) => s.p99Ms ?? null),
    ]);
    this.card.replaceChildren(...this.explain(run));
  }

  /**
   * The coordinated-omission card, in the run's own numbers.
   * @param {LiveRun} run
   * @returns {HTMLElement[]}
   */
  explain(run) {
    const report = run.report;
    if (!report) {
      return [el('p', {}, 'Latency from the intended start and from enqueue are compared here when the run ends.')];
    }
    const { total, fromIntended } = report.latency;
    const generator = report.generator;
    const c = report.counts;
    const lines = [
      `p99 latency from each job's intended start: ${fmt(fromIntended.p99)} ms. ` +
        `The same jobs timed from when they entered the queue — as hey or ab would report it: ${fmt(total.p99)} ms.`,
    ];
    if (generator) {
      const hidden = fromIntended.p99 - total.p99;
      lines.push(
        hidden > Math.max(1, total.p99 * 0.5)
          ? `${fmt(hidden)} ms of the p99 is time jobs spent waiting to be sent: the queue was full, the generator ` +
              `was held back (up to ${fmt(generator.lagMs)} ms behind its schedule), and a tool that only times ` +
              `what it managed to send never sees that wait — coordinated omission.`
          : `The two agree: the generator kept to its schedule (at most ${fmt(generator.lagMs)} ms behind), ` +
              `so no waiting was hidden.`,
        `Offered ${generator.configuredRate.toFixed(1)} jobs/s, sent ${generator.achievedRate.toFixed(1)} jobs/s; ` +
          `${c.completed} completed, ${c.rejected} rejected and ${c.shed} shed of ${c.submitted}.`,
      );
    }
    return lines.map((line) => el('p', {}, line));
  }
}
