//! The pipeline pattern in Go: a stage is a function that starts its pool of
//! goroutines ranging over its input channel, sends each job on to the next stage's
//! channel, and closes that channel once its workers have returned (`wg.Wait()`) — the
//! pipeline of Go's blog post "Go Concurrency Patterns: Pipelines and cancellation",
//! with a pool per stage. It mirrors `crate::engine::pipeline`: a job planned to fail
//! fails at stage 1; after a cancel, stage 1 starts nothing and later stages end what
//! reaches them as cancelled.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::parts;
use crate::engine::config::WorkKind;
use crate::settings::Choice as _;
use crate::workload::pipeline::StageSpec;

/// The Go function name of a stage workload's kernel.
fn work_fn(kind: WorkKind) -> String {
    let name = kind.name();
    format!("work{}{}", name[..1].to_uppercase(), &name[1..])
}

/// Each distinct stage workload's kernel, renamed to [`work_fn`]; adds the imports
/// they need to `imports`.
pub fn kernels(stages: &[StageSpec], imports: &mut BTreeSet<&'static str>) -> String {
    let kinds: BTreeSet<&'static str> = stages.iter().map(|s| s.workload.name()).collect();
    let mut out: Vec<String> = Vec::new();
    let mut timer = false;
    for name in kinds {
        let kind = WorkKind::from_name(name).expect("a stage's workload");
        let part = match kind {
            WorkKind::Primes => parts::WORK_PRIMES,
            WorkKind::Sha256 => {
                imports.insert("crypto/sha256");
                imports.insert("encoding/binary");
                parts::WORK_SHA256
            }
            WorkKind::Mandelbrot => parts::WORK_MANDELBROT,
            WorkKind::Spin => parts::WORK_SPIN,
            WorkKind::Sleep => {
                timer = true;
                parts::WORK_SLEEP
            }
            WorkKind::Backend => unreachable!("a backend cannot be a stage (validated)"),
        };
        let renamed = part
            .replace("func work(", &format!("func {}(", work_fn(kind)))
            .replace("// work ", &format!("// {} ", work_fn(kind)));
        out.push(renamed);
    }
    if timer {
        out.push(parts::TIMER_WAIT.to_string());
    }
    out.join("\n")
}

/// The stage table, `runStage` and `main`. `context` opens the run's context;
/// `producer` is `produce(ctx, jobs chan<- carried)`.
pub fn main_fn(stages: &[StageSpec], context: &str, producer: &str) -> String {
    let mut table = String::new();
    for (index, stage) in stages.iter().enumerate() {
        writeln!(
            table,
            "\t{{name: \"{}\", work: {}, cost: {}, workers: {}, queue: {}}},",
            stage.name(index),
            work_fn(stage.workload),
            stage.cost,
            stage.workers,
            stage.queue
        )
        .unwrap();
    }
    format!(
        "// carried is a job between stages, with the sum of its stages' results so far.\n\
         type carried struct {{\n\
         \tj     job\n\
         \tvalue uint64\n\
         }}\n\
         \n\
         // stage is one stage of the pipeline: its work on every job (cost units each), its\n\
         // worker goroutines, and the buffer of the channel in front of it.\n\
         type stage struct {{\n\
         \tname    string\n\
         \twork    func(context.Context, job) (uint64, error)\n\
         \tcost    uint64\n\
         \tworkers int\n\
         \tqueue   int\n\
         }}\n\
         \n\
         var stages = []stage{{\n\
         {table}\
         }}\n\
         \n\
         // runStage runs stage s: its workers range over in and send each job on to out,\n\
         // or end it (the last stage; a job that fails, at stage 1). Once they have all\n\
         // returned it closes out (after the last stage: results).\n\
         func runStage(ctx context.Context, s int, in <-chan carried, out chan<- carried, results chan<- result) {{\n\
         \tst := stages[s]\n\
         \tvar wg sync.WaitGroup\n\
         \tfor w := 0; w < st.workers; w++ {{\n\
         \t\twg.Add(1)\n\
         \t\tgo func() {{\n\
         \t\t\tdefer wg.Done()\n\
         \t\t\tfor c := range in {{\n\
         \t\t\t\tif ctx.Err() != nil {{\n\
         \t\t\t\t\tif s == 0 {{\n\
         \t\t\t\t\t\tresults <- result{{id: c.j.id, outcome: notStarted}}\n\
         \t\t\t\t\t}} else {{\n\
         \t\t\t\t\t\tresults <- result{{id: c.j.id, outcome: cancelled}}\n\
         \t\t\t\t\t}}\n\
         \t\t\t\t\tcontinue\n\
         \t\t\t\t}}\n\
         \t\t\t\tsj := c.j\n\
         \t\t\t\tsj.cost = st.cost\n\
         \t\t\t\tsj.offset = uint64(sj.id) * st.cost // a primes stage counts its own ranges\n\
         \t\t\t\tvalue, err := st.work(ctx, sj)\n\
         \t\t\t\tif err != nil {{\n\
         \t\t\t\t\tresults <- result{{id: c.j.id, outcome: cancelled}}\n\
         \t\t\t\t\tcontinue\n\
         \t\t\t\t}}\n\
         \t\t\t\tc.value += value\n\
         \t\t\t\tswitch {{\n\
         \t\t\t\tcase s == 0 && c.j.fails:\n\
         \t\t\t\t\tresults <- result{{id: c.j.id, outcome: failed, value: c.value}}\n\
         \t\t\t\tcase out == nil:\n\
         \t\t\t\t\tresults <- result{{id: c.j.id, outcome: completed, value: c.value}}\n\
         \t\t\t\tdefault:\n\
         \t\t\t\t\tout <- c\n\
         \t\t\t\t}}\n\
         \t\t\t}}\n\
         \t\t}}()\n\
         \t}}\n\
         \twg.Wait()\n\
         \tif out != nil {{\n\
         \t\tclose(out)\n\
         \t}} else {{\n\
         \t\tclose(results)\n\
         \t}}\n\
         }}\n\
         \n\
         {producer}\n\
         func main() {{\n\
         {context}\
         \tstart := time.Now()\n\
         \tresults := make(chan result, 64)\n\
         \tjobs := make(chan carried, stages[0].queue)\n\
         \tvar submitted, unsent int\n\
         \tgo func() {{\n\
         \t\tsubmitted, unsent = produce(ctx, jobs)\n\
         \t\tclose(jobs)\n\
         \t}}()\n\
         \tin := jobs\n\
         \tfor s := range stages {{\n\
         \t\tvar out chan carried\n\
         \t\tif s+1 < len(stages) {{\n\
         \t\t\tout = make(chan carried, stages[s+1].queue)\n\
         \t\t}}\n\
         \t\tgo runStage(ctx, s, in, out, results)\n\
         \t\tin = out\n\
         \t}}\n\
         {collect}",
        collect = parts::COLLECT_RESULTS,
    )
}
