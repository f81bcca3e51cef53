// Settings of the runs that more than one bench script makes (bench/run.mjs measures them,
// bench/stall-hunt.mjs repeats them to catch a run that never ends), declared once.

/** The resize storm's run: 1 ms I/O-like jobs that outlast any storm (an abort ends it). */
export const STORM_RUN = {
  pattern: 'pool',
  workload: 'sleep',
  cost: 1000,
  jobs: 10000000,
  duration: 600000,
  workers: 8,
  queue: 256,
};

/** The adaptive-concurrency policies measured, with their targets (AIMD: a latency
 * threshold in ms, 10% over the backend's 10 ms; Gradient2: its tolerance). */
export const AUTOSCALERS = /** @type {const} */ ([
  ['aimd', 11],
  ['gradient2', 1],
]);

/**
 * An autoscaler on the simulated backend (8 slots, 10 ms per call), from 1 worker.
 * @param {string} scaling
 * @param {number} target
 * @param {number} seconds
 */
export function autoscalerRun(scaling, target, seconds) {
  return {
    pattern: 'pool',
    workload: 'backend',
    backendSlots: 8,
    cost: 10000,
    scaling,
    scaleTarget: target,
    workers: 1,
    minWorkers: 1,
    maxWorkers: 64,
    jobs: 10000000,
    duration: seconds * 1000,
    queue: 1000,
  };
}

/**
 * The queue policy (target 10 queued) on 1 ms CPU spins released at 70% of the pool
 * threads' capacity.
 * @param {number} threads
 * @param {number} seconds
 */
export function queuePolicyRun(threads, seconds) {
  return {
    pattern: 'ratelimit',
    rate: Math.round(700 * threads),
    burst: 1,
    workload: 'spin',
    cost: 1000,
    scaling: 'queue',
    scaleTarget: 10,
    cooldown: 200,
    workers: 1,
    minWorkers: 1,
    maxWorkers: 32,
    jobs: 10000000,
    duration: seconds * 1000,
    queue: 10000,
  };
}
