//! Overly complex coordination: a hand-rolled state machine against errgroup. The
//! hand-rolled way starts a goroutine per job, each sending its result on an
//! unbuffered `results` channel or its error on `errc`, and a coordinator that counts
//! results in a `select` over both and the context:
//!
//! ```go
//! for count := 0; count < n; {
//!     select {
//!     case <-results: count++
//!     case err := <-errc: return err   // the goroutines still running block forever
//!     case <-ctx.Done(): return ctx.Err()
//!     }
//! }
//! ```
//!
//! The first error (or the deadline) returns early, and every goroutine that finishes
//! after that blocks forever on its send: nobody receives any more. The same work with
//! `errgroup.WithContext` cancels the others at the first error and `Wait` returns only
//! when every goroutine has ended — none is left behind. The lab runs both on the same
//! seeded jobs (which fail, and when, is the seed's), finds the goroutines blocked on a
//! channel nobody reads, reports the interleaving that left them there, and cleans up.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures::future::{Either, join_all, select};

use super::Lab;
use crate::engine::outcome::Outcome;
use crate::engine::runtime::Runtime;
use crate::errgroup::Group;
use crate::workload::plan::Planner;

/// Go's unbuffered channel for goroutines that are futures on one thread: a send
/// completes only when a receiver takes the value. Any number of senders may wait.
struct Unbuffered<T> {
    state: Rc<RefCell<Rendezvous<T>>>,
}

struct Rendezvous<T> {
    /// Values offered by blocked senders, oldest first, with the sender's number.
    offered: VecDeque<(u64, T)>,
    taken: Vec<u64>,
    senders: Vec<(u64, Waker)>,
    receiver: Option<Waker>,
    closed: bool,
    next: u64,
}

impl<T> Unbuffered<T> {
    fn new() -> Self {
        Unbuffered {
            state: Rc::new(RefCell::new(Rendezvous {
                offered: VecDeque::new(),
                taken: Vec::new(),
                senders: Vec::new(),
                receiver: None,
                closed: false,
                next: 0,
            })),
        }
    }

    /// `ch <- value`: done once a receiver took it; `false` if the channel closed first
    /// (the lab's clean-up; a Go program would block forever).
    async fn send(&self, value: T) -> bool {
        let me = {
            let mut s = self.state.borrow_mut();
            let me = s.next;
            s.next += 1;
            s.offered.push_back((me, value));
            if let Some(receiver) = s.receiver.take() {
                receiver.wake();
            }
            me
        };
        poll_fn(|cx| {
            let mut s = self.state.borrow_mut();
            if let Some(at) = s.taken.iter().position(|&id| id == me) {
                s.taken.swap_remove(at);
                return Poll::Ready(true);
            }
            if s.closed {
                s.offered.retain(|(id, _)| *id != me);
                return Poll::Ready(false);
            }
            s.senders.retain(|(id, _)| *id != me);
            s.senders.push((me, cx.waker().clone()));
            Poll::Pending
        })
        .await
    }

    /// `<-ch`: the oldest offered value, waiting for one; `None` once closed.
    async fn recv(&self) -> Option<T> {
        poll_fn(|cx| {
            let mut s = self.state.borrow_mut();
            if let Some((id, value)) = s.offered.pop_front() {
                s.taken.push(id);
                if let Some(at) = s.senders.iter().position(|(sid, _)| *sid == id) {
                    s.senders.swap_remove(at).1.wake();
                }
                return Poll::Ready(Some(value));
            }
            if s.closed {
                return Poll::Ready(None);
            }
            s.receiver = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Senders blocked on this channel now.
    fn blocked_senders(&self) -> usize {
        self.state.borrow().offered.len()
    }

    fn close(&self) {
        let mut s = self.state.borrow_mut();
        s.closed = true;
        for (_, waker) in s.senders.drain(..) {
            waker.wake();
        }
        if let Some(receiver) = s.receiver.take() {
            receiver.wake();
        }
    }
}

/// What the coordinator returned with.
enum Returned {
    AllDone,
    Failed { job: u32, at_ms: f64, running: u32 },
    Deadline { at_ms: f64, running: u32 },
}

/// The hand-rolled way (see the module documentation).
pub(crate) async fn hand_rolled<R: Runtime>(lab: &Lab<'_, R>) -> Option<String> {
    let total = lab.config.jobs;
    let results = Unbuffered::<u32>::new();
    let errc = Unbuffered::<u32>::new();
    let mut planner = Planner::new(&lab.config.as_run());
    let goroutines: Vec<_> = (0..total)
        .map(|_| {
            let job = planner.next_job();
            let (results, errc) = (&results, &errc);
            lab.go(async move {
                // The job's own work honours the context, as it should; the trouble
                // is the send after it.
                match lab.work_with(job, Some(&lab.ctx)).await {
                    Outcome::Failed => errc.send(job.id).await,
                    _ => results.send(job.id).await,
                };
            })
        })
        .collect();
    let coordinator = async {
        let mut count = 0;
        while count < total {
            let event = select(
                Box::pin(select(Box::pin(results.recv()), Box::pin(errc.recv()))),
                Box::pin(lab.ctx.cancelled()),
            )
            .await;
            match event {
                Either::Left((Either::Left((Some(_), _)), _)) => count += 1,
                Either::Left((Either::Right((Some(job), _)), _)) => {
                    return Returned::Failed {
                        job,
                        at_ms: lab.now_ms(),
                        running: lab.running(),
                    };
                }
                Either::Left(_) => return Returned::AllDone,
                Either::Right(_) => {
                    return Returned::Deadline {
                        at_ms: lab.now_ms(),
                        running: lab.running(),
                    };
                }
            }
        }
        Returned::AllDone
    };
    let everyone = join_all(goroutines);
    let mut everyone = Box::pin(everyone);
    // The program: the coordinator returns; main would go on with its error. The lab
    // keeps the goroutines going until each has ended or is stuck on a send.
    let returned = match select(Box::pin(coordinator), everyone.as_mut()).await {
        Either::Left((returned, _)) => returned,
        Either::Right((_, coordinator)) => coordinator.await,
    };
    let stuck = async {
        loop {
            let blocked = results.blocked_senders() + errc.blocked_senders();
            if lab.running() == 0 && blocked as u32 == lab.alive() && blocked > 0 {
                return blocked as u32;
            }
            lab.rt.sleep(super::SAMPLE_INTERVAL).await;
        }
    };
    let found = match select(everyone.as_mut(), Box::pin(stuck)).await {
        Either::Left(_) => None,
        Either::Right((leaked, _)) => Some(leaked),
    };
    // Clean up, as a Go program cannot: closing the channels fails the blocked sends.
    results.close();
    errc.close();
    everyone.await;
    let leaked = found?;
    let why = match returned {
        Returned::Failed {
            job,
            at_ms,
            running,
        } => format!(
            "job {job} failed at {at_ms:.1} ms while {running} other job(s) ran: the coordinator \
             returned its error (`case err := <-errc: return err`), so nobody receives any more"
        ),
        Returned::Deadline { at_ms, running } => format!(
            "the deadline passed at {at_ms:.1} ms while {running} job(s) ran: the coordinator \
             returned `ctx.Err()`, so nobody receives any more"
        ),
        Returned::AllDone => "the coordinator stopped receiving".to_owned(),
    };
    Some(format!(
        "{why}; {leaked} goroutine(s) finished after that and blocked forever on an unbuffered \
         send (`results <- r` or `errc <- err`): leaked. The lab closed the channels to end the \
         program."
    ))
}

/// The same work with `errgroup.WithContext`: the first error cancels the rest, and
/// `Wait` returns when every goroutine has ended.
pub(crate) async fn errgroup<R: Runtime>(lab: &Lab<'_, R>) -> Option<String> {
    let (mut group, ctx) = Group::<u32>::with_context(&lab.ctx);
    let mut planner = Planner::new(&lab.config.as_run());
    for _ in 0..lab.config.jobs {
        let job = planner.next_job();
        let ctx = ctx.clone();
        group
            .go(lab.go(async move {
                match lab.work_with(job, Some(&ctx)).await {
                    Outcome::Failed => Err(job.id),
                    _ => Ok(()),
                }
            }))
            .await;
    }
    let _first_error = group.wait().await;
    // Nothing can be left: `wait` returned, so every goroutine ended.
    debug_assert_eq!(lab.alive(), 0);
    None
}
