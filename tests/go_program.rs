//! Go agrees: for every pattern, the Go program scalelab generates for a small seeded
//! set-up is gofmt-clean, passes `go vet`, runs, and prints the same accounting line —
//! counts and result checksum — as the native engine's report for the same set-up.
//!
//! Each program is vetted and run by two Go releases: Debian bookworm's 1.19 (the
//! oldest the programs promise) and 1.23 from bookworm-backports.
//!
//! Set-ups here have no deadline (a deadline's counts depend on timing, in Go as in
//! scalelab); fail fast runs with a limit of one so that which jobs ran before the
//! first failure is decided by the plan alone. Needs Debian's Go with
//! golang-golang-x-time-dev and golang-golang-x-sync-dev (`./build.sh setup`); without
//! them this test fails saying so (it does not skip).

#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{go_1_21, run_sim};
use scalelab::engine::config::{
    Arrival, Distribution, Overload, Pacing, Pattern, RunConfig, Scaling, WorkKind,
};
use scalelab::gobridge::go_program;
use scalelab::settings::Choice as _;
use scalelab::settings::SettingValue as _;
use scalelab::workload::pipeline::PipelineStages;

/// Debian's Go (1.19) and a Go of 1.21 or later.
fn gos() -> [PathBuf; 2] {
    [PathBuf::from("go"), go_1_21()]
}

fn go(bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .output()
        .expect("`go` not found: run ./build.sh setup (installs golang-go, golang-golang-x-time-dev and golang-golang-x-sync-dev)")
}

/// Writes the program of `config` to target/go-program/<name>/main.go, checks it with
/// gofmt, then with each Go of [`gos`] vets and runs it; returns each one's output.
fn run_go_program(name: &str, config: &RunConfig) -> Vec<(PathBuf, String)> {
    let program = go_program(config);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/go-program")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.go"), &program.source).unwrap();
    let gofmt = Command::new("gofmt")
        .args(["-l", "-d", "main.go"])
        .current_dir(&dir)
        .output()
        .expect("gofmt");
    assert!(
        gofmt.status.success() && gofmt.stdout.is_empty(),
        "{name}: gofmt would change the program:\n{}",
        String::from_utf8_lossy(&gofmt.stdout)
    );
    gos()
        .into_iter()
        .map(|bin| {
            let ok = |command: &str| {
                let out = go(&bin, &dir, &[command, "main.go"]);
                assert!(
                    out.status.success(),
                    "{name}: {} {command}: {}",
                    bin.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
                out
            };
            ok("vet");
            let run = ok("run");
            (bin, String::from_utf8(run.stdout).unwrap())
        })
        .collect()
}

fn last_line(output: &str) -> &str {
    output.lines().last().unwrap_or("")
}

/// One small set-up per pattern (and per workload, distribution and pacing).
fn setups() -> Vec<(&'static str, RunConfig)> {
    let base = RunConfig {
        seed: 20_261_205,
        ..RunConfig::default()
    };
    vec![
        (
            "pool-primes-uniform",
            RunConfig {
                pattern: Pattern::Pool,
                workers: 3,
                queue: 4,
                jobs: 60,
                workload: WorkKind::Primes,
                cost: 40_000,
                distribution: Distribution::Uniform,
                failure: 0.2,
                ..base.clone()
            },
        ),
        (
            "fanout-sha256-lognormal-ordered",
            RunConfig {
                pattern: Pattern::FanOut,
                jobs: 40,
                workload: WorkKind::Sha256,
                cost: 300,
                distribution: Distribution::LogNormal,
                sigma: 0.8,
                failure: 0.1,
                ordered: true,
                ..base.clone()
            },
        ),
        (
            "failfast-mandelbrot-pareto",
            RunConfig {
                pattern: Pattern::FailFast,
                workers: 1,
                jobs: 80,
                workload: WorkKind::Mandelbrot,
                cost: 2_000,
                distribution: Distribution::Pareto,
                alpha: 1.5,
                failure: 0.05,
                ..base.clone()
            },
        ),
        (
            "ratelimit-bucket-sleep-exponential",
            RunConfig {
                pattern: Pattern::RateLimit,
                pacing: Pacing::Bucket,
                rate: 2_000.0,
                burst: 5,
                workers: 4,
                jobs: 40,
                workload: WorkKind::Sleep,
                cost: 300,
                distribution: Distribution::Exponential,
                failure: 0.15,
                ..base.clone()
            },
        ),
        (
            "ratelimit-ticker-backend",
            RunConfig {
                pattern: Pattern::RateLimit,
                pacing: Pacing::Ticker,
                rate: 1_000.0,
                workers: 6,
                jobs: 25,
                workload: WorkKind::Backend,
                backend_slots: 2,
                cost: 500,
                ..base.clone()
            },
        ),
        (
            "pool-weighted-backend",
            RunConfig {
                pattern: Pattern::Pool,
                workers: 5,
                jobs: 40,
                workload: WorkKind::Backend,
                backend_slots: 4,
                max_weight: 3,
                cost: 400,
                failure: 0.1,
                ..base.clone()
            },
        ),
        (
            "pipeline-sleep-sha256-primes-sleep",
            RunConfig {
                pattern: Pattern::Pipeline,
                jobs: 50,
                failure: 0.15,
                pipeline: PipelineStages::parse_text(
                    "sleep:300:3:4,sha256:200:2:2,primes:20000:2:0,sleep:50:1:1",
                )
                .unwrap(),
                ..base.clone()
            },
        ),
        (
            "pipeline-mandelbrot-bottleneck",
            RunConfig {
                pattern: Pattern::Pipeline,
                scaling: Scaling::Bottleneck,
                cooldown_ms: 0.0,
                jobs: 40,
                pipeline: PipelineStages::parse_text("sleep:500:4:8,mandelbrot:1024:1:8").unwrap(),
                ..base.clone()
            },
        ),
        (
            "pool-open-loop-poisson-sha256",
            RunConfig {
                pattern: Pattern::Pool,
                arrival: Arrival::Poisson,
                arrival_rate: 2_000.0,
                overload: Overload::Block,
                workers: 2,
                queue: 8,
                jobs: 50,
                workload: WorkKind::Sha256,
                cost: 200,
                failure: 0.1,
                scaling: Scaling::Fixed,
                ..base.clone()
            },
        ),
    ]
}

#[test]
fn go_programs_print_the_engines_accounting_line() {
    for (name, config) in setups() {
        // The native engine's report (I/O-like jobs and timers on simulated time).
        let report = run_sim(config.clone());
        assert!(report.identity_holds, "{name}: {:?}", report.counts);
        for (bin, output) in run_go_program(name, &config) {
            assert_eq!(
                last_line(&output),
                report.accounting,
                "{name}: {} printed\n{output}",
                bin.display()
            );
        }
        assert!(
            report
                .accounting
                .ends_with(&format!("checksum={}", report.result_checksum)),
            "{name}: the accounting line carries resultChecksum"
        );
    }
}

/// Every combination of pattern, workload, distribution, pacing, arrival, overload
/// policy, deadline and duration gives a program that gofmt leaves alone and `go vet`
/// (which type-checks it) accepts.
#[test]
fn every_set_up_gives_a_clean_program() {
    let mut configs = Vec::new();
    for &pattern in Pattern::ALL {
        for &workload in WorkKind::ALL {
            for &distribution in Distribution::ALL {
                for max_weight in [1, 4] {
                    configs.push(RunConfig {
                        pattern,
                        workload,
                        distribution,
                        max_weight,
                        cost: scalelab::engine::config::workload_spec(workload).default_cost,
                        ..RunConfig::default()
                    });
                }
            }
            for &arrival in Arrival::ALL {
                for &overload in Overload::ALL {
                    for (timeout_ms, duration_ms) in [(0.0, 0.0), (250.0, 1_000.5)] {
                        configs.push(RunConfig {
                            pattern,
                            workload,
                            arrival,
                            overload,
                            queue: if overload == Overload::DropOldest {
                                0
                            } else {
                                16
                            },
                            timeout_ms,
                            duration_ms,
                            cost: scalelab::engine::config::workload_spec(workload).default_cost,
                            ..RunConfig::default()
                        });
                    }
                }
            }
        }
        if pattern == Pattern::Pipeline {
            for stages in [
                "primes:20000:2:0,mandelbrot:1024:1:4",
                "sleep:100:1:1,sleep:100:2:0,spin:10:1:1,sha256:10:1:0",
            ] {
                configs.push(RunConfig {
                    pattern,
                    pipeline: PipelineStages::parse_text(stages).unwrap(),
                    ..RunConfig::default()
                });
            }
        }
        for &pacing in Pacing::ALL {
            for &scaling in Scaling::ALL {
                configs.push(RunConfig {
                    pattern,
                    pacing,
                    scaling,
                    ordered: true,
                    ..RunConfig::default()
                });
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/go-program/all");
    let _ = std::fs::remove_dir_all(&root);
    let mut sources = std::collections::BTreeSet::new();
    for config in &configs {
        // Combinations the settings refuse (e.g. reject without an open loop) are skipped.
        if config.validate().is_err() {
            continue;
        }
        let program = go_program(config);
        if !sources.insert(program.source.clone()) {
            continue;
        }
        let dir = root.join(format!("p{}", sources.len()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.go"), &program.source).unwrap();
    }
    assert!(sources.len() > 150, "only {} programs", sources.len());
    let gofmt = Command::new("gofmt")
        .arg("-l")
        .arg(&root)
        .output()
        .expect("gofmt");
    assert!(
        gofmt.stdout.is_empty(),
        "gofmt would change:\n{}",
        String::from_utf8_lossy(&gofmt.stdout)
    );
    let packages: Vec<String> = (1..=sources.len()).map(|i| format!("./p{i}")).collect();
    let mut args = vec!["vet"];
    args.extend(packages.iter().map(String::as_str));
    for bin in gos() {
        let vet = go(&bin, &root, &args);
        assert!(
            vet.status.success(),
            "{} vet ({} programs): {}",
            bin.display(),
            sources.len(),
            String::from_utf8_lossy(&vet.stderr)
        );
    }
}

/// `key=value` pairs of a line as numbers.
fn fields(line: &str) -> std::collections::HashMap<String, u64> {
    line.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

/// Under twenty times more load than the pool can serve, each overload policy's
/// program refuses or drops jobs as its policy says — or, blocking, is stopped by its
/// deadline — and still accounts for every job.
#[test]
fn overload_programs_keep_the_books() {
    for (overload, timeout_ms) in [
        (Overload::Reject, 0.0),
        (Overload::DropOldest, 0.0),
        (Overload::Shed, 0.0),
        // A deadline mid-run: the job the generator was sending never entered the run.
        (Overload::Block, 60.0),
    ] {
        let config = RunConfig {
            timeout_ms,
            pattern: Pattern::Pool,
            arrival: Arrival::Constant,
            arrival_rate: 20_000.0,
            overload,
            shed_after_ms: 1.0,
            workers: 2,
            queue: 4,
            jobs: 300,
            workload: WorkKind::Sleep,
            cost: 2_000,
            ..RunConfig::default()
        };
        let name = format!("overload-{}-{timeout_ms}", overload.name());
        for (bin, output) in run_go_program(&name, &config) {
            let name = format!("{name} ({})", bin.display());
            let lines: Vec<&str> = output.lines().collect();
            let overload_line = fields(lines[lines.len() - 2]);
            let accounting = fields(last_line(&output));
            let (rejected, shed) = (overload_line["rejected"], overload_line["shed"]);
            let done: u64 = ["completed", "failed", "cancelled", "notStarted"]
                .iter()
                .map(|k| accounting[*k])
                .sum::<u64>()
                + rejected
                + shed;
            assert_eq!(accounting["submitted"], 300, "{name}: {output}");
            assert_eq!(done, 300, "{name}: every job once: {output}");
            match overload {
                Overload::Reject => assert!(rejected > 0 && shed == 0, "{name}: {output}"),
                Overload::Block => assert!(
                    accounting["notStarted"] > 0 && rejected + shed == 0,
                    "{name}: {output}"
                ),
                _ => assert!(shed > 0 && rejected == 0, "{name}: {output}"),
            }
        }
    }
}
