//! The engine's one platform seam: where CPU work runs, what time it is, how to wait.
//!
//! - [`CpuPool`] (`Send + Sync`, used from any thread): runs a job on the rayon pool.
//!   Workers re-spawn themselves through it, so it lives in the shared run state.
//! - [`Runtime`] (coordinator side): the clock, timers, the pool, and memory readings.
//!
//! Implementations: [`RayonPool`] (native threads or, on the web, the shared-memory
//! pool of Web Workers), [`SimRuntime`] (simulated time for tests: timers jump, CPU
//! work is waited for on the real clock), [`NativeRuntime`] (real time, for native
//! runs and benchmarks), and `web::WebRuntime` in the glue.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SleepFuture, Timer};
use crate::sim::SimTime;

/// A job for the pool.
pub type CpuJob = Box<dyn FnOnce() + Send + 'static>;

/// Where CPU jobs run.
pub trait CpuPool: Send + Sync + 'static {
    /// Queues `job` to run on a pool thread, behind jobs queued earlier (FIFO), so
    /// re-spawning workers take turns on the threads.
    fn spawn(&self, job: CpuJob);
    /// Threads in the pool.
    fn threads(&self) -> usize;
}

/// A rayon pool: the global one (on the web, the pool `initThreadPool` started) or a
/// dedicated one.
#[derive(Clone, Default)]
pub struct RayonPool {
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl RayonPool {
    /// The global rayon pool.
    pub fn global() -> RayonPool {
        RayonPool { pool: None }
    }

    /// A dedicated pool of `threads` threads (native only: the web has one pool).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_threads(threads: usize) -> RayonPool {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            // A panicking job is an engine crash: report it (the run ends with the
            // message) instead of aborting the process, rayon's default.
            .panic_handler(|payload| {
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a job panicked".to_owned());
                crate::engine::fault::report_crash(format!("engine crashed: {text}"));
            })
            .build()
            .expect("rayon pool");
        RayonPool {
            pool: Some(Arc::new(pool)),
        }
    }
}

impl CpuPool for RayonPool {
    fn spawn(&self, job: CpuJob) {
        match &self.pool {
            Some(pool) => pool.spawn_fifo(job),
            None => rayon::spawn_fifo(job),
        }
    }

    fn threads(&self) -> usize {
        match &self.pool {
            Some(pool) => pool.current_num_threads(),
            None => rayon::current_num_threads(),
        }
    }
}

/// What the coordinator needs from its platform.
pub trait Runtime {
    /// The clock every time of a run is read on (pool threads read it too).
    fn clock(&self) -> Arc<dyn Clock>;
    /// A timer on that clock.
    fn sleep(&self, delay: Duration) -> SleepFuture;
    /// The CPU pool.
    fn pool(&self) -> Arc<dyn CpuPool>;
    /// Bytes of memory the program holds now (wasm: linear memory size), if known.
    fn memory_bytes(&self) -> Option<u64>;
    /// Bytes of heap in use now (allocated and not yet freed), if known. Unlike linear
    /// memory, which only grows, this falls when memory is given back.
    fn heap_bytes(&self) -> Option<u64> {
        None
    }
}

/// Simulated time for deterministic tests: sleeps take no real time, CPU jobs run on a
/// real rayon pool and take no simulated time. Run the coordinator with
/// [`SimTime::run`](crate::sim::SimTime::run).
#[derive(Clone)]
pub struct SimRuntime {
    /// The simulated time.
    pub sim: Arc<SimTime>,
    pool: Arc<SimPool>,
}

impl SimRuntime {
    /// On `pool`, with simulated time from zero.
    pub fn new(pool: RayonPool) -> SimRuntime {
        SimRuntime::with_pool(Arc::new(pool))
    }

    /// On any [`CpuPool`] — e.g. a deterministic one that runs jobs in a scripted
    /// order, so a test of scheduling does not depend on the OS's.
    pub fn with_pool(pool: Arc<dyn CpuPool>) -> SimRuntime {
        let sim = SimTime::new();
        SimRuntime {
            pool: Arc::new(SimPool {
                sim: sim.clone(),
                inner: pool,
            }),
            sim,
        }
    }
}

/// A pool that tells the simulated time about work in flight, so the executor waits
/// for it instead of jumping ahead.
struct SimPool {
    sim: Arc<SimTime>,
    inner: Arc<dyn CpuPool>,
}

impl CpuPool for SimPool {
    fn spawn(&self, job: CpuJob) {
        let guard = self.sim.external_work();
        self.inner.spawn(Box::new(move || {
            job();
            // After the job's effects (its wakes, its re-spawn), never before.
            drop(guard);
        }));
    }

    fn threads(&self) -> usize {
        self.inner.threads()
    }
}

impl Runtime for SimRuntime {
    fn clock(&self) -> Arc<dyn Clock> {
        self.sim.clone()
    }

    fn sleep(&self, delay: Duration) -> SleepFuture {
        self.sim.sleep(delay)
    }

    fn pool(&self) -> Arc<dyn CpuPool> {
        self.pool.clone()
    }

    fn memory_bytes(&self) -> Option<u64> {
        None
    }
}

/// Real time on the operating system's clock, native timers, a rayon pool. Run the
/// coordinator with `futures::executor::block_on`.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone)]
pub struct NativeRuntime {
    clock: Arc<crate::clock::InstantClock>,
    pool: Arc<RayonPool>,
}

#[cfg(not(target_arch = "wasm32"))]
impl NativeRuntime {
    /// On `pool`, with a clock starting now.
    pub fn new(pool: RayonPool) -> NativeRuntime {
        NativeRuntime {
            clock: Arc::new(crate::clock::InstantClock::new()),
            pool: Arc::new(pool),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Runtime for NativeRuntime {
    fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    fn sleep(&self, delay: Duration) -> SleepFuture {
        Box::pin(futures_timer::Delay::new(delay))
    }

    fn pool(&self) -> Arc<dyn CpuPool> {
        self.pool.clone()
    }

    fn memory_bytes(&self) -> Option<u64> {
        None
    }
}
