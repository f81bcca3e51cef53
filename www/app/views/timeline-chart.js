// The timeline, like `go tool trace`: a row per worker (or thread, or goroutine lane),
// a bar per job coloured by its outcome, cancellation and every resize of the pool
// marked. It draws the page's window of the latest jobs; bars thinner than a pixel are
// merged, and pointing at a bar names the job (the inspector).

import { outcomeOf } from '../../lib/outcomes.js';
import { Chart, COLORS, HEIGHT, msAxis } from './chart.js';
import { byId } from './dom.js';

/** @typedef {import('../../vendor/uplot/uPlot.esm.js')} UPlot */
/** @typedef {import('../model/live-run.js').LiveRun} LiveRun */
/**
 * What the draw hook reads: the run shown, its row count, and the inspector.
 * @typedef {{run: LiveRun | null, rows: number, inspect: ((u: UPlot) => void) | null}} View
 */

/** The timeline: bars drawn by a uPlot `draw` hook over uPlot's own axes and scales. */
export class Timeline extends Chart {
  constructor() {
    /** @type {View} */
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
            values: (_u, ticks) => ticks.map((t) => (view.run ? view.run.rowLabel(t) : `${t}`)),
          },
        ],
        series: [{}, { label: 'jobs', stroke: 'transparent', points: { show: false } }],
        // `view.inspect` is set once the chart exists (uPlot may fire hooks while built).
        hooks: { draw: [(u) => drawBars(u, view)], setCursor: [(u) => view.inspect?.(u)] },
      }),
      1,
    );
    this.view = view;
    this.inspector = byId('timeline-inspect');
    view.inspect = (u) => this.inspect(u);
  }

  /** @param {LiveRun | null} run */
  setView(run) {
    this.view.run = run;
    this.view.rows = run ? run.rows : 1;
  }

  reset() {
    super.reset();
    this.view.run = null;
    this.inspector.textContent = 'Point at a bar to see its job.';
    this.inspector.dataset.job = '-1';
  }

  /**
   * Says which job is under the pointer (uPlot's `setCursor` hook).
   * @param {UPlot} u
   */
  inspect(u) {
    const run = this.view.run;
    const { left, top } = u.cursor;
    let job = -1;
    if (run && left != null && top != null && left >= 0 && top >= 0) {
      const row = Math.round(u.posToVal(top, 'y'));
      const tMs = u.posToVal(left, 'x');
      // Within 3 CSS pixels of a bar, so narrow bars can be pointed at.
      const { min = 0, max = 1 } = u.scales.x;
      const slackMs = (3 * (max - min)) / Math.max(1, u.bbox.width / devicePixelRatio);
      job = run.jobAt(row, tMs, slackMs);
    }
    this.inspector.textContent = run && job >= 0 ? run.describe(job) : 'Point at a bar to see its job.';
    this.inspector.dataset.job = String(run && job >= 0 ? run.id[job] : -1);
  }

  /** @param {LiveRun} run */
  update(run) {
    if (this.view.run !== run) this.setView(run);
    this.view.rows = run.rows;
    this.plot.axes[1].label = run.rowKind;
    // What the rows are, for readers of the page's DOM (the axis is drawn on a canvas).
    this.figure.dataset.rows = String(run.rows);
    this.figure.dataset.rowGroups = run.stageRows.map((s) => `${s.name}:${s.firstRow}`).join(',');
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

/**
 * Tick rows for `rows` rows: all of them when few, about 12 spread out when many.
 * @param {number} rows
 */
function rowTicks(rows) {
  const step = Math.max(1, Math.ceil(rows / 12));
  const ticks = [];
  for (let r = 0; r < rows; r += step) ticks.push(r);
  return ticks;
}

/**
 * White stripes over a bar: `/` for a hatch, `/` and `\` for a cross-hatch.
 * @param {CanvasRenderingContext2D} ctx
 * @param {number} x0 @param {number} x1 @param {number} y @param {number} h
 * @param {import('../../pkg/scalelab.js').Fill} fill
 */
function stripe(ctx, x0, x1, y, h, fill) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x0, y, x1 - x0, h);
  ctx.clip();
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = x0 - h; x < x1; x += 5) {
    ctx.moveTo(x, y + h);
    ctx.lineTo(x + h, y);
    if (fill === 'cross-hatch') {
      ctx.moveTo(x, y);
      ctx.lineTo(x + h, y + h);
    }
  }
  ctx.stroke();
  ctx.restore();
}

/** Bars narrower than this (canvas pixels) merge with a touching neighbour of the same
 * colour: with many short jobs the timeline stays fast and shows the busy stretch. */
const MERGE_BELOW = 3;

/**
 * Draws every started job as a bar on its row, merging runs of sub-pixel bars.
 * @param {UPlot} u
 * @param {View} view
 */
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
  const { min: xMin = 0, max: xMax = 1 } = u.scales.x;
  const xScale = width / Math.max(1e-9, xMax - xMin);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const row of run.rowJobs.keys()) {
    const y = u.valToPos(row, 'y', true) - barHeight / 2;
    // A merged bar not yet drawn (no allocation per job: scalars, not an array).
    let pStart = 0;
    let pEnd = 0;
    /** @type {string | null} */
    let pColor = null;
    const flush = () => {
      if (pColor === null) return;
      const w = pEnd - pStart;
      ctx.fillStyle = pColor;
      // A one-pixel gap keeps neighbouring jobs apart when there is room for it.
      ctx.fillRect(pStart, y, w >= MERGE_BELOW + 1 ? w - 1 : Math.max(1, w), barHeight);
      pColor = null;
    };
    for (const i of run.jobsOnRow(row)) {
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
      if (!running && spec && spec.fill !== 'solid' && x1 - x0 >= 4) {
        // Stripe the bar as the outcome's key is striped, so outcomes read without colour too.
        flush();
        stripe(ctx, x0, x1, y, barHeight, spec.fill);
      }
    }
    flush();
  }
  // Each resize: a thin line and the new size, so rows appearing and ending line up
  // with the change that caused them.
  ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
  // A pipeline's rows are grouped by stage (rows labelled stage·worker): a line between
  // the groups.
  for (const stage of run.stageRows.slice(1)) {
    const y = u.valToPos(stage.firstRow - 0.5, 'y', true);
    ctx.strokeStyle = COLORS.resize;
    ctx.lineWidth = devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
  }
  for (const r of run.resizes) {
    const x = u.valToPos(r.tMs, 'x', true);
    ctx.strokeStyle = COLORS.resize;
    ctx.lineWidth = devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.fillStyle = COLORS.resize;
    ctx.fillText(`→${r.to}`, x + 2 * devicePixelRatio, top + height - 4 * devicePixelRatio);
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
    // Right of the line, or left of it where the label would run off the plot.
    const labelWidth = ctx.measureText('cancel').width;
    const gap = 4 * devicePixelRatio;
    const labelX = x + gap + labelWidth <= left + width ? x + gap : x - gap - labelWidth;
    ctx.fillText('cancel', labelX, top + 14 * devicePixelRatio);
  }
  ctx.restore();
}
