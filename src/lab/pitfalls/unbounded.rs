//! Unbounded goroutines: `for _, job := range jobs { go work(job) }` keeps every job's
//! goroutine — and its stack — alive from the moment it is started, while the cores
//! can only run a few at a time. A pool of `workers` goroutines holds only theirs.

use futures::future::join_all;

use super::Lab;
use crate::engine::chan::{JobChannel, Received};
use crate::engine::runtime::Runtime;
use crate::workload::plan::Planner;

use std::sync::Arc;

/// The wrong way: a goroutine per job, all started at once.
pub(crate) async fn goroutine_per_job<R: Runtime>(lab: &Lab<'_, R>) -> Option<String> {
    let mut planner = Planner::new(&lab.config.as_run());
    let jobs: Vec<_> = (0..lab.config.jobs).map(|_| planner.next_job()).collect();
    join_all(jobs.into_iter().map(|job| lab.go(lab.work(job, true)))).await;
    None
}

/// The right way: a producer and `workers` goroutines ranging over a bounded channel.
pub(crate) async fn pool<R: Runtime>(lab: &Lab<'_, R>) -> Option<String> {
    let jobs = Arc::new(JobChannel::new(lab.config.queue as usize, |_| {}));
    let producer = async {
        let mut planner = Planner::new(&lab.config.as_run());
        for _ in 0..lab.config.jobs {
            if jobs.send(planner.next_job()).await.is_err() {
                break;
            }
        }
        jobs.close();
    };
    let workers = (0..lab.config.workers).map(|_| {
        lab.go(async {
            while let Received::Job(job) = jobs.recv().await {
                lab.work(job, true).await;
            }
        })
    });
    futures::join!(producer, join_all(workers));
    None
}
