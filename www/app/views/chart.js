// The base of every chart on the page: a uPlot plot in a figure that remembers what it
// last drew (so a redraw happens only when the data changed), resizes with its box and
// exports a PNG; the shared palette, height, time axis and line-chart options.

import uPlot from '../../vendor/uplot/uPlot.esm.js';
import { find } from './dom.js';

/** @typedef {import('../../vendor/uplot/uPlot.esm.js').Options} Options */
/** @typedef {import('../../vendor/uplot/uPlot.esm.js').Series} Series */
/** @typedef {import('../../vendor/uplot/uPlot.esm.js').Axis} Axis */
/** @typedef {import('../../vendor/uplot/uPlot.esm.js').AlignedData} AlignedData */
/** Chart data: an x column, then a column per series (null: no point there). */
/** @typedef {ArrayLike<number | null | undefined>[]} Columns */

/** Okabe–Ito colours (see css/app.css). */
export const COLORS = {
  running: '#0072b2',
  completed: '#009e73',
  failed: '#d55e00',
  cancelled: '#e69f00',
  cancelMark: '#000000',
  resize: '#56b4e9',
  line: '#0072b2',
  line2: '#e69f00',
  line3: '#009e73',
  ideal: '#999999',
  series: ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'],
};

export const HEIGHT = 220;
/**
 * Stepped lines (a value holds until the next one), uPlot's `paths.stepped`.
 * @param {{align: -1 | 1}} options
 */
export function steppedPaths(options) {
  const stepped = uPlot.paths.stepped;
  if (!stepped) throw new Error('this uPlot has no stepped paths');
  return stepped(options);
}

/**
 * Bars, uPlot's `paths.bars`.
 * @param {{size: [number, number], align: -1 | 1}} options
 */
export function barPaths(options) {
  const bars = uPlot.paths.bars;
  if (!bars) throw new Error('this uPlot has no bar paths');
  return bars(options);
}

/** @type {Axis} */
export const msAxis = {
  label: 'ms since start',
  values: (_u, ticks) => ticks.map((t) => `${+t.toFixed(1)}`),
};

/** A uPlot chart in a figure; remembers what it last drew. */
export class Chart {
  /**
   * @param {string} name key of the figure (`data-chart`)
   * @param {(width: number) => Options} options uPlot options for a width
   * @param {number} seriesCount y series
   */
  constructor(name, options, seriesCount) {
    this.name = name;
    this.figure = find(document, `figure[data-chart="${name}"]`, HTMLElement);
    this.target = find(this.figure, '.plot', HTMLElement);
    this.makeOptions = options;
    this.seriesCount = seriesCount;
    this.plot = new uPlot(options(this.width()), /** @type {AlignedData} */ (this.empty()), this.target);
    this.version = -1;
    this.setEmpty(true);
  }

  /** @returns {Columns} */
  empty() {
    return [[], ...Array.from({ length: this.seriesCount }, () => [])];
  }

  width() {
    return Math.max(240, this.target.clientWidth || 480);
  }

  /** Follows the figure's width. A no-op when the width is unchanged: uPlot redraws on
   * every `setSize`, and the observer also fires when only the height moved. */
  resize() {
    const width = this.width();
    if (width !== this.plot.width) this.plot.setSize({ width, height: this.plot.height });
  }

  /** @param {boolean} empty */
  setEmpty(empty) {
    this.figure.dataset.empty = String(empty);
  }

  /**
   * @param {Columns} data
   * @param {number} [points] how many points it has (what `data-points` says)
   */
  setData(data, points = data[0].length) {
    this.plot.setData(/** @type {AlignedData} */ (data));
    this.setEmpty(points === 0);
    this.figure.dataset.points = String(points);
  }

  reset() {
    this.version = -1;
    this.setData(this.empty());
  }

  /**
   * Rebuilds the chart with new series (uPlot fixes its series at creation).
   * @param {Series[]} series
   * @param {Columns} data
   */
  replace(series, data) {
    const options = this.makeOptions(this.width());
    options.series = series;
    this.rebuild(options, data);
  }

  /**
   * Draws a new uPlot in place of the old one.
   * @param {Options} options
   * @param {Columns} data
   */
  rebuild(options, data) {
    this.plot.destroy();
    this.seriesCount = (options.series?.length ?? 1) - 1;
    this.plot = new uPlot(options, /** @type {AlignedData} */ (data), this.target);
    const points = data[0].length;
    this.setEmpty(points === 0);
    this.figure.dataset.points = String(points);
  }

  /**
   * The chart as a PNG blob, on a white background with its title.
   * @returns {Promise<Blob>}
   */
  png() {
    const source = this.plot.ctx.canvas;
    const title = this.figure.querySelector('figcaption')?.firstChild?.textContent?.trim() ?? this.name;
    const pad = 28 * devicePixelRatio;
    const canvas = document.createElement('canvas');
    canvas.width = source.width;
    canvas.height = source.height + pad;
    const ctx = canvas.getContext('2d');
    if (!ctx) return Promise.reject(new Error('this browser cannot draw a PNG of the chart'));
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#1b1f24';
    ctx.font = `${14 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.fillText(`scalelab — ${title}`, 8 * devicePixelRatio, 19 * devicePixelRatio);
    ctx.drawImage(source, 0, pad);
    return new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the PNG could not be made'))), 'image/png'),
    );
  }
}

/**
 * Options of a line chart over the run's time axis.
 * @param {{yLabel: string, series: Series[], y2Label?: string}} spec
 * @returns {(width: number) => Options}
 */
export function lineOptions({ yLabel, series, y2Label }) {
  return (width) => ({
    width,
    height: HEIGHT,
    // Series names only; the cursor shows values in the plot itself.
    legend: { live: false },
    scales: { x: { time: false }, ...(y2Label ? { y2: {} } : {}) },
    axes: [
      msAxis,
      { label: yLabel, size: 56 },
      ...(y2Label ? [{ label: y2Label, scale: 'y2', side: 1, grid: { show: false }, size: 48 }] : []),
    ],
    series: [{ label: 'ms' }, ...series],
  });
}

/** The overlay of the kept runs' throughput. */
export class CompareChart extends Chart {
  constructor() {
    super(
      'compare',
      (width) => ({
        width,
        height: HEIGHT,
        legend: { live: false },
        scales: { x: { time: false } },
        axes: [msAxis, { label: 'jobs / s', size: 56 }],
        series: [{ label: 'ms' }],
      }),
      0,
    );
    new ResizeObserver(() => this.resize()).observe(this.target);
  }

  /** @param {{label: string, color: string, series: {tMs: number[], bucketMs: number, throughput: number[]}}[]} runs */
  show(runs) {
    const options = this.makeOptions(this.width());
    options.series = [{ label: 'ms' }, ...runs.map((r) => ({ label: r.label, stroke: r.color, width: 2 }))];
    /** @type {AlignedData[]} */
    const tables = runs.map((r) => [r.series.tMs.map((t) => t + r.series.bucketMs / 2), r.series.throughput]);
    this.rebuild(options, tables.length ? uPlot.join(tables) : [[]]);
    this.setEmpty(runs.length === 0);
  }
}
