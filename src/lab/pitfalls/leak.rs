//! Channel leaks. A producer that sends every job but never closes the channel leaves
//! every worker blocked in `for job := range jobs`, and `wg.Wait()` never returns;
//! consumers that stop early leave the producer blocked on `jobs <- job`. Go finds the
//! first as "all goroutines are asleep - deadlock!" (or simply hangs in a bigger
//! program); here the lab finds both the same way — every goroutine blocked on a
//! channel nobody will use again — says why, and cleans up so the program can end.

use std::sync::Arc;

use futures::future::{Either, join_all, select};

use super::{Lab, Program};
use crate::engine::chan::{JobChannel, Received};
use crate::engine::runtime::Runtime;
use crate::workload::plan::Planner;

/// A producer and `workers` consumers over a channel, leaking as the program says.
pub(crate) async fn producer_and_consumers<R: Runtime>(lab: &Lab<'_, R>) -> Option<String> {
    let program = lab.config.program;
    let total = lab.config.jobs;
    let jobs = Arc::new(JobChannel::new(lab.config.queue as usize, |_| {}));
    let sent = std::cell::Cell::new(0u32);
    let producer = lab.go(async {
        let mut planner = Planner::new(&lab.config.as_run());
        for _ in 0..total {
            if jobs.send(planner.next_job()).await.is_err() {
                break;
            }
            sent.set(sent.get() + 1);
        }
        if program != Program::NeverCloses {
            jobs.close(); // the line the leaky producer forgets
        }
    });
    let consumers = (0..lab.config.workers).map(|_| {
        lab.go(async {
            loop {
                // The leaky consumers give up half-way, without telling anyone.
                if program == Program::ConsumersStop && lab.started() >= total as usize / 2 {
                    return;
                }
                match jobs.recv().await {
                    Received::Job(job) => lab.work(job, true).await,
                    Received::Closed | Received::Retire => return,
                }
            }
        })
    });
    let everyone = async { futures::join!(producer, join_all(consumers)) };
    let detector = async {
        loop {
            lab.rt.sleep(super::SAMPLE_INTERVAL).await;
            if let Some(message) = deadlock(lab, &jobs) {
                return message;
            }
        }
    };
    let found = match select(Box::pin(everyone), Box::pin(detector)).await {
        Either::Left(_) => None,
        Either::Right((message, rest)) => {
            // Clean up, as a Go program cannot: closing the channel wakes the receivers
            // (they see it closed) and refuses the blocked send; everyone can end.
            jobs.close();
            rest.await;
            Some(message)
        }
    };
    let unsent = total - sent.get();
    let drained = jobs.drain().len() as u32;
    lab.never_ran(unsent + drained);
    found
}

/// The leak, once every goroutine is asleep on a channel nobody will touch again.
fn deadlock<R: Runtime>(
    lab: &Lab<'_, R>,
    jobs: &JobChannel<crate::workload::plan::JobSpec>,
) -> Option<String> {
    let (total, workers) = (lab.config.jobs, lab.config.workers);
    match lab.config.program {
        Program::NeverCloses
            if lab.done() == total
                && jobs.waiting_receivers() as u32 == workers
                && !jobs.is_closed() =>
        {
            Some(format!(
                "every job is done, but the producer never closed the channel: {workers} workers wait \
                 forever in `for job := range jobs`, and wg.Wait() never returns (Go: \"all goroutines \
                 are asleep - deadlock!\"). The lab closed the channel to end the program."
            ))
        }
        // Only the producer is left, blocked on a send.
        Program::ConsumersStop if lab.alive() == 1 && jobs.has_blocked_send() => Some(format!(
            "the consumers stopped after {} jobs: the producer is blocked forever on `jobs <- job`, \
             and {} jobs will never run. The lab closed the channel to end the program.",
            lab.started(),
            total - lab.done()
        )),
        _ => None,
    }
}
