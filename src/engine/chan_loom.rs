//! loom models of the job channel (run with `--cfg loom`; see `src/sync.rs`).

use super::*;
use loom::thread;

fn logged_channel(capacity: usize) -> (Arc<JobChannel<u32>>, Arc<Mutex<Vec<u32>>>) {
    let enqueued = Arc::new(Mutex::new(Vec::new()));
    let log = enqueued.clone();
    let channel = JobChannel::new(capacity, move |job: &mut u32| {
        log.lock().unwrap().push(*job)
    });
    (Arc::new(channel), enqueued)
}

/// A receiver that records what it is handed, whenever (now or later, from the thread
/// that delivers).
fn receive_into(channel: &JobChannel<u32>, got: &Arc<Mutex<Vec<Received<u32>>>>) {
    let later = got.clone();
    if let Some(value) =
        channel.recv_or_park(move || Box::new(move |value| later.lock().unwrap().push(value)))
    {
        got.lock().unwrap().push(value);
    }
}

/// Invariants 2 and 3: a producer (blocking on a full buffer) and two receivers that
/// park when it is empty. Every value reaches exactly one receiver, none is left next to
/// a parked receiver, and each enters the channel once.
#[test]
fn loom_every_value_reaches_exactly_one_receiver() {
    loom::model(|| {
        let (channel, enqueued) = logged_channel(1);
        let got = Arc::new(Mutex::new(Vec::new()));
        let producer = {
            let channel = channel.clone();
            thread::spawn(move || {
                for job in [1, 2] {
                    loom::future::block_on(channel.send(job)).unwrap();
                }
                channel.close();
            })
        };
        let receiver = {
            let (channel, got) = (channel.clone(), got.clone());
            thread::spawn(move || receive_into(&channel, &got))
        };
        receive_into(&channel, &got);
        producer.join().unwrap();
        receiver.join().unwrap();
        let mut received = got.lock().unwrap().clone();
        received.sort_by_key(|r| match r {
            Received::Job(j) => *j,
            Received::Closed | Received::Retire => u32::MAX,
        });
        assert_eq!(received, vec![Received::Job(1), Received::Job(2)]);
        let mut entered = enqueued.lock().unwrap().clone();
        entered.sort();
        assert_eq!(entered, vec![1, 2], "each value enters exactly once");
        assert!(channel.len() == 0 && !channel.has_blocked_send());
    });
}

/// Closing while a receiver parks: the receiver gets `Closed` exactly once, whichever
/// comes first.
#[test]
fn loom_close_reaches_a_receiver_parking_at_the_same_time() {
    loom::model(|| {
        let (channel, _) = logged_channel(0);
        let got = Arc::new(Mutex::new(Vec::new()));
        let closer = {
            let channel = channel.clone();
            thread::spawn(move || channel.close())
        };
        receive_into(&channel, &got);
        closer.join().unwrap();
        assert_eq!(*got.lock().unwrap(), vec![Received::Closed]);
        assert_eq!(channel.waiting_receivers(), 0);
    });
}

/// A cancelled run drains the queue (ending those jobs as not started) while a worker
/// may still be taking a job from it: every value goes to exactly one of the two —
/// the job-value design's replacement for the old slot-claim race.
#[test]
fn loom_a_value_is_received_or_drained_never_both() {
    loom::model(|| {
        let (channel, _) = logged_channel(2);
        for job in [1, 2] {
            loom::future::block_on(channel.send(job)).unwrap();
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let worker = {
            let (channel, got) = (channel.clone(), got.clone());
            thread::spawn(move || receive_into(&channel, &got))
        };
        channel.close();
        let drained = channel.drain();
        worker.join().unwrap();
        let mut seen: Vec<u32> = got
            .lock()
            .unwrap()
            .iter()
            .filter_map(|r| match r {
                Received::Job(j) => Some(*j),
                _ => None,
            })
            .collect();
        seen.extend(drained);
        seen.sort();
        assert_eq!(seen, vec![1, 2], "each job once: received or drained");
    });
}
