// The base of every chart on the page: a uPlot plot in a figure that remembers what it
// last drew (so a redraw happens only when the data changed), resizes with its box and
// exports a PNG; the shared palette, height, time axis and line-chart options.

import uPlot from '../../vendor/uplot/uPlot.esm.js';

/** Okabe–Ito colours (see css/app.css). */
export const COLORS = {
  running: '#0072b2',
  completed: '#009e73',
  failed: '#d55e00',
  cancelled: '#e69f00',
  cancelMark: '#cc79a7',
  resize: '#56b4e9',
  line: '#0072b2',
  line2: '#e69f00',
  line3: '#009e73',
  ideal: '#999999',
  series: ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'],
};

export const HEIGHT = 220;
export const msAxis = { label: 'ms since start', values: (_u, ticks) => ticks.map((t) => `${+t.toFixed(1)}`) };

/** A uPlot chart in a figure; remembers what it last drew. */
export class Chart {
  /**
   * @param {string} name key of the figure (`data-chart`)
   * @param {(width: number) => object} options uPlot options for a width
   * @param {number} seriesCount y series
   */
  constructor(name, options, seriesCount) {
    this.name = name;
    this.figure = document.querySelector(`figure[data-chart="${name}"]`);
    this.target = this.figure.querySelector('.plot');
    this.makeOptions = options;
    this.seriesCount = seriesCount;
    this.plot = new uPlot(options(this.width()), this.empty(), this.target);
    this.version = -1;
    this.setEmpty(true);
  }

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

  setEmpty(empty) {
    this.figure.dataset.empty = String(empty);
  }

  /** @param {Array<ArrayLike<number | null>>} data */
  setData(data, points = data[0].length) {
    this.plot.setData(data);
    this.setEmpty(points === 0);
    this.figure.dataset.points = String(points);
  }

  reset() {
    this.version = -1;
    this.setData(this.empty());
  }

  /** Rebuilds the chart with new series (uPlot fixes its series at creation). */
  replace(series, data) {
    const options = this.makeOptions(this.width());
    options.series = series;
    this.plot.destroy();
    this.seriesCount = series.length - 1;
    this.plot = new uPlot(options, data, this.target);
    const points = data[0].length;
    this.setEmpty(points === 0);
    this.figure.dataset.points = String(points);
  }

  /** The chart as a PNG blob, on a white background with its title. */
  png() {
    const source = this.plot.ctx.canvas;
    const title = this.figure.querySelector('figcaption')?.firstChild?.textContent?.trim() ?? this.name;
    const pad = 28 * devicePixelRatio;
    const canvas = document.createElement('canvas');
    canvas.width = source.width;
    canvas.height = source.height + pad;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#1b1f24';
    ctx.font = `${14 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.fillText(`scalelab — ${title}`, 8 * devicePixelRatio, 19 * devicePixelRatio);
    ctx.drawImage(source, 0, pad);
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  }
}

/** Options of a line chart over the run's time axis. */
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
    const old = this.plot;
    const width = this.width();
    const options = this.makeOptions(width);
    options.series = [{ label: 'ms' }, ...runs.map((r) => ({ label: r.label, stroke: r.color, width: 2 }))];
    const tables = runs.map((r) => [r.series.tMs.map((t) => t + r.series.bucketMs / 2), r.series.throughput]);
    const data = tables.length ? uPlot.join(tables) : [[]];
    old.destroy();
    this.seriesCount = runs.length;
    this.plot = new uPlot(options, data, this.target);
    this.setEmpty(runs.length === 0);
    this.figure.dataset.points = String(data[0].length);
  }
}
