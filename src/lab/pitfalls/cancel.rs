//! Ignoring cancellation: workers that never look at `ctx.Done()` keep going after a
//! cancel or a deadline — the jobs they hold run to the end, and they keep taking the
//! jobs already queued. Workers that check the context between jobs and inside each
//! job (the kernels poll it between chunks) stop within a chunk.

use std::sync::Arc;

use futures::future::join_all;

use super::Lab;
use crate::engine::chan::{JobChannel, Received};
use crate::engine::runtime::Runtime;
use crate::workload::plan::Planner;

/// A producer that stops at the deadline, and `workers` consumers that honour the
/// context (`careful`) or not.
pub(crate) async fn pool<R: Runtime>(lab: &Lab<'_, R>, careful: bool) -> Option<String> {
    let jobs = Arc::new(JobChannel::new(lab.config.queue as usize, |_| {}));
    let sent = std::cell::Cell::new(0u32);
    let producer = async {
        let mut planner = Planner::new(&lab.config.as_run());
        for _ in 0..lab.config.jobs {
            // select { case jobs <- job: case <-ctx.Done(): return }
            let send = jobs.send(planner.next_job());
            match futures::future::select(send, lab.ctx.cancelled()).await {
                futures::future::Either::Left((Ok(()), _)) => sent.set(sent.get() + 1),
                _ => break,
            }
        }
        jobs.close();
    };
    let workers = (0..lab.config.workers).map(|_| {
        lab.go(async {
            loop {
                // The careful worker: `select { case <-ctx.Done(): return; default: }`.
                if careful && lab.ctx.is_cancelled() {
                    return;
                }
                match jobs.recv().await {
                    Received::Job(job) => lab.work(job, careful).await,
                    Received::Closed | Received::Retire => return,
                }
            }
        })
    });
    futures::join!(producer, join_all(workers));
    let left = lab.config.jobs - sent.get() + jobs.drain().len() as u32;
    lab.never_ran(left);
    None
}
