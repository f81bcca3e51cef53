//! The elastic pool: how many workers a run has, and the protocol by which they come
//! and go while it runs — ants' `Tune`, pond's `Resize`, a Go pool whose size is a
//! value its workers re-read between jobs.
//!
//! A worker is a slot index `0..capacity`. The pool holds a *target*; a worker whose
//! index is at or above the target retires the next time it is between jobs (a
//! removed worker finishes the job it holds, like a goroutine that checks `ctx.Done()`
//! between jobs). A worker parked on an empty channel is retired by the channel
//! ([`super::chan::JobChannel::retire_parked`]). Growing starts a worker in every free
//! slot below the new target at once. "Stop now" also asks the removed workers' running
//! jobs to stop (they end cancelled). A target of 0 pauses the pool.
//!
//! # Invariants
//! 1. A slot has at most one worker: a slot is activated (by [`ElasticPool::resize`])
//!    only while inactive, and deactivated only by its own worker, both under
//!    `control`. `live` equals the number of active slots.
//! 2. A worker exits only under `control`, after re-reading the target there: a grow
//!    that raised the target before it finds the slot still active (and starts nobody);
//!    a grow after it finds the slot free (and starts a new worker). Either way the slot
//!    is served exactly when its index is below the target.
//! 3. `target` is stored under `control` and *before* the caller retires parked
//!    workers, so with the channel's invariant 5 a shrink reaches every worker, parked
//!    or about to park.
//! 4. A slot's `stop` flag is set only for slots at or above the target (stop now), and
//!    cleared as soon as the target covers the slot again (by the resize that raises it,
//!    whether or not its worker has left), when its worker stays, and when it leaves.
//! 5. A finished pool stays finished: [`ElasticPool::resize_unless_over`] activates no
//!    slot once no worker is left and the caller's run has no work left (its `over`,
//!    asked under `control`, where `live` changes). So whoever saw `live() == 0` with the
//!    run's work over — the coordinator deciding the run is done — never sees a worker
//!    again, even when a resize (an autoscaler's tick, the page) comes in the same
//!    moment. Without it, a shrink in the tick in which the last worker left re-activated
//!    every slot below the new target, and the run waited for workers nobody started.

use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};

use futures::task::AtomicWaker;

use crate::sync::{AtomicBool, AtomicU32, Mutex};

/// Most workers a pool can have.
pub const MAX_WORKERS: u32 = 256;

/// How a shrink treats the jobs the removed workers hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shrink {
    /// A removed worker finishes its job, then exits.
    Graceful,
    /// A removed worker's job is asked to stop at once (it ends cancelled).
    StopNow,
}

/// What a resize did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resized {
    /// The target before.
    pub from: u32,
    /// The target now.
    pub to: u32,
    /// Slots activated: the caller starts a worker in each.
    pub start: Vec<u32>,
}

/// What a worker between jobs is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It left; `last` if no worker is left.
    Exited {
        /// No worker is left.
        last: bool,
    },
    /// Its slot is below the target again: it carries on.
    Stay,
}

struct Slot {
    stop: AtomicBool,
    stop_waker: AtomicWaker,
}

/// See the module documentation.
pub struct ElasticPool {
    target: AtomicU32,
    live: AtomicU32,
    /// Which slots have a worker (invariant 1).
    control: Mutex<Vec<bool>>,
    slots: Box<[Slot]>,
}

impl ElasticPool {
    /// A pool of up to `capacity` workers, with none yet (call [`resize`](Self::resize)).
    pub fn new(capacity: u32) -> ElasticPool {
        ElasticPool {
            target: AtomicU32::new(0),
            live: AtomicU32::new(0),
            control: Mutex::new(vec![false; capacity as usize]),
            slots: (0..capacity)
                .map(|_| Slot {
                    stop: AtomicBool::new(false),
                    stop_waker: AtomicWaker::new(),
                })
                .collect(),
        }
    }

    /// Most workers it can have.
    pub fn capacity(&self) -> u32 {
        self.slots.len() as u32
    }

    /// The target worker count.
    pub fn target(&self) -> u32 {
        self.target.load(Acquire)
    }

    /// Workers alive now.
    pub fn live(&self) -> u32 {
        self.live.load(Acquire)
    }

    fn lock(&self) -> crate::sync::MutexGuard<'_, Vec<bool>> {
        self.control.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the target to `to` (at most the capacity). Activates every free slot below
    /// it — the caller must start a worker in each slot of `start` — and, shrinking with
    /// [`Shrink::StopNow`], asks the removed workers' jobs to stop. The caller then
    /// retires the parked workers at or above the target (invariant 3).
    pub fn resize(&self, to: u32, shrink: Shrink) -> Resized {
        self.resize_unless_over(to, shrink, || false)
            .expect("a run that is never over is never refused")
    }

    /// [`resize`](Self::resize), unless the pool has finished: no worker is left and
    /// `over()` (asked under the lock, only then) says the run has no work left. Then it
    /// changes nothing and returns `None` (invariant 5).
    pub fn resize_unless_over(
        &self,
        to: u32,
        shrink: Shrink,
        over: impl FnOnce() -> bool,
    ) -> Option<Resized> {
        let to = to.min(self.capacity());
        let mut active = self.lock();
        if self.live.load(Acquire) == 0 && over() {
            return None;
        }
        let from = self.target.load(Acquire);
        self.target.store(to, Release);
        let mut start = Vec::new();
        for index in 0..to {
            // The target covers this slot (again): a stop asked of its worker by an
            // earlier shrink is withdrawn (invariant 4) — the worker stays, and may not
            // pass between jobs (where `try_retire` would clear it) before its next job.
            self.slots[index as usize].stop.store(false, Release);
            let slot = &mut active[index as usize];
            if !*slot {
                *slot = true;
                self.live.fetch_add(1, AcqRel);
                start.push(index);
            }
        }
        if shrink == Shrink::StopNow {
            for index in to..self.capacity() {
                if active[index as usize] {
                    let slot = &self.slots[index as usize];
                    slot.stop.store(true, Release);
                    slot.stop_waker.wake();
                }
            }
        }
        Some(Resized { from, to, start })
    }

    /// Whether worker `index` should retire (its slot is at or above the target). One
    /// atomic load: workers call it between jobs, and the channel calls it under its
    /// lock before parking one.
    pub fn should_retire(&self, index: u32) -> bool {
        index >= self.target.load(Acquire)
    }

    /// Worker `index`, between jobs, retires if its slot is still at or above the target
    /// (invariant 2); otherwise it stays (and any stop request is dropped).
    pub fn try_retire(&self, index: u32) -> Exit {
        let mut active = self.lock();
        if index < self.target.load(Acquire) {
            self.slots[index as usize].stop.store(false, Release);
            return Exit::Stay;
        }
        self.deactivate(&mut active, index)
    }

    /// Worker `index` leaves whatever the target (the channel closed, the run was
    /// cancelled).
    pub fn leave(&self, index: u32) -> Exit {
        let mut active = self.lock();
        self.deactivate(&mut active, index)
    }

    fn deactivate(&self, active: &mut [bool], index: u32) -> Exit {
        debug_assert!(active[index as usize], "worker {index} left twice");
        active[index as usize] = false;
        self.slots[index as usize].stop.store(false, Release);
        Exit::Exited {
            last: self.live.fetch_sub(1, AcqRel) == 1,
        }
    }

    /// Whether worker `index`'s job was asked to stop ("stop now").
    pub fn stop_requested(&self, index: u32) -> bool {
        self.slots
            .get(index as usize)
            .is_some_and(|s| s.stop.load(Acquire))
    }

    /// Resolves once worker `index`'s job is asked to stop (for jobs that wait on
    /// timers).
    pub fn stop_request(&self, index: u32) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let slot = &self.slots[index as usize];
            slot.stop_waker.register(cx.waker());
            if slot.stop.load(Acquire) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
    }

    /// Active slots (for tests and invariant checks).
    pub fn active_slots(&self) -> Vec<u32> {
        let active = self.lock();
        (0..active.len() as u32)
            .filter(|&i| active[i as usize])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grow_shrink_and_grow_back_keep_one_worker_per_slot() {
        let pool = ElasticPool::new(8);
        let r = pool.resize(3, Shrink::Graceful);
        assert_eq!((r.from, r.to, r.start), (0, 3, vec![0, 1, 2]));
        assert_eq!(pool.live(), 3);
        // Shrink to 1: workers 1 and 2 retire between jobs; 0 stays.
        pool.resize(1, Shrink::Graceful);
        assert!(!pool.should_retire(0) && pool.should_retire(1));
        assert_eq!(pool.try_retire(0), Exit::Stay);
        assert_eq!(pool.try_retire(1), Exit::Exited { last: false });
        // Grow back to 4 before worker 2 noticed: slot 2 is still its own.
        let r = pool.resize(4, Shrink::Graceful);
        assert_eq!(r.start, vec![1, 3], "slot 2 still has its worker");
        assert_eq!(pool.try_retire(2), Exit::Stay);
        assert_eq!(pool.live(), 4);
        assert_eq!(pool.active_slots(), vec![0, 1, 2, 3]);
        // Pause.
        pool.resize(0, Shrink::Graceful);
        for index in 0..3 {
            assert_eq!(pool.try_retire(index), Exit::Exited { last: false });
        }
        assert_eq!(pool.try_retire(3), Exit::Exited { last: true });
        assert_eq!(pool.live(), 0);
    }

    #[test]
    fn stop_now_flags_only_removed_workers_and_is_cleared_when_they_stay() {
        let pool = ElasticPool::new(4);
        pool.resize(4, Shrink::Graceful);
        pool.resize(2, Shrink::StopNow);
        assert_eq!(
            (0..4).map(|i| pool.stop_requested(i)).collect::<Vec<_>>(),
            vec![false, false, true, true]
        );
        pool.resize(3, Shrink::Graceful);
        assert!(
            !pool.stop_requested(2),
            "a grow withdraws the stop at once: the worker stays, even before it is between jobs"
        );
        assert!(pool.stop_requested(3), "still removed");
        assert_eq!(pool.try_retire(2), Exit::Stay);
        assert!(
            !pool.stop_requested(2),
            "a worker that stays is not stopped"
        );
        assert_eq!(pool.try_retire(3), Exit::Exited { last: false });
        assert!(!pool.stop_requested(3), "a free slot carries no stop");
        assert_eq!(pool.resize(4, Shrink::Graceful).start, vec![3]);
        assert!(!pool.stop_requested(3));
    }

    #[test]
    fn a_finished_pool_stays_finished() {
        let pool = ElasticPool::new(4);
        pool.resize(2, Shrink::Graceful);
        assert!(
            pool.resize_unless_over(3, Shrink::Graceful, || true)
                .is_some(),
            "workers are left: the run is not finished, whatever `over` says"
        );
        for index in 0..3 {
            pool.leave(index);
        }
        assert_eq!(
            pool.resize_unless_over(4, Shrink::Graceful, || false)
                .map(|r| r.start),
            Some(vec![0, 1, 2, 3]),
            "no worker left but work left (a paused pool): a grow starts workers"
        );
        for index in 0..4 {
            pool.leave(index);
        }
        assert_eq!(pool.resize_unless_over(1, Shrink::Graceful, || true), None);
        assert_eq!((pool.live(), pool.target()), (0, 4), "nothing changed");
    }

    #[test]
    fn the_target_is_capped_at_the_capacity() {
        let pool = ElasticPool::new(2);
        assert_eq!(pool.resize(10, Shrink::Graceful).to, 2);
        assert_eq!(pool.live(), 2);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::engine::chan::{JobChannel, Received};
    use loom::thread;
    use std::sync::Arc;

    /// Invariant 3 with the channel's invariant 5: a worker about to park on an empty
    /// channel while the pool shrinks below it is retired — it never stays parked.
    #[test]
    fn loom_a_shrink_reaches_a_worker_that_is_parking() {
        loom::model(|| {
            let pool = Arc::new(ElasticPool::new(2));
            pool.resize(2, Shrink::Graceful);
            let channel: Arc<JobChannel<u32>> = Arc::new(JobChannel::new(1, |_| {}));
            let retired = Arc::new(crate::sync::AtomicU32::new(0));
            let worker = {
                let (pool, channel, retired) = (pool.clone(), channel.clone(), retired.clone());
                thread::spawn(move || {
                    let later = retired.clone();
                    let got = channel.recv_or_park_as(
                        1,
                        || pool.should_retire(1),
                        move || {
                            Box::new(move |r| {
                                assert_eq!(r, Received::Retire);
                                later.fetch_add(1, AcqRel);
                            })
                        },
                    );
                    match got {
                        Some(Received::Retire) => {
                            retired.fetch_add(1, AcqRel);
                        }
                        None => {} // parked: the shrink must find it
                        Some(other) => panic!("unexpected {other:?}"),
                    }
                })
            };
            pool.resize(1, Shrink::Graceful);
            for parked in channel.retire_parked(|w| pool.should_retire(w)) {
                parked(Received::Retire);
            }
            worker.join().unwrap();
            assert_eq!(retired.load(Acquire), 1, "retired exactly once");
            assert_eq!(channel.waiting_receivers(), 0, "nobody left parked");
            assert_eq!(pool.try_retire(1), Exit::Exited { last: false });
            assert_eq!(pool.live(), 1);
        });
    }

    /// Invariants 1 and 2: a worker deciding to retire while the pool shrinks and grows
    /// again. Whatever the interleaving, its slot ends with exactly one worker (the old
    /// one staying, or a new one started), and `live` matches the active slots.
    #[test]
    fn loom_a_retiring_worker_and_a_grow_leave_exactly_one_worker() {
        loom::model(|| {
            let pool = Arc::new(ElasticPool::new(2));
            pool.resize(2, Shrink::Graceful);
            pool.resize(1, Shrink::Graceful);
            let worker = {
                let pool = pool.clone();
                thread::spawn(move || pool.try_retire(1))
            };
            let grown = pool.resize(2, Shrink::Graceful);
            let exit = worker.join().unwrap();
            let started_new = grown.start.contains(&1);
            match exit {
                Exit::Stay => assert!(!started_new, "the old worker stays: no second one"),
                Exit::Exited { .. } => assert!(started_new, "it left: a new one starts"),
            }
            assert_eq!(pool.active_slots(), vec![0, 1]);
            assert_eq!(pool.live(), 2);
        });
    }

    /// Invariant 5: the last worker leaving a run whose work is over, while a resize
    /// comes in. Either the resize came first (it starts a worker, and the leaving one
    /// was not the last) or it finds the pool finished and changes nothing — never a
    /// worker started after the pool was seen empty.
    #[test]
    fn loom_a_resize_never_revives_a_finished_pool() {
        loom::model(|| {
            let pool = Arc::new(ElasticPool::new(2));
            pool.resize(1, Shrink::Graceful);
            let worker = {
                let pool = pool.clone();
                thread::spawn(move || pool.leave(0))
            };
            let resized = pool.resize_unless_over(2, Shrink::Graceful, || true);
            let Exit::Exited { last } = worker.join().unwrap() else {
                panic!("leave always exits");
            };
            match resized {
                Some(r) => {
                    assert!(!last, "the resize came first: the leaver was not the last");
                    assert_eq!(r.start, vec![1], "slot 0 was still its own");
                    assert_eq!(pool.active_slots(), vec![1]);
                }
                None => {
                    assert!(last, "refused only once nobody was left");
                    assert_eq!(pool.active_slots(), Vec::<u32>::new());
                    assert_eq!(pool.target(), 1, "nothing changed");
                }
            }
            assert_eq!(pool.live(), pool.active_slots().len() as u32);
        });
    }
}
