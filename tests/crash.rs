//! A job that panics natively: the run ends with "engine crashed: ..." instead of
//! waiting forever for the job. (Its own test binary: a crash is global to the
//! process, as it is to an engine in the browser.)

#![cfg(not(target_arch = "wasm32"))]

use scalelab::cancel::CancelToken;
use scalelab::engine::config::RunConfig;
use scalelab::engine::execute;
use scalelab::engine::fault::inject_panic_in_next_job;
use scalelab::engine::runtime::{RayonPool, SimRuntime};

#[test]
fn a_panicking_job_ends_the_run_with_the_crash() {
    let rt = SimRuntime::new(RayonPool::with_threads(2));
    inject_panic_in_next_job();
    let config = RunConfig {
        jobs: 50,
        cost: 10_000,
        ..RunConfig::default()
    };
    let report = rt
        .sim
        .run(execute(&rt, config, &CancelToken::new(), &mut |_| {}))
        .expect("the run ends");
    let crash = report.crash.expect("the crash is reported");
    assert!(
        crash.starts_with("engine crashed: injected fault: job"),
        "{crash}"
    );
    assert_eq!(report.cancellation.unwrap().cause, crash);
}
