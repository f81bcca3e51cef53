//! The recorder: everything a run remembers about its jobs, in memory that does not
//! grow with their number.
//!
//! - exact counts per outcome (atomics);
//! - latency distributions in HDR histograms ([`latency`]);
//! - a bounded window of job records ([`Kept`]): the [`RECENT`] most recent jobs that
//!   ran, plus up to [`NOTABLE`] that failed, were cancelled or never started — what
//!   the timeline, the inspector and the CSV show; the report says how many it kept;
//! - the events since the last progress batch (jobs started and ended, at most
//!   [`FRESH`] of each kind per shard; the rest are counted, not sent);
//! - the flush samples, decimated to a fixed size ([`series`]).
//!
//! Jobs end on every pool thread at once, so everything lives in shards — one per pool
//! thread and one for everything else (the coordinator's I/O jobs) — each behind its
//! own `Mutex` and on its own cache lines, which the thread that owns it takes
//! uncontended; the coordinator takes each briefly at a flush. A pool thread publishes
//! the job it is running without any lock ([`current`]); a job on the coordinator is
//! announced in its shard.
//!
//! # Invariants
//! 1. Every ended job is counted once, in [`Recorder::record`] (or in bulk by
//!    [`Recorder::count_unsent`] for jobs that never existed as values), so the counts
//!    add up to the jobs submitted once the run is done.
//! 2. A shard's lock is never held while taking another lock.
//! 3. A shard's `current` is written only by the pool thread of that index (a CPU job
//!    starts and ends on the thread that runs it, one at a time).

pub mod current;
pub mod latency;
pub mod series;

use std::collections::VecDeque;

use super::job::{Finished, NONE, UNSET};
use super::outcome::{Counts, Outcome};
use latency::{Latencies, Window};
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::{Mutex, MutexGuard};

/// Most recent jobs that ran kept for the report (per shard; the report keeps the
/// latest `RECENT` of them all).
pub const RECENT: usize = 10_000;
/// Most failed, cancelled or never-started jobs kept besides the recent ones.
pub const NOTABLE: u32 = 10_000;
/// Most job events of each kind a shard holds between two progress batches.
pub const FRESH: usize = 1_024;

/// A job that started (what a progress batch says of a job still running).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// Job id.
    pub id: u32,
    /// Its worker, or [`NONE`].
    pub worker: u32,
    /// Its pool thread, or [`NONE`].
    pub thread: u32,
    /// Its planned cost.
    pub cost: u64,
    /// When it should have been sent.
    pub intended: u64,
    /// When it was queued.
    pub queued: u64,
    /// When it started.
    pub started: u64,
}

/// What happened to jobs since the last batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fresh {
    /// Jobs that started (some may have ended since, see `ended`).
    pub started: Vec<Started>,
    /// Jobs that ended.
    pub ended: Vec<Finished>,
    /// Events not kept (more than [`FRESH`] of a kind in one shard between batches).
    pub skipped: u64,
}

/// A shard: its data under a lock, and (pool threads) the job running now. Aligned so
/// that two threads' shards never share a cache line.
#[derive(Default)]
#[repr(align(128))]
struct Shard {
    data: Mutex<ShardData>,
    current: current::Current,
}

#[derive(Default)]
struct ShardData {
    /// Final outcomes, indexed by code - 1.
    counts: [u32; Outcome::ALL.len()],
    /// Wrapping sum of the results of completed jobs.
    checksum: u64,
    /// Sums over the jobs that ran: service (started to ended) and queue wait, ns.
    service_total_ns: u64,
    queue_wait_total_ns: u64,
    latencies: Option<Box<Latencies>>,
    /// Since the last [`Recorder::take_window`] (recorders with windows only).
    window: Option<Box<Window>>,
    /// Since the last [`Recorder::take_interval`].
    interval: Interval,
    recent: VecDeque<Finished>,
    notable: Vec<Finished>,
    fresh_started: VecDeque<Started>,
    fresh_ended: VecDeque<Finished>,
    skipped: u64,
}

/// Latency sums over an interval (what the autoscalers read).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Interval {
    /// Jobs that ran and ended.
    pub ran: u64,
    /// Sum of their service times (started to ended), ns.
    pub service_ns: f64,
    /// Sum of their queue waits, ns.
    pub queue_wait_ns: f64,
    /// Sum of their latencies from the intended start, ns.
    pub from_intended_ns: f64,
    /// Jobs that ended without running (rejected, shed, not started).
    pub ended_unran: u64,
}

impl Interval {
    fn merge(&mut self, other: &Interval) {
        self.ran += other.ran;
        self.service_ns += other.service_ns;
        self.queue_wait_ns += other.queue_wait_ns;
        self.from_intended_ns += other.from_intended_ns;
        self.ended_unran += other.ended_unran;
    }

    /// Mean service time, ms (0 if nothing ran).
    pub fn mean_service_ms(&self) -> f64 {
        self.mean(self.service_ns)
    }

    /// Mean queue wait, ms.
    pub fn mean_queue_wait_ms(&self) -> f64 {
        self.mean(self.queue_wait_ns)
    }

    fn mean(&self, sum_ns: f64) -> f64 {
        if self.ran == 0 {
            0.0
        } else {
            sum_ns / self.ran as f64 / 1e6
        }
    }
}

fn push_bounded<T>(queue: &mut VecDeque<T>, value: T, cap: usize) -> bool {
    let dropped = queue.len() == cap;
    if dropped {
        queue.pop_front();
    }
    queue.push_back(value);
    dropped
}

/// See the module documentation.
pub struct Recorder {
    shards: Box<[Shard]>,
    notable_left: AtomicU32,
    /// The running job last announced for each pool thread (the coordinator's).
    announced: Mutex<Vec<u32>>,
    /// Whether latencies are also kept per progress interval ([`Window`]).
    windows: bool,
}

fn lock(shard: &Shard) -> MutexGuard<'_, ShardData> {
    shard.data.lock().unwrap_or_else(|p| p.into_inner())
}

impl Recorder {
    /// A recorder for a pool of `threads` threads.
    pub fn new(threads: usize) -> Recorder {
        Recorder {
            shards: (0..=threads).map(|_| Shard::default()).collect(),
            notable_left: AtomicU32::new(NOTABLE),
            announced: Mutex::new(vec![NONE; threads]),
            windows: false,
        }
    }

    /// This recorder, also keeping the latencies of each progress interval (open-loop
    /// runs chart their percentiles over time).
    pub fn with_windows(mut self) -> Recorder {
        self.windows = true;
        self
    }

    /// The pool thread calling, if it is one of this recorder's.
    fn pool_thread(&self) -> Option<usize> {
        rayon::current_thread_index().filter(|&i| i + 1 < self.shards.len())
    }

    /// The shard of the calling thread: its pool thread's, or the last one.
    fn shard(&self) -> &Shard {
        let last = self.shards.len() - 1;
        &self.shards[self.pool_thread().unwrap_or(last)]
    }

    /// A job started (for the next progress batch): published by its pool thread, or
    /// announced in the last shard.
    pub fn started(&self, started: Started) {
        match self.pool_thread() {
            Some(index) => self.shards[index].current.set(&started),
            None => {
                let mut shard = lock(self.shard());
                if push_bounded(&mut shard.fresh_started, started, FRESH) {
                    shard.skipped += 1;
                }
            }
        }
    }

    /// A job ended: counted (invariant 1), its latencies recorded, its record kept if
    /// the window has room for it.
    pub fn record(&self, job: Finished) {
        let notable = !matches!(job.outcome, Outcome::Completed)
            && self
                .notable_left
                .fetch_update(AcqRel, Acquire, |left| left.checked_sub(1))
                .is_ok();
        let owner = self.shard();
        if self.pool_thread().is_some() && job.ran() {
            owner.current.clear();
        }
        let mut guard = lock(owner);
        let shard = &mut *guard;
        shard.counts[job.outcome.code() as usize - 1] += 1;
        if job.outcome == Outcome::Completed {
            shard.checksum = shard.checksum.wrapping_add(job.result);
        }
        if job.ran() {
            let latencies = shard.latencies.get_or_insert_with(Default::default);
            let (wait, service, from_intended) = (
                job.queue_wait(),
                job.service().unwrap_or(0),
                job.from_intended().unwrap_or(0),
            );
            if let Some(wait) = wait {
                latencies.queue_wait.record(wait);
                shard.interval.queue_wait_ns += wait as f64;
                shard.queue_wait_total_ns += wait;
            }
            shard.service_total_ns += service;
            latencies.service.record(service);
            if let Some(total) = job.total() {
                latencies.total.record(total);
            }
            latencies.from_intended.record(from_intended);
            if self.windows {
                let window = shard.window.get_or_insert_with(Default::default);
                if let Some(total) = job.total() {
                    window.total.record(total);
                }
                window.from_intended.record(from_intended);
            }
            shard.interval.ran += 1;
            shard.interval.service_ns += service as f64;
            shard.interval.from_intended_ns += from_intended as f64;
            // The whole window at once, the first time: memory then stays flat for the
            // rest of the run instead of creeping up until the window is full.
            if shard.recent.capacity() < RECENT {
                shard.recent.reserve_exact(RECENT - shard.recent.len());
            }
            push_bounded(&mut shard.recent, job, RECENT);
        } else {
            shard.interval.ended_unran += 1;
        }
        if notable {
            // Kept for good (a job that ran may also be in `recent`: the window is
            // de-duplicated by id).
            if shard.notable.capacity() == 0 {
                shard.notable.reserve_exact(NOTABLE as usize);
            }
            shard.notable.push(job);
        }
        if push_bounded(&mut shard.fresh_ended, job, FRESH) {
            shard.skipped += 1;
        }
    }

    /// Counts `n` jobs that never existed as values as not started (a job-count run
    /// stopped before its producer made them).
    pub fn count_unsent(&self, n: u32) {
        let mut last = lock(&self.shards[self.shards.len() - 1]);
        last.counts[Outcome::NotStarted.code() as usize - 1] += n;
    }

    /// Final outcomes so far; `submitted` as given.
    pub fn counts(&self, submitted: u32) -> Counts {
        let mut sums = [0u32; Outcome::ALL.len()];
        for shard in self.shards.iter() {
            let shard = lock(shard);
            for (sum, count) in sums.iter_mut().zip(shard.counts) {
                *sum += count;
            }
        }
        Counts::from_fn(submitted, |o| sums[o.code() as usize - 1])
    }

    /// The wrapping 64-bit sum of the results of the jobs completed so far (the run's
    /// `resultChecksum`: the same seed gives the same sum in Rust, wasm and Go).
    pub fn result_checksum(&self) -> u64 {
        self.shards
            .iter()
            .fold(0u64, |sum, shard| sum.wrapping_add(lock(shard).checksum))
    }

    /// Totals over the jobs that ran so far: (service, queue wait), ns.
    pub fn time_totals(&self) -> (u64, u64) {
        self.shards.iter().fold((0, 0), |(service, wait), shard| {
            let shard = lock(shard);
            (
                service + shard.service_total_ns,
                wait + shard.queue_wait_total_ns,
            )
        })
    }

    /// The events since the last call, oldest first: the jobs announced on the
    /// coordinator, each pool thread's running job (once), and the jobs that ended.
    pub fn take_fresh(&self) -> Fresh {
        let mut fresh = Fresh::default();
        let mut announced = self.announced.lock().unwrap_or_else(|p| p.into_inner());
        for (index, shard) in self.shards.iter().enumerate() {
            if let (Some(last), Some(running)) = (announced.get_mut(index), shard.current.read())
                && *last != running.id
            {
                *last = running.id;
                fresh.started.push(running);
            }
            let mut shard = lock(shard);
            fresh.started.extend(shard.fresh_started.drain(..));
            fresh.ended.extend(shard.fresh_ended.drain(..));
            fresh.skipped += std::mem::take(&mut shard.skipped);
        }
        fresh.started.sort_unstable_by_key(|s| (s.started, s.id));
        fresh.ended.sort_unstable_by_key(|f| (f.finished, f.id));
        fresh
    }

    /// Latency sums since the last call.
    pub fn take_interval(&self) -> Interval {
        let mut total = Interval::default();
        for shard in self.shards.iter() {
            total.merge(&std::mem::take(&mut lock(shard).interval));
        }
        total
    }

    /// The latencies of the jobs that ended since the last call (empty without
    /// windows).
    pub fn take_window(&self) -> Window {
        let mut all = Window::default();
        for shard in self.shards.iter() {
            if let Some(window) = &mut lock(shard).window {
                all.merge(window);
                window.clear();
            }
        }
        all
    }

    /// Every latency recorded, merged.
    pub fn latencies(&self) -> Latencies {
        let mut all = Latencies::default();
        for shard in self.shards.iter() {
            let shard = lock(shard);
            if let Some(latencies) = &shard.latencies {
                all.merge(latencies);
            }
        }
        all
    }

    /// The kept window: the [`RECENT`] latest jobs that ran (by end time) and the
    /// notable ones, each once, in id order.
    pub fn kept(&self) -> Vec<Finished> {
        let mut recent = Vec::new();
        let mut notable = Vec::new();
        for shard in self.shards.iter() {
            let shard = lock(shard);
            recent.extend(shard.recent.iter().copied());
            notable.extend(shard.notable.iter().copied());
        }
        recent.sort_unstable_by_key(|f| std::cmp::Reverse((f.finished, f.id)));
        recent.truncate(RECENT);
        recent.extend(notable);
        recent.sort_unstable_by_key(|f| f.id);
        recent.dedup_by_key(|f| f.id);
        recent
    }
}

/// A started job's record, from its parts (for [`Recorder::started`]).
pub fn started_record(
    id: u32,
    worker: Option<u32>,
    thread: Option<usize>,
    cost: u64,
    intended: u64,
    queued: u64,
    started: u64,
) -> Started {
    Started {
        id,
        worker: worker.unwrap_or(NONE),
        thread: thread.map_or(NONE, |t| t as u32),
        cost,
        intended,
        queued,
        started,
    }
}

/// Whether a time is set.
pub fn is_set(t: u64) -> bool {
    t != UNSET
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::job::Job;
    use crate::workload::plan::JobSpec;

    fn ended(id: u32, outcome: Outcome, started: u64, finished: u64) -> Finished {
        let mut job = Job::new(
            JobSpec {
                id,
                cost: 1,
                fails: false,
                weight: 1,
                offset: 0,
            },
            0,
        );
        job.queued = 0;
        job.ended(outcome, started, finished, 0, NONE, 7)
    }

    #[test]
    fn counts_are_exact_and_the_window_is_bounded() {
        let recorder = Recorder::new(1);
        let total = RECENT as u32 + 500;
        for id in 0..total {
            recorder.record(ended(id, Outcome::Completed, id as u64, id as u64 + 1));
        }
        recorder.record(ended(total, Outcome::Failed, 0, 5));
        recorder.record(ended(total + 1, Outcome::NotStarted, UNSET, 6));
        recorder.count_unsent(3);
        let counts = recorder.counts(total + 5);
        assert_eq!(
            (counts.completed, counts.failed, counts.not_started),
            (total, 1, 4)
        );
        assert!(counts.identity_holds());
        let kept = recorder.kept();
        assert_eq!(
            kept.len(),
            RECENT + 1,
            "the latest that ran, and the unstarted one"
        );
        assert!(kept.iter().any(|f| f.outcome == Outcome::NotStarted));
        assert!(
            kept.iter().any(|f| f.outcome == Outcome::Failed),
            "a failed job is kept even though it ended early"
        );
        assert!(
            kept.windows(2).all(|w| w[0].id < w[1].id),
            "in id order, once each"
        );
        let latencies = recorder.latencies();
        assert_eq!(latencies.service.count(), total as u64 + 1);
    }

    #[test]
    fn fresh_events_are_taken_once_and_bounded() {
        let recorder = Recorder::new(0);
        for id in 0..(FRESH as u32 + 10) {
            recorder.started(started_record(id, Some(0), None, 1, 0, 0, id as u64));
        }
        recorder.record(ended(3, Outcome::Completed, 3, 9));
        let fresh = recorder.take_fresh();
        assert_eq!(fresh.started.len(), FRESH);
        assert_eq!(fresh.started[0].id, 10, "the oldest are dropped first");
        assert_eq!(fresh.ended.len(), 1);
        assert_eq!(fresh.skipped, 10);
        assert_eq!(recorder.take_fresh(), Fresh::default());
        let interval = recorder.take_interval();
        assert_eq!((interval.ran, interval.mean_service_ms()), (1, 6e-6));
        assert_eq!(recorder.take_interval(), Interval::default());
    }
}
