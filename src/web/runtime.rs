//! The engine's runtime in the browser: `performance.now()`, browser timers, the
//! shared-memory rayon pool started by `initThreadPool`, and wasm linear memory.

use std::sync::Arc;
use std::time::Duration;

use super::time::{BrowserTimer, PerformanceClock};
use crate::clock::{Clock, SleepFuture, Timer};
use crate::engine::runtime::{CpuPool, RayonPool, Runtime};

/// Runs the coordinator on the calling worker's event loop and jobs on the pool.
pub struct WebRuntime {
    clock: Arc<PerformanceClock>,
    pool: Arc<RayonPool>,
}

impl Default for WebRuntime {
    fn default() -> Self {
        WebRuntime {
            clock: Arc::new(PerformanceClock),
            pool: Arc::new(RayonPool::global()),
        }
    }
}

impl Runtime for WebRuntime {
    fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    fn sleep(&self, delay: Duration) -> SleepFuture {
        BrowserTimer.sleep(delay)
    }

    fn pool(&self) -> Arc<dyn CpuPool> {
        self.pool.clone()
    }

    fn memory_bytes(&self) -> Option<u64> {
        Some(wasm_memory_bytes())
    }

    fn heap_bytes(&self) -> Option<u64> {
        super::heap::heap_bytes()
    }
}

/// Size of this module's linear memory (shared by all threads), in bytes.
pub fn wasm_memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65_536
}
