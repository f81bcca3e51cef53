//! Assembles the Go program of one set-up: the header (the set-up and how to run it),
//! the settings as Go variables, the job plan, the workload's kernel, and the pattern's
//! `main`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::GoProgram;
use super::parts;
use crate::engine::config::{
    Arrival, Distribution, Overload, Pacing, Pattern, RunConfig, Scaling, WorkKind, workload_spec,
};
use crate::engine::outcome::{OUTCOMES, accounting_outcomes};
use crate::settings::Choice as _;
use crate::workload::arrival::{ARRIVAL_STREAM, ArrivalSchedule};
use crate::workload::plan::{FAILURE_STREAM, WEIGHT_STREAM};

/// The Go program of a validated set-up.
pub fn go_program(config: &RunConfig) -> GoProgram {
    let mut g = Gen::new(config);
    g.build();
    let imports = g.imports_block();
    let source = format!("{}{imports}{}", g.header(), g.body);
    GoProgram {
        source,
        notes: g.notes,
        modules: g
            .imports
            .iter()
            .filter(|i| i.starts_with("golang.org/"))
            .map(|i| {
                i.rsplit_once('/')
                    .map_or(*i, |(module, _)| module)
                    .to_string()
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

/// One `var` of the settings block: name, Go value, comment.
type Var = (&'static str, String, String);

struct Gen<'a> {
    config: &'a RunConfig,
    imports: BTreeSet<&'static str>,
    vars: Vec<Var>,
    notes: Vec<String>,
    body: String,
}

/// A float as Go source that reads back as the same `f64` (Rust prints the shortest
/// text that round-trips; Go parses a decimal literal to the nearest `float64`).
fn float(x: f64) -> String {
    if x.is_infinite() {
        "math.Inf(1)".to_string()
    } else {
        format!("{x:?}")
    }
}

/// A duration in ms as a Go `time.Duration` expression.
fn duration(ms: f64) -> String {
    if ms.fract() == 0.0 {
        format!("{} * time.Millisecond", ms as u64)
    } else {
        format!("time.Duration({})", (ms * 1e6).round() as u64)
    }
}

impl<'a> Gen<'a> {
    fn new(config: &'a RunConfig) -> Gen<'a> {
        Gen {
            config,
            imports: ["context", "fmt", "math", "time"].into_iter().collect(),
            vars: Vec::new(),
            notes: Vec::new(),
            body: String::new(),
        }
    }

    fn var(&mut self, name: &'static str, value: String, comment: &str) {
        self.vars.push((name, value, comment.to_string()));
    }

    fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    /// Open-loop arrivals (the settings allow them with the pool pattern only).
    fn open_loop(&self) -> bool {
        self.config.arrival.is_open()
    }

    fn build(&mut self) {
        self.settings();
        self.unsupported();
        let mut body = String::new();
        body.push_str(&self.vars_block());
        body.push('\n');
        body.push_str(&self.outcomes_block());
        body.push('\n');
        body.push_str(parts::TALLY);
        body.push('\n');
        body.push_str(&self.print_fn());
        body.push('\n');
        body.push_str(parts::DRAWS);
        body.push('\n');
        body.push_str(parts::PLANNER_HEAD);
        body.push_str(&self.planner_tail());
        body.push('\n');
        if self.config.pattern == Pattern::Pipeline {
            self.imports.insert("sync");
            body.push_str(&super::pipeline::kernels(
                &self.config.pipeline.0,
                &mut self.imports,
            ));
        } else {
            body.push_str(&self.kernel());
            body.push('\n');
            body.push_str(parts::RUN_JOB);
        }
        if self.open_loop() {
            body.push('\n');
            body.push_str(parts::SCHEDULE);
            body.push('\n');
            body.push_str(&self.new_schedule());
        }
        body.push('\n');
        body.push_str(&self.main_fn());
        self.imports.insert("errors");
        self.imports.insert("math/bits");
        self.body = body;
    }

    /// The settings the program uses, as Go variables (`var`, not `const`: Go folds
    /// constant expressions exactly, which would not round like scalelab's `f64`).
    fn settings(&mut self) {
        let c = self.config;
        let spec = workload_spec(c.workload);
        self.var(
            "seed",
            format!("uint64({})", c.seed),
            "the same seed, the same jobs",
        );
        self.var(
            "failureStream",
            format!("uint64({FAILURE_STREAM:#X})"),
            "the failures' own stream",
        );
        self.var(
            "weightStream",
            format!("uint64({WEIGHT_STREAM:#X})"),
            "the job weights' own stream",
        );
        self.var("jobCount", c.jobs.to_string(), "jobs to submit");
        if !matches!(c.pattern, Pattern::FanOut | Pattern::Pipeline) {
            let what = if c.pattern == Pattern::FailFast {
                "errgroup's SetLimit"
            } else {
                "worker goroutines"
            };
            self.var("workers", c.workers.to_string(), what);
        }
        if matches!(c.pattern, Pattern::Pool | Pattern::RateLimit) {
            self.var(
                "queueCapacity",
                c.queue.to_string(),
                "buffer of the jobs channel",
            );
        }
        self.var(
            "meanCost",
            float(c.cost as f64),
            &format!("mean cost per job, {}", spec.unit),
        );
        self.var(
            "minCost",
            float(spec.min_cost as f64),
            "least cost of one job",
        );
        self.var(
            "maxCost",
            float(spec.max_cost as f64),
            "most cost of one job",
        );
        match c.distribution {
            Distribution::Uniform => self.var("spread", float(c.spread), "uniform: ± fraction"),
            Distribution::Pareto => {
                self.var("alpha", float(c.alpha), "Pareto shape");
                self.var(
                    "paretoScale",
                    "meanCost * (alpha - 1) / alpha".into(),
                    "so that the mean is meanCost",
                );
            }
            Distribution::LogNormal => {
                self.var("sigma", float(c.sigma), "log-normal shape");
                self.var(
                    "lognormalMu",
                    "math.Log(meanCost) - sigma*sigma/2".into(),
                    "so that the mean is meanCost",
                );
            }
            Distribution::Fixed | Distribution::Exponential => {}
        }
        self.var("failure", float(c.failure), "chance that a job fails");
        if c.workload == WorkKind::Backend {
            self.var(
                "backendSlots",
                format!("int64({})", c.backend_slots),
                "slots the backend serves at once",
            );
            self.var(
                "maxWeight",
                format!("int64({})", c.max_weight),
                "the most slots one job holds (semaphore.Weighted's Acquire(ctx, n))",
            );
        }
        if c.timeout_ms > 0.0 {
            self.var(
                "timeout",
                duration(c.timeout_ms),
                "deadline for the whole run",
            );
        }
        if c.duration_ms > 0.0 {
            self.var(
                "duration",
                duration(c.duration_ms),
                "submit jobs for this long",
            );
        }
        if c.pattern == Pattern::RateLimit {
            self.var("jobsPerSecond", float(c.rate), "the producer's rate");
            if c.pacing == Pacing::Bucket {
                self.var("burst", c.burst.to_string(), "token bucket size");
            }
        }
        if self.open_loop() && c.overload == Overload::Shed {
            self.var(
                "shedAfter",
                duration(c.shed_after_ms),
                "longest a job may wait in the queue",
            );
        }
    }

    /// Notes for settings Go cannot repeat.
    fn unsupported(&mut self) {
        let c = self.config;
        if c.scaling == Scaling::Bottleneck {
            self.note(
                "scaling=bottleneck: Go's standard library cannot move a goroutine from one \
                 stage's pool to another's; this program keeps each stage's starting workers."
                    .to_string(),
            );
        } else if c.scaling != Scaling::Fixed && c.pattern != Pattern::FanOut {
            self.note(format!(
                "scaling={}: Go's standard library has no pool that resizes itself; this \
                 program keeps {} workers (in Go, ants' Tune or pond's resizable pools do this).",
                c.scaling.name(),
                c.workers
            ));
        }
    }

    fn vars_block(&self) -> String {
        let name_w = self.vars.iter().map(|v| v.0.len()).max().unwrap_or(0);
        let value_w = self.vars.iter().map(|v| v.1.len()).max().unwrap_or(0);
        let mut out = String::from("// The set-up, as scalelab validated it.\nvar (\n");
        for (name, value, comment) in &self.vars {
            writeln!(out, "\t{name:name_w$} = {value:value_w$} // {comment}").unwrap();
        }
        out.push_str(")\n");
        out
    }

    /// The outcomes, from scalelab's one list of them.
    fn outcomes_block(&self) -> String {
        let mut out = String::from(
            "// outcome is how a job ended: scalelab's outcomes, in the same order.\ntype outcome int\n\nconst (\n",
        );
        for (i, spec) in OUTCOMES.iter().enumerate() {
            if i == 0 {
                writeln!(out, "\t{} outcome = iota", spec.key).unwrap();
            } else {
                writeln!(out, "\t{}", spec.key).unwrap();
            }
        }
        writeln!(out, ")\n\nconst outcomes = {}", OUTCOMES.len()).unwrap();
        out
    }

    /// `print`, whose last line is the accounting line of the run's summary.
    fn print_fn(&self) -> String {
        let mut format = String::from("accounting: submitted=%d");
        let mut args = String::from("t.submitted");
        for spec in accounting_outcomes() {
            write!(format, " {}=%d", spec.key).unwrap();
            write!(args, ", t.counts[{}]", spec.key).unwrap();
        }
        format.push_str(" checksum=%d\\n");
        args.push_str(", t.checksum");
        let overload = if self.open_loop() {
            "\tfmt.Printf(\"overload: rejected=%d shed=%d\\n\", t.counts[rejected], t.counts[shed])\n"
        } else {
            ""
        };
        format!(
            "// print reports the run; its last line is scalelab's accounting line.\n\
             func (t *tally) print(elapsed time.Duration) {{\n\
             \tfmt.Printf(\"elapsed: %.3fms throughput=%.1f/s\\n\", float64(elapsed)/1e6,\n\
             \t\tfloat64(t.counts[completed])/elapsed.Seconds())\n\
             {overload}\
             \tfmt.Printf(\"{format}\", {args})\n\
             }}\n"
        )
    }

    fn planner_tail(&self) -> String {
        let raw = match self.config.distribution {
            Distribution::Fixed => "meanCost",
            Distribution::Uniform => {
                "meanCost * (1 + float64(spread*(float64(2*p.costs.unit())-1)))"
            }
            Distribution::Pareto => "paretoScale * math.Pow(p.costs.unitOpen(), -1/alpha)",
            Distribution::LogNormal => "math.Exp(lognormalMu + float64(sigma*p.costs.normal()))",
            Distribution::Exponential => "meanCost * p.costs.exp1()",
        };
        let offset = if self.config.workload == WorkKind::Primes {
            "\tp.offset += cost // prime ranges are contiguous\n"
        } else {
            ""
        };
        // Backend jobs draw a weight of 1…maxWeight slots (1 + ⌊u·maxWeight⌋).
        let weight = if self.config.workload == WorkKind::Backend && self.config.max_weight > 1 {
            "\tweight := 1 + int64(p.weights.unit()*float64(maxWeight))\n\
             \tif weight > maxWeight {\n\
             \t\tweight = maxWeight\n\
             \t}\n"
        } else {
            "\tweight := int64(1)\n"
        };
        format!(
            "\traw := {raw}\n\
             \tcost := uint64(math.Max(minCost, math.Min(maxCost, math.Round(raw))))\n\
             \tfails := failure > 0 && p.failures.unit() < failure\n\
             {weight}\
             \tj := job{{id: p.next, cost: cost, fails: fails, weight: weight, offset: p.offset}}\n\
             \tp.next++\n\
             {offset}\
             \treturn j\n\
             }}\n"
        )
    }

    fn kernel(&mut self) -> String {
        let work = match self.config.workload {
            WorkKind::Primes => parts::WORK_PRIMES,
            WorkKind::Sha256 => {
                self.imports.insert("crypto/sha256");
                self.imports.insert("encoding/binary");
                parts::WORK_SHA256
            }
            WorkKind::Mandelbrot => parts::WORK_MANDELBROT,
            WorkKind::Spin => parts::WORK_SPIN,
            WorkKind::Sleep => parts::WORK_SLEEP,
            WorkKind::Backend => {
                self.imports.insert("golang.org/x/sync/semaphore");
                parts::WORK_BACKEND
            }
        };
        if self.config.workload.is_cpu() {
            work.to_string()
        } else {
            format!("{}\n{work}", parts::TIMER_WAIT)
        }
    }

    /// `newSchedule`: the rate profile scalelab computed for this set-up.
    fn new_schedule(&mut self) -> String {
        let schedule = ArrivalSchedule::new(self.config).expect("an open-loop set-up");
        let (pieces, even) = schedule.profile();
        let mut segments = String::new();
        for (length, from, to) in pieces {
            writeln!(
                segments,
                "\t\t\t{{length: {}, from: {}, to: {}}},",
                float(length),
                float(from),
                float(to)
            )
            .unwrap();
        }
        let poisson = if even {
            "nil".to_string()
        } else {
            format!("newDraws(seed ^ {ARRIVAL_STREAM:#X})")
        };
        format!(
            "// newSchedule is this set-up's arrival schedule ({arrival}).\n\
             func newSchedule() *schedule {{\n\
             \treturn &schedule{{\n\
             \t\tsegments: []segment{{\n{segments}\t\t}},\n\
             \t\tpoisson: {poisson},\n\
             \t\tfirst:   true,\n\
             \t\tend:     {end},\n\
             \t}}\n\
             }}\n",
            arrival = self.config.arrival.name(),
            end = float(schedule.end_s()),
        )
    }

    fn context_lines(&self) -> String {
        if self.config.timeout_ms > 0.0 {
            "\tctx, cancel := context.WithTimeout(context.Background(), timeout)\n\tdefer cancel()\n"
                .into()
        } else {
            "\tctx, cancel := context.WithCancel(context.Background())\n\tdefer cancel()\n".into()
        }
    }

    fn main_fn(&mut self) -> String {
        match self.config.pattern {
            Pattern::Pool | Pattern::RateLimit => self.pool_main(),
            Pattern::FanOut => self.fan_out_main(),
            Pattern::FailFast => self.fail_fast_main(),
            Pattern::Pipeline => {
                let producer = self.producer();
                super::pipeline::main_fn(&self.config.pipeline.0, &self.context_lines(), &producer)
            }
        }
    }

    /// A pool of workers ranging over a jobs channel, fed by a producer (closed loop,
    /// paced or not) or an open-loop generator; results fan in to `main`.
    fn pool_main(&mut self) -> String {
        self.imports.insert("sync");
        let c = self.config;
        let worker_body = if self.open_loop() && c.overload == Overload::Shed {
            "\t\t\tfor j := range jobs {\n\
             \t\t\t\tif time.Since(j.queued) > shedAfter {\n\
             \t\t\t\t\tresults <- result{id: j.id, outcome: shed}\n\
             \t\t\t\t\tcontinue\n\
             \t\t\t\t}\n\
             \t\t\t\tresults <- runJob(ctx, j)\n\
             \t\t\t}\n"
        } else {
            "\t\t\tfor j := range jobs {\n\t\t\t\tresults <- runJob(ctx, j)\n\t\t\t}\n"
        };
        let (producer, call) = if self.open_loop() {
            (self.generator(), "generate(ctx, jobs, results)")
        } else {
            (self.producer(), "produce(ctx, jobs)")
        };
        format!(
            "{producer}\n\
             func main() {{\n\
             {context}\
             \tstart := time.Now()\n\
             \tjobs := make(chan job, queueCapacity)\n\
             \tresults := make(chan result, queueCapacity)\n\
             \tvar wg sync.WaitGroup\n\
             \tfor w := 0; w < workers; w++ {{\n\
             \t\twg.Add(1)\n\
             \t\tgo func() {{\n\
             \t\t\tdefer wg.Done()\n\
             {worker_body}\
             \t\t}}()\n\
             \t}}\n\
             \tvar submitted, unsent int\n\
             \tgo func() {{\n\
             \t\tsubmitted, unsent = {call}\n\
             \t\tclose(jobs)\n\
             \t\twg.Wait()\n\
             \t\tclose(results)\n\
             \t}}()\n\
             {collect}",
            context = self.context_lines(),
            collect = parts::COLLECT_RESULTS,
        )
    }

    /// The closed-loop producer: sends each job as soon as the channel takes the last,
    /// after its limiter (rate-limited pattern) lets it go.
    fn producer(&mut self) -> String {
        let c = self.config;
        let mut setup = String::new();
        let mut wait = String::new();
        let mut doc = String::from(
            "// produce plans and sends jobs until all are sent or the run is cancelled",
        );
        if c.duration_ms > 0.0 {
            doc.push_str(" or\n// its duration is up");
            setup.push_str("\tctx, stop := context.WithTimeout(ctx, duration)\n\tdefer stop()\n");
        }
        if c.pattern == Pattern::RateLimit {
            match c.pacing {
                Pacing::Bucket => {
                    self.imports.insert("golang.org/x/time/rate");
                    doc.push_str(", each job\n// after a token of x/time/rate's bucket");
                    setup.push_str(
                        "\tlimiter := rate.NewLimiter(rate.Limit(jobsPerSecond), burst)\n",
                    );
                    wait.push_str("\t\tif limiter.Wait(ctx) != nil {\n\t\t\tbreak\n\t\t}\n");
                }
                Pacing::Ticker => {
                    doc.push_str(", each job\n// on a tick of time.Ticker");
                    setup.push_str(
                        "\tticker := time.NewTicker(time.Duration(float64(time.Second) / jobsPerSecond))\n\tdefer ticker.Stop()\n",
                    );
                    wait.push_str(
                        "\t\tselect {\n\t\tcase <-ticker.C:\n\t\tcase <-ctx.Done():\n\t\t\tbreak loop\n\t\t}\n",
                    );
                }
            }
        }
        doc.push_str(
            ".\n// It returns the jobs submitted and those never sent (counted as not started).\n",
        );
        let (submitted, unsent) = self.submitted_and_unsent("sent");
        // A pipeline's channels carry a job and its stages' results.
        let (item, planned) = if c.pattern == Pattern::Pipeline {
            ("carried", "carried{j: p.plan()}")
        } else {
            ("job", "p.plan()")
        };
        format!(
            "{doc}func produce(ctx context.Context, jobs chan<- {item}) (int, int) {{\n\
             {setup}\
             \tp := newPlanner()\n\
             \tsent := 0\n\
             loop:\n\
             \tfor sent < jobCount {{\n\
             {wait}\
             \t\tselect {{\n\
             \t\tcase jobs <- {planned}:\n\
             \t\t\tsent++\n\
             \t\tcase <-ctx.Done():\n\
             \t\t\tbreak loop\n\
             \t\t}}\n\
             \t}}\n\
             \treturn {submitted}, {unsent}\n\
             }}\n"
        )
    }

    /// The open-loop generator: sends each job at its intended time whatever the pool
    /// does, and applies the overload policy when the queue is full.
    fn generator(&mut self) -> String {
        let c = self.config;
        let send = match c.overload {
            Overload::Block | Overload::Shed => {
                "\t\tj.queued = time.Now()\n\
                 \t\tselect {\n\
                 \t\tcase jobs <- j:\n\
                 \t\t\toffered++\n\
                 \t\tcase <-ctx.Done():\n\
                 \t\t\tbreak loop // a job never sent never entered the run\n\
                 \t\t}\n"
            }
            Overload::Reject => {
                "\t\toffered++\n\
                 \t\tselect {\n\
                 \t\tcase jobs <- j:\n\
                 \t\tdefault: // the queue is full: refuse the job (HTTP 503)\n\
                 \t\t\tresults <- result{id: j.id, outcome: rejected}\n\
                 \t\t}\n"
            }
            Overload::DropOldest if c.queue == 0 => {
                "\t\toffered++\n\
                 \t\tselect {\n\
                 \t\tcase jobs <- j:\n\
                 \t\tdefault: // an unbuffered queue has nothing older to drop\n\
                 \t\t\tresults <- result{id: j.id, outcome: shed}\n\
                 \t\t}\n"
            }
            Overload::DropOldest => {
                "\t\toffered++\n\
                 \tsend:\n\
                 \t\tfor {\n\
                 \t\t\tselect {\n\
                 \t\t\tcase jobs <- j:\n\
                 \t\t\t\tbreak send\n\
                 \t\t\tdefault: // the queue is full: drop the job that waited longest\n\
                 \t\t\t\tselect {\n\
                 \t\t\t\tcase old := <-jobs:\n\
                 \t\t\t\t\tresults <- result{id: old.id, outcome: shed}\n\
                 \t\t\t\tdefault:\n\
                 \t\t\t\t}\n\
                 \t\t\t}\n\
                 \t\t}\n"
            }
        };
        let (duration_setup, over) = if c.duration_ms > 0.0 {
            (
                "\tctx, stop := context.WithTimeout(ctx, duration)\n\tdefer stop()\n",
                "over || ctx.Err() != nil",
            )
        } else {
            ("", "over")
        };
        format!(
            "// generate sends each job at its intended time on the schedule, whatever the\n\
             // pool does (an open loop, as wrk2 and k6 do); when the queue is full it applies\n\
             // the overload policy ({policy}). It returns the jobs submitted and those never\n\
             // sent (counted as not started).\n\
             func generate(ctx context.Context, jobs chan job, results chan<- result) (int, int) {{\n\
             {duration_setup}\
             \tp, s := newPlanner(), newSchedule()\n\
             \tstart := time.Now()\n\
             \ttimer := time.NewTimer(0)\n\
             \tdefer timer.Stop()\n\
             \t<-timer.C\n\
             \toffered, over := 0, false\n\
             loop:\n\
             \tfor offered < jobCount {{\n\
             \t\tdue, ok := s.next()\n\
             \t\tif !ok {{\n\
             \t\t\tover = true\n\
             \t\t\tbreak\n\
             \t\t}}\n\
             \t\tif wait := time.Until(start.Add(due)); wait > 0 {{\n\
             \t\t\ttimer.Reset(wait)\n\
             \t\t\tselect {{\n\
             \t\t\tcase <-timer.C:\n\
             \t\t\tcase <-ctx.Done():\n\
             \t\t\t\tbreak loop\n\
             \t\t\t}}\n\
             \t\t}}\n\
             \t\tj := p.plan()\n\
             {send}\
             \t}}\n\
             \tif {over} {{\n\
             \t\treturn offered, 0\n\
             \t}}\n\
             \treturn jobCount, jobCount - offered\n\
             }}\n",
            policy = c.overload.name(),
        )
    }

    /// What the jobs submitted and those never sent are, given the loop's count of jobs
    /// sent: with a duration, only what was sent entered the run; a job-count run stopped
    /// early leaves the rest not started (as the engine counts them).
    fn submitted_and_unsent(&self, sent: &str) -> (String, String) {
        if self.config.duration_ms > 0.0 {
            (sent.to_string(), "0".to_string())
        } else {
            ("jobCount".to_string(), format!("jobCount - {sent}"))
        }
    }

    /// The condition that stops a loop starting a goroutine per job: its context is
    /// done, or the duration is up.
    fn stop_spawning(&self, ctx: &str) -> String {
        if self.config.duration_ms > 0.0 {
            format!("{ctx}.Err() != nil || time.Since(start) >= duration")
        } else {
            format!("{ctx}.Err() != nil")
        }
    }

    /// One goroutine per job; results fan in (in input order when `ordered`).
    fn fan_out_main(&mut self) -> String {
        self.imports.insert("sync");
        let c = self.config;
        let collect = if c.ordered {
            "\t// Hand results on in input order: each waits for every earlier job.\n\
             \tpending := map[int]result{}\n\
             \tnext := 0\n\
             \tfor r := range results {\n\
             \t\tpending[r.id] = r\n\
             \t\tfor r, ok := pending[next]; ok; r, ok = pending[next] {\n\
             \t\t\tdelete(pending, next)\n\
             \t\t\tt.add(r)\n\
             \t\t\tnext++\n\
             \t\t}\n\
             \t}\n"
        } else {
            "\tfor r := range results {\n\t\tt.add(r)\n\t}\n"
        };
        let stop = self.stop_spawning("ctx");
        let (submitted, unsent) = self.submitted_and_unsent("started");
        format!(
            "func main() {{\n\
             {context}\
             \tstart := time.Now()\n\
             \tresults := make(chan result)\n\
             \tvar wg sync.WaitGroup\n\
             \tp := newPlanner()\n\
             \tstarted := 0\n\
             \tfor ; started < jobCount; started++ {{\n\
             \t\tif {stop} {{\n\
             \t\t\tbreak\n\
             \t\t}}\n\
             \t\tj := p.plan()\n\
             \t\twg.Add(1)\n\
             \t\tgo func() {{\n\
             \t\t\tdefer wg.Done()\n\
             \t\t\tresults <- runJob(ctx, j)\n\
             \t\t}}()\n\
             \t}}\n\
             \tgo func() {{\n\
             \t\twg.Wait()\n\
             \t\tclose(results)\n\
             \t}}()\n\
             \tt := tally{{submitted: {submitted}}}\n\
             \tt.counts[notStarted] += {unsent}\n\
             {collect}\
             \tt.print(time.Since(start))\n\
             }}\n",
            context = self.context_lines(),
        )
    }

    /// errgroup with `SetLimit(workers)`: the first failure cancels the group's context
    /// and is what `Wait` returns.
    fn fail_fast_main(&mut self) -> String {
        self.imports.insert("sync");
        self.imports.insert("golang.org/x/sync/errgroup");
        let stop = self.stop_spawning("gctx");
        let (submitted, unsent) = self.submitted_and_unsent("started");
        format!(
            "func main() {{\n\
             {context}\
             \tstart := time.Now()\n\
             \tg, gctx := errgroup.WithContext(ctx)\n\
             \tg.SetLimit(workers)\n\
             \tvar mu sync.Mutex\n\
             \tvar t tally\n\
             \tp := newPlanner()\n\
             \tstarted := 0\n\
             \tfor ; started < jobCount; started++ {{\n\
             \t\tif {stop} {{\n\
             \t\t\tbreak\n\
             \t\t}}\n\
             \t\tj := p.plan()\n\
             \t\tg.Go(func() error {{\n\
             \t\t\tr := runJob(gctx, j)\n\
             \t\t\tmu.Lock()\n\
             \t\t\tt.add(r)\n\
             \t\t\tmu.Unlock()\n\
             \t\t\tif r.outcome == failed {{\n\
             \t\t\t\treturn fmt.Errorf(\"job %d failed\", j.id)\n\
             \t\t\t}}\n\
             \t\t\treturn nil\n\
             \t\t}})\n\
             \t}}\n\
             \tif err := g.Wait(); err != nil {{\n\
             \t\tfmt.Println(\"error:\", err)\n\
             \t}}\n\
             \tt.submitted = {submitted}\n\
             \tt.counts[notStarted] += {unsent}\n\
             \tt.print(time.Since(start))\n\
             }}\n",
            context = self.context_lines(),
        )
    }

    fn header(&self) -> String {
        let c = self.config;
        let setup: Vec<String> = c
            .to_fields()
            .into_iter()
            .filter(|(key, _)| relevant(c, key))
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        let mut lines = String::new();
        let mut line = String::from("//\t");
        for item in setup {
            if line.len() + item.len() > 84 && line.len() > 2 {
                lines.push_str(line.trim_end());
                lines.push('\n');
                line = String::from("//\t");
            }
            line.push_str(&item);
            line.push(' ');
        }
        lines.push_str(line.trim_end());
        lines.push('\n');
        let mut notes = String::new();
        for note in &self.notes {
            notes.push_str("//\n");
            for chunk in wrap(&format!("Note: {note}"), 84) {
                writeln!(notes, "// {chunk}").unwrap();
            }
        }
        let modules = if self.imports.iter().any(|i| i.starts_with("golang.org/")) {
            "go mod init example && go mod tidy && go run ."
        } else {
            "go run main.go"
        };
        format!(
            "// Command main is generated by scalelab from this set-up:\n\
             //\n\
             {lines}\
             //\n\
             // It plans the same jobs as scalelab (xoshiro256++ from the seed, the same cost\n\
             // distribution and failures), runs them with the same Go pattern, and ends with\n\
             // the accounting line of scalelab's summary; with no deadline, the counts and\n\
             // the checksum (the wrapping sum of completed jobs' results) are the same.\n\
             {notes}\
             //\n\
             // Run it (Go 1.19 or later; checked with Go 1.19 and 1.23):\n\
             //\n\
             //\t{modules}\n\
             package main\n\n"
        )
    }

    fn imports_block(&self) -> String {
        let (std, x): (Vec<&str>, Vec<&str>) = self
            .imports
            .iter()
            .copied()
            .partition(|i| !i.starts_with("golang.org/"));
        let mut out = String::from("import (\n");
        for i in std {
            writeln!(out, "\t\"{i}\"").unwrap();
        }
        if !x.is_empty() {
            out.push('\n');
            for i in x {
                writeln!(out, "\t\"{i}\"").unwrap();
            }
        }
        out.push_str(")\n\n");
        out
    }
}

/// Whether a setting matters for this set-up (the header lists only those).
fn relevant(c: &RunConfig, key: &str) -> bool {
    let open = c.arrival.is_open();
    let pipeline = c.pattern == Pattern::Pipeline;
    match key {
        "pipeline" => pipeline,
        // A pipeline's stages have their own workloads, costs, pools and queues.
        "workers" | "queue" | "workload" | "cost" | "distribution" | "spread" | "alpha"
        | "sigma"
            if pipeline =>
        {
            false
        }
        "spread" => c.distribution == Distribution::Uniform,
        "alpha" => c.distribution == Distribution::Pareto,
        "sigma" => c.distribution == Distribution::LogNormal,
        "ordered" => c.pattern == Pattern::FanOut,
        "pacing" | "rate" => c.pattern == Pattern::RateLimit,
        "burst" => c.pattern == Pattern::RateLimit && c.pacing == Pacing::Bucket,
        "minWorkers" | "maxWorkers" | "scaleTarget" | "scaleOn" => {
            !matches!(c.scaling, Scaling::Fixed | Scaling::Bottleneck)
        }
        "cooldown" => c.scaling != Scaling::Fixed,
        "arrivalRate" | "overload" => open,
        "stages" => open && c.arrival == Arrival::Stages,
        "spikeRate" | "spikeAt" | "spikeFor" => open && c.arrival == Arrival::Spike,
        "shedAfter" => open && c.overload == Overload::Shed,
        "backendSlots" | "maxWeight" => c.workload == WorkKind::Backend,
        _ => true,
    }
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
