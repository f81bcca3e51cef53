// The charts of a run and when they redraw: the timeline (timeline-chart.js),
// throughput, busy workers and queue, the pool's size (target and live workers, with
// each resize), the latency histogram, the rate limiter, an open-loop run's load and
// tail latency (load-charts.js) and wasm memory, each a Chart
// (chart.js). `render(run)` is cheap enough to call once per
// animation frame while a run streams in: it advances one chart per frame, and each
// redraws only when its data changed.

import { sharedHistogram } from '../model/histogram.js';
import { barPaths, Chart, COLORS, HEIGHT, lineOptions, steppedPaths } from './chart.js';
import { byId } from './dom.js';
import { LoadCharts } from './load-charts.js';
import { Timeline } from './timeline-chart.js';

/** @typedef {import('../model/live-run.js').LiveRun} LiveRun */

/** Chart updates, one per animation frame (see ChartsView.render). */
/** @typedef {'timelineStep' | 'linesStep' | 'latencyStep' | 'limiterStep' | 'poolStep' | 'openLoopStep'} Step */
/** @type {Step[]} */
const STEPS = ['timelineStep', 'linesStep', 'latencyStep', 'limiterStep', 'poolStep', 'openLoopStep'];

/** Decisions listed under the pool chart (the latest). */
const DECISIONS_SHOWN = 6;

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
          { label: 'workers', stroke: COLORS.line3, width: 1.5, paths: steppedPaths({ align: 1 }) },
        ],
      }),
      3,
    );
    this.pool = new Chart(
      'pool',
      lineOptions({
        yLabel: 'workers',
        series: [
          {
            label: 'target (limit)',
            stroke: COLORS.line,
            width: 2,
            paths: steppedPaths({ align: 1 }),
          },
          { label: 'alive', stroke: COLORS.line3, width: 1.5, dash: [4, 3], paths: steppedPaths({ align: 1 }) },
          {
            label: 'resize',
            stroke: COLORS.resize,
            width: 0,
            points: { show: true, size: 7, fill: COLORS.resize },
          },
        ],
      }),
      3,
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
            paths: barPaths({ size: [0.45, 40], align: -1 }),
            points: { show: false },
          },
          {
            label: 'service',
            fill: 'rgba(0,114,178,0.75)',
            stroke: COLORS.line,
            paths: barPaths({ size: [0.45, 40], align: 1 }),
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
    this.limiterNote = byId('limiter-note');
    this.poolNote = byId('pool-note');
    this.openLoop = new LoadCharts();
    this.all = [
      this.timeline,
      this.throughput,
      this.load,
      this.pool,
      this.latency,
      this.limiter,
      ...this.openLoop.charts,
      this.memory,
    ];
    // Only the charts whose figure changed size (a redraw of the 100 000-job timeline is
    // not free).
    /** @type {Map<Element, Chart>} */
    const byTarget = new Map(this.all.map((c) => [c.target, c]));
    const observer = new ResizeObserver((entries) => {
      for (const e of entries) byTarget.get(e.target)?.resize();
    });
    for (const c of this.all) observer.observe(c.target);
    this.latencyAt = 0;
    /** Chart updates still to make, one per frame. @type {Step[]} */
    this.todo = [];
    this.timelineNext = 0;
    /** The run last rendered, and its version then. @type {LiveRun | null} */
    this.run = null;
    this.seen = -1;
  }

  /** Clears every chart for a new run. */
  reset() {
    for (const c of this.all) c.reset();
    this.openLoop.reset();
    this.limiterNote.textContent = '';
    this.poolNote.textContent = '';
    this.todo = [];
    this.run = null;
    this.timelineNext = 0;
  }

  /**
   * Brings the charts up to date with `run`, one chart per call: call it once per
   * animation frame while it returns `true`. Spreading the charts over frames keeps
   * every frame short; the timeline, whose cost grows with the job count, is also
   * redrawn less often when it is expensive.
   * @param {LiveRun} run
   * @returns {boolean} whether charts are still out of date
   */
  render(run) {
    if (this.run !== run || this.seen !== run.version) {
      this.run = run;
      this.seen = run.version;
      for (const step of STEPS) if (!this.todo.includes(step)) this.todo.push(step);
    }
    const step = this.todo.shift();
    if (!step) return false;
    if (step === 'timelineStep' && !run.report && performance.now() < this.timelineNext) {
      this.todo.push(step); // too soon for an expensive redraw: later
      return true;
    }
    this[step](run);
    return this.todo.length > 0;
  }

  /** @param {LiveRun} run */
  timelineStep(run) {
    const t0 = performance.now();
    this.timeline.update(run);
    // uPlot draws in a microtask; measure it on the next macrotask boundary.
    queueMicrotask(() => {
      const cost = performance.now() - t0;
      this.timelineNext = performance.now() + (cost > 12 ? cost * 5 : 0);
    });
  }

  /** @param {LiveRun} run */
  linesStep(run) {
    const report = run.report;
    if (report) {
      const s = report.series;
      const mid = s.tMs.map((/** @type {number} */ t) => t + s.bucketMs / 2);
      this.throughput.setData([mid, s.throughput]);
      this.load.setData([mid, s.busy, s.queued, run.pattern.engine === 'fanout' ? s.busy.map(() => null) : s.workers]);
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
      const pooled = run.pattern.engine !== 'fanout';
      this.load.setData([
        run.samples.map((s) => s.tMs),
        run.samples.map((s) => s.running),
        run.samples.map((s) => s.queued),
        run.samples.map((s) => (pooled ? s.workers : null)),
      ]);
    }
    const memory = (report?.samples ?? run.samples).filter((s) => s.memoryBytes != null);
    this.memory.setData([
      memory.map((s) => s.tMs),
      memory.map((s) => (s.memoryBytes ?? 0) / 1048576),
      memory.map((s) => (s.heapBytes ?? 0) / 1048576),
    ]);
  }

  /** @param {LiveRun} run */
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

  /** @param {LiveRun} run */
  openLoopStep(run) {
    this.openLoop.update(run);
  }

  /** @param {LiveRun} run */
  limiterStep(run) {
    this.renderLimiter(run);
  }

  /**
   * The pool's size over time: its target, the workers alive, and each resize.
   * @param {LiveRun} run
   */
  poolStep(run) {
    this.pool.figure.hidden = run.pattern.engine === 'fanout';
    if (this.pool.figure.hidden) {
      this.pool.setData(this.pool.empty());
      return;
    }
    const samples = run.report?.samples ?? run.samples;
    // One time axis: the samples and the resizes, merged in order.
    const points = [
      ...samples.map((s) => ({ t: s.tMs, limit: s.limit, alive: s.workers, mark: null })),
      ...run.resizes.map((r) => ({ t: r.tMs, limit: r.to, alive: null, mark: r.to })),
    ].sort((a, b) => a.t - b.t);
    this.pool.setData([
      points.map((p) => p.t),
      points.map((p) => p.limit),
      points.map((p) => p.alive),
      points.map((p) => p.mark),
    ]);
    const shown = run.resizes.slice(-DECISIONS_SHOWN);
    const t = (/** @type {number} */ ms) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
    this.poolNote.textContent = shown.length
      ? `${run.resizes.length} resize${run.resizes.length === 1 ? '' : 's'}; latest: ${shown
          .map((r) => `${t(r.tMs)} ${r.from} → ${r.to} (${r.cause})`)
          .join(' · ')}`
      : 'No resize: the pool kept its size.';
  }

  /** @param {LiveRun} run */
  renderLimiter(run) {
    // The limiter chart belongs to rate-limited runs only.
    this.limiter.figure.hidden = run.pattern.engine !== 'ratelimit';
    if (this.limiter.figure.hidden) {
      this.limiter.setData(this.limiter.empty());
      return;
    }
    const rate = Number(run.settings.rate);
    const t = run.grants.map((g) => g.tMs);
    // The page keeps the latest releases: number them from the first one kept.
    const before = run.grantCount - run.grants.length;
    const released = run.grants.map((_g, k) => before + k + 1);
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
      this.limiterNote.textContent = `${run.grantCount} releases so far.`;
    }
  }

  /**
   * @param {string} name
   * @returns {Chart}
   */
  chart(name) {
    const chart = this.all.find((c) => c.name === name);
    if (!chart) throw new Error(`no chart ${name}`);
    return chart;
  }
}
