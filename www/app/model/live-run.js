// One run as the page sees it: job records merged from the progress batches into
// typed-array columns indexed by job id, the flush samples, the limiter's grants, and
// (at the end) the engine's report. Charts read from here; nothing here draws.

import { doneOf, outcomeName, outcomeOf, zeroCounts } from '../../lib/outcomes.js';

export class LiveRun {
  /**
   * @param {Record<string, string>} settings what was sent to the engine
   * @param {{id: string, engine: string, title: string}} pattern
   * @param {number} jobs
   * @param {number} threads pool threads
   */
  constructor(settings, pattern, jobs, threads) {
    this.settings = settings;
    this.pattern = pattern;
    this.jobs = jobs;
    this.threads = threads;
    this.seen = new Uint8Array(jobs); // 1 once a record arrived
    this.worker = new Int32Array(jobs).fill(-1);
    this.thread = new Int32Array(jobs).fill(-1);
    this.cost = new Float64Array(jobs);
    this.queuedMs = new Float64Array(jobs).fill(NaN);
    this.startedMs = new Float64Array(jobs).fill(NaN);
    this.finishedMs = new Float64Array(jobs).fill(NaN);
    this.outcome = new Uint8Array(jobs);
    this.result = new Float64Array(jobs).fill(NaN);
    /** @type {Map<number, string>} */
    this.errors = new Map();
    /** How many jobs have a start time (the timeline draws these). */
    this.drawnCount = 0;
    /** Jobs with a start time by timeline row, in arrival order. Kept here, as records
     * arrive in message-sized chunks, so a frame never indexes a whole run at once.
     * @type {Map<number, number[]>} */
    this.rowJobs = new Map();
    /** @type {{tMs: number, done: number, completed: number, running: number, queued: number, memoryBytes?: number, tokens?: number}[]} */
    this.samples = [];
    /** @type {{tMs: number, waitedMs: number, tokens?: number}[]} */
    this.grants = [];
    this.counts = zeroCounts(jobs);
    this.cancelledMs = null;
    this.report = null;
    this.version = 0; // bumped on every change, so views redraw only when needed
    // Fan-out of I/O jobs has one goroutine per job: pack them into lanes for display.
    /** @type {number[]} */
    this.laneEnds = [];
    this.lane = new Int32Array(jobs).fill(-1);
  }

  /** Rows the timeline shows, and what a row is. */
  get rowKind() {
    if (this.pattern.engine !== 'fanout') return 'worker';
    return this.settings.workload === 'sleep' ? 'goroutine' : 'thread';
  }

  /** The timeline row of job `i`. @param {number} i */
  row(i) {
    if (this.pattern.engine !== 'fanout') return this.worker[i];
    return this.settings.workload === 'sleep' ? this.lane[i] : this.thread[i];
  }

  /** Number of timeline rows so far. */
  get rows() {
    if (this.pattern.engine === 'fanout') {
      return this.settings.workload === 'sleep' ? Math.max(1, this.laneEnds.length) : Math.max(1, this.threads);
    }
    return Math.max(1, Number(this.settings.workers ?? 4));
  }

  /** @param {import('../../pkg/scalelab.js').Progress} batch */
  apply(batch) {
    this.mergeJobs(batch.jobs);
    this.counts = batch.counts;
    // The parts of one large batch repeat its sample: keep it once.
    const last = this.samples[this.samples.length - 1];
    if (!last || last.tMs !== batch.sample.tMs)
      this.samples.push({ ...batch.sample, completed: batch.counts.completed });
    this.grants.push(...batch.grants);
    if (batch.cancelledMs != null) this.cancelledMs = batch.cancelledMs;
    this.version++;
  }

  /** @param {import('../../pkg/scalelab.js').RunReport} report */
  finish(report) {
    this.mergeJobs(report.jobs);
    this.report = report;
    this.counts = report.counts;
    this.threads = report.threads;
    if (report.cancellation) this.cancelledMs = report.cancellation.atMs;
    this.version++;
  }

  /** Ends the run without a report (the engine failed). @param {string} message */
  abandon(message) {
    this.failure = message;
    this.version++;
  }

  /** @param {import('../../pkg/scalelab.js').JobColumns} cols */
  mergeJobs(cols) {
    for (let k = 0; k < cols.length; k++) {
      const i = cols.id[k];
      if (i >= this.jobs) continue;
      const hadStart = !Number.isNaN(this.startedMs[i]);
      this.worker[i] = cols.worker[k];
      this.thread[i] = cols.thread[k];
      this.cost[i] = cols.cost[k];
      this.queuedMs[i] = cols.queuedMs[k];
      this.startedMs[i] = cols.startedMs[k];
      this.finishedMs[i] = cols.finishedMs[k];
      this.outcome[i] = cols.outcome[k];
      this.result[i] = cols.result[k];
      this.seen[i] = 1;
      if (!hadStart && !Number.isNaN(this.startedMs[i])) {
        if (this.pattern.engine === 'fanout' && this.settings.workload === 'sleep') this.assignLane(i);
        this.drawnCount++;
        const row = this.row(i);
        const list = this.rowJobs.get(row);
        if (list) list.push(i);
        else this.rowJobs.set(row, [i]);
      } else if (this.lane[i] >= 0 && this.laneEnds[this.lane[i]] === Infinity && !Number.isNaN(this.finishedMs[i])) {
        this.laneEnds[this.lane[i]] = this.finishedMs[i]; // its lane frees when it ends
      }
    }
    for (const [id, text] of cols.errors ?? []) this.errors.set(id, text);
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

  /** Time of the latest event seen. */
  get nowMs() {
    if (this.report) return this.report.wallMs;
    return this.samples.length ? this.samples[this.samples.length - 1].tMs : 0;
  }

  get done() {
    return doneOf(this.counts);
  }

  /** Queue waits and service times (ms) of the jobs that ran. */
  latencies() {
    const wait = [];
    const service = [];
    for (let i = 0; i < this.jobs; i++) {
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
   * The job drawn at time `tMs` on timeline row `row` (within `slackMs` of its bar, the
   * nearest if several), or -1.
   * @param {number} row
   * @param {number} tMs
   * @param {number} slackMs
   */
  jobAt(row, tMs, slackMs) {
    let best = -1;
    let bestGap = Infinity;
    const now = this.nowMs;
    for (const i of this.rowJobs.get(row) ?? []) {
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

  /** One line about job `i`: where and when it ran, and how it ended. @param {number} i */
  describe(i) {
    const t = (/** @type {number} */ x) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;
    const parts = [`job ${i}`];
    if (this.worker[i] >= 0)
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
    const outcome = this.seen[i] ? (outcomeOf(this.outcome[i])?.label ?? outcomeName(this.outcome[i])) : 'unknown';
    const error = this.errors.get(i);
    const result = this.result[i];
    parts.push(error ? `${outcome}: ${error}` : Number.isNaN(result) ? outcome : `${outcome} (result ${result})`);
    return parts.join(' · ');
  }

  /** Every job as a plain record (exports). */
  records() {
    const out = [];
    const num = (/** @type {number} */ v) => (Number.isNaN(v) ? null : v);
    for (let i = 0; i < this.jobs; i++) {
      out.push({
        id: i,
        worker: this.worker[i] < 0 ? null : this.worker[i],
        thread: this.thread[i] < 0 ? null : this.thread[i],
        cost: this.cost[i],
        queuedMs: num(this.queuedMs[i]),
        startedMs: num(this.startedMs[i]),
        finishedMs: num(this.finishedMs[i]),
        outcome: this.seen[i] ? outcomeName(this.outcome[i]) : 'unknown',
        result: num(this.result[i]),
        error: this.errors.get(i) ?? null,
      });
    }
    return out;
  }
}
