use super::*;
use futures::FutureExt;
use std::sync::atomic::{AtomicUsize, Ordering};

type Chan = JobChannel<u32>;

fn channel(capacity: usize) -> (Arc<Chan>, Arc<Mutex<Vec<u32>>>) {
    let enqueued = Arc::new(Mutex::new(Vec::new()));
    let log = enqueued.clone();
    (
        Arc::new(JobChannel::new(capacity, move |job: &mut u32| {
            log.lock().unwrap().push(*job)
        })),
        enqueued,
    )
}

/// A parked receiver that records what it got.
fn recorder(into: &Arc<Mutex<Vec<Received<u32>>>>) -> impl FnOnce() -> Parked<u32> + use<> {
    let into = into.clone();
    move || Box::new(move |value| into.lock().unwrap().push(value))
}

#[test]
fn buffered_sends_fill_then_block_and_keep_fifo_order() {
    let (ch, enqueued) = channel(2);
    assert_eq!(ch.send(1).now_or_never(), Some(Ok(())));
    assert_eq!(ch.send(2).now_or_never(), Some(Ok(())));
    let mut third = ch.send(3).boxed();
    assert!(
        (&mut third).now_or_never().is_none(),
        "a full channel blocks the sender"
    );
    assert_eq!(ch.len(), 2);
    assert!(!ch.is_empty());
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(1)));
    assert_eq!(third.now_or_never(), Some(Ok(())), "the receive made room");
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(2)));
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(3)));
    assert!(ch.is_empty());
    assert_eq!(*enqueued.lock().unwrap(), vec![1, 2, 3]);
}

#[test]
fn unbuffered_send_completes_only_on_hand_off() {
    let (ch, enqueued) = channel(0);
    let mut send = ch.send(7).boxed();
    assert!((&mut send).now_or_never().is_none());
    assert!(enqueued.lock().unwrap().is_empty(), "nothing entered yet");
    assert_eq!(ch.len(), 0);
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(7)));
    assert_eq!(send.now_or_never(), Some(Ok(())));
    assert_eq!(*enqueued.lock().unwrap(), vec![7]);
}

#[test]
fn waiting_receivers_get_values_handed_directly() {
    let (ch, _) = channel(4);
    let got = Arc::new(Mutex::new(Vec::new()));
    assert_eq!(ch.recv_or_park(recorder(&got)), None);
    assert_eq!(ch.recv_or_park(recorder(&got)), None);
    assert_eq!(ch.waiting_receivers(), 2);
    assert_eq!(ch.send(1).now_or_never(), Some(Ok(())));
    assert_eq!(ch.len(), 0, "handed over, never buffered");
    assert_eq!(*got.lock().unwrap(), vec![Received::Job(1)]);
    ch.close();
    assert_eq!(
        *got.lock().unwrap(),
        vec![Received::Job(1), Received::Closed]
    );
}

#[test]
fn close_drains_the_buffer_first_then_reports_closed() {
    let (ch, _) = channel(4);
    for job in 0..3 {
        assert_eq!(ch.send(job).now_or_never(), Some(Ok(())));
    }
    assert!(!ch.is_closed());
    ch.close();
    assert!(ch.is_closed());
    assert_eq!(ch.send(9).now_or_never(), Some(Err(SendOnClosed)));
    let received: Vec<Received<u32>> = (0..4)
        .map(|_| ch.recv_or_park(|| unreachable!()).unwrap())
        .collect();
    assert_eq!(
        received,
        vec![
            Received::Job(0),
            Received::Job(1),
            Received::Job(2),
            Received::Closed
        ]
    );
}

#[test]
fn dropping_a_blocked_send_withdraws_its_value() {
    let (ch, enqueued) = channel(0);
    let mut send = ch.send(5).boxed();
    assert!((&mut send).now_or_never().is_none());
    drop(send);
    let got = Arc::new(Mutex::new(Vec::new()));
    assert_eq!(ch.recv_or_park(recorder(&got)), None, "nothing to receive");
    assert!(enqueued.lock().unwrap().is_empty());
}

#[test]
fn async_receive_and_drop_rules() {
    let (ch, _) = channel(1);
    let mut recv = ch.recv();
    assert!((&mut recv).now_or_never().is_none());
    assert_eq!(ch.waiting_receivers(), 1);
    drop(recv);
    assert_eq!(ch.waiting_receivers(), 0, "a dropped receive unparks");

    // Handed a value, then dropped before taking it: the value goes back.
    let mut recv = ch.recv();
    assert!((&mut recv).now_or_never().is_none());
    assert_eq!(ch.send(3).now_or_never(), Some(Ok(())));
    drop(recv);
    assert_eq!(ch.drain(), vec![3]);

    let mut recv = ch.recv();
    assert!((&mut recv).now_or_never().is_none());
    assert_eq!(ch.send(4).now_or_never(), Some(Ok(())));
    assert_eq!(recv.now_or_never(), Some(Received::Job(4)));
}

#[test]
fn every_value_is_delivered_exactly_once_across_threads() {
    const JOBS: u32 = 20_000;
    const RECEIVERS: usize = 4;
    let (ch, _) = channel(3);
    let counts: Arc<Vec<AtomicUsize>> = Arc::new((0..JOBS).map(|_| AtomicUsize::new(0)).collect());
    let closed = Arc::new(AtomicUsize::new(0));

    // Each receiver loops on its own thread; when it must park, its callback sends a
    // message that resumes the loop (the shape of a CPU worker re-spawned by the pool).
    let handles: Vec<_> = (0..RECEIVERS)
        .map(|_| {
            let (ch, counts, closed) = (ch.clone(), counts.clone(), closed.clone());
            std::thread::spawn(move || {
                let (wake_tx, wake_rx) = std::sync::mpsc::channel::<Received<u32>>();
                loop {
                    let tx = wake_tx.clone();
                    let value =
                        match ch.recv_or_park(move || Box::new(move |v| tx.send(v).unwrap())) {
                            Some(v) => v,
                            None => wake_rx.recv().unwrap(),
                        };
                    match value {
                        Received::Job(job) => {
                            counts[job as usize].fetch_add(1, Ordering::SeqCst);
                        }
                        Received::Closed => {
                            closed.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                        Received::Retire => unreachable!("no pool: nobody is retired"),
                    }
                }
            })
        })
        .collect();
    futures::executor::block_on(async {
        for job in 0..JOBS {
            ch.send(job).await.unwrap();
        }
    });
    ch.close();
    for h in handles {
        h.join().unwrap();
    }
    assert!(
        counts.iter().all(|c| c.load(Ordering::SeqCst) == 1),
        "a value was lost or duplicated"
    );
    assert_eq!(closed.load(Ordering::SeqCst), RECEIVERS);
}

#[test]
fn withdrawing_a_send_takes_back_a_blocked_value_but_not_a_taken_one() {
    let (ch, enqueued) = channel(1);
    assert_eq!(ch.send(1).now_or_never(), Some(Ok(())));
    // Blocked on a full buffer, then given up: the value never entered.
    let mut blocked = ch.send(2);
    assert!(Pin::new(&mut blocked).poll(&mut noop_cx()).is_pending());
    assert_eq!(blocked.withdraw(), SendFate::Withdrawn(2));
    assert!(!ch.has_blocked_send());
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(1)));
    assert_eq!(ch.len(), 0, "job 2 is not in the channel");
    // Blocked, then a receive moves it into the buffer before it is given up: sent.
    assert_eq!(ch.send(3).now_or_never(), Some(Ok(())));
    let mut moved = ch.send(4);
    assert!(Pin::new(&mut moved).poll(&mut noop_cx()).is_pending());
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(3)));
    assert_eq!(moved.withdraw(), SendFate::Sent);
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(4)));
    // A send never polled was never in the channel.
    assert_eq!(ch.send(5).withdraw(), SendFate::Withdrawn(5));
    assert_eq!(*enqueued.lock().unwrap(), vec![1, 3, 4]);
}

fn noop_cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// A receive future that was handed a value and then dropped, as a cancelled run's I/O
/// worker is: returns the future (already parked and handed `job`).
fn handed_and_dropped_later(ch: &Arc<Chan>, job: u32) -> RecvJob<u32, fn() -> bool> {
    let mut recv = ch.recv();
    let waker = futures::task::noop_waker();
    assert!(
        Pin::new(&mut recv)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    assert_eq!(
        ch.send(job).now_or_never(),
        Some(Ok(())),
        "handed to the parked future"
    );
    recv
}

#[test]
fn a_value_given_back_goes_to_a_waiting_receiver_first() {
    let (ch, enqueued) = channel(4);
    let recv = handed_and_dropped_later(&ch, 9);
    let got = Arc::new(Mutex::new(Vec::new()));
    assert_eq!(
        ch.recv_or_park(recorder(&got)),
        None,
        "the buffer is empty: it parks"
    );
    drop(recv);
    assert_eq!(
        *got.lock().unwrap(),
        vec![Received::Job(9)],
        "not left in the buffer"
    );
    assert_eq!(ch.len(), 0);
    assert_eq!(*enqueued.lock().unwrap(), vec![9], "entered once");
}

#[test]
fn a_value_given_back_to_a_full_buffer_keeps_the_blocked_send_out() {
    let (ch, enqueued) = channel(1);
    let recv = handed_and_dropped_later(&ch, 1);
    assert_eq!(ch.send(2).now_or_never(), Some(Ok(())));
    let mut third = ch.send(3).boxed();
    assert!((&mut third).now_or_never().is_none(), "full: blocks");
    drop(recv);
    assert_eq!(ch.len(), 2, "the given-back value is kept, above capacity");
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(1)));
    assert_eq!(ch.len(), 1);
    assert!(ch.has_blocked_send(), "no send enters a buffer at capacity");
    assert!((&mut third).now_or_never().is_none());
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(2)));
    assert_eq!(third.now_or_never(), Some(Ok(())));
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(3)));
    assert_eq!(*enqueued.lock().unwrap(), vec![1, 2, 3]);
}

#[test]
fn a_taken_send_stays_done_when_another_send_blocks() {
    // Two sends on an unbuffered channel: the first is taken by a receive while it is
    // not being polled, the second blocks; the first, polled again, has completed —
    // the blocked entry is the second's, not its own.
    let (ch, _) = channel(0);
    let mut first = ch.send(1);
    assert!((&mut first).now_or_never().is_none(), "no receiver yet");
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(1)));
    let mut second = ch.send(2);
    assert!((&mut second).now_or_never().is_none());
    assert_eq!(
        first.now_or_never(),
        Some(Ok(())),
        "the first send happened"
    );
    assert!(ch.has_blocked_send(), "the second still waits");
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(2)));
    assert_eq!(second.now_or_never(), Some(Ok(())));
}

#[test]
fn a_shrink_retires_the_parked_workers_it_names_and_no_others() {
    let (ch, _) = channel(2);
    let got: Vec<Arc<Mutex<Vec<Received<u32>>>>> =
        (0..3).map(|_| Arc::new(Mutex::new(Vec::new()))).collect();
    for (worker, into) in got.iter().enumerate() {
        assert_eq!(
            ch.recv_or_park_as(worker as u32, || false, recorder(into)),
            None
        );
    }
    let retired = ch.retire_parked(|w| w >= 1);
    assert_eq!(retired.len(), 2);
    assert_eq!(ch.waiting_receivers(), 1, "worker 0 still waits");
    for parked in retired {
        parked(Received::Retire);
    }
    assert_eq!(ch.send(8).now_or_never(), Some(Ok(())));
    assert_eq!(*got[0].lock().unwrap(), vec![Received::Job(8)]);
    assert_eq!(*got[1].lock().unwrap(), vec![Received::Retire]);
    assert_eq!(*got[2].lock().unwrap(), vec![Received::Retire]);
}

#[test]
fn a_worker_told_to_retire_does_not_park_but_still_takes_waiting_jobs() {
    let (ch, _) = channel(2);
    assert_eq!(
        ch.recv_or_park_as(5, || true, || unreachable!()),
        Some(Received::Retire),
        "empty: it retires instead of parking"
    );
    assert_eq!(ch.waiting_receivers(), 0);
    assert_eq!(ch.send(1).now_or_never(), Some(Ok(())));
    assert_eq!(
        ch.recv_or_park_as(5, || true, || unreachable!()),
        Some(Received::Job(1)),
        "a job already waiting is taken (the retire check is for parking)"
    );
    // The async receive of an I/O worker answers the same way.
    assert_eq!(
        ch.recv_as(5, || true).now_or_never(),
        Some(Received::Retire)
    );
}

#[test]
fn try_send_hands_off_or_buffers_and_otherwise_gives_the_value_back() {
    let (ch, enqueued) = channel(1);
    let got = Arc::new(Mutex::new(Vec::new()));
    assert_eq!(ch.recv_or_park(recorder(&got)), None);
    assert_eq!(ch.try_send(1), Ok(()), "to the waiting receiver");
    assert_eq!(*got.lock().unwrap(), vec![Received::Job(1)]);
    assert_eq!(ch.try_send(2), Ok(()), "into the buffer");
    assert_eq!(ch.try_send(3), Err(TrySendError::Full(3)), "full: no wait");
    assert_eq!(ch.len(), 1);
    ch.close();
    assert_eq!(ch.try_send(4), Err(TrySendError::Closed(4)));
    assert_eq!(
        *enqueued.lock().unwrap(),
        vec![1, 2],
        "a refused value never entered"
    );
    // Unbuffered: only a waiting receiver takes it.
    let (unbuffered, _) = channel(0);
    assert_eq!(unbuffered.try_send(5), Err(TrySendError::Full(5)));
}

#[test]
fn dropping_the_oldest_makes_room_and_keeps_fifo_order() {
    let (ch, enqueued) = channel(2);
    assert_eq!(ch.send_dropping_oldest(1), Ok(None));
    assert_eq!(ch.send_dropping_oldest(2), Ok(None));
    assert_eq!(ch.send_dropping_oldest(3), Ok(Some(1)), "1 waited longest");
    assert_eq!(ch.send_dropping_oldest(4), Ok(Some(2)));
    assert_eq!(ch.len(), 2);
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(3)));
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(4)));
    assert_eq!(*enqueued.lock().unwrap(), vec![1, 2, 3, 4]);
    // A waiting receiver gets the value; nothing is dropped.
    let got = Arc::new(Mutex::new(Vec::new()));
    assert_eq!(ch.recv_or_park(recorder(&got)), None);
    assert_eq!(ch.send_dropping_oldest(5), Ok(None));
    assert_eq!(*got.lock().unwrap(), vec![Received::Job(5)]);
    // Unbuffered with no receiver: nothing to evict, the value itself comes back.
    let (unbuffered, log) = channel(0);
    assert_eq!(unbuffered.send_dropping_oldest(6), Ok(Some(6)));
    assert!(log.lock().unwrap().is_empty());
    ch.close();
    assert_eq!(ch.send_dropping_oldest(7), Err(7));
}

#[test]
fn a_blocked_send_keeps_try_send_out() {
    let (ch, _) = channel(1);
    assert_eq!(ch.send(1).now_or_never(), Some(Ok(())));
    let mut blocked = ch.send(2).boxed();
    assert!((&mut blocked).now_or_never().is_none());
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(1)));
    // The blocked value moved into the buffer: full again.
    assert_eq!(ch.try_send(3), Err(TrySendError::Full(3)));
}

#[test]
fn a_send_blocked_when_the_channel_closes_fails_like_gos_send_on_closed() {
    let (ch, enqueued) = channel(1);
    assert_eq!(ch.send(1).now_or_never(), Some(Ok(())));
    let mut blocked = ch.send(2).boxed();
    assert!((&mut blocked).now_or_never().is_none());
    ch.close();
    assert_eq!(blocked.now_or_never(), Some(Err(SendOnClosed)));
    assert!(!ch.has_blocked_send(), "the refused value left the channel");
    assert_eq!(*enqueued.lock().unwrap(), vec![1], "it never entered");
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Job(1)));
    assert_eq!(ch.recv_or_park(|| unreachable!()), Some(Received::Closed));
}
