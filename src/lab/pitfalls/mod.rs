//! The article's pitfalls as small Go-shaped programs, each built in the lab from the
//! engine's public pieces — a [`Runtime`]'s clock, timers and CPU pool, a
//! [`JobChannel`](crate::engine::chan::JobChannel), a [`CancelToken`], the workload
//! kernels and the [`Planner`] — never as a switch in the engine's hot loop. Each comes
//! as the wrong way and the right way, differing in the lines that matter:
//!
//! - [`unbounded`]: a goroutine per job, each holding its stack, against a pool;
//! - [`leak`]: a producer that never closes its channel, consumers that stop early,
//!   and the right way (close, and range to the end);
//! - [`cancel`]: workers that ignore the context against workers that check it;
//! - [`coordination`]: a hand-rolled select-and-count state machine that leaks its
//!   goroutines at the first error, against errgroup.
//!
//! Goroutines here are futures on the caller's event loop (the engine worker in the
//! browser); their CPU work runs on the pool threads. A program's [`PitfallReport`]
//! measures the damage: goroutines and heap at their peak, jobs that ran, the leak
//! found, the work done after a cancel.

pub mod cancel;
pub mod coordination;
pub mod leak;
pub mod unbounded;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{Either, select};
use serde::Serialize;

use crate::cancel::CancelToken;
use crate::clock::Clock;
use crate::engine::config::{FieldSpec, WorkKind, workload_spec};
use crate::engine::outcome::{Counts, Outcome};
use crate::engine::runtime::Runtime;
use crate::settings::{ConfigError, ConfigErrors, GivenFields, Range, SettingValue};
use crate::workload::execute::{run_cpu, sleep_result};
use crate::workload::kernels::Interrupted;
use crate::workload::plan::JobSpec;

crate::choices! {
    /// Which program to run.
    pub enum Program {
        /// `go work(job)` for every job, each goroutine holding `stack` KiB.
        Unbounded = "unbounded",
        /// A pool of `workers` goroutines, each holding `stack` KiB.
        Pool = "pool",
        /// The producer sends every job and never closes the channel.
        NeverCloses = "never-closes",
        /// The consumers stop once half the jobs have started.
        ConsumersStop = "consumers-stop",
        /// The producer closes the channel; the consumers range to the end.
        Closes = "closes",
        /// Workers that never look at the context.
        IgnoresContext = "ignores-context",
        /// Workers that check the context between jobs and inside them.
        ChecksContext = "checks-context",
        /// A goroutine per job and a hand-rolled coordinator (select over result,
        /// error and done channels, with a counter).
        HandRolled = "hand-rolled",
        /// The same work with errgroup.WithContext.
        ErrGroup = "errgroup",
    }
}

crate::settings! {
    /// A pitfall program and its work.
    pub struct PitfallConfig, optional PitfallSettings;

    /// The program.
    program "program": Program = Program::Pool, [],
        "Program", "",
        "which way: the pitfall, or the right way";
    /// The work of each job.
    workload "workload": WorkKind = WorkKind::Sleep, [],
        "Workload", "",
        "a CPU kernel, or an I/O-like wait";
    /// Cost of each job, in the workload's unit.
    cost "cost": u64 = 1_000, [0, 1_000_000],
        "Job cost", "units",
        "work per job, in the workload's unit";
    /// Jobs.
    jobs "jobs": u32 = 200, [1, 20_000],
        "Jobs", "jobs",
        "jobs the producer submits";
    /// Pool workers.
    workers "workers": u32 = 4, [1, 64],
        "Workers", "goroutines",
        "the pool's goroutines";
    /// Channel capacity.
    queue "queue": u32 = 8, [0, 1_000],
        "Queue capacity", "jobs",
        "buffer of the jobs channel";
    /// Memory each goroutine holds while alive, like its stack.
    stack_kib "stack": u32 = 0, [0, 64],
        "Memory per goroutine", "KiB",
        "memory each goroutine holds while it is alive, like a goroutine's stack";
    /// Deadline in ms; 0 = none.
    timeout_ms "timeout": f64 = 0.0, [0, 60_000],
        "Timeout", "ms",
        "a deadline for the program (context.WithTimeout); 0 = none";
    /// How job costs vary around `cost`.
    distribution "distribution": crate::engine::config::Distribution = crate::engine::config::Distribution::Fixed, [],
        "Cost distribution", "",
        "how job costs vary around the cost";
    /// Probability that a job fails (after its work).
    failure "failure": f64 = 0.0, [0, 1],
        "Failure probability", "",
        "chance that a job returns an error";
    /// Seed of the jobs' costs and failures.
    seed "seed": u64 = 1, [0, crate::engine::config::MAX_SEED],
        "Seed", "",
        "same seed, same jobs and failures";
}

/// The pitfall programs' settings schema.
pub fn pitfall_fields() -> &'static [FieldSpec] {
    static FIELDS: LazyLock<Vec<FieldSpec>> = LazyLock::new(PitfallConfig::schema);
    &FIELDS
}

impl PitfallConfig {
    fn default_text(&self, _key: &str) -> Option<String> {
        None
    }

    /// The range `key` is checked against (`cost`: also the workload's own).
    pub fn ranges(&self, key: &str) -> Option<Range> {
        let declared = Self::declared_range(key)?;
        if key != "cost" {
            return Some(declared);
        }
        let w = workload_spec(self.workload);
        Some(Range {
            min: w.min_cost as f64,
            max: (w.max_cost as f64).min(declared.max),
            whole: true,
            unit: format!("{} per job for {}", w.unit, self.workload.to_text()),
        })
    }

    /// Parses a program's settings as text, reporting every problem at once.
    pub fn from_fields<K: AsRef<str>, V: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<PitfallConfig, ConfigErrors> {
        let mut given = GivenFields::collect(fields, Self::KEYS);
        let config = Self::read_fields(&mut given);
        let (mut errors, unreadable) = config.finish_parse(&mut given);
        errors.extend(config.check_ranges(&unreadable, Some(&given)));
        if config.jobs as u64 * config.stack_kib as u64 > 256 * 1024 {
            errors.push(ConfigError::new(
                "stack",
                &config.stack_kib.to_string(),
                &format!(
                    "KiB x {} jobs is too much memory for one program",
                    config.jobs
                ),
                "jobs x memory per goroutine up to 262144 KiB (256 MiB)".to_owned(),
            ));
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(Self::in_declaration_order(errors))
        }
    }

    /// The jobs' plan, as a run of the same work would have it (fixed costs, seed 1).
    pub fn as_run(&self) -> crate::engine::RunConfig {
        crate::engine::RunConfig {
            workload: self.workload,
            cost: self.cost,
            jobs: self.jobs,
            distribution: self.distribution,
            failure: self.failure,
            seed: self.seed,
            ..crate::engine::RunConfig::default()
        }
    }

    /// The deadline, if any.
    pub fn timeout(&self) -> Option<Duration> {
        (self.timeout_ms > 0.0).then(|| Duration::from_secs_f64(self.timeout_ms / 1000.0))
    }
}

/// What a program measured.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PitfallReport {
    /// The program.
    pub program: Program,
    /// How the jobs ended.
    pub counts: Counts,
    /// Start to end.
    pub wall_ms: f64,
    /// The most goroutines alive at once.
    pub peak_goroutines: u32,
    /// The most heap in use at a sample, if the runtime knows it.
    pub heap_peak_bytes: Option<u64>,
    /// The samples, every [`SAMPLE_INTERVAL`].
    pub samples: Vec<PitfallSample>,
    /// The leak found, and what it would have done.
    pub leak: Option<String>,
    /// What a cancel (the deadline) left running.
    pub cancellation: Option<AfterCancel>,
}

/// A point in time of a program.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PitfallSample {
    /// When.
    pub t_ms: f64,
    /// Goroutines alive.
    pub tasks: u32,
    /// Jobs ended.
    pub done: u32,
    /// Jobs running.
    pub running: u32,
    /// Heap in use, if known.
    pub heap_bytes: Option<u64>,
}

/// What happened after the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct AfterCancel {
    /// When the context was done.
    pub at_ms: f64,
    /// Job time spent after it, summed over jobs.
    pub work_after_ms: f64,
    /// Jobs started after it.
    pub started_after: u32,
    /// From it until no job ran any more.
    pub quiet_after_ms: f64,
}

/// How often a program is sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(10);

/// One job's times (ns since the start).
#[derive(Debug, Clone, Copy)]
struct Ran {
    started: u64,
    finished: u64,
}

/// The bookkeeping of a running program. Goroutines are futures on one thread, so
/// plain cells suffice.
pub(crate) struct Lab<'a, R: Runtime> {
    pub rt: &'a R,
    pub config: &'a PitfallConfig,
    clock: Arc<dyn Clock>,
    epoch: u64,
    counts: RefCell<[u32; Outcome::ALL.len()]>,
    alive: Cell<u32>,
    peak: Cell<u32>,
    running: Cell<u32>,
    ran: RefCell<Vec<Ran>>,
    samples: RefCell<Vec<PitfallSample>>,
    /// The program's context (with the timeout, if any).
    pub ctx: CancelToken,
}

impl<'a, R: Runtime> Lab<'a, R> {
    fn new(rt: &'a R, config: &'a PitfallConfig, parent: &CancelToken) -> Self {
        let clock = rt.clock();
        let ctx = match config.timeout() {
            Some(timeout) => parent.child_with_timeout(timeout, clock.clone()),
            None => parent.child(),
        };
        Lab {
            rt,
            config,
            epoch: clock.now_nanos(),
            clock,
            counts: RefCell::new([0; Outcome::ALL.len()]),
            alive: Cell::new(0),
            peak: Cell::new(0),
            running: Cell::new(0),
            ran: RefCell::new(Vec::new()),
            samples: RefCell::new(Vec::new()),
            ctx,
        }
    }

    fn now(&self) -> u64 {
        self.clock.now_nanos().saturating_sub(self.epoch)
    }

    /// Runs `body` as a goroutine holding `stack` KiB while it is alive.
    pub async fn go<T>(&self, body: impl Future<Output = T>) -> T {
        let stack = vec![1u8; self.config.stack_kib as usize * 1024];
        self.alive.set(self.alive.get() + 1);
        self.peak.set(self.peak.get().max(self.alive.get()));
        let out = body.await;
        self.alive.set(self.alive.get() - 1);
        drop(stack);
        out
    }

    /// Goroutines alive.
    pub fn alive(&self) -> u32 {
        self.alive.get()
    }

    /// Jobs running now.
    pub fn running(&self) -> u32 {
        self.running.get()
    }

    /// Milliseconds since the program started.
    pub fn now_ms(&self) -> f64 {
        self.now() as f64 / 1e6
    }

    /// Jobs that started.
    pub fn started(&self) -> usize {
        self.ran.borrow().len() + self.running.get() as usize
    }

    /// Jobs that ended.
    pub fn done(&self) -> u32 {
        self.counts.borrow().iter().sum()
    }

    /// Counts `n` jobs that never ran.
    pub fn never_ran(&self, n: u32) {
        self.counts.borrow_mut()[Outcome::NotStarted.code() as usize - 1] += n;
    }

    /// Does `job`'s work: a CPU kernel on the pool, or a wait on a timer. `careful`
    /// jobs stop when the context is done (and do not start after it); careless ones
    /// neither look nor stop.
    pub async fn work(&self, job: JobSpec, careful: bool) {
        self.work_with(job, careful.then_some(&self.ctx)).await;
    }

    /// [`work`](Self::work) that honours `ctx` (if any) — a context of the program's
    /// own, such as an errgroup's — and says how the job ended: completed, failed (it
    /// did its work, then returned an error) or cancelled.
    pub async fn work_with(&self, job: JobSpec, ctx: Option<&CancelToken>) -> Outcome {
        // The start time is read before the check, and the check reads the clock
        // against the deadline (a punctual `ctx.Err()`, not one waiting for the
        // deadline's timer to fire): a job that passes it started before the deadline,
        // so a careful worker never counts as starting a job after it, however the
        // threads interleave.
        let started = self.now();
        if ctx.is_some_and(|ctx| ctx.expire_if_due()) {
            self.never_ran(1);
            return Outcome::NotStarted;
        }
        self.running.set(self.running.get() + 1);
        let outcome = if self.config.workload.is_cpu() {
            let (tx, rx) = oneshot::channel();
            let (workload, seed, clock) =
                (self.config.workload, self.config.seed, self.clock.clone());
            let ctx = ctx.cloned();
            self.rt.pool().spawn(Box::new(move || {
                let stop = move || ctx.as_ref().is_some_and(CancelToken::is_cancelled);
                let _ = tx.send(run_cpu(workload, &job, seed, &*clock, &stop));
            }));
            rx.await.unwrap_or(Err(Interrupted))
        } else {
            let wait = self.rt.sleep(Duration::from_micros(job.cost));
            if let Some(ctx) = ctx {
                match select(wait, ctx.cancelled()).await {
                    Either::Left(_) => Ok(sleep_result(&job)),
                    Either::Right(_) => Err(Interrupted),
                }
            } else {
                wait.await;
                Ok(sleep_result(&job))
            }
        };
        self.running.set(self.running.get() - 1);
        let finished = self.now();
        self.ran.borrow_mut().push(Ran { started, finished });
        let outcome = match outcome {
            Ok(_) if job.fails => Outcome::Failed,
            Ok(_) => Outcome::Completed,
            Err(Interrupted) => Outcome::Cancelled,
        };
        self.counts.borrow_mut()[outcome.code() as usize - 1] += 1;
        outcome
    }

    fn sample(&self) {
        self.samples.borrow_mut().push(PitfallSample {
            t_ms: self.now() as f64 / 1e6,
            tasks: self.alive.get(),
            done: self.done(),
            running: self.running.get(),
            heap_bytes: self.rt.heap_bytes(),
        });
    }

    /// Runs `program` to its end, sampling meanwhile, and measures it.
    async fn measure(&self, program: impl Future<Output = Option<String>>) -> PitfallReport {
        self.sample();
        let sampler = async {
            // The timer `context.WithTimeout` arms: the context is done at its deadline.
            let deadline = async {
                if let Some(at) = self.ctx.deadline() {
                    let now = self.clock.now();
                    if at > now {
                        self.rt.sleep(at - now).await;
                    }
                    self.ctx.expire_if_due();
                }
            };
            let samples = async {
                loop {
                    self.rt.sleep(SAMPLE_INTERVAL).await;
                    self.sample();
                }
            };
            futures::join!(deadline, samples);
        };
        let leak = match select(Box::pin(program), Box::pin(sampler)).await {
            Either::Left((leak, _)) => leak,
            Either::Right(((), _)) => unreachable!("the sampler never ends"),
        };
        self.sample();
        let samples = self.samples.take();
        let counts = *self.counts.borrow();
        PitfallReport {
            program: self.config.program,
            counts: Counts::from_fn(self.config.jobs, |o| counts[o.code() as usize - 1]),
            wall_ms: self.now() as f64 / 1e6,
            peak_goroutines: self.peak.get(),
            heap_peak_bytes: samples.iter().filter_map(|s| s.heap_bytes).max(),
            samples,
            leak,
            cancellation: self.after_cancel(),
        }
    }

    /// What ran past the context's end (the deadline), if it ended.
    fn after_cancel(&self) -> Option<AfterCancel> {
        let deadline = self.ctx.deadline()?;
        let at = deadline.as_nanos() as u64 - self.epoch;
        if self.now() < at {
            return None;
        }
        let ran = self.ran.borrow();
        let ms = |ns: u64| ns as f64 / 1e6;
        Some(AfterCancel {
            at_ms: ms(at),
            work_after_ms: ran
                .iter()
                .map(|r| ms(r.finished.saturating_sub(r.started.max(at))))
                .sum(),
            started_after: ran.iter().filter(|r| r.started > at).count() as u32,
            quiet_after_ms: ran
                .iter()
                .map(|r| ms(r.finished.saturating_sub(at)))
                .fold(0.0, f64::max),
        })
    }
}

/// Runs the program `config` describes (on `rt`, stopping early if `parent` is
/// cancelled) and measures it.
pub async fn run_pitfall<R: Runtime>(
    rt: &R,
    config: &PitfallConfig,
    parent: &CancelToken,
) -> PitfallReport {
    let lab = Lab::new(rt, config, parent);
    let program = async {
        match config.program {
            Program::Unbounded => unbounded::goroutine_per_job(&lab).await,
            Program::Pool => unbounded::pool(&lab).await,
            Program::NeverCloses | Program::ConsumersStop | Program::Closes => {
                leak::producer_and_consumers(&lab).await
            }
            Program::IgnoresContext => cancel::pool(&lab, false).await,
            Program::ChecksContext => cancel::pool(&lab, true).await,
            Program::HandRolled => coordination::hand_rolled(&lab).await,
            Program::ErrGroup => coordination::errgroup(&lab).await,
        }
    };
    lab.measure(program).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_parsed_and_checked_like_a_runs() {
        let config =
            PitfallConfig::from_fields([("program", "unbounded"), ("stack", "8")]).unwrap();
        assert_eq!((config.program, config.stack_kib), (Program::Unbounded, 8));
        let errors = PitfallConfig::from_fields([("program", "goto"), ("jobs", "0")]).unwrap_err();
        let messages: Vec<&str> = errors.0.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "program: goto is not one of the choices; allowed: unbounded, pool, never-closes, consumers-stop, closes, ignores-context, checks-context, hand-rolled, errgroup",
                "jobs: 0 is out of range; allowed: a whole number 1–20000 jobs",
            ]
        );
        let too_much =
            PitfallConfig::from_fields([("jobs", "20000"), ("stack", "64")]).unwrap_err();
        assert_eq!(too_much.0[0].field, "stack");
    }
}
