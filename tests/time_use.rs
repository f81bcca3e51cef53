//! Where the time went, on simulated time (exact): goroutine time splits into running,
//! backend wait and waiting for a job; the producer's limiter and queue-full waits.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::run_sim;
use scalelab::engine::config::{Pacing, Pattern, RunConfig, WorkKind};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn sleeps(workers: u32, jobs: u32) -> RunConfig {
    RunConfig {
        pattern: Pattern::Pool,
        workers,
        jobs,
        queue: 100,
        workload: WorkKind::Sleep,
        cost: 1_000,
        ..RunConfig::default()
    }
}

#[test]
fn busy_workers_spend_their_time_running() {
    let r = run_sim(sleeps(2, 100));
    let t = r.time_use;
    assert!(close(t.running_ms, 100.0), "{t:?}");
    assert!(
        close(t.goroutine_ms, 2.0 * r.wall_ms),
        "{t:?} wall {}",
        r.wall_ms
    );
    assert!(close(
        t.goroutine_ms,
        t.running_ms + t.backend_wait_ms + t.waiting_ms
    ));
    assert!(t.waiting_ms < 1e-6, "never idle: {t:?}");
    assert_eq!((t.limiter_wait_ms, t.backend_wait_ms), (0.0, 0.0));
}

#[test]
fn a_paced_producer_waits_on_its_limiter_and_the_workers_on_it() {
    let r = run_sim(RunConfig {
        pattern: Pattern::RateLimit,
        pacing: Pacing::Bucket,
        rate: 100.0,
        burst: 1,
        ..sleeps(2, 10)
    });
    let t = r.time_use;
    // One token at once, then one every 10 ms: nine waits.
    assert!(close(t.limiter_wait_ms, 90.0), "{t:?}");
    assert!(close(t.running_ms, 10.0), "{t:?}");
    // Both workers live the whole run, but one: when the producer closes the queue
    // after the last job, the idle worker leaves while the other runs that job (1 ms).
    assert!(
        close(t.goroutine_ms, 2.0 * r.wall_ms - 1.0),
        "{t:?} wall {}",
        r.wall_ms
    );
    assert!(close(t.waiting_ms, t.goroutine_ms - 10.0), "{t:?}");
}

#[test]
fn jobs_queue_at_a_narrow_backend() {
    let r = run_sim(RunConfig {
        workload: WorkKind::Backend,
        backend_slots: 1,
        ..sleeps(4, 8)
    });
    let t = r.time_use;
    assert!(close(t.running_ms, 8.0), "{t:?}");
    // Four callers, one slot: the backend is the bottleneck, and the wait shows it.
    assert!(t.backend_wait_ms > 2.0 * t.running_ms, "{t:?}");
    assert!(close(
        t.goroutine_ms,
        t.running_ms + t.backend_wait_ms + t.waiting_ms
    ));
}

#[test]
fn a_producer_ahead_of_its_workers_waits_on_the_full_queue() {
    let r = run_sim(RunConfig {
        queue: 1,
        ..sleeps(1, 10)
    });
    let t = r.time_use;
    // The queue holds one job and the worker one more: the producer waits for most of
    // the 10 ms.
    assert!(
        t.queue_full_ms >= 7.0 && t.queue_full_ms <= r.wall_ms,
        "{t:?}"
    );
    assert!(close(t.running_ms, 10.0));
}

#[test]
fn fan_out_tasks_live_from_spawn_to_end() {
    let r = run_sim(RunConfig {
        pattern: Pattern::FanOut,
        ..sleeps(1, 20)
    });
    let t = r.time_use;
    assert!(close(t.running_ms, 20.0), "{t:?}");
    assert!(close(t.goroutine_ms, t.running_ms + t.waiting_ms), "{t:?}");
}
