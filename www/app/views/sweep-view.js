// The concurrency sweep: its settings, progress, the fitted law's numbers, and two
// charts (throughput and efficiency against workers, with the ideal and the fit).

import { Chart, COLORS } from './chart.js';
import { el } from './dom.js';
import { LabPanel } from './lab-panel.js';

/** @typedef {import('../../pkg/scalelab.js').SweepReport} SweepReport */
/** @typedef {import('../../pkg/scalelab.js').SweepCurve} SweepCurve */
/** @typedef {import('../../pkg/scalelab.js').SweepPoint} SweepPoint */
/** @typedef {import('../../pkg/scalelab.js').FieldSpec} FieldSpec */
/** @typedef {import('./chart.js').Series} Series */
/** @typedef {import('./chart.js').Axis} Axis */

/** @type {Record<SweepCurve['curve'], string>} */
const CURVE_NAMES = { cpu: 'CPU jobs', io: 'I/O-like jobs' };
/** @type {Record<SweepCurve['curve'], string>} */
const CURVE_COLORS = { cpu: COLORS.series[0], io: COLORS.series[1] };

/** @type {Axis} */
const workersAxis = { label: 'workers', values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? `${t}` : '')) };

export class SweepView extends LabPanel {
  constructor() {
    super('sweep');
    this.throughput = new Chart(
      'sweep-throughput',
      (width) => ({
        width,
        height: 240,
        legend: { live: false },
        scales: { x: { time: false } },
        axes: [workersAxis, { label: 'jobs / s', size: 56 }],
        series: [{ label: 'workers' }],
      }),
      0,
    );
    this.efficiency = new Chart(
      'sweep-efficiency',
      (width) => ({
        width,
        height: 240,
        legend: { live: false },
        scales: { x: { time: false }, y: { range: [0, 1.2] } },
        axes: [workersAxis, { label: 'efficiency', size: 56 }],
        series: [{ label: 'workers' }],
      }),
      0,
    );
    const observer = new ResizeObserver(() => {
      for (const c of [this.throughput, this.efficiency]) c.resize();
    });
    observer.observe(this.throughput.target);
  }

  /**
   * @param {readonly FieldSpec[]} specs the engine's sweep fields
   * @param {number} threads the pool's threads (the default up-to is twice them)
   */
  buildFor(specs, threads) {
    this.build(specs, { maxWorkers: String(Math.min(64, 2 * threads)) });
  }

  /** @param {SweepReport} report the engine's sweep report */
  show(report) {
    /** @type {number[]} */
    const x = [];
    for (let n = 1; n <= report.sweep.maxWorkers; n++) x.push(n);
    /** @type {Series[]} */
    const tSeries = [{ label: 'workers' }];
    /** @type {(number | null)[][]} */
    const tData = [x];
    /** @type {Series[]} */
    const eSeries = [{ label: 'workers' }];
    /** @type {(number | null)[][]} */
    const eData = [x];
    for (const curve of report.curves) {
      const color = CURVE_COLORS[curve.curve];
      const name = CURVE_NAMES[curve.curve];
      /**
       * @param {number} n workers
       * @param {(p: SweepPoint) => number} f
       */
      const at = (n, f) => {
        const p = curve.points.find((q) => q.workers === n);
        return p ? f(p) : null;
      };
      const fit = curve.fit;
      tSeries.push(
        { label: `${name}: median`, stroke: color, width: 2, points: { show: true, size: 7, fill: color } },
        { label: `${name}: slowest run`, stroke: color, width: 1, dash: [2, 3] },
        { label: `${name}: fastest run`, stroke: color, width: 1, dash: [2, 3] },
        { label: `${name}: fitted law`, stroke: color, width: 1.5, dash: [8, 4] },
        { label: `${name}: ideal`, stroke: COLORS.ideal, width: 1, dash: [3, 3] },
      );
      tData.push(
        x.map((n) => at(n, (p) => p.median)),
        x.map((n) => at(n, (p) => p.min)),
        x.map((n) => at(n, (p) => p.max)),
        x.map((n) => (fit ? (fit.lambda * n) / (1 + fit.sigma * (n - 1) + fit.kappa * n * (n - 1)) : null)),
        x.map((n) => (fit ? fit.lambda * n : null)),
      );
      eSeries.push({ label: name, stroke: color, width: 2, points: { show: true, size: 7, fill: color } });
      eData.push(x.map((n) => at(n, (p) => p.efficiency)));
    }
    eSeries.push(
      { label: 'threshold', stroke: COLORS.failed, width: 1, dash: [4, 4] },
      { label: 'ideal', stroke: COLORS.ideal, width: 1, dash: [3, 3] },
    );
    eData.push(
      x.map(() => report.sweep.threshold),
      x.map(() => 1),
    );
    this.throughput.replace(tSeries, tData);
    this.efficiency.replace(eSeries, eData);

    const rows = report.curves.map((curve) => {
      const fit = curve.fit;
      const peak = fit?.peakWorkers ? fit.peakWorkers.toFixed(1) : 'none (κ = 0)';
      return el(
        'tr',
        { 'data-testid': `sweep-row-${curve.curve}` },
        el('th', { scope: 'row' }, `${CURVE_NAMES[curve.curve]} (${curve.workload}, ${curve.cost})`),
        el('td', {}, fit ? fit.lambda.toFixed(1) : '—'),
        el('td', {}, fit ? fit.sigma.toFixed(4) : '—'),
        el('td', {}, fit ? fit.kappa.toFixed(5) : '—'),
        el('td', {}, fit ? fit.rSquared.toFixed(3) : '—'),
        el('td', {}, peak),
        el(
          'td',
          { 'data-testid': `sweep-recommended-${curve.curve}` },
          curve.recommended != null ? String(curve.recommended) : '—',
        ),
      );
    });
    const head = el(
      'tr',
      {},
      ...['curve', 'λ (jobs/s, 1 worker)', 'σ contention', 'κ coherency', 'r²', 'peak at', 'recommended workers'].map(
        (h) => el('th', {}, h),
      ),
    );
    const note = el(
      'p',
      { class: 'note' },
      `${report.runsDone} of ${report.runsTotal} runs on ${report.threads} threads${report.cancelled ? ' (cancelled: partial results)' : ''}. ` +
        `Recommended: the most workers whose median efficiency stays at or above ${report.sweep.threshold}, and not past the peak. ` +
        'The dotted lines show each count’s fastest and slowest run: a wide gap means a noisy machine.' +
        looseFits(report),
    );
    this.summary.replaceChildren(
      el('div', { class: 'table-scroll' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows))),
      note,
    );
  }
}

/**
 * A warning for each curve the law fits loosely (r² below 0.9), or ''.
 * @param {SweepReport} report
 */
function looseFits(report) {
  return report.curves
    .filter((curve) => curve.fit && curve.fit.rSquared < 0.9)
    .map(
      (curve) =>
        ` The law fits the ${CURVE_NAMES[curve.curve]} curve loosely (r² ${curve.fit?.rSquared.toFixed(2)}): throughput that stops dead at a hard ceiling — ` +
        `typically the ${report.threads} cores, for CPU work — is something its smooth curve can only approximate. ` +
        'Trust the measured points and the efficiency rule over the fitted peak.',
    )
    .join('');
}
