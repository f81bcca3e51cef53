//! The job a pool thread is running now, published without a lock: the thread writes
//! it when the job starts and clears it when it ends; the coordinator reads it at each
//! progress batch (a job still running shows on the timeline as a growing bar). Only
//! what the timeline needs of a running job is kept — its id, worker, thread and start;
//! the rest of its record comes when it ends.
//!
//! A sequence lock with one writer (the pool thread that owns the slot) and one reader
//! (the coordinator). The reader never blocks the writer; it retries if it caught a
//! write half-way.
//!
//! # Invariants and orderings
//! 1. `seq` is odd exactly while the writer is between its two stores to it; the writer
//!    stores the fields (`Relaxed`) after a `Release` fence that follows the odd store,
//!    and publishes the even store with `Release`.
//! 2. The reader loads `seq` (`Acquire`), then the fields (`Relaxed`), then issues an
//!    `Acquire` fence and loads `seq` again: if it read any field written after the
//!    first load, the fence pair makes the second load see the writer's odd store (or a
//!    later one), so the two differ and the read is retried. A read whose two loads
//!    agree on an even value saw one whole job (or the idle slot).

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::Started;
use crate::engine::job::{NONE, UNSET};
use crate::sync::{AtomicU64, fence};

/// See the module documentation.
pub struct Current {
    seq: AtomicU64,
    /// Job id (high 32 bits; `NONE` while the thread runs no job) and worker (low 32).
    id_worker: AtomicU64,
    thread: AtomicU64,
    started: AtomicU64,
}

const IDLE: u64 = (NONE as u64) << 32;

impl Default for Current {
    fn default() -> Self {
        Current {
            seq: AtomicU64::new(0),
            id_worker: AtomicU64::new(IDLE),
            thread: AtomicU64::new(0),
            started: AtomicU64::new(0),
        }
    }
}

impl Current {
    /// Runs `write` as one publication (invariant 1). Only the owning thread writes.
    fn publish(&self, write: impl FnOnce()) {
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq.wrapping_add(1), Relaxed);
        fence(Release);
        write();
        self.seq.store(seq.wrapping_add(2), Release);
    }

    /// The thread started `job`.
    pub fn set(&self, job: &Started) {
        self.publish(|| {
            self.thread.store(job.thread as u64, Relaxed);
            self.started.store(job.started, Relaxed);
            self.id_worker
                .store(((job.id as u64) << 32) | job.worker as u64, Relaxed);
        });
    }

    /// The thread's job ended.
    pub fn clear(&self) {
        self.publish(|| self.id_worker.store(IDLE, Relaxed));
    }

    /// The job running now, if any (its cost and queue times unknown: `UNSET`); `None`
    /// also if every attempt caught a write half-way (the next batch will show it).
    pub fn read(&self) -> Option<Started> {
        self.read_within(8)
    }

    fn read_within(&self, attempts: u32) -> Option<Started> {
        for _ in 0..attempts {
            let before = self.seq.load(Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let id_worker = self.id_worker.load(Relaxed);
            let thread = self.thread.load(Relaxed);
            let started = self.started.load(Relaxed);
            fence(Acquire);
            if self.seq.load(Relaxed) == before {
                let id = (id_worker >> 32) as u32;
                return (id != NONE).then_some(Started {
                    id,
                    worker: id_worker as u32,
                    thread: thread as u32,
                    cost: 0,
                    intended: UNSET,
                    queued: UNSET,
                    started,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u32) -> Started {
        Started {
            id,
            worker: id + 1,
            thread: 3,
            cost: 0,
            intended: UNSET,
            queued: UNSET,
            started: id as u64 * 100,
        }
    }

    #[test]
    fn set_read_clear() {
        let current = Current::default();
        assert_eq!(current.read(), None);
        current.set(&job(3));
        assert_eq!(current.read(), Some(job(3)));
        current.clear();
        assert_eq!(current.read(), None);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;
    use std::sync::Arc;

    /// Invariant 2: a read during writes sees the idle slot or one whole job, never a
    /// mix of two.
    #[test]
    fn loom_a_read_sees_one_whole_job_or_none() {
        loom::model(|| {
            let current = Arc::new(Current::default());
            current.set(&tests_job(1));
            let writer = {
                let current = current.clone();
                thread::spawn(move || current.set(&tests_job(2)))
            };
            if let Some(seen) = current.read_within(2) {
                assert!(seen == tests_job(1) || seen == tests_job(2), "{seen:?}");
            }
            writer.join().unwrap();
            assert_eq!(current.read(), Some(tests_job(2)));
        });
    }

    fn tests_job(id: u32) -> Started {
        Started {
            id,
            worker: id + 1,
            thread: 3,
            cost: 0,
            intended: UNSET,
            queued: UNSET,
            started: id as u64 * 100,
        }
    }
}
