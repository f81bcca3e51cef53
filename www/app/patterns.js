// The seven set-ups a person can pick, each with a plain-language explanation of what the
// pattern is for and when to choose it (the article's advice, in our own words), which
// settings matter for it, and the teaching preset it starts from.

/**
 * @typedef {object} PatternInfo
 * @property {string} id          value of the `pattern` link parameter
 * @property {string} engine      the engine's pattern
 * @property {string} title
 * @property {string} what        what it is
 * @property {string} when        when to choose it
 * @property {string[]} fields    settings that apply (shown in the form)
 * @property {Record<string, string>} preset values set when the pattern is picked
 * @property {Record<string, string>} [labels] field labels specific to the pattern
 */

const COMMON = [
  'jobs',
  'duration',
  'workload',
  'cost',
  'backendSlots',
  'maxWeight',
  'distribution',
  'spread',
  'alpha',
  'sigma',
  'failure',
  'seed',
  'timeout',
];
/** An open-loop generator's schedule and what it does when the queue is full. */
const LOAD = ['arrival', 'arrivalRate', 'stages', 'spikeRate', 'spikeAt', 'spikeFor', 'overload', 'shedAfter'];
/** How a pool's size is chosen while it runs (patterns with a pool). */
const SCALING = ['scaling', 'minWorkers', 'maxWorkers', 'scaleTarget', 'scaleOn', 'cooldown'];
/** Settings that stay live while a run goes: changing them steers the run. */
export const LIVE_FIELDS = ['workers', 'rate', 'burst'];

/** @type {PatternInfo[]} */
export const PATTERNS = [
  {
    id: 'pool',
    engine: 'pool',
    title: 'Worker pool',
    what: 'A fixed number of workers take jobs from a bounded queue that a producer fills; results flow back on one channel.',
    when: 'Choose it to cap concurrency — at the core count for CPU work, or at what a database or API can take — so a flood of jobs cannot exhaust memory or thrash the scheduler. Best when jobs are independent and of similar cost.',
    fields: ['workers', 'queue', ...SCALING, ...COMMON],
    preset: {},
  },
  {
    id: 'fanout',
    engine: 'fanout',
    title: 'Fan-out / fan-in',
    what: 'Start one task per job at once, then gather the results as they complete (or in input order, at the cost of waiting for the slowest).',
    when: 'Choose it for many independent jobs when you want all the concurrency you can get and need the results recombined — and the job count is known and modest, since nothing limits how many run at once.',
    fields: ['ordered', ...COMMON],
    preset: {},
  },
  {
    id: 'failfast',
    engine: 'failfast',
    title: 'Fail fast (errgroup)',
    what: 'Like errgroup with SetLimit: at most “limit” jobs at a time; the first error cancels everything else, and Wait returns that error.',
    when: 'Choose it when one failure makes the rest pointless — fetching the parts of one page, validating a batch — so you stop paying for work that will be thrown away.',
    fields: ['workers', ...SCALING, ...COMMON],
    preset: { failure: '0.02' },
    labels: { workers: 'Limit (SetLimit)' },
  },
  {
    id: 'ratelimit',
    engine: 'ratelimit',
    title: 'Rate-limited pipeline',
    what: 'A pool whose producer releases jobs at a set rate: a token bucket (golang.org/x/time/rate) that allows short bursts, or the article’s time.Ticker that releases one job per tick.',
    when: 'Choose it to stay under an API quota or to protect a backend. Prefer the token bucket: it tracks the rate from the clock and allows bursts; a ticker cannot go faster than its timer fires (browsers clamp timers to a few ms) and never catches up.',
    fields: ['workers', 'queue', 'pacing', 'rate', 'burst', ...SCALING, ...COMMON],
    preset: { workload: 'sleep', cost: '2000', jobs: '300' },
  },
  {
    id: 'loadtest',
    engine: 'pool',
    title: 'Load test (open loop)',
    what: 'A load generator sends jobs on its own schedule — a constant rate, Poisson arrivals, k6-style stages or a spike — whatever the pool does, like wrk2, vegeta or k6 driving a server. Latency counts from when each job should have been sent.',
    when: 'Choose it to see what users would feel under a given load: where the pool saturates, how the queue and the tail latency explode past capacity, and which overload policy (block, reject, drop the oldest, shed on a queue-wait deadline) keeps the system healthy. A closed loop (every other pattern) slows down with the pool and hides all of this.',
    fields: ['workers', 'queue', ...LOAD, ...SCALING, ...COMMON],
    preset: {
      arrival: 'stages',
      arrivalRate: '100',
      stages: '2000:400,2000:1200,2000:400',
      overload: 'reject',
      workload: 'sleep',
      cost: '5000',
      distribution: 'exponential',
      jobs: '1000000',
      queue: '100',
    },
  },
  {
    id: 'pipeline',
    engine: 'pipeline',
    title: 'Pipeline (stages)',
    what: 'Jobs flow through 2–4 stages — fetch → parse → hash — each a pool of its own behind a bounded channel; a stage closes its output when its workers return, as in Go’s pipelines.',
    when: 'Choose it when work has steps of different cost. The slowest stage sets the pace: the stages before it block on its full queue and the ones after it starve. Find that bottleneck and give it the workers — by hand, or with the bottleneck policy, which moves them while the run goes.',
    fields: ['pipeline', 'scaling', 'cooldown', 'jobs', 'duration', 'failure', 'seed', 'timeout'],
    preset: { jobs: '2000', cooldown: '200', scaling: 'fixed' },
  },
  {
    id: 'deadline',
    engine: 'pool',
    title: 'Cancellation & deadline',
    what: 'A worker pool under a context with a timeout: when the deadline passes (or you press Cancel) running jobs stop at their next check, and queued jobs never start.',
    when: 'Use a context in every pool or batch job, so a slow request, a shutdown or a user’s Cancel stops the work promptly and no goroutine is left behind. Watch the timeline: nothing starts after the cancel mark.',
    fields: ['workers', 'queue', ...SCALING, ...COMMON],
    preset: { timeout: '300', jobs: '3000' },
  },
];

/** Every field some pattern presets: switching patterns resets these. */
export const PRESET_FIELDS = [...new Set(PATTERNS.flatMap((p) => Object.keys(p.preset)))];

/**
 * The pattern `id` (one of PATTERNS: ids come from the picker, or a link already checked).
 * @param {string} id
 * @returns {PatternInfo}
 */
export function patternById(id) {
  const pattern = PATTERNS.find((p) => p.id === id);
  if (!pattern) throw new Error(`no pattern ${id}`);
  return pattern;
}

/**
 * Whether a field applies, given the pattern and the current values (some fields
 * depend on others: spread on the uniform distribution, burst on the token bucket).
 * @param {PatternInfo} pattern
 * @param {string} name
 * @param {Record<string, string>} values
 */
export function fieldApplies(pattern, name, values) {
  if (!pattern.fields.includes(name)) return false;
  switch (name) {
    case 'spread':
      return values.distribution === 'uniform';
    case 'alpha':
      return values.distribution === 'pareto';
    case 'sigma':
      return values.distribution === 'lognormal';
    case 'burst':
      return values.pacing !== 'ticker';
    case 'backendSlots':
    case 'maxWeight':
      return values.workload === 'backend';
    case 'arrivalRate':
    case 'overload':
      return values.arrival !== undefined && values.arrival !== 'closed';
    case 'stages':
      return values.arrival === 'stages';
    case 'spikeRate':
    case 'spikeAt':
    case 'spikeFor':
      return values.arrival === 'spike';
    case 'shedAfter':
      return values.arrival !== 'closed' && values.overload === 'shed';
    case 'minWorkers':
    case 'maxWorkers':
    case 'scaleTarget':
      return values.scaling !== undefined && values.scaling !== 'fixed' && values.scaling !== 'bottleneck';
    case 'scaleOn':
      return values.scaling === 'queue';
    case 'cooldown':
      return values.scaling === 'queue' || values.scaling === 'bottleneck';
    default:
      return true;
  }
}
