//! Where the time went (pprof's question, for a pool): how the goroutines of a run spent
//! their time — running jobs, waiting on the shared backend, waiting for a job — and how
//! long the producer waited on its limiter or on a full queue.
//!
//! The run state adds to these totals as things happen: a worker's life (its start is
//! subtracted, its end added, so the sum is the total of lifetimes and needs no
//! per-worker record), time spent acquiring a backend slot, limiter waits and queue-full
//! waits. Job service and queue-wait totals come from the recorder. Nothing here grows
//! with the number of jobs.
//!
//! # Invariants
//! 1. Every counter only ever changes by `fetch_add`/`fetch_sub` (relaxed: they are
//!    totals read once, after the run, when the coordinator has joined every worker).
//! 2. `worker_span_ns` is Σ(end − start) over workers that left, minus Σ start over
//!    workers alive; [`TimeUse::report`] adds `alive × now` to close the open spans.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// The run's time totals, in ns (see the module documentation).
#[derive(Debug, Default)]
pub struct TimeUse {
    worker_span_ns: AtomicI64,
    backend_wait_ns: AtomicU64,
    limiter_wait_ns: AtomicU64,
    queue_full_ns: AtomicU64,
}

impl TimeUse {
    /// A pool worker started at `now`.
    pub fn worker_started(&self, now: u64) {
        self.worker_span_ns.fetch_sub(now as i64, Relaxed);
    }

    /// A pool worker left at `now`.
    pub fn worker_ended(&self, now: u64) {
        self.worker_span_ns.fetch_add(now as i64, Relaxed);
    }

    /// A job waited `ns` for a slot of the shared backend.
    pub fn backend_waited(&self, ns: u64) {
        self.backend_wait_ns.fetch_add(ns, Relaxed);
    }

    /// The producer waited `ns` for its limiter (a token, or a tick).
    pub fn limiter_waited(&self, ns: u64) {
        self.limiter_wait_ns.fetch_add(ns, Relaxed);
    }

    /// The producer waited `ns` for room in the queue.
    pub fn queue_full(&self, ns: u64) {
        self.queue_full_ns.fetch_add(ns, Relaxed);
    }

    /// The breakdown, at `now` with `alive` workers still alive: `service_ns` and
    /// `queue_wait_ns` are the recorder's totals over the jobs that ran; `pool` says
    /// whether the goroutines are pool workers (else fan-out tasks, one per job).
    pub fn report(
        &self,
        now: u64,
        alive: u32,
        service_ns: u64,
        queue_wait_ns: u64,
        pool: bool,
    ) -> TimeUseReport {
        let ms = |ns: u64| ns as f64 / 1e6;
        let backend = self.backend_wait_ns.load(Relaxed);
        // A job's service includes its wait for the backend.
        let running = service_ns.saturating_sub(backend);
        let goroutine_ns = if pool {
            let span = self.worker_span_ns.load(Relaxed) + alive as i64 * now as i64;
            (span.max(0) as u64).max(service_ns)
        } else {
            // A fan-out task lives from its spawn to its end: it waits for a thread
            // (its queue wait), then runs.
            service_ns + queue_wait_ns
        };
        TimeUseReport {
            goroutine_ms: ms(goroutine_ns),
            running_ms: ms(running),
            backend_wait_ms: ms(backend),
            waiting_ms: ms(goroutine_ns - service_ns),
            limiter_wait_ms: ms(self.limiter_wait_ns.load(Relaxed)),
            queue_full_ms: ms(self.queue_full_ns.load(Relaxed)),
        }
    }
}

/// Where a run's time went, in ms of goroutine time (`goroutineMs = runningMs +
/// backendWaitMs + waitingMs`), and the producer's waits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct TimeUseReport {
    /// All the goroutines' time: pool workers from start to exit, or fan-out tasks from
    /// spawn to end.
    pub goroutine_ms: f64,
    /// Running jobs (computing, or waiting on their own timer).
    pub running_ms: f64,
    /// Jobs waiting for a slot of the shared backend (workload `backend`).
    pub backend_wait_ms: f64,
    /// Waiting for a job (pool workers, an empty queue) or for a thread (fan-out tasks).
    pub waiting_ms: f64,
    /// The producer waiting on its limiter (rate-limited pattern).
    pub limiter_wait_ms: f64,
    /// The producer waiting for room in a full queue (backpressure).
    pub queue_full_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_add_up_and_open_spans_close_at_now() {
        let t = TimeUse::default();
        t.worker_started(0);
        t.worker_started(10);
        t.worker_ended(50); // 50
        t.backend_waited(5);
        t.limiter_waited(7);
        t.queue_full(3);
        // One worker still alive at 100 (started at 10): 90 more.
        let r = t.report(100, 1, 60, 0, true);
        assert_eq!(r.goroutine_ms * 1e6, 140.0);
        assert_eq!(r.running_ms * 1e6, 55.0);
        assert_eq!(r.backend_wait_ms * 1e6, 5.0);
        assert_eq!(r.waiting_ms * 1e6, 80.0);
        assert_eq!((r.limiter_wait_ms * 1e6, r.queue_full_ms * 1e6), (7.0, 3.0));
        // Fan-out: a task's life is its queue wait and its service.
        let f = TimeUse::default().report(100, 0, 30, 12, false);
        assert_eq!((f.goroutine_ms * 1e6, f.waiting_ms * 1e6), (42.0, 12.0));
    }
}
