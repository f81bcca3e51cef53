// A finished run as Chrome trace-event JSON (the format Perfetto and chrome://tracing
// open): one track per worker — or, for fan-out, per pool thread — with a complete
// event per job that ran (its id, outcome, cost and queue wait as arguments), an
// instant event per job that never ran (not started, rejected, shed) on a track of its
// own, counter tracks for queue length, busy workers, workers alive, the worker limit
// and the limiter's tokens, and global instant events for the cancel (or deadline) and
// each resize of the pool. Times are microseconds since the run's start.
//
// Format: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU

import { outcomeName } from './outcomes.js';

const PID = 1;
/** The track of run-level events (resizes, cancel). */
const RUN_TID = 0;
/** The track of jobs that never ran. */
const UNRAN_TID = 1;
/** Worker w's track is FIRST_WORKER_TID + w; fan-out tasks go on their pool thread's. */
const FIRST_WORKER_TID = 10;
const FIRST_THREAD_TID = 100_000;

/** @param {number} ms */
const us = (ms) => Math.round(ms * 1000);

/**
 * A run's trace: `{ traceEvents: [...] }`, ready for `JSON.stringify` (what "Download
 * trace" saves).
 * @param {import('../pkg/scalelab.js').RunReport} report
 * @returns {{ traceEvents: Array<Record<string, unknown>>, displayTimeUnit: 'ms' }}
 */
export function toTraceEvents(report) {
  /** @type {Array<Record<string, unknown>>} */
  const events = [];
  /** @type {Map<number, string>} */
  const tracks = new Map([
    [RUN_TID, 'run'],
    [UNRAN_TID, 'never ran'],
  ]);
  const jobs = report.jobs;
  const errors = new Map(jobs.errors);
  for (let i = 0; i < jobs.length; i++) {
    const id = jobs.id[i];
    const outcome = outcomeName(jobs.outcome[i]);
    const started = jobs.startedMs[i];
    const finished = jobs.finishedMs[i];
    const queued = jobs.queuedMs[i];
    /** @type {Record<string, unknown>} */
    const args = { id, outcome, cost: jobs.cost[i] };
    if (!Number.isNaN(queued) && !Number.isNaN(started)) args.queueWaitMs = started - queued;
    if (!Number.isNaN(jobs.intendedMs[i])) args.intendedMs = jobs.intendedMs[i];
    const error = errors.get(id);
    if (error) args.error = error;
    if (Number.isNaN(started)) {
      // Never ran: a moment, when it was refused, dropped or given up.
      events.push({
        name: `job ${id}`,
        cat: outcome,
        ph: 'i',
        s: 't',
        ts: us(finished),
        pid: PID,
        tid: UNRAN_TID,
        args,
      });
      continue;
    }
    let tid;
    if (jobs.worker[i] >= 0) {
      tid = FIRST_WORKER_TID + jobs.worker[i];
      tracks.set(tid, `worker ${jobs.worker[i]}`);
    } else {
      const thread = Math.max(jobs.thread[i], 0);
      tid = FIRST_THREAD_TID + thread;
      tracks.set(tid, `pool thread ${thread}`);
    }
    const end = Number.isNaN(finished) ? report.wallMs : finished;
    events.push({
      name: `job ${id}`,
      cat: outcome,
      ph: 'X',
      ts: us(started),
      dur: us(end) - us(started),
      pid: PID,
      tid,
      args,
    });
  }
  for (const sample of report.samples) {
    const ts = us(sample.tMs);
    const counter = (/** @type {string} */ name, /** @type {Record<string, number>} */ args) =>
      events.push({ name, ph: 'C', ts, pid: PID, args });
    counter('queue length', { queued: sample.queued });
    counter('busy workers', { running: sample.running });
    counter('workers alive', { workers: sample.workers });
    if (report.config.pattern !== 'fanout') counter('worker limit', { limit: sample.limit });
    if (sample.tokens !== undefined) counter('tokens', { tokens: sample.tokens });
  }
  for (const resize of report.resizes) {
    events.push({
      name: `resize ${resize.from} → ${resize.to}`,
      cat: 'resize',
      ph: 'i',
      s: 'g',
      ts: us(resize.tMs),
      pid: PID,
      tid: RUN_TID,
      args: { from: resize.from, to: resize.to, cause: resize.cause },
    });
  }
  if (report.cancellation) {
    const c = report.cancellation;
    events.push({
      name: c.err === 'deadline exceeded' ? 'deadline' : 'cancel',
      cat: 'cancel',
      ph: 'i',
      s: 'g',
      ts: us(c.atMs),
      pid: PID,
      tid: RUN_TID,
      args: { err: c.err, cause: c.cause },
    });
  }
  const metadata = [
    { name: 'process_name', ph: 'M', pid: PID, tid: RUN_TID, args: { name: `scalelab ${report.config.pattern} run` } },
    ...[...tracks].map(([tid, name]) => ({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name } })),
    ...[...tracks.keys()].map((tid) => ({
      name: 'thread_sort_index',
      ph: 'M',
      pid: PID,
      tid,
      args: { sort_index: tid },
    })),
  ];
  return { traceEvents: [...metadata, ...events], displayTimeUnit: 'ms' };
}
