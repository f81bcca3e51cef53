// Every chart of a run, drawn with uPlot: the timeline (a row per worker, a bar per
// job, like `go tool trace`), throughput, busy workers and queue, the latency
// histogram, the rate limiter and wasm memory. `render(run)` is cheap enough to call
// once per animation frame while a run streams in: each chart redraws only when its
// data changed, and the timeline (the one chart whose cost grows with the job count)
// merges bars thinner than a pixel.

import { outcomeCode, outcomeOf } from '../../lib/outcomes.js';
import uPlot from '../../vendor/uplot/uPlot.esm.js';
import { sharedHistogram } from '../model/histogram.js';

/** Okabe–Ito colours (see css/app.css). */
export const COLORS = {
  running: '#0072b2',
  completed: '#009e73',
  failed: '#d55e00',
  cancelled: '#e69f00',
  cancelMark: '#cc79a7',
  line: '#0072b2',
  line2: '#e69f00',
  line3: '#009e73',
  ideal: '#999999',
  series: ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'],
};

const HEIGHT = 220;
/** Chart updates, one per animation frame (see ChartsView.render). */
const STEPS = ['timelineStep', 'linesStep', 'latencyStep', 'limiterStep'];
const msAxis = { label: 'ms since start', values: (_u, ticks) => ticks.map((t) => `${+t.toFixed(1)}`) };

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

/** The timeline: bars drawn by a uPlot `draw` hook over uPlot's own axes and scales. */
class Timeline extends Chart {
  constructor() {
    const view = { run: null, rows: 1, inspect: null };
    super(
      'timeline',
      (width) => ({
        width,
        height: HEIGHT + 80,
        legend: { show: false },
        cursor: { show: true, drag: { x: true, y: false } },
        scales: {
          x: { time: false, range: (_u, _min, max) => [0, Math.max(max, 1)] },
          // Worker 0 on top, as in go tool trace.
          y: { dir: -1, range: () => [-0.5, view.rows - 0.5] },
        },
        axes: [
          msAxis,
          {
            label: 'worker',
            size: 48,
            splits: () => rowTicks(view.rows),
            values: (_u, ticks) => ticks.map((t) => `${t}`),
          },
        ],
        series: [{}, { label: 'jobs', stroke: 'transparent', points: { show: false } }],
        // `view.inspect` is set once the chart exists (uPlot may fire hooks while built).
        hooks: { draw: [(u) => drawBars(u, view)], setCursor: [(u) => view.inspect?.(u)] },
      }),
      1,
    );
    this.view = view;
    this.inspector = document.getElementById('timeline-inspect');
    view.inspect = (u) => this.inspect(u);
    this.setView = (run) => {
      view.run = run;
      view.rows = run ? run.rows : 1;
    };
  }

  reset() {
    super.reset();
    this.view.run = null;
    this.inspector.textContent = 'Point at a bar to see its job.';
    this.inspector.dataset.job = '-1';
  }

  /** Says which job is under the pointer (uPlot's `setCursor` hook). */
  inspect(u) {
    const run = this.view.run;
    const { left, top } = u.cursor;
    let job = -1;
    if (run && left != null && left >= 0 && top >= 0) {
      const row = Math.round(u.posToVal(top, 'y'));
      const tMs = u.posToVal(left, 'x');
      // Within 3 CSS pixels of a bar, so narrow bars can be pointed at.
      const slackMs = (3 * (u.scales.x.max - u.scales.x.min)) / Math.max(1, u.bbox.width / devicePixelRatio);
      job = run.jobAt(row, tMs, slackMs);
    }
    this.inspector.textContent = job >= 0 ? run.describe(job) : 'Point at a bar to see its job.';
    this.inspector.dataset.job = String(job);
  }

  /** @param {import('../model/live-run.js').LiveRun} run */
  update(run) {
    if (this.view.run !== run) this.setView(run);
    this.view.rows = run.rows;
    this.plot.axes[1].label = run.rowKind;
    const now = Math.max(run.nowMs, 1e-3);
    // Two points span the x scale; the bars themselves come from the draw hook.
    this.setData(
      [
        [0, now],
        [null, null],
      ],
      run.drawnCount,
    );
  }
}

/** Tick rows for `rows` rows: all of them when few, about 12 spread out when many. */
function rowTicks(rows) {
  const step = Math.max(1, Math.ceil(rows / 12));
  const ticks = [];
  for (let r = 0; r < rows; r += step) ticks.push(r);
  return ticks;
}

/** Bars narrower than this (canvas pixels) merge with a touching neighbour of the same
 * colour: with many short jobs the timeline stays fast and shows the busy stretch. */
const MERGE_BELOW = 3;

/** Draws every started job as a bar on its row, merging runs of sub-pixel bars. */
function drawBars(u, view) {
  const run = view.run;
  if (!run) return;

  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const rowHeight = height / Math.max(1, view.rows);
  const barHeight = Math.max(1, rowHeight * 0.7);
  const now = run.nowMs;
  // x in canvas pixels, inlined (uPlot's valToPos per job costs a call each, and a
  // 100 000-job run draws 200 000 ends per frame).
  const { min: xMin, max: xMax } = u.scales.x;
  const xScale = width / Math.max(1e-9, xMax - xMin);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const [row, jobs] of run.rowJobs) {
    const y = u.valToPos(row, 'y', true) - barHeight / 2;
    // A merged bar not yet drawn (no allocation per job: scalars, not an array).
    let pStart = 0;
    let pEnd = 0;
    let pColor = null;
    const flush = () => {
      if (pColor === null) return;
      const w = pEnd - pStart;
      ctx.fillStyle = pColor;
      // A one-pixel gap keeps neighbouring jobs apart when there is room for it.
      ctx.fillRect(pStart, y, w >= MERGE_BELOW + 1 ? w - 1 : Math.max(1, w), barHeight);
      pColor = null;
    };
    const cancelled = outcomeCode('cancelled');
    for (const i of jobs) {
      const outcome = run.outcome[i];
      const spec = outcomeOf(outcome);
      if (spec && !spec.started) continue;
      const finished = run.finishedMs[i];
      const running = Number.isNaN(finished);
      const x0 = left + (run.startedMs[i] - xMin) * xScale;
      const x1 = left + ((running ? now : finished) - xMin) * xScale;
      const color = running || !spec ? COLORS.running : spec.colour;
      const tiny = x1 - x0 < MERGE_BELOW;
      if (tiny && pColor === color && x0 - pEnd < 1) {
        if (x1 > pEnd) pEnd = x1;
        continue;
      }
      flush();
      pStart = x0;
      pEnd = x1;
      pColor = color;
      if (outcome === cancelled && x1 - x0 >= 4) {
        // Hatch cancelled bars, so they read without colour too.
        flush();
        ctx.strokeStyle = '#ffffff';
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (let x = x0; x < x1; x += 5) {
          ctx.moveTo(x, y + barHeight);
          ctx.lineTo(Math.min(x + barHeight, x1), y);
        }
        ctx.stroke();
      }
    }
    flush();
  }
  if (run.cancelledMs != null) {
    const x = u.valToPos(run.cancelledMs, 'x', true);
    ctx.strokeStyle = COLORS.cancelMark;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = COLORS.cancelMark;
    ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.fillText('cancel', x + 4 * devicePixelRatio, top + 14 * devicePixelRatio);
  }
  ctx.restore();
}

function lineOptions({ yLabel, series, y2Label }) {
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

export class ChartsView {
  constructor() {
    this.timeline = new Timeline();
    this.throughput = new Chart(
      'throughput',
      lineOptions({
        yLabel: 'jobs / s',
        series: [{ label: 'completed / s', stroke: COLORS.line, width: 2, fill: 'rgba(0,114,178,0.08)' }],
      }),
      1,
    );
    this.load = new Chart(
      'load',
      lineOptions({
        yLabel: 'jobs',
        series: [
          { label: 'busy (running)', stroke: COLORS.line, width: 2 },
          { label: 'queued', stroke: COLORS.line2, width: 2, dash: [6, 3] },
        ],
      }),
      2,
    );
    this.latency = new Chart(
      'latency',
      (width) => ({
        width,
        height: HEIGHT,
        legend: { live: false },
        scales: { x: { time: false } },
        axes: [{ label: 'ms' }, { label: 'jobs', size: 56 }],
        series: [
          { label: 'ms' },
          {
            label: 'queue wait',
            fill: 'rgba(230,159,0,0.75)',
            stroke: COLORS.line2,
            paths: uPlot.paths.bars({ size: [0.45, 40], align: -1 }),
            points: { show: false },
          },
          {
            label: 'service',
            fill: 'rgba(0,114,178,0.75)',
            stroke: COLORS.line,
            paths: uPlot.paths.bars({ size: [0.45, 40], align: 1 }),
            points: { show: false },
          },
        ],
      }),
      2,
    );
    this.limiter = new Chart(
      'limiter',
      lineOptions({
        yLabel: 'jobs released',
        y2Label: 'tokens',
        series: [
          { label: 'released', stroke: COLORS.line, width: 2 },
          { label: 'configured rate', stroke: COLORS.ideal, width: 1, dash: [4, 4] },
          {
            label: 'tokens after a grant',
            scale: 'y2',
            stroke: COLORS.completed,
            width: 0,
            points: { show: true, size: 5, fill: COLORS.completed },
          },
          {
            label: 'tokens after a wait',
            scale: 'y2',
            stroke: COLORS.failed,
            width: 0,
            points: { show: true, size: 5, fill: COLORS.failed },
          },
        ],
      }),
      4,
    );
    this.memory = new Chart(
      'memory',
      lineOptions({
        yLabel: 'MiB',
        series: [
          { label: 'linear memory (only grows)', stroke: COLORS.line3, width: 2 },
          { label: 'heap in use', stroke: COLORS.line, width: 2, dash: [6, 3] },
        ],
      }),
      2,
    );
    this.limiterNote = document.getElementById('limiter-note');
    this.all = [this.timeline, this.throughput, this.load, this.latency, this.limiter, this.memory];
    // Only the charts whose figure changed size (a redraw of the 100 000-job timeline is
    // not free).
    const byTarget = new Map(this.all.map((c) => [c.target, c]));
    const observer = new ResizeObserver((entries) => {
      for (const e of entries) byTarget.get(e.target)?.resize();
    });
    for (const c of this.all) observer.observe(c.target);
    this.latencyAt = 0;
    this.todo = [];
    this.timelineNext = 0;
  }

  /** Clears every chart for a new run. */
  reset() {
    for (const c of this.all) c.reset();
    this.limiterNote.textContent = '';
    this.todo = [];
    this.run = null;
    this.timelineNext = 0;
  }

  /**
   * Brings the charts up to date with `run`, one chart per call: call it once per
   * animation frame while it returns `true`. Spreading the charts over frames keeps
   * every frame short; the timeline, whose cost grows with the job count, is also
   * redrawn less often when it is expensive.
   * @param {import('../model/live-run.js').LiveRun} run
   * @returns {boolean} whether charts are still out of date
   */
  render(run) {
    if (this.run !== run || this.seen !== run.version) {
      this.run = run;
      this.seen = run.version;
      for (const step of STEPS) if (!this.todo.includes(step)) this.todo.push(step);
    }
    const step = this.todo.shift();
    if (step === 'timelineStep' && !run.report && performance.now() < this.timelineNext) {
      this.todo.push(step); // too soon for an expensive redraw: later
      return true;
    }
    this[step](run);
    return this.todo.length > 0;
  }

  timelineStep(run) {
    const t0 = performance.now();
    this.timeline.update(run);
    // uPlot draws in a microtask; measure it on the next macrotask boundary.
    queueMicrotask(() => {
      const cost = performance.now() - t0;
      this.timelineNext = performance.now() + (cost > 12 ? cost * 5 : 0);
    });
  }

  linesStep(run) {
    const report = run.report;
    if (report) {
      const s = report.series;
      const mid = s.tMs.map((t) => t + s.bucketMs / 2);
      this.throughput.setData([mid, s.throughput]);
      this.load.setData([mid, s.busy, s.queued]);
    } else {
      const t = [];
      const rate = [];
      for (let k = 1; k < run.samples.length; k++) {
        const a = run.samples[k - 1];
        const b = run.samples[k];
        if (b.tMs <= a.tMs) continue;
        t.push(b.tMs);
        rate.push(((b.completed - a.completed) * 1000) / (b.tMs - a.tMs));
      }
      this.throughput.setData([t, rate]);
      this.load.setData([
        run.samples.map((s) => s.tMs),
        run.samples.map((s) => s.running),
        run.samples.map((s) => s.queued),
      ]);
    }
    const memory = (report?.samples ?? run.samples).filter((s) => s.memoryBytes != null);
    this.memory.setData([
      memory.map((s) => s.tMs),
      memory.map((s) => s.memoryBytes / 1048576),
      memory.map((s) => (s.heapBytes ?? 0) / 1048576),
    ]);
  }

  latencyStep(run) {
    // Histogramming every latency: at most every 300 ms while live.
    const now = performance.now();
    if (!run.report && now - this.latencyAt < 300) {
      if (!this.todo.includes('latencyStep')) this.todo.push('latencyStep');
      return;
    }
    this.latencyAt = now;
    const { wait, service } = run.latencies();
    const h = sharedHistogram(wait, service);
    this.latency.setData([h.centers, h.a, h.b], wait.length + service.length ? h.centers.length : 0);
  }

  limiterStep(run) {
    this.renderLimiter(run);
  }

  renderLimiter(run) {
    // The limiter chart belongs to rate-limited runs only.
    this.limiter.figure.hidden = run.pattern.engine !== 'ratelimit';
    if (this.limiter.figure.hidden) {
      this.limiter.setData(this.limiter.empty());
      return;
    }
    const rate = Number(run.settings.rate);
    const t = run.grants.map((g) => g.tMs);
    const released = run.grants.map((_g, k) => k + 1);
    const ideal = t.map((x) => (rate * x) / 1000);
    const immediate = run.grants.map((g) => (g.waitedMs > 0 ? null : (g.tokens ?? null)));
    const waited = run.grants.map((g) => (g.waitedMs > 0 ? (g.tokens ?? null) : null));
    this.limiter.setData([t, released, ideal, immediate, waited]);
    const limiter = run.report?.limiter;
    if (limiter) {
      const pct = (limiter.achievedRate / limiter.configuredRate) * 100;
      this.limiterNote.textContent =
        `${limiter.pacing === 'bucket' ? 'Token bucket' : 'Ticker'}: configured ${limiter.configuredRate} jobs/s, ` +
        `achieved ${limiter.achievedRate.toFixed(1)} jobs/s (${pct.toFixed(1)}%); ${limiter.grants} releases, ${limiter.waits} after a wait.` +
        (limiter.stopped ? ` The producer stopped early: ${limiter.stopped}.` : '');
    } else {
      this.limiterNote.textContent = `${run.grants.length} releases so far.`;
    }
  }

  /** @param {string} name */
  chart(name) {
    return this.all.find((c) => c.name === name);
  }
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
