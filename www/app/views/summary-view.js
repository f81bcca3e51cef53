// The summary after a run: the accounting (with the identity checked), throughput,
// latency percentiles, and what cancellation, fail-fast and the limiter did. Built with
// DOM calls and text nodes only.

import { countOf, outcomes } from '../../lib/outcomes.js';
import { byId, el } from './dom.js';

/** @typedef {import('../../pkg/scalelab.js').Summary} Summary */

const ms = (/** @type {number} */ x) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms` : '—');

export class SummaryView {
  constructor() {
    this.root = byId('summary');
    this.onBaseline = () => {};
  }

  clear() {
    this.root.replaceChildren();
  }

  /** @param {() => void} handler runs the same set-up with one worker */
  bindBaseline(handler) {
    this.onBaseline = handler;
  }

  /**
   * @param {import('../model/live-run.js').LiveRun} run a finished run
   * @param {{speedup: number | null, baselineThroughput: number | null, canMeasure: boolean}} extra
   */
  show(run, extra) {
    const r = run.report;
    if (!r) return;
    const c = r.counts;
    const card = (/** @type {string} */ value, /** @type {string} */ label, /** @type {string} */ testid) =>
      el('div', { class: 'card', 'data-testid': testid }, el('b', {}, value), el('span', {}, label));
    const cards = el(
      'div',
      { class: 'cards' },
      ...outcomes().map((o) => card(countOf(c, o).toLocaleString('en'), o.label, `sum-${o.name.replaceAll('_', '-')}`)),
      card(`${r.throughputPerS.toFixed(1)}/s`, 'throughput', 'sum-throughput'),
      card(ms(r.wallMs), 'wall time', 'sum-wall'),
    );
    const identity = el(
      'p',
      { class: r.identityHolds ? 'identity-ok' : 'identity-bad', 'data-testid': 'sum-identity' },
      `${c.submitted} submitted = ${outcomes()
        .map((o) => `${countOf(c, o)} ${o.label}`)
        .join(' + ')}${r.identityHolds ? ' ✓' : ' ✗ (a job was lost: please report this)'}`,
    );
    // The same line the set-up's Go program ("Show as Go") prints last.
    const accounting = el(
      'p',
      { class: 'note accounting', 'data-testid': 'sum-accounting' },
      el('code', {}, r.accounting),
    );
    const timeUse = this.#timeUse(r);
    const row = (/** @type {string} */ name, /** @type {Summary} */ s) =>
      el('tr', {}, el('th', { scope: 'row' }, name), ...[s.p50, s.p95, s.p99, s.max].map((v) => el('td', {}, ms(v))));
    const latency = el(
      'table',
      { 'data-testid': 'sum-latency' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'latency'),
          el('th', {}, 'p50'),
          el('th', {}, 'p95'),
          el('th', {}, 'p99'),
          el('th', {}, 'max'),
        ),
      ),
      el(
        'tbody',
        {},
        row('queue wait', r.latency.queueWait),
        row('service', r.latency.service),
        row('total', r.latency.total),
      ),
    );
    const notes = [];
    if (r.cancellation) {
      const k = r.cancellation;
      notes.push(
        `Cancelled (${k.err}) at ${ms(k.atMs)}: “${k.cause}”. ${k.runningAtCancel} running job(s) stopped within ${ms(k.latencyMs)}; ` +
          `${k.startedAfter} started after the cancel.`,
      );
    }
    if (r.error) notes.push(`errgroup's Wait returned: ${r.error}.`);
    if (r.limiter) {
      const l = r.limiter;
      notes.push(
        `${l.pacing === 'bucket' ? 'Token bucket' : 'Ticker'}: configured ${l.configuredRate} jobs/s, achieved ${l.achievedRate.toFixed(1)} jobs/s.`,
      );
    }
    if (r.resizes.length) {
      const last = r.resizes[r.resizes.length - 1];
      notes.push(
        `The pool was resized ${r.resizes.length + r.resizesDropped} time(s); the last: ${last.from} → ${last.to} workers at ${ms(last.tMs)} (${last.cause}).`,
      );
    }
    if (r.jobsKept < c.submitted)
      notes.push(
        `Job records kept: ${r.jobsKept.toLocaleString('en')} of ${c.submitted.toLocaleString('en')} (the most recent, and those that failed, were cancelled or never started, up to a cap); the counts and latencies above cover every job.`,
      );
    if (r.memory)
      notes.push(
        `wasm memory ${(r.memory.startBytes / 1048576).toFixed(1)} → ${(r.memory.endBytes / 1048576).toFixed(1)} MiB (peak ${(r.memory.peakBytes / 1048576).toFixed(1)}).`,
      );
    const speedup = el('p', { class: 'note', 'data-testid': 'sum-speedup' });
    if (extra.speedup != null && extra.baselineThroughput != null) {
      speedup.textContent = `Speedup vs one worker: ${extra.speedup.toFixed(2)}× (1 worker: ${extra.baselineThroughput.toFixed(1)} jobs/s) on ${r.threads} threads.`;
    } else if (extra.canMeasure) {
      const button = el(
        'button',
        { type: 'button', class: 'quiet', 'data-testid': 'measure-speedup' },
        'Measure speedup vs one worker',
      );
      button.addEventListener('click', () => this.onBaseline());
      speedup.append(button);
    }
    this.root.replaceChildren(
      cards,
      identity,
      accounting,
      ...(r.pipeline ? [this.#stages(r.pipeline)] : []),
      timeUse,
      el('div', { class: 'table-scroll' }, latency),
      ...notes.map((n) => el('p', { class: 'note' }, n)),
      speedup,
    );
  }

  /**
   * Where the goroutines' time went (pprof's question): a stacked bar of running,
   * waiting on the backend and waiting for a job (or, fan-out, for a thread), each
   * segment labelled, and the producer's waits.
   * @param {import('../../pkg/scalelab.js').RunReport} r
   */
  #timeUse(r) {
    const t = r.timeUse;
    const total = t.goroutineMs;
    const pct = (/** @type {number} */ v) => (total > 0 ? `${((v / total) * 100).toFixed(1)}%` : '—');
    const parts = [
      { key: 'running', label: 'running jobs', value: t.runningMs },
      { key: 'backend', label: 'waiting on the backend', value: t.backendWaitMs },
      {
        key: 'waiting',
        // A CPU job waits for a pool thread once it is taken; with more workers than
        // threads, a worker's wait is partly that.
        label:
          r.config.pattern === 'fanout'
            ? 'waiting for a thread'
            : r.config.workers > r.threads && !['sleep', 'backend'].includes(r.config.workload)
              ? 'waiting for a job or a thread'
              : 'waiting for a job',
        value: t.waitingMs,
      },
    ].filter((p) => p.value > 0);
    const bar = el('div', { class: 'time-use-bar', role: 'img' });
    bar.setAttribute('aria-label', parts.map((p) => `${p.label} ${pct(p.value)}`).join(', '));
    for (const p of parts) {
      const segment = el('span', { class: `time-use-${p.key}`, title: `${p.label}: ${ms(p.value)}` }, pct(p.value));
      segment.style.flexGrow = String(p.value);
      bar.append(segment);
    }
    const producer = [];
    if (t.limiterWaitMs > 0) producer.push(`${ms(t.limiterWaitMs)} on its limiter`);
    if (t.queueFullMs > 0) producer.push(`${ms(t.queueFullMs)} on a full queue`);
    return el(
      'div',
      { class: 'time-use', 'data-testid': 'sum-time-use' },
      el(
        'p',
        { class: 'note' },
        `Where the time went: ${ms(total)} of goroutine time — ${parts.map((p) => `${p.label} ${ms(p.value)} (${pct(p.value)})`).join(', ')}` +
          (producer.length ? `; the producer waited ${producer.join(' and ')}.` : '.'),
      ),
      bar,
    );
  }

  /**
   * A pipeline's stages: each one's workers, utilisation, time blocked sending on,
   * queue and throughput, the bottleneck highlighted and named, and the workers the
   * bottleneck policy moved.
   * @param {import('../../pkg/scalelab.js').PipelineReport} p
   */
  #stages(p) {
    const pct = (/** @type {number} */ x) => `${(x * 100).toFixed(0)}%`;
    const head = el(
      'tr',
      {},
      ...['stage', 'workers', 'busy', 'blocked sending', 'queue (mean / max)', 'jobs/s', 'per job'].map((h) =>
        el('th', { scope: 'col' }, h),
      ),
    );
    const rows = p.stages.map((s, i) => {
      const workerMs = s.busyMs + s.blockedMs + s.idleMs; // all its workers' time
      const workers = s.workersEnd === s.spec.workers ? `${s.spec.workers}` : `${s.spec.workers} → ${s.workersEnd}`;
      return el(
        'tr',
        { class: i === p.bottleneck ? 'bottleneck' : '', 'data-testid': `stage-${i}` },
        el('th', { scope: 'row' }, `${s.name}${i === p.bottleneck ? ' (bottleneck)' : ''}`),
        el('td', {}, workers),
        el('td', {}, pct(s.utilisation)),
        el('td', {}, workerMs > 0 ? pct(s.blockedMs / workerMs) : '—'),
        el('td', {}, `${s.meanQueue.toFixed(1)} / ${s.maxQueue}`),
        el('td', {}, s.throughputPerS.toFixed(1)),
        el('td', {}, ms(s.meanServiceMs)),
      );
    });
    const moves = p.moves.length
      ? [
          el(
            'p',
            { class: 'note', 'data-testid': 'sum-moves' },
            `The bottleneck policy moved ${p.moves.length + p.movesDropped} worker(s); the last at ${ms(p.moves[p.moves.length - 1].tMs)}: ${p.moves[p.moves.length - 1].cause}.`,
          ),
        ]
      : [];
    return el(
      'div',
      { class: 'stages' },
      el('p', { class: 'note', 'data-testid': 'sum-bottleneck' }, `The ${p.verdict}.`),
      el(
        'div',
        { class: 'table-scroll' },
        el('table', { 'data-testid': 'sum-stages' }, el('thead', {}, head), el('tbody', {}, ...rows)),
      ),
      ...moves,
    );
  }

  /** @param {string} message a run that could not finish */
  showFailure(message) {
    this.root.replaceChildren(el('p', { class: 'identity-bad' }, message));
  }
}
