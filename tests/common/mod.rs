//! What integration tests share: a run on simulated time, and for the differential
//! tests against Go a seeded generator for their scripts, building a harness under
//! tests/go/ with Debian's Go (GOPATH mode, Debian's golang.org/x packages), and feeding
//! it a script.

#![allow(dead_code)] // each test binary uses its own part

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use scalelab::cancel::CancelToken;
use scalelab::engine::config::RunConfig;
use scalelab::engine::execute;
use scalelab::engine::report::RunReport;
use scalelab::engine::runtime::{RayonPool, SimRuntime};

/// Runs a valid `config` on simulated time (CPU jobs on the real rayon pool).
pub fn run_sim(config: RunConfig) -> RunReport {
    config.validate().expect("a valid set-up");
    let rt = SimRuntime::new(RayonPool::global());
    rt.sim
        .run(execute(&rt, config, &CancelToken::new(), &mut |_| {}))
        .expect("the run never stalls")
}

/// Deterministic generator for the scripts (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Builds tests/go/<name>/main.go into target/<name> with Debian's `go`; `packages`
/// names the Debian packages it needs, for the message when Go or they are missing.
pub fn build_go_harness(name: &str, packages: &str) -> PathBuf {
    build_go_harness_with(Path::new("go"), name, packages)
}

/// [`build_go_harness`] with the Go at `go`.
pub fn build_go_harness_with(go: &Path, name: &str, packages: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = root.join("target").join(name);
    let status = Command::new(go)
        .args(["build", "-o"])
        .arg(&binary)
        .arg(root.join("tests/go").join(name).join("main.go"))
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .status()
        .unwrap_or_else(|_| {
            panic!(
                "`{}` not found: run ./build.sh setup (installs {packages})",
                go.display()
            )
        });
    assert!(
        status.success(),
        "building tests/go/{name} failed (are {packages} installed?)"
    );
    binary
}

/// A Go of version 1.21 or later (context's WithoutCancel, WithDeadlineCause and
/// AfterFunc are from 1.21): Debian bookworm's own is 1.19, so `./build.sh setup`
/// installs golang-1.23-go from bookworm-backports beside it.
pub fn go_1_21() -> PathBuf {
    let candidates = [
        "/usr/lib/go-1.23/bin/go",
        "/usr/lib/go-1.22/bin/go",
        "/usr/lib/go-1.21/bin/go",
        "go",
    ];
    for candidate in candidates {
        let Ok(out) = Command::new(candidate).arg("version").output() else {
            continue;
        };
        // "go version go1.23.5 linux/amd64"
        let text = String::from_utf8_lossy(&out.stdout);
        let minor = text
            .split_whitespace()
            .nth(2)
            .and_then(|v| v.strip_prefix("go1."))
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse::<u32>().ok());
        if minor.is_some_and(|m| m >= 21) {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "no Go 1.21 or later found (tried {candidates:?}): run ./build.sh setup (installs golang-1.23-go from bookworm-backports)"
    );
}

/// Runs `binary` with `script` on stdin; its stdout.
pub fn run_go(binary: &PathBuf, script: &str) -> String {
    let mut child = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Feed stdin from another thread: the harness answers as it reads, and a full
    // stdout pipe would otherwise block both sides.
    let mut stdin = child.stdin.take().unwrap();
    let script = script.to_owned();
    let feeder = std::thread::spawn(move || stdin.write_all(script.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(output.status.success(), "{} failed", binary.display());
    String::from_utf8(output.stdout).unwrap()
}

/// Asserts two outputs agree line for line, showing the script on a difference.
pub fn assert_same_output(ours: &str, go: &str, script: &str) {
    for (i, (a, b)) in ours.lines().zip(go.lines()).enumerate() {
        assert_eq!(a, b, "line {i} differs (ours, Go); script:\n{script}");
    }
    assert_eq!(
        ours.lines().count(),
        go.lines().count(),
        "script:\n{script}"
    );
}
