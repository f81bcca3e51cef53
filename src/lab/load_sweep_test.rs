use super::*;
use crate::engine::config::{Distribution, WorkKind};
use crate::engine::runtime::{RayonPool, SimRuntime};

fn base() -> RunConfig {
    RunConfig {
        workload: WorkKind::Sleep,
        cost: 2_000,
        distribution: Distribution::Exponential,
        workers: 4,
        queue: 100_000,
        ..RunConfig::default()
    }
}

#[test]
fn settings_are_checked_with_the_usual_messages() {
    let sweep = LoadSweepConfig::from_fields([("steps", "3")]).unwrap();
    let loads = sweep.loads();
    assert_eq!(loads.len(), 3);
    assert!((loads[1] - 0.8).abs() < 1e-12 && loads[2] == 1.5);
    let e = LoadSweepConfig::from_fields([("from", "0.9"), ("to", "0.5")]).unwrap_err();
    assert_eq!(e.0[0].field, "to");
    assert!(e.0[0].message.contains("is not above from (0.9)"), "{e}");
    let e = LoadSweepConfig::from_fields([("steps", "30"), ("stepMs", "60000")]).unwrap_err();
    assert_eq!(e.0[0].field, "stepMs");
    assert!(e.0[0].message.contains("too long for one sweep"), "{e}");
    let e = LoadSweepConfig::from_fields([("steps", "1"), ("speed", "2")]).unwrap_err();
    let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["speed", "steps"]);
}

#[test]
fn the_knee_is_the_first_load_the_pool_does_not_keep_up_with() {
    let point = |offered: f64, throughput: f64| LoadPoint {
        load: 0.0,
        offered,
        throughput,
        p50_ms: 0.0,
        p99_ms: 0.0,
        mean_ms: 0.0,
        utilisation: 0.0,
        in_system: 0.0,
        littles: 0.0,
        littles_error: 0.0,
        theory_mean_ms: None,
        rejected: 0,
        shed: 0,
        identity_holds: true,
    };
    let points = [
        point(100.0, 99.0),
        point(200.0, 196.0),
        point(300.0, 250.0),
        point(400.0, 251.0),
    ];
    assert_eq!(find_knee(&points), Some(2));
    assert_eq!(find_knee(&points[..2]), None);
}

#[test]
fn on_simulated_time_the_hockey_stick_follows_little_and_erlang_c() {
    let rt = SimRuntime::new(RayonPool::global());
    let sweep = LoadSweepConfig {
        from: 0.2,
        to: 1.4,
        steps: 7,
        step_ms: 5_000.0,
    };
    let mut heard = 0;
    let report = rt
        .sim
        .run(run_load_sweep(
            &rt,
            base(),
            sweep,
            &CancelToken::new(),
            &mut |_| heard += 1,
        ))
        .unwrap();
    assert!(!report.cancelled);
    assert_eq!((report.runs_done, heard), (8, 8));
    // 4 servers at 2 ms each: 2,000 jobs/s.
    assert!(
        (report.capacity / 2000.0 - 1.0).abs() < 0.05,
        "{}",
        report.capacity
    );
    assert_eq!(report.servers, 4);
    for p in &report.points {
        assert!(p.identity_holds);
        assert!(
            p.littles_error.abs() < 0.05,
            "Little's law at {:.1}: {p:?}",
            p.load
        );
        if p.load <= 0.8 {
            assert!((p.throughput / p.offered - 1.0).abs() < 0.05, "{p:?}");
            let theory = p.theory_mean_ms.unwrap();
            assert!(
                (p.mean_ms / theory - 1.0).abs() < 0.10,
                "Erlang C at {:.1}: {p:?}",
                p.load
            );
        }
    }
    let knee = report.knee.expect("past capacity the pool falls behind");
    assert!(
        (1.0..=1.2).contains(&report.points[knee].load),
        "knee at {:?}",
        report.points[knee]
    );
    // The hockey stick: past the knee the latency from the intended start explodes.
    let (first, last) = (report.points[0], report.points[6]);
    assert!(last.p99_ms > 50.0 * first.p99_ms, "{first:?} vs {last:?}");
    assert!(last.utilisation > 0.95 && first.utilisation < 0.3);
}
