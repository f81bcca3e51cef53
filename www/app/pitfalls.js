// The article's "common pitfalls", each as a pair (or trio) of programs: the wrong way
// and the right way, with fixed settings so anyone gets comparable numbers, a measure of
// the damage, and what to chart. Goroutine, leak and cancellation pitfalls are the lab's
// own programs (src/lab/pitfalls/, `engine.pitfall`); the ticker is the engine's own
// rate-limited pattern (`engine.run`); the race counts on every thread (`engine.race`).

/**
 * One program of a card: a lab program (`program`), an engine run (`settings`), or the
 * shared-counter race (`race`).
 * @typedef {{label: string, program?: Record<string, string>, settings?: Record<string, string>,
 *   race?: {increments: number, racy: boolean}}} PitfallRun
 */

/** @typedef {import('../pkg/scalelab.js').PitfallReport} PitfallReport */
/** @typedef {import('../pkg/scalelab.js').RunReport} RunReport */
/** @typedef {{threads: number, increments: number, expected: number, actual: number, lost: number, racy: boolean}} RaceResult */
/** What one program of a card gives back. */
/** @typedef {PitfallReport | RunReport | RaceResult} PitfallResult */
/** A point of a program's (or a run's) samples: what a card's chart plots. */
/** @typedef {{tMs: number, tasks: number, done: number, running: number}} PitfallPoint */

const ms = (/** @type {number | undefined} */ x) =>
  x !== undefined && Number.isFinite(x) ? `${x.toFixed(1)} ms` : '—';
const mib = (/** @type {number} */ x) => `${(x / 1048576).toFixed(1)} MiB`;

/**
 * @typedef {object} Pitfall
 * @property {string} id
 * @property {string} title
 * @property {string} explain
 * @property {(threads: number) => PitfallRun[]} runs
 * @property {(results: PitfallResult[]) => {rows: string[][], verdict: string, detected: boolean}} measure
 *   the results come in the order of `runs`, each of the kind its run asks for
 * @property {{label: string, value: (sample: PitfallPoint) => number} | null} chart  a series per run, from its samples
 */

/** @type {Pitfall[]} */
export const PITFALLS = [
  {
    id: 'unbounded',
    title: 'Unbounded goroutines',
    explain:
      'Starting a goroutine per job with no limit: every job holds its memory (here 8 KiB, like a goroutine stack) from the moment it is started, and the scheduler juggles all of them, for no gain once the cores are busy. A pool holds only its workers.',
    runs: (threads) => {
      const job = { workload: 'spin', cost: '100', jobs: '10000', stack: '8', queue: '64' };
      return [
        { label: 'wrong: a goroutine per job', program: { program: 'unbounded', ...job } },
        { label: `right: a pool of ${threads}`, program: { program: 'pool', workers: String(threads), ...job } },
      ];
    },
    measure: (results) => {
      const [wrong, right] = /** @type {PitfallReport[]} */ (results);
      return {
        rows: [
          ['goroutines alive at peak', String(wrong.peakGoroutines), String(right.peakGoroutines)],
          ['heap in use at peak', mib(wrong.heapPeakBytes ?? 0), mib(right.heapPeakBytes ?? 0)],
          ['time to finish', ms(wrong.wallMs), ms(right.wallMs)],
        ],
        detected: wrong.peakGoroutines > 10 * Math.max(1, right.peakGoroutines),
        verdict:
          `The unbounded version kept up to ${wrong.peakGoroutines} goroutines (${mib(wrong.heapPeakBytes ?? 0)} of heap) alive at once ` +
          `against the pool's ${right.peakGoroutines} (${mib(right.heapPeakBytes ?? 0)}), and finished no sooner.`,
      };
    },
    chart: { label: 'goroutines alive', value: (s) => s.tasks },
  },
  {
    id: 'leak',
    title: 'Channel leaks',
    explain:
      'A producer that never closes its channel leaves every worker blocked in "for job := range jobs", so wg.Wait() never returns; consumers that stop early leave the producer blocked on a send. Go reports "all goroutines are asleep - deadlock!" or simply hangs. The lab detects both, says why, and cleans up.',
    runs: () => {
      const base = { workload: 'sleep', cost: '2000', jobs: '200', workers: '4', queue: '8' };
      return [
        { label: 'wrong: never closes', program: { ...base, program: 'never-closes' } },
        { label: 'wrong: consumers stop early', program: { ...base, program: 'consumers-stop' } },
        { label: 'right: close(jobs)', program: { ...base, program: 'closes' } },
      ];
    },
    measure: (results) => {
      const [noClose, stops, right] = /** @type {PitfallReport[]} */ (results);
      return {
        rows: [
          ['leak found', noClose.leak ? 'yes' : 'no', stops.leak ? 'yes' : 'no', right.leak ? 'yes' : 'no'],
          [
            'jobs done / never started',
            `${noClose.counts.completed} / ${noClose.counts.notStarted}`,
            `${stops.counts.completed} / ${stops.counts.notStarted}`,
            `${right.counts.completed} / ${right.counts.notStarted}`,
          ],
        ],
        detected: Boolean(noClose.leak && stops.leak && !right.leak),
        verdict: [noClose.leak, stops.leak].filter(Boolean).join(' — '),
      };
    },
    chart: { label: 'jobs done', value: (s) => s.done },
  },
  {
    id: 'cancel',
    title: 'Ignoring cancellation',
    explain:
      'Workers that never look at ctx.Done() keep going after a cancel or a deadline: running jobs burn CPU to the end and queued jobs still start. Here a 110 ms deadline hits a pool of 20 ms CPU jobs.',
    runs: (threads) => {
      const base = {
        workload: 'spin',
        cost: '20000',
        jobs: '400',
        workers: String(threads),
        queue: '16',
        timeout: '110',
      };
      return [
        { label: 'wrong: jobs ignore the context', program: { ...base, program: 'ignores-context' } },
        { label: 'right: jobs check it', program: { ...base, program: 'checks-context' } },
      ];
    },
    measure: (results) => {
      const [wrong, right] = /** @type {PitfallReport[]} */ (results);
      const w = wrong.cancellation;
      const r = right.cancellation;
      return {
        rows: [
          ['CPU time after the deadline', ms(w?.workAfterMs), ms(r?.workAfterMs)],
          ['jobs started after it', String(w?.startedAfter ?? '—'), String(r?.startedAfter ?? '—')],
          ['deadline to the pool going quiet', ms(w?.quietAfterMs), ms(r?.quietAfterMs)],
        ],
        detected: Boolean(w && r && w.workAfterMs > r.workAfterMs && w.startedAfter > 0 && r.startedAfter === 0),
        verdict:
          w && r
            ? `Ignoring the context cost ${ms(w.workAfterMs)} of CPU after the deadline (${w.startedAfter} jobs even started); checking it, ${ms(r.workAfterMs)}.`
            : '',
      };
    },
    chart: { label: 'jobs running', value: (s) => s.running },
  },
  {
    id: 'coordination',
    title: 'Overly complex coordination',
    explain:
      'A goroutine per job sends its result on an unbuffered results channel (or its error on errc), and a coordinator counts results in a select with ctx.Done(). At the first error it returns, and every goroutine that finishes later blocks forever on its send: a leak. errgroup.WithContext does the same work in a few lines: the first error cancels the rest, and Wait returns only when every goroutine has ended. Both run the same seeded jobs (5 ms on average, exponential; 10% fail).',
    runs: () => {
      const base = {
        workload: 'sleep',
        cost: '5000',
        distribution: 'exponential',
        jobs: '200',
        failure: '0.1',
        seed: '3',
      };
      return [
        { label: 'wrong: select and a counter', program: { ...base, program: 'hand-rolled' } },
        { label: 'right: errgroup', program: { ...base, program: 'errgroup' } },
      ];
    },
    measure: (results) => {
      const [wrong, right] = /** @type {PitfallReport[]} */ (results);
      // The lab's leak message says how many goroutines it found blocked.
      const leaked = (/** @type {PitfallReport} */ r) =>
        Number(/(\d+) goroutine\(s\) finished after that/.exec(r.leak ?? '')?.[1] ?? 0);
      const outcome = (/** @type {PitfallReport} */ r) =>
        `${r.counts.completed} / ${r.counts.failed} / ${r.counts.cancelled + r.counts.notStarted}`;
      return {
        rows: [
          ['goroutines left blocked forever', String(leaked(wrong)), String(leaked(right))],
          ['jobs completed / failed / stopped', outcome(wrong), outcome(right)],
          ['goroutines alive at peak', String(wrong.peakGoroutines), String(right.peakGoroutines)],
        ],
        detected: leaked(wrong) > 0 && !right.leak,
        verdict: wrong.leak
          ? `Hand-rolled: ${wrong.leak} errgroup: every goroutine ended, the rest cancelled at the first error.`
          : 'No error arrived while jobs were still running: nothing leaked this time.',
      };
    },
    chart: { label: 'goroutines alive', value: (s) => s.tasks },
  },
  {
    id: 'race',
    title: 'Unsynchronised shared state',
    explain:
      'Every thread adds to one counter. Split into a load and a store (a read-modify-write race that safe Rust still allows, and that go test -race would flag), increments overwrite each other and are lost; with one atomic fetch_add none are.',
    runs: () => [
      { label: 'wrong: load, then store', race: { increments: 5_000_000, racy: true } },
      { label: 'right: fetch_add', race: { increments: 5_000_000, racy: false } },
    ],
    measure: (results) => {
      const [wrong, right] = /** @type {RaceResult[]} */ (results);
      return {
        rows: [
          ['expected', wrong.expected.toLocaleString('en'), right.expected.toLocaleString('en')],
          ['counted', wrong.actual.toLocaleString('en'), right.actual.toLocaleString('en')],
          ['lost updates', wrong.lost.toLocaleString('en'), right.lost.toLocaleString('en')],
        ],
        detected: wrong.lost > 0 && right.lost === 0,
        verdict: `${wrong.lost.toLocaleString('en')} of ${wrong.expected.toLocaleString('en')} increments were lost to the race; fetch_add lost ${right.lost}.`,
      };
    },
    chart: null,
  },
  {
    id: 'ticker',
    title: 'Ticker pacing vs token bucket',
    explain:
      'The article paces requests with time.Ticker. Each tick needs a timer to fire, and browser timers count whole milliseconds (and are clamped further when busy or hidden), so above about 1000/s a ticker falls short — and it never catches up, because missed ticks are dropped. A token bucket computes tokens from the clock and releases what accrued, so it holds the rate. Here: 2000 jobs/s.',
    runs: () => {
      const base = {
        pattern: 'ratelimit',
        workload: 'sleep',
        cost: '100',
        jobs: '1000',
        workers: '8',
        queue: '64',
        rate: '2000',
        burst: '20',
      };
      return [
        { label: 'wrong: time.Ticker', settings: { ...base, pacing: 'ticker' } },
        { label: 'right: token bucket', settings: { ...base, pacing: 'bucket' } },
      ];
    },
    measure: (results) => {
      const [w, r] = /** @type {RunReport[]} */ (results);
      if (!w.limiter || !r.limiter) throw new Error('the ticker runs are rate-limited and report their limiter');
      const wrong = { limiter: w.limiter };
      const right = { limiter: r.limiter };
      return {
        rows: [
          ['configured', `${wrong.limiter.configuredRate}/s`, `${right.limiter.configuredRate}/s`],
          ['achieved', `${wrong.limiter.achievedRate.toFixed(1)}/s`, `${right.limiter.achievedRate.toFixed(1)}/s`],
          [
            'of the rate',
            `${((wrong.limiter.achievedRate / wrong.limiter.configuredRate) * 100).toFixed(1)}%`,
            `${((right.limiter.achievedRate / right.limiter.configuredRate) * 100).toFixed(1)}%`,
          ],
        ],
        detected:
          wrong.limiter.achievedRate < 0.9 * wrong.limiter.configuredRate &&
          right.limiter.achievedRate > 0.97 * right.limiter.configuredRate,
        verdict: `The ticker reached ${wrong.limiter.achievedRate.toFixed(0)}/s of ${wrong.limiter.configuredRate}/s; the bucket ${right.limiter.achievedRate.toFixed(0)}/s.`,
      };
    },
    chart: { label: 'jobs done', value: (s) => s.done },
  },
];
