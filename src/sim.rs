//! Simulated time for deterministic tests: a [`ManualClock`], timers on it, and an
//! executor ([`SimTime::run`]) that jumps the clock straight to the next timer whenever
//! everything is waiting on timers. Tests of rate limits, deadlines and I/O-like jobs
//! therefore run in microseconds of real time and never sleep.
//!
//! Work running on other threads (CPU jobs on the rayon pool) takes no simulated time:
//! while any is in flight ([`SimTime::external_work`]), the executor waits for it on
//! the real clock instead of advancing the simulated one. If nothing is ready, no timer
//! is pending and no outside work is in flight, the future can never finish: `run`
//! reports [`Stalled`] instead of hanging (a deadlock, such as a channel that is never
//! closed, is detected rather than waited on forever).
//!
//! # Concurrency
//! `timers` is one `Mutex`; timer wakers are always called after it is released. The
//! executor's wake flag is an `AtomicBool` set (`SeqCst`) before the thread is unparked,
//! and swapped back (`SeqCst`) before the executor decides to park, so a wake that
//! arrives between the check and the park makes `park` return at once (unpark tokens
//! are sticky).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use crate::clock::{Clock, ManualClock, SleepFuture, Timer};

/// The future given to [`SimTime::run`] cannot make progress: nothing is ready, no timer
/// is pending and no outside work is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stalled {
    /// Simulated time when it stalled.
    pub at: Duration,
}

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stalled at {:?}: every task is waiting and nothing can wake one",
            self.at
        )
    }
}

impl std::error::Error for Stalled {}

/// Simulated time: share it as `Arc<SimTime>`, which is both a [`Clock`] and a [`Timer`].
#[derive(Debug, Default)]
pub struct SimTime {
    clock: Arc<ManualClock>,
    /// Pending timers by (deadline, sequence number).
    timers: Mutex<BTreeMap<(Duration, u64), Waker>>,
    next_timer: AtomicU64,
    /// Outside work in flight (see [`SimTime::external_work`]).
    in_flight: AtomicUsize,
    /// The executor thread of the current `run`, to unpark when outside work ends.
    runner: Mutex<Option<Arc<RunWaker>>>,
}

impl SimTime {
    /// Simulated time starting at zero.
    pub fn new() -> Arc<SimTime> {
        Arc::new(SimTime::default())
    }

    /// The underlying clock (for code that takes an `Arc<dyn Clock>`).
    pub fn clock(&self) -> Arc<ManualClock> {
        self.clock.clone()
    }

    /// Moves the clock forward by hand and fires the timers that came due.
    pub fn advance(&self, delta: Duration) {
        self.clock.advance(delta);
        self.fire_due();
    }

    fn lock_timers(&self) -> MutexGuard<'_, BTreeMap<(Duration, u64), Waker>> {
        self.timers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes every timer whose deadline has come (wakers run after the lock is released).
    fn fire_due(&self) {
        let now = self.clock.now();
        let due: Vec<Waker> = {
            let mut timers = self.lock_timers();
            let later = timers.split_off(&(now.saturating_add(Duration::from_nanos(1)), 0));
            std::mem::replace(&mut *timers, later)
                .into_values()
                .collect()
        };
        due.into_iter().for_each(Waker::wake);
    }

    /// Marks one piece of outside work (e.g. a CPU job on another thread) as in flight
    /// until the returned guard is dropped. Meanwhile [`run`](Self::run) waits for it
    /// instead of advancing time or reporting a stall.
    pub fn external_work(self: &Arc<Self>) -> ExternalWork {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        ExternalWork { sim: self.clone() }
    }

    /// Runs `future` to completion on this thread, jumping simulated time to the next
    /// timer whenever nothing else can make progress.
    pub fn run<F: Future>(self: &Arc<Self>, future: F) -> Result<F::Output, Stalled> {
        let run_waker = Arc::new(RunWaker {
            woken: AtomicBool::new(true),
            thread: std::thread::current(),
        });
        *self.runner.lock().unwrap_or_else(|p| p.into_inner()) = Some(run_waker.clone());
        let waker = Waker::from(run_waker.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let result = loop {
            if run_waker.woken.swap(false, Ordering::SeqCst) {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    break Ok(output);
                }
                continue;
            }
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                // Outside work ends by waking us (or unparking us via its guard).
                std::thread::park();
                continue;
            }
            let next = self.lock_timers().keys().next().map(|(at, _)| *at);
            match next {
                Some(at) => {
                    if at > self.clock.now() {
                        self.clock.set(at);
                    }
                    self.fire_due();
                }
                None => {
                    break Err(Stalled {
                        at: self.clock.now(),
                    });
                }
            }
        };
        *self.runner.lock().unwrap_or_else(|p| p.into_inner()) = None;
        result
    }
}

impl Clock for SimTime {
    fn now(&self) -> Duration {
        self.clock.now()
    }

    fn now_nanos(&self) -> u64 {
        self.clock.now_nanos()
    }
}

impl Timer for Arc<SimTime> {
    fn sleep(&self, delay: Duration) -> SleepFuture {
        let at = self.clock.now().saturating_add(delay);
        Box::pin(SimSleep {
            sim: self.clone(),
            at,
            key: None,
        })
    }
}

/// Guard returned by [`SimTime::external_work`].
#[derive(Debug)]
pub struct ExternalWork {
    sim: Arc<SimTime>,
}

impl Drop for ExternalWork {
    fn drop(&mut self) {
        self.sim.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Some(runner) = self
            .sim
            .runner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            runner.thread.unpark();
        }
    }
}

#[derive(Debug)]
struct RunWaker {
    woken: AtomicBool,
    thread: Thread,
}

impl Wake for RunWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

struct SimSleep {
    sim: Arc<SimTime>,
    at: Duration,
    key: Option<(Duration, u64)>,
}

impl Future for SimSleep {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.sim.clock.now() >= self.at {
            if let Some(key) = self.key.take() {
                self.sim.lock_timers().remove(&key);
            }
            return Poll::Ready(());
        }
        let key = match self.key {
            Some(key) => key,
            None => {
                let key = (self.at, self.sim.next_timer.fetch_add(1, Ordering::Relaxed));
                self.key = Some(key);
                key
            }
        };
        self.sim.lock_timers().insert(key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for SimSleep {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.sim.lock_timers().remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_take_simulated_time_only() {
        let sim = SimTime::new();
        let timer = sim.clone();
        let out = sim
            .run(async move {
                timer.sleep(Duration::from_secs(3600)).await;
                timer.sleep(Duration::from_millis(5)).await;
                timer.now()
            })
            .unwrap();
        assert_eq!(out, Duration::from_secs(3600) + Duration::from_millis(5));
    }

    #[test]
    fn concurrent_sleeps_overlap() {
        let sim = SimTime::new();
        let timer = sim.clone();
        let order = sim
            .run(async move {
                let a = async {
                    timer.sleep(Duration::from_millis(30)).await;
                    "a"
                };
                let b = async {
                    timer.sleep(Duration::from_millis(10)).await;
                    "b"
                };
                let (a, b) = futures::join!(a, b);
                (a, b, timer.now())
            })
            .unwrap();
        assert_eq!(order, ("a", "b", Duration::from_millis(30)));
    }

    #[test]
    fn a_future_that_can_never_finish_is_reported() {
        let sim = SimTime::new();
        let (_tx, rx) = futures::channel::oneshot::channel::<()>();
        let stalled = sim.run(rx).unwrap_err();
        assert_eq!(stalled.at, Duration::ZERO);
    }

    #[test]
    fn outside_work_is_waited_for_on_the_real_clock() {
        let sim = SimTime::new();
        let work = sim.external_work();
        let (tx, rx) = futures::channel::oneshot::channel();
        let worker = std::thread::spawn(move || {
            std::thread::yield_now();
            tx.send(42).unwrap();
            drop(work);
        });
        assert_eq!(sim.run(rx).unwrap(), Ok(42));
        worker.join().unwrap();
        assert_eq!(sim.now(), Duration::ZERO, "no simulated time passed");
    }
}
