// One run as the page sees it, in memory that does not grow with the number of jobs:
// a window of the latest job records (typed-array columns reused in arrival order, at
// most WINDOW of them), the flush samples (decimated to at most MAX_SAMPLES), the
// latest limiter releases, the pool's resizes, and (at the end) the engine's report.
// Charts read from here; nothing here draws.

import { doneOf, outcomeName, outcomeOf, zeroCounts } from '../../lib/outcomes.js';

/** Job records the page keeps: the timeline, the inspector and a live run's CSV. */
export const WINDOW = 20_000;
/** Flush samples kept (every second one is dropped when full, as the engine does). */
export const MAX_SAMPLES = 2_048;
/** Limiter releases kept for the chart (the latest). */
export const MAX_GRANTS = 10_000;

/**
 * A timeline row's job slots in arrival order; `head` skips the ones evicted.
 * @typedef {{ items: number[], head: number }} RowList
 */

export class LiveRun {
  /**
   * @param {Record<string, string>} settings what was sent to the engine
   * @param {{id: string, engine: string, title: string}} pattern
   * @param {number} jobs jobs asked for (the most, with a duration)
   * @param {number} threads pool threads
   */
  constructor(settings, pattern, jobs, threads) {
    this.settings = settings;
    this.pattern = pattern;
    this.jobs = jobs;
    this.threads = threads;
    /** Milliseconds the producer submits for (0: until `jobs` are submitted). */
    this.durationMs = Number(settings.duration ?? 0);
    const n = WINDOW;
    this.id = new Float64Array(n).fill(-1);
    /** A record's key: its job id, or (pipelines, a record per stage pass) id and stage. */
    this.key = new Float64Array(n).fill(-1);
    /** Pipelines: the stage of each pass (-1 otherwise). */
    this.stage = new Int32Array(n).fill(-1);
    /** Pipelines: each stage's first timeline row, and its name (from progress). */
    /** @type {{firstRow: number, name: string}[]} */
    this.stageRows = [];
    /** Pipelines: each stage in the latest progress batch. */
    /** @type {import('../../pkg/scalelab.js').StageProgress[]} */
    this.stagesNow = [];
    this.worker = new Int32Array(n).fill(-1);
    this.thread = new Int32Array(n).fill(-1);
    this.cost = new Float64Array(n);
    this.intendedMs = new Float64Array(n).fill(NaN);
    this.queuedMs = new Float64Array(n).fill(NaN);
    this.startedMs = new Float64Array(n).fill(NaN);
    this.finishedMs = new Float64Array(n).fill(NaN);
    this.outcome = new Uint8Array(n);
    this.result = new Float64Array(n).fill(NaN);
    /** @type {Map<number, string>} by job id, for jobs in the window */
    this.errors = new Map();
    /** @type {Map<number, number>} job id → its slot in the columns */
    this.slotOf = new Map();
    /** Slots in use, and the next one to (re)use: the oldest record goes first. */
    this.filled = 0;
    this.next = 0;
    /** Records dropped from the window (the engine's report still counts them). */
    this.evicted = 0;
    /** Job events the engine left out of its batches (more than a batch holds). */
    this.skipped = 0;
    /** How many slots hold a started job (the timeline draws these). */
    this.drawnCount = 0;
    /** Started jobs by timeline row, in arrival order (slots). @type {Map<number, RowList>} */
    this.rowJobs = new Map();
    /** The most rows seen (workers come and go with resizes). */
    this.maxRow = -1;
    /** @type {import('../../pkg/scalelab.js').Sample[]} */
    this.samples = [];
    this.sampleStride = 1;
    this.samplesSeen = 0;
    /** @type {{tMs: number, waitedMs: number, tokens?: number}[]} */
    this.grants = [];
    this.grantCount = 0;
    /** @type {{tMs: number, from: number, to: number, cause: string}[]} */
    this.resizes = [];
    this.counts = zeroCounts(jobs);
    /** @type {number | null} */
    this.cancelledMs = null;
    /** @type {import('../../pkg/scalelab.js').RunReport | null} */
    this.report = null;
    /** @type {string | undefined} */
    this.failure = undefined;
    this.version = 0; // bumped on every change, so views redraw only when needed
    // Fan-out of I/O jobs has one goroutine per job: pack them into lanes for display.
    /** @type {number[]} */
    this.laneEnds = [];
    this.lane = new Int32Array(n).fill(-1);
  }

  /** Whether jobs are I/O-like (they wait on timers, not threads). */
  get ioLike() {
    return this.settings.workload === 'sleep' || this.settings.workload === 'backend';
  }

  /** Rows the timeline shows, and what a row is. */
  get rowKind() {
    if (this.pattern.engine === 'pipeline') return 'stage · worker';
    if (this.pattern.engine !== 'fanout') return 'worker';
    return this.ioLike ? 'goroutine' : 'thread';
  }

  /** The timeline row of slot `i`. @param {number} i */
  row(i) {
    if (this.pattern.engine !== 'fanout') return this.worker[i];
    return this.ioLike ? this.lane[i] : this.thread[i];
  }

  /** Number of timeline rows so far. */
  get rows() {
    if (this.pattern.engine === 'fanout') {
      return this.ioLike ? Math.max(1, this.laneEnds.length) : Math.max(1, this.threads);
    }
    if (this.pattern.engine === 'pipeline') {
      return Math.max(1, this.maxRow + 1, this.report?.pipeline?.rowStarts.at(-1) ?? 0);
    }
    const widest = Math.max(...this.resizes.map((r) => r.to), Number(this.settings.workers ?? 4));
    return Math.max(1, widest, this.maxRow + 1);
  }

  /** @param {import('../../pkg/scalelab.js').Progress} batch */
  apply(batch) {
    this.mergeJobs(batch.jobs);
    this.counts = batch.counts;
    this.skipped += batch.jobsSkipped ?? 0;
    // The parts of one large batch repeat its sample: keep it once.
    const last = this.samples[this.samples.length - 1];
    if (!last || last.tMs !== batch.sample.tMs) this.addSample(batch.sample);
    this.addGrants(batch.grants);
    this.resizes.push(...(batch.resizes ?? []));
    if (batch.stages?.length) {
      this.stageRows = batch.stages.map((st) => ({ firstRow: st.firstRow, name: st.name }));
      this.stagesNow = batch.stages;
    }
    if (batch.cancelledMs != null) this.cancelledMs = batch.cancelledMs;
    this.version++;
  }

  /**
   * Keeps a sample, halving the resolution when full (the series keeps its span).
   * @param {import('../../pkg/scalelab.js').Sample} sample
   */
  addSample(sample) {
    const keep = this.samplesSeen % this.sampleStride === 0;
    this.samplesSeen++;
    if (!keep) return;
    if (this.samples.length === MAX_SAMPLES) {
      this.samples = this.samples.filter((_s, k) => k % 2 === 0);
      this.sampleStride *= 2;
    }
    this.samples.push(sample);
  }

  /** @param {{tMs: number, waitedMs: number, tokens?: number}[]} grants */
  addGrants(grants) {
    this.grantCount += grants.length;
    this.grants.push(...grants);
    if (this.grants.length > MAX_GRANTS) this.grants.splice(0, this.grants.length - MAX_GRANTS);
  }

  /** @param {import('../../pkg/scalelab.js').RunReport} report */
  finish(report) {
    this.mergeJobs(report.jobs);
    this.report = report;
    this.counts = report.counts;
    this.threads = report.threads;
    this.resizes = report.resizes;
    if (report.cancellation) this.cancelledMs = report.cancellation.atMs;
    this.version++;
  }

  /** Ends the run without a report (the engine failed). @param {string} message */
  abandon(message) {
    this.failure = message;
    this.version++;
  }

  /**
   * A slot for the record keyed `key` (job `id`): its own if it has one, else the oldest
   * (evicted).
   * @param {number} key
   * @param {number} id
   */
  slotFor(key, id) {
    const known = this.slotOf.get(key);
    if (known !== undefined) return known;
    const i = this.next;
    this.next = (this.next + 1) % WINDOW;
    if (this.filled === WINDOW) this.evict(i);
    else this.filled++;
    this.slotOf.set(key, i);
    this.id[i] = id;
    this.key[i] = key;
    this.startedMs[i] = NaN;
    this.finishedMs[i] = NaN;
    this.outcome[i] = 0;
    this.lane[i] = -1;
    return i;
  }

  /** Frees slot `i`, the oldest in the window. @param {number} i */
  evict(i) {
    const id = this.id[i];
    this.slotOf.delete(this.key[i]);
    this.errors.delete(id);
    this.evicted++;
    if (Number.isNaN(this.startedMs[i])) return;
    this.drawnCount--;
    const list = this.rowJobs.get(this.row(i));
    if (!list) return;
    // Slots join their row in arrival order, and the oldest leaves first.
    if (list.items[list.head] === i) list.head++;
    else list.items.splice(list.items.indexOf(i, list.head), 1);
    if (list.head > 1024 && list.head * 2 > list.items.length) {
      list.items = list.items.slice(list.head);
      list.head = 0;
    }
  }

  /** @param {import('../../pkg/scalelab.js').JobColumns} cols */
  mergeJobs(cols) {
    for (let k = 0; k < cols.length; k++) {
      const stage = cols.stage[k];
      // A pipeline job has a record per stage pass: 2³² apart, keys never collide.
      const i = this.slotFor(stage >= 0 ? cols.id[k] + stage * 2 ** 32 : cols.id[k], cols.id[k]);
      this.stage[i] = stage;
      const hadStart = !Number.isNaN(this.startedMs[i]);
      this.worker[i] = cols.worker[k];
      this.thread[i] = cols.thread[k];
      this.cost[i] = cols.cost[k];
      this.intendedMs[i] = cols.intendedMs[k];
      this.queuedMs[i] = cols.queuedMs[k];
      this.startedMs[i] = cols.startedMs[k];
      // A late "started" event never undoes an end seen already.
      if (!Number.isNaN(cols.finishedMs[k]) || cols.outcome[k] !== 0) {
        this.finishedMs[i] = cols.finishedMs[k];
        this.outcome[i] = cols.outcome[k];
        this.result[i] = cols.result[k];
      }
      if (!hadStart && !Number.isNaN(this.startedMs[i])) {
        if (this.pattern.engine === 'fanout' && this.ioLike) this.assignLane(i);
        this.drawnCount++;
        const row = this.row(i);
        if (row > this.maxRow) this.maxRow = row;
        const list = this.rowJobs.get(row);
        if (list) list.items.push(i);
        else this.rowJobs.set(row, { items: [i], head: 0 });
      } else if (this.lane[i] >= 0 && this.laneEnds[this.lane[i]] === Infinity && !Number.isNaN(this.finishedMs[i])) {
        this.laneEnds[this.lane[i]] = this.finishedMs[i]; // its lane frees when it ends
      }
    }
    for (const [id, text] of cols.errors ?? []) if (this.slotOf.has(id)) this.errors.set(id, text);
  }

  /** First lane free at the job's start (greedy interval packing). @param {number} i */
  assignLane(i) {
    const start = this.startedMs[i];
    let lane = this.laneEnds.findIndex((end) => end <= start);
    if (lane < 0) {
      lane = this.laneEnds.length;
      this.laneEnds.push(0);
    }
    // A running job holds its lane until it finishes; unknown ends hold it "forever"
    // until the record is updated (then later jobs simply reuse other lanes).
    this.laneEnds[lane] = Number.isNaN(this.finishedMs[i]) ? Infinity : this.finishedMs[i];
    this.lane[i] = lane;
  }

  /** The started jobs of a row, oldest first (slots). @param {number} row */
  *jobsOnRow(row) {
    const list = this.rowJobs.get(row);
    if (!list) return;
    for (let k = list.head; k < list.items.length; k++) yield list.items[k];
  }

  /**
   * A timeline row's label: the worker, or (pipelines) the stage and its worker.
   * @param {number} row
   */
  rowLabel(row) {
    const stages = this.stageRows;
    for (let s = stages.length - 1; s >= 0; s--) {
      if (row >= stages[s].firstRow) return `${s + 1}·${row - stages[s].firstRow}`;
    }
    return String(row);
  }

  /** Time of the latest event seen. */
  get nowMs() {
    if (this.report) return this.report.wallMs;
    return this.samples.length ? this.samples[this.samples.length - 1].tMs : 0;
  }

  get done() {
    return doneOf(this.counts);
  }

  /** How far the run is: jobs done of jobs asked for, or (with a duration) the time. */
  get progress() {
    if (this.durationMs > 0 && !this.report) {
      return { value: Math.min(this.nowMs, this.durationMs), max: this.durationMs, unit: 'ms' };
    }
    return { value: this.done, max: this.report ? this.counts.submitted : this.jobs, unit: 'jobs' };
  }

  /** Queue waits and service times (ms) of the jobs in the window that ran. */
  latencies() {
    /** @type {number[]} */
    const wait = [];
    /** @type {number[]} */
    const service = [];
    for (let i = 0; i < this.filled; i++) {
      if (outcomeOf(this.outcome[i])?.started) {
        const q = this.startedMs[i] - this.queuedMs[i];
        const s = this.finishedMs[i] - this.startedMs[i];
        if (Number.isFinite(q)) wait.push(q);
        if (Number.isFinite(s)) service.push(s);
      }
    }
    return { wait, service };
  }

  /**
   * The slot of the job drawn at time `tMs` on timeline row `row` (within `slackMs` of
   * its bar, the nearest if several), or -1.
   * @param {number} row
   * @param {number} tMs
   * @param {number} slackMs
   */
  jobAt(row, tMs, slackMs) {
    let best = -1;
    let bestGap = Infinity;
    const now = this.nowMs;
    for (const i of this.jobsOnRow(row)) {
      const start = this.startedMs[i];
      const end = Number.isNaN(this.finishedMs[i]) ? now : this.finishedMs[i];
      const gap = tMs < start ? start - tMs : tMs > end ? tMs - end : 0;
      if (gap <= slackMs && gap < bestGap) {
        best = i;
        bestGap = gap;
        if (gap === 0) break;
      }
    }
    return best;
  }

  /** One line about the job in slot `i`: where and when it ran, and how it ended. @param {number} i */
  describe(i) {
    const t = (/** @type {number} */ x) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;
    const id = this.id[i];
    const parts = [`job ${id}`];
    const stage = this.stage[i];
    if (stage >= 0)
      parts.push(`stage ${this.stageRows[stage]?.name ?? stage + 1}, worker ${this.rowLabel(this.worker[i])}`);
    else if (this.worker[i] >= 0)
      parts.push(`worker ${this.worker[i]}${this.thread[i] >= 0 ? ` on thread ${this.thread[i]}` : ''}`);
    else if (this.thread[i] >= 0) parts.push(`thread ${this.thread[i]}`);
    const queued = this.queuedMs[i];
    const started = this.startedMs[i];
    const finished = this.finishedMs[i];
    const when = [];
    if (!Number.isNaN(queued)) when.push(`queued at ${t(queued)}`);
    if (!Number.isNaN(started)) when.push(`started ${t(started)}`);
    if (!Number.isNaN(finished)) when.push(`ended ${t(finished)}`);
    if (when.length) parts.push(when.join(', '));
    if (!Number.isNaN(queued) && !Number.isNaN(started)) parts.push(`waited ${t(started - queued)}`);
    if (!Number.isNaN(started))
      parts.push(Number.isNaN(finished) ? `running for ${t(this.nowMs - started)}` : `ran ${t(finished - started)}`);
    const outcome = outcomeOf(this.outcome[i])?.label ?? 'running';
    const error = this.errors.get(id);
    const result = this.result[i];
    parts.push(error ? `${outcome}: ${error}` : Number.isNaN(result) ? outcome : `${outcome} (result ${result})`);
    return parts.join(' · ');
  }

  /** The jobs in the window as plain records, in id order (exports). */
  records() {
    const out = [];
    const num = (/** @type {number} */ v) => (Number.isNaN(v) ? null : v);
    // By job, then (pipelines) by stage.
    const slots = [...this.slotOf.values()].sort((a, b) => this.id[a] - this.id[b] || this.stage[a] - this.stage[b]);
    for (const i of slots) {
      const id = this.id[i];
      out.push({
        id,
        worker: this.worker[i] < 0 ? null : this.worker[i],
        thread: this.thread[i] < 0 ? null : this.thread[i],
        cost: this.cost[i],
        intendedMs: num(this.intendedMs[i]),
        queuedMs: num(this.queuedMs[i]),
        startedMs: num(this.startedMs[i]),
        finishedMs: num(this.finishedMs[i]),
        outcome: this.outcome[i] ? outcomeName(this.outcome[i]) : 'running',
        result: num(this.result[i]),
        error: this.errors.get(id) ?? null,
        // Pipelines: the stage this record is a pass through (1 = the first).
        stage: this.stage[i] < 0 ? null : this.stage[i] + 1,
      });
    }
    return out;
  }
}
