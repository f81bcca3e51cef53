//! The pipeline pattern on simulated time: every job goes through every stage and is
//! accounted for, the stage that sets the pace is named the bottleneck, the bottleneck
//! policy moves workers to it (and the run gets faster), a cancel starts nothing more,
//! and the timeline's stage passes sit in their stage's rows.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::run_sim;
use scalelab::cancel::CancelToken;
use scalelab::engine::config::{Pattern, RunConfig, Scaling};
use scalelab::engine::execute;
use scalelab::engine::outcome::Outcome;
use scalelab::engine::runtime::{RayonPool, Runtime, SimRuntime};
use scalelab::settings::SettingValue as _;
use scalelab::workload::pipeline::PipelineStages;

fn pipeline(stages: &str, jobs: u32) -> RunConfig {
    RunConfig {
        pattern: Pattern::Pipeline,
        jobs,
        pipeline: PipelineStages::parse_text(stages).unwrap(),
        ..RunConfig::default()
    }
}

/// Stage 2 has one worker for 1 ms jobs; stages 1 and 3 have four each.
const NARROW_MIDDLE: &str = "sleep:1000:4:4,sleep:1000:1:4,sleep:1000:4:4";

#[test]
fn every_job_passes_every_stage_and_the_checksum_sums_each_stages_result() {
    let config = RunConfig {
        failure: 0.2,
        ..pipeline("sleep:300:2:2,sha256:50:2:0,sleep:100:1:3", 200)
    };
    let report = run_sim(config.clone());
    assert!(report.identity_holds, "{:?}", report.counts);
    let p = report.pipeline.as_ref().expect("a pipeline report");
    let failed = report.counts.failed as u64;
    assert!(failed > 0 && report.counts.completed > 0);
    assert_eq!(report.counts.completed as u64 + failed, 200);
    // A job planned to fail fails at stage 1 and goes no further.
    assert_eq!(p.stages[0].passed, 200);
    assert_eq!(p.stages[1].passed, 200 - failed);
    assert_eq!(p.stages[2].passed, 200 - failed);
    // The checksum: each completed job's sleep results (id × 2, twice) and its SHA-256.
    let plan = scalelab::workload::plan::plan(&config);
    let mut expected = 0u64;
    for job in plan.iter().filter(|j| !j.fails) {
        let stage = scalelab::engine::pipeline::stage_job(&config.pipeline.0[1], job);
        let clock = scalelab::clock::ManualClock::new();
        let sha = scalelab::workload::execute::run_cpu(
            config.pipeline.0[1].workload,
            &stage,
            config.seed,
            &*clock,
            &|| false,
        )
        .unwrap();
        expected = expected.wrapping_add(job.id as u64 * 4).wrapping_add(sha);
    }
    assert_eq!(report.result_checksum, expected.to_string());
}

#[test]
fn the_stage_with_too_few_workers_is_the_bottleneck_and_the_ones_before_it_block() {
    let report = run_sim(pipeline(NARROW_MIDDLE, 400));
    assert!(report.identity_holds);
    let p = report.pipeline.unwrap();
    assert_eq!(p.bottleneck, 1, "{}", p.verdict);
    assert!(
        p.verdict.starts_with("stage 2 sleep is the bottleneck"),
        "{}",
        p.verdict
    );
    // One worker at 1 ms a job sets the pace: 400 jobs take at least 400 ms.
    assert!(report.wall_ms >= 400.0, "{}", report.wall_ms);
    assert!(p.stages[1].utilisation > 0.95, "{:?}", p.stages[1]);
    // Stage 1 spends most of its time blocked sending into stage 2's full queue; stage 3
    // waits for work.
    assert!(
        p.stages[0].blocked_ms > p.stages[0].busy_ms,
        "{:?}",
        p.stages[0]
    );
    assert!(p.stages[2].utilisation < 0.35, "{:?}", p.stages[2]);
    assert!(p.stages[1].mean_queue > 2.0, "{:?}", p.stages[1]);
    assert!(p.moves.is_empty());
    // The load chart's samples count every stage's workers and queues.
    assert!(
        report
            .samples
            .iter()
            .any(|s| s.workers == 9 && s.queued >= 4)
    );
    // Throughput is the bottleneck's: about 1,000 jobs/s in every stage.
    for stage in &p.stages {
        assert!((stage.throughput_per_s - 1000.0).abs() < 60.0, "{stage:?}");
    }
}

#[test]
fn scaling_the_bottleneck_moves_workers_to_it_and_the_run_gets_faster() {
    let fixed = run_sim(pipeline(NARROW_MIDDLE, 2_000));
    let scaled = run_sim(RunConfig {
        scaling: Scaling::Bottleneck,
        cooldown_ms: 0.0,
        ..pipeline(NARROW_MIDDLE, 2_000)
    });
    assert!(scaled.identity_holds);
    let p = scaled.pipeline.unwrap();
    assert!(!p.moves.is_empty());
    for moved in &p.moves {
        assert_eq!(moved.to, 1, "{moved:?}");
        assert_ne!(moved.from, 1, "{moved:?}");
    }
    // The total stays: workers move, none are added.
    let total: u32 = p.stages.iter().map(|s| s.workers_end).sum();
    assert_eq!(total, 9);
    assert!(p.stages[1].workers_end >= 3, "{:?}", p.stages);
    // Fixed: 2,000 ms at one job per ms. With the moves it takes well under that.
    assert!(fixed.wall_ms >= 2_000.0, "{}", fixed.wall_ms);
    assert!(
        scaled.wall_ms < fixed.wall_ms * 0.6,
        "scaled {} ms, fixed {} ms",
        scaled.wall_ms,
        fixed.wall_ms
    );
}

#[test]
fn a_cancel_starts_nothing_more_and_ends_jobs_between_stages_as_cancelled() {
    let rt = SimRuntime::new(RayonPool::global());
    let token = CancelToken::new();
    let config = pipeline("sleep:1000:2:8,sleep:3000:1:8", 500);
    let report = rt
        .sim
        .run(async {
            let cancel = async {
                rt.sleep(std::time::Duration::from_millis(50)).await;
                token.cancel();
            };
            let mut observer = |_| {};
            futures::join!(execute(&rt, config, &token, &mut observer), cancel).0
        })
        .unwrap();
    assert!(report.identity_holds, "{:?}", report.counts);
    let c = report.counts;
    assert!(
        c.completed > 0 && c.cancelled > 0 && c.not_started > 0,
        "{c:?}"
    );
    let cancellation = report.cancellation.expect("a cancelled run");
    assert_eq!(cancellation.started_after, 0);
    // Stage passes after the cancel only end jobs: none ran past it.
    let cancelled_ms = cancellation.at_ms;
    for span in report
        .jobs
        .iter()
        .filter(|s| s.started_ms.unwrap() > cancelled_ms)
    {
        assert_eq!(span.outcome, Some(Outcome::Cancelled), "{span:?}");
        assert_eq!(span.started_ms, span.finished_ms);
    }
}

#[test]
fn stage_passes_sit_in_their_stages_rows_and_stay_bounded() {
    let report = run_sim(pipeline("sleep:0:3:4,sleep:0:2:4", 12_000));
    assert!(report.identity_holds);
    let p = report.pipeline.unwrap();
    assert_eq!(p.row_starts, vec![0, 3, 5]);
    // 24,000 passes, the latest 10,000 kept.
    assert_eq!(report.jobs.len(), scalelab::engine::pipeline::spans::RECENT);
    for span in &report.jobs {
        let stage = span.stage.unwrap() as usize;
        let row = span.worker.unwrap();
        assert!(
            (p.row_starts[stage]..p.row_starts[stage + 1]).contains(&row),
            "{span:?}"
        );
    }
}

#[test]
fn pipeline_settings_are_checked_against_each_other() {
    let errors =
        RunConfig::from_fields([("pattern", "pipeline"), ("scaling", "aimd")]).unwrap_err();
    assert_eq!(errors.0[0].field, "scaling");
    assert_eq!(
        errors.0[0].allowed,
        "fixed or bottleneck, for pattern pipeline"
    );
    let errors = RunConfig::from_fields([("scaling", "bottleneck")]).unwrap_err();
    assert!(errors.0[0].message.contains("needs the pipeline pattern"));
    let errors =
        RunConfig::from_fields([("pattern", "pipeline"), ("pipeline", "sleep:1:1:1")]).unwrap_err();
    assert_eq!(errors.0[0].field, "pipeline");
    assert_eq!(
        errors.0[0].message,
        "pipeline: sleep:1:1:1 has too few stages; allowed: 2–4 stages workload:cost:workers:queue, comma-separated (workload primes, sha256, mandelbrot, spin, sleep; cost in its range; workers 1–64; queue 0–10000)"
    );
    let errors = RunConfig::from_fields([
        ("pattern", "pipeline"),
        ("jobs", "1000000"),
        ("pipeline", "sleep:1:1:1,primes:1000000:1:1"),
    ])
    .unwrap_err();
    assert!(
        errors.0[0].problem.contains("too much for one run"),
        "{errors}"
    );
}
