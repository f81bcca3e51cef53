//! Browser tests (wasm32, headless Chromium via `wasm-pack test`), run in a dedicated
//! worker with the shared-memory thread pool started — the same setting as the engine.

#![cfg(target_arch = "wasm32")]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use scalelab::offload::spawn_on_pool;
use scalelab::selftest::parallel_prime_count;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Threads in the test pool. Two is this machine's core count and the smallest pool
/// that can show parallelism.
const THREADS: usize = 2;

/// Starts the rayon pool once per wasm instance (tests run one after another).
async fn ensure_pool() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if !STARTED.swap(true, Ordering::SeqCst) {
        JsFuture::from(wasm_bindgen_rayon::init_thread_pool(THREADS))
            .await
            .expect("initThreadPool");
    }
}

#[wasm_bindgen_test]
async fn pool_has_the_requested_threads() {
    ensure_pool().await;
    let threads = spawn_on_pool(rayon::current_num_threads).await.unwrap();
    assert_eq!(threads, THREADS);
}

/// Two jobs that can only finish together: each announces itself and then waits for
/// the other. On one thread they would never meet (the test would fail, not pass by
/// luck), so finishing proves two pool threads ran at the same time.
#[wasm_bindgen_test]
async fn jobs_run_on_two_distinct_threads_at_once() {
    ensure_pool().await;
    let threads = spawn_on_pool(|| {
        let arrived = AtomicUsize::new(0);
        let meet = || {
            arrived.fetch_add(1, Ordering::SeqCst);
            // Bounded so that a broken pool fails the test instead of hanging it.
            for _ in 0..2_000_000_000u64 {
                if arrived.load(Ordering::SeqCst) >= 2 {
                    return rayon::current_thread_index();
                }
                std::hint::spin_loop();
            }
            None
        };
        let (a, b) = rayon::join(meet, meet);
        [a, b]
    })
    .await
    .unwrap();
    let distinct: HashSet<usize> = threads
        .iter()
        .map(|t| t.expect("both jobs met on pool threads"))
        .collect();
    assert_eq!(distinct.len(), 2, "jobs ran on {threads:?}");
}

#[wasm_bindgen_test]
async fn parallel_kernel_gives_the_known_answer() {
    ensure_pool().await;
    let result = spawn_on_pool(|| parallel_prime_count(10_000_000, 64))
        .await
        .unwrap();
    assert_eq!(result.primes, 664_579);
    assert_eq!(result.chunks_per_thread.iter().sum::<u64>(), 64);
    assert_eq!(result.chunks_per_thread.len(), THREADS);
}

mod primitives {
    //! Cancellation and rate limiting across the JavaScript edge and the pool.

    use super::ensure_pool;
    use scalelab::cancel::{CancelError, CancelToken};
    use scalelab::limiter::WaitError;
    use scalelab::offload::spawn_on_pool;
    use scalelab::web::cancel::{signal_from_token, token_from_signal};
    use scalelab::web::limiter::browser_rate_limiter;
    use std::time::Duration;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::*;
    use web_sys::AbortController;

    /// Iterations a polling loop may run before the test calls it a failure to stop:
    /// minutes of work, so only a cancellation ends it in time.
    const NEVER: u64 = 1 << 40;

    #[wasm_bindgen_test]
    async fn abort_signal_stops_a_pending_wait_and_gives_tokens_back() {
        // 1 token/s, burst 1: after taking the token, the next wait would last ~1 s.
        let limiter = browser_rate_limiter(1.0, 1).unwrap();
        assert!(limiter.allow());
        let controller = AbortController::new().unwrap();
        let (token, _link) = token_from_signal(&CancelToken::new(), &controller.signal());
        let mut wait = Box::pin(limiter.wait_n(1, &token));
        // The wait has reserved its token and is sleeping on it: abort it now.
        let first = futures::poll!(wait.as_mut());
        assert!(
            first.is_pending(),
            "a wait for a token ~1 s away is pending"
        );
        controller.abort_with_reason(&JsValue::from_str("user pressed stop"));
        let result = wait.await;
        match result {
            Err(WaitError::Cancelled { err, cause }) => {
                assert_eq!(err, CancelError::Canceled);
                assert_eq!(cause.to_string(), "user pressed stop");
            }
            other => panic!("expected a cancelled wait, got {other:?}"),
        }
        // The reservation went back: no debt left (it would be about -1 otherwise).
        assert!(
            limiter.tokens() > -0.5,
            "tokens after cancel: {}",
            limiter.tokens()
        );
    }

    #[wasm_bindgen_test]
    async fn abort_signal_stops_a_cpu_loop_on_a_pool_thread() {
        ensure_pool().await;
        let controller = AbortController::new().unwrap();
        let (token, _link) = token_from_signal(&CancelToken::new(), &controller.signal());
        let job_token = token.clone();
        let spinning = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let job_spinning = spinning.clone();
        let job = spawn_on_pool(move || {
            job_spinning.store(true, std::sync::atomic::Ordering::Release);
            let mut spins = 0u64;
            while !job_token.is_cancelled() {
                spins += 1;
                if spins == NEVER {
                    return None;
                }
                std::hint::spin_loop();
            }
            Some(rayon::current_thread_index())
        });
        // Abort once the loop runs on its pool thread (yielding to the event loop
        // until then), so the cancellation reaches a job that is already spinning.
        let abort = async {
            while !spinning.load(std::sync::atomic::Ordering::Acquire) {
                gloo_timers::future::sleep(Duration::ZERO).await;
            }
            controller.abort();
        };
        let (stopped, ()) = futures::join!(job, abort);
        let thread = stopped.unwrap().expect("the loop saw the cancellation");
        assert!(thread.is_some(), "the loop ran on a pool thread");
        assert_eq!(token.err(), Some(CancelError::Canceled));
    }

    #[wasm_bindgen_test]
    async fn already_aborted_signal_gives_a_cancelled_token() {
        let controller = AbortController::new().unwrap();
        controller.abort_with_reason(&JsValue::from_str("before start"));
        let (token, _link) = token_from_signal(&CancelToken::new(), &controller.signal());
        assert!(token.is_cancelled());
        assert_eq!(token.cause().unwrap().to_string(), "before start");
    }

    #[wasm_bindgen_test]
    async fn timeout_signal_reads_as_deadline_exceeded() {
        let signal = web_sys::AbortSignal::timeout_with_u32(5);
        let (token, _link) = token_from_signal(&CancelToken::new(), &signal);
        token.cancelled().await;
        assert_eq!(token.err(), Some(CancelError::DeadlineExceeded));
    }

    #[wasm_bindgen_test]
    async fn token_cancelled_on_a_pool_thread_aborts_its_signal() {
        ensure_pool().await;
        let token = CancelToken::new();
        let signal = signal_from_token(&token);
        assert!(!signal.aborted());
        let remote = token.clone();
        spawn_on_pool(move || remote.cancel_with("stopped on a pool thread"))
            .await
            .unwrap();
        // The abort is delivered on this thread's event loop.
        token.cancelled().await;
        gloo_timers::future::sleep(Duration::ZERO).await;
        assert!(signal.aborted());
        assert_eq!(
            signal.reason().as_string().as_deref(),
            Some("stopped on a pool thread")
        );
    }
}

mod engine_runs {
    //! The engine on the real shared-memory pool in the browser.

    use super::{THREADS, ensure_pool};
    use scalelab::cancel::CancelToken;
    use scalelab::engine::config::{Pattern, RunConfig, WorkKind};
    use scalelab::engine::execute;
    use scalelab::engine::report::RunReport;
    use scalelab::web::runtime::{WebRuntime, wasm_memory_bytes};
    use std::collections::HashSet;
    use wasm_bindgen_test::*;

    async fn run(config: RunConfig, parent: &CancelToken) -> RunReport {
        ensure_pool().await;
        execute(&WebRuntime::default(), config, parent, &mut |_| {}).await
    }

    fn assert_accounted(report: &RunReport) {
        assert!(report.identity_holds, "{:?}", report.counts);
        assert!(report.jobs.iter().all(|j| j.outcome.is_some()));
        if let Some(cancel) = &report.cancellation {
            assert_eq!(cancel.started_after, 0, "a job started after the cancel");
        }
    }

    #[wasm_bindgen_test]
    async fn every_pattern_completes_on_the_pool() {
        for pattern in [
            Pattern::Pool,
            Pattern::FanOut,
            Pattern::FailFast,
            Pattern::RateLimit,
        ] {
            for workload in [
                WorkKind::Primes,
                WorkKind::Sha256,
                WorkKind::Mandelbrot,
                WorkKind::Spin,
                WorkKind::Sleep,
            ] {
                let config = RunConfig {
                    pattern,
                    jobs: 40,
                    rate: 2_000.0,
                    burst: 5,
                    cost: if workload == WorkKind::Sleep || workload == WorkKind::Spin {
                        200
                    } else {
                        RunConfig::for_workload(workload).cost / 10
                    },
                    ..RunConfig::for_workload(workload)
                };
                let report = run(config, &CancelToken::new()).await;
                assert_accounted(&report);
                assert_eq!(report.counts.completed, 40, "{pattern:?} {workload:?}");
                assert_eq!(report.threads, THREADS);
            }
        }
    }

    #[wasm_bindgen_test]
    async fn at_least_two_threads_do_the_work() {
        let config = RunConfig {
            jobs: 400,
            workers: 4,
            ..RunConfig::for_workload(WorkKind::Primes)
        };
        let report = run(config, &CancelToken::new()).await;
        let threads: HashSet<u32> = report.jobs.iter().filter_map(|j| j.thread).collect();
        assert!(threads.len() >= 2, "threads used: {threads:?}");
    }

    #[wasm_bindgen_test]
    async fn cancel_mid_run_stops_cpu_jobs_and_keeps_the_books() {
        ensure_pool().await;
        let parent = CancelToken::new();
        let canceller = parent.clone();
        // About a minute of CPU work, cancelled as soon as the first jobs are done.
        let config = RunConfig {
            jobs: 20_000,
            cost: 2_000,
            workers: 4,
            ..RunConfig::for_workload(WorkKind::Spin)
        };
        let report = execute(&WebRuntime::default(), config, &parent, &mut |p| {
            if p.counts.done() > 0 {
                canceller.cancel_with("stop");
            }
        })
        .await;
        assert_accounted(&report);
        let c = report.counts;
        assert!(c.completed > 0 && c.not_started > 0, "{c:?}");
        let cancel = report.cancellation.unwrap();
        assert_eq!(cancel.cause, "stop");
        assert!(cancel.last_stop_ms >= cancel.at_ms);
    }

    #[wasm_bindgen_test]
    async fn a_deadline_stops_a_run() {
        let config = RunConfig {
            jobs: 1_000,
            cost: 20_000,
            workers: 2,
            timeout_ms: 60.0,
            ..RunConfig::for_workload(WorkKind::Sleep)
        };
        let report = run(config, &CancelToken::new()).await;
        assert_accounted(&report);
        let cancel = report.cancellation.expect("the deadline cancelled the run");
        assert_eq!(cancel.err, "deadline exceeded");
        assert!(report.counts.not_started > 0);
    }

    #[wasm_bindgen_test]
    async fn many_short_runs_do_not_grow_memory() {
        ensure_pool().await;
        let config = RunConfig {
            jobs: 50,
            cost: 5_000,
            ..RunConfig::for_workload(WorkKind::Primes)
        };
        let mut after_warmup = 0;
        for i in 0..200 {
            let report = run(
                RunConfig {
                    pattern: [Pattern::Pool, Pattern::FanOut][i % 2],
                    seed: i as u64,
                    ..config.clone()
                },
                &CancelToken::new(),
            )
            .await;
            assert!(report.identity_holds);
            if i == 19 {
                after_warmup = wasm_memory_bytes();
            }
        }
        let end = wasm_memory_bytes();
        web_sys::console::log_1(
            &format!("wasm memory after 20 runs: {after_warmup} B, after 200: {end} B").into(),
        );
        assert!(
            end <= after_warmup + 1024 * 1024,
            "memory grew from {after_warmup} to {end} bytes"
        );
    }
}
