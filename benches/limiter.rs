//! Per-decision cost of scalelab's token bucket next to the `governor` crate (GCRA), in
//! the same run, on the same fake clocks, doing the same checks:
//!
//! - `denied`: the bucket is empty and time stands still (the throttling hot path);
//! - `allowed`: time advances 1 µs per call at a rate that always has a token;
//! - `contended`: two threads share one limiter and one clock (per-decision wall time).
//!
//! scalelab is measured twice: `TokenBucket::allow_n_at` with explicit time, and the
//! clock-reading `RateLimiter::allow` (the like-for-like comparison with governor's
//! `check`, which reads its clock too). `./build.sh bench` turns the results into
//! benches/RESULTS.md.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use governor::clock::FakeRelativeClock;
use governor::{Quota, RateLimiter as Governor};
use scalelab::clock::ManualClock;
use scalelab::limiter::{RateLimiter, TokenBucket};
use scalelab::sim::SimTime;

const STEP: Duration = Duration::from_micros(1);

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// 10 tokens/s, burst 1: after the first call, everything is denied while time stands.
fn denied(c: &mut Criterion) {
    let mut group = c.benchmark_group("denied");
    let bucket = TokenBucket::new(10.0, 1).unwrap();
    let now = Duration::from_secs(1);
    bucket.allow_n_at(now, 1);
    group.bench_function("scalelab TokenBucket::allow_n_at", |b| {
        b.iter(|| black_box(bucket.allow_n_at(black_box(now), 1)))
    });

    let sim = SimTime::new();
    let limiter = RateLimiter::new(10.0, 1, sim.clock(), sim.clone()).unwrap();
    limiter.allow();
    group.bench_function("scalelab RateLimiter::allow", |b| {
        b.iter(|| black_box(limiter.allow()))
    });

    let clock = FakeRelativeClock::default();
    let governor = Governor::direct_with_clock(
        Quota::per_second(nonzero(10)).allow_burst(nonzero(1)),
        clock,
    );
    let _ = governor.check();
    group.bench_function("governor check", |b| {
        b.iter(|| black_box(governor.check().is_ok()))
    });
    group.finish();
}

/// 1e7 tokens/s with time moving 1 µs per call: every call is allowed.
fn allowed(c: &mut Criterion) {
    let mut group = c.benchmark_group("allowed");
    let bucket = TokenBucket::new(1e7, 10).unwrap();
    let mut now = Duration::ZERO;
    group.bench_function("scalelab TokenBucket::allow_n_at", |b| {
        b.iter(|| {
            now += STEP;
            black_box(bucket.allow_n_at(now, 1))
        })
    });

    let manual = ManualClock::new();
    let sim = SimTime::new();
    let limiter = RateLimiter::new(1e7, 10, manual.clone(), sim.clone()).unwrap();
    group.bench_function("scalelab RateLimiter::allow", |b| {
        b.iter(|| {
            manual.advance(STEP);
            black_box(limiter.allow())
        })
    });

    let clock = FakeRelativeClock::default();
    let governor = Governor::direct_with_clock(
        Quota::with_period(Duration::from_nanos(100))
            .unwrap()
            .allow_burst(nonzero(10)),
        clock.clone(),
    );
    group.bench_function("governor check", |b| {
        b.iter(|| {
            clock.advance(STEP);
            black_box(governor.check().is_ok())
        })
    });
    group.finish();
}

/// Runs `decide` `iters` times split over two threads; returns the wall time.
fn on_two_threads(iters: u64, decide: impl Fn() + Sync) -> Duration {
    let per_thread = iters.div_ceil(2);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..per_thread {
                    decide();
                }
            });
        }
    });
    start.elapsed()
}

/// Two threads on one limiter and one clock, time advancing 1 µs per call.
fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("contended (2 threads)");
    let manual = ManualClock::new();
    let sim = SimTime::new();
    let limiter = Arc::new(RateLimiter::new(1e6, 10, manual.clone(), sim.clone()).unwrap());
    group.bench_function("scalelab RateLimiter::allow", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, || {
                manual.advance(STEP);
                black_box(limiter.allow());
            })
        })
    });

    let clock = FakeRelativeClock::default();
    let governor = Governor::direct_with_clock(
        Quota::with_period(Duration::from_micros(1))
            .unwrap()
            .allow_burst(nonzero(10)),
        clock.clone(),
    );
    group.bench_function("governor check", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, || {
                clock.advance(STEP);
                black_box(governor.check().is_ok());
            })
        })
    });
    group.finish();
}

criterion_group!(benches, denied, allowed, contended);
criterion_main!(benches);
