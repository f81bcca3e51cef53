// The offered-load sweep (the hockey stick): its settings and progress, a table with
// Little's law checked at every load, and two charts against offered load — throughput
// with utilisation, and latency from the intended start with the M/M/c (Erlang C) curve
// and the knee marked.

import { Chart, COLORS } from './chart.js';
import { el } from './dom.js';
import { LabPanel } from './lab-panel.js';

/** @typedef {import('../../pkg/scalelab.js').LoadSweepReport} LoadSweepReport */
/** @typedef {import('../../pkg/scalelab.js').LoadPoint} LoadPoint */
/** @typedef {import('./chart.js').Axis} Axis */

/** @type {Axis} */
const loadAxis = { label: 'offered load (× capacity)', values: (_u, ticks) => ticks.map((t) => `${+t.toFixed(2)}`) };

/** The columns of the table and the CSV: header, and the value of a point. */
/** @type {[string, (p: LoadPoint) => string][]} */
export const LOAD_COLUMNS = [
  ['load', (p) => p.load.toFixed(2)],
  ['offered jobs/s', (p) => p.offered.toFixed(1)],
  ['throughput jobs/s', (p) => p.throughput.toFixed(1)],
  ['utilisation', (p) => p.utilisation.toFixed(3)],
  ['p50 ms', (p) => p.p50Ms.toFixed(2)],
  ['p99 ms', (p) => p.p99Ms.toFixed(2)],
  ['mean ms', (p) => p.meanMs.toFixed(2)],
  ['M/M/c mean ms', (p) => (p.theoryMeanMs == null ? '' : p.theoryMeanMs.toFixed(2))],
  ['L (in system)', (p) => p.inSystem.toFixed(3)],
  ['λW', (p) => p.littles.toFixed(3)],
  ["Little's law error", (p) => `${(p.littlesError * 100).toFixed(1)}%`],
  ['rejected', (p) => String(p.rejected)],
  ['shed', (p) => String(p.shed)],
];

/** The sweep as CSV, one row per offered load. @param {LoadSweepReport} report */
export function loadSweepCsv(report) {
  const quote = (/** @type {string} */ t) => (/[",\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t);
  const rows = [LOAD_COLUMNS.map(([h]) => quote(h)).join(',')];
  for (const p of report.points) rows.push(LOAD_COLUMNS.map(([, f]) => quote(f(p))).join(','));
  return `${rows.join('\n')}\n`;
}

export class LoadSweepView extends LabPanel {
  constructor() {
    super('load-sweep');
    this.throughput = new Chart(
      'load-sweep-throughput',
      (width) => ({
        width,
        height: 240,
        legend: { live: false },
        scales: { x: { time: false }, y2: { range: [0, 1.05] } },
        axes: [
          loadAxis,
          { label: 'jobs / s', size: 56 },
          { label: 'utilisation', scale: 'y2', side: 1, grid: { show: false }, size: 48 },
        ],
        series: [
          { label: 'load' },
          { label: 'throughput', stroke: COLORS.line, width: 2, points: { show: true, size: 7, fill: COLORS.line } },
          { label: 'offered (ideal)', stroke: COLORS.ideal, width: 1, dash: [4, 4] },
          { label: 'utilisation', scale: 'y2', stroke: COLORS.line3, width: 1.5, dash: [6, 3] },
        ],
      }),
      3,
    );
    this.latency = new Chart(
      'load-sweep-latency',
      (width) => ({
        width,
        height: 240,
        legend: { live: false },
        scales: { x: { time: false }, y: { distr: 3 } },
        axes: [loadAxis, { label: 'ms (log)', size: 56 }],
        series: [
          { label: 'load' },
          { label: 'p50', stroke: COLORS.line, width: 2, points: { show: true, size: 6, fill: COLORS.line } },
          { label: 'p99', stroke: COLORS.failed, width: 2, points: { show: true, size: 6, fill: COLORS.failed } },
          { label: 'mean', stroke: COLORS.line2, width: 1.5 },
          { label: 'M/M/c mean (Erlang C)', stroke: COLORS.ideal, width: 1.5, dash: [6, 4] },
          {
            label: 'knee',
            stroke: COLORS.cancelMark,
            width: 0,
            points: { show: true, size: 11, fill: COLORS.cancelMark },
          },
        ],
      }),
      5,
    );
    const observer = new ResizeObserver(() => {
      for (const c of [this.throughput, this.latency]) c.resize();
    });
    observer.observe(this.throughput.target);
  }

  /** @param {LoadSweepReport} report */
  show(report) {
    const points = report.points;
    const x = points.map((p) => p.load);
    this.throughput.setData([
      x,
      points.map((p) => p.throughput),
      points.map((p) => p.offered),
      points.map((p) => p.utilisation),
    ]);
    const positive = (/** @type {number} */ v) => (v > 0 ? v : null);
    this.latency.setData([
      x,
      points.map((p) => positive(p.p50Ms)),
      points.map((p) => positive(p.p99Ms)),
      points.map((p) => positive(p.meanMs)),
      points.map((p) => (p.theoryMeanMs == null ? null : positive(p.theoryMeanMs))),
      points.map((p, i) => (i === report.knee ? positive(p.p99Ms) : null)),
    ]);
    const head = el('tr', {}, ...LOAD_COLUMNS.map(([h]) => el('th', {}, h)));
    const rows = points.map((p, i) =>
      el(
        'tr',
        { 'data-testid': `load-row-${i}`, ...(i === report.knee ? { class: 'knee' } : {}) },
        ...LOAD_COLUMNS.map(([, f], c) => (c === 0 ? el('th', { scope: 'row' }, f(p)) : el('td', {}, f(p)))),
      ),
    );
    const knee = report.knee == null ? null : points[report.knee];
    const worstLittle = Math.max(0, ...points.map((p) => Math.abs(p.littlesError)));
    const note = el(
      'p',
      { class: 'note', 'data-testid': 'load-sweep-note' },
      `Capacity ${report.capacity.toFixed(1)} jobs/s (a closed-loop run), mean service ${report.serviceMs.toFixed(2)} ms ` +
        `on ${report.servers} server${report.servers === 1 ? '' : 's'}. ` +
        (knee
          ? `The knee: at ${knee.load.toFixed(2)} × capacity (${knee.offered.toFixed(0)} jobs/s offered) the pool completed only ` +
            `${knee.throughput.toFixed(0)} jobs/s, and the p99 from the intended start rose to ${knee.p99Ms.toFixed(1)} ms. `
          : 'No knee: the pool kept up with every load offered. ') +
        `Little's law (L = λW) held within ${(worstLittle * 100).toFixed(1)}% at every load. ` +
        'The dashed curve is the M/M/c queue for the same servers and service rate: measurements follow it when arrivals ' +
        'are Poisson and service times exponential (the cost distribution "exponential").' +
        `${report.cancelled ? ` Cancelled: ${report.runsDone} of ${report.runsTotal} runs.` : ''}`,
    );
    this.summary.replaceChildren(
      el('div', { class: 'table-scroll' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows))),
      note,
    );
  }
}
