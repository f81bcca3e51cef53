//! The cases of x/time/rate's own `rate_test.go`, ported (cases, not code): the same
//! calls at the same times must give the same decisions, token counts and delays.

use super::*;

/// The Go tests' unit of time.
const D: Duration = Duration::from_millis(100);

/// Go's `t0 = time.Now()`: any base works as long as earlier times stay non-negative.
const T0: Duration = Duration::from_secs(10);

/// `t(k)` is Go's `tk = t0.Add(k * d)`.
fn t(k: u32) -> Duration {
    T0 + D * k
}

/// One step of Go's `run`: tokens expected at `at`, then `AllowN(at, n)` expected `ok`.
struct Allow {
    at: Duration,
    tokens: f64,
    n: u32,
    ok: bool,
}

fn allow(at: Duration, tokens: f64, n: u32, ok: bool) -> Allow {
    Allow { at, tokens, n, ok }
}

fn run(bucket: &TokenBucket, steps: &[Allow]) {
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(
            bucket.tokens_at(step.at),
            step.tokens,
            "step {i}: tokens_at({:?})",
            step.at
        );
        assert_eq!(
            bucket.allow_n_at(step.at, step.n),
            step.ok,
            "step {i}: allow_n_at({:?}, {})",
            step.at,
            step.n
        );
    }
}

/// Go's `dFromDuration`: the nearest multiple of `D`.
fn in_d(since_t0: i64) -> i64 {
    let d = to_nanos(D);
    (since_t0 + d / 2).div_euclid(d)
}

/// Go's `runReserveMax`: reserve `n` at `at` (within `max`), expect `ok` and, when OK,
/// a time to act equal to `act` in multiples of `D`.
fn reserve_max(
    bucket: &TokenBucket,
    at: Duration,
    n: u32,
    act: Duration,
    ok: bool,
    max: Nanos,
) -> Reservation {
    let r = bucket.reserve(to_nanos(at), n, max);
    assert_eq!(r.ok(), ok, "reserve({at:?}, {n}) ok");
    if ok {
        let got = in_d(r.time_to_act - to_nanos(T0));
        let want = in_d(to_nanos(act) - to_nanos(T0));
        assert_eq!(
            got, want,
            "reserve({at:?}, {n}) acts at t{got}, want t{want}"
        );
    }
    r
}

fn reserve(bucket: &TokenBucket, at: Duration, n: u32, act: Duration, ok: bool) -> Reservation {
    reserve_max(bucket, at, n, act, ok, i64::MAX)
}

fn bucket(limit: f64, burst: u32) -> TokenBucket {
    TokenBucket::new(limit, burst).unwrap()
}

#[test]
fn every() {
    let cases = [
        (Duration::ZERO, f64::INFINITY),
        (Duration::from_nanos(1), 1e9),
        (Duration::from_micros(1), 1e6),
        (Duration::from_millis(1), 1e3),
        (Duration::from_millis(10), 100.0),
        (Duration::from_millis(100), 10.0),
        (Duration::from_secs(1), 1.0),
        (Duration::from_secs(2), 0.5),
        (Duration::from_millis(2500), 0.4),
        (Duration::from_secs(4), 0.25),
        (Duration::from_secs(10), 0.1),
    ];
    for (interval, want) in cases {
        let got = limit_every(interval);
        assert!(
            got == want || ((got / want) - 1.0).abs() < 1e-9,
            "every({interval:?}) = {got}, want {want}"
        );
    }
}

#[test]
fn limiter_burst_1() {
    run(
        &bucket(10.0, 1),
        &[
            allow(t(0), 1.0, 1, true),
            allow(t(0), 0.0, 1, false),
            allow(t(0), 0.0, 1, false),
            allow(t(1), 1.0, 1, true),
            allow(t(1), 0.0, 1, false),
            allow(t(1), 0.0, 1, false),
            allow(t(2), 1.0, 2, false), // burst size is 1, so n=2 always fails
            allow(t(2), 1.0, 1, true),
            allow(t(2), 0.0, 1, false),
        ],
    );
}

#[test]
fn limiter_burst_3() {
    run(
        &bucket(10.0, 3),
        &[
            allow(t(0), 3.0, 2, true),
            allow(t(0), 1.0, 2, false),
            allow(t(0), 1.0, 1, true),
            allow(t(0), 0.0, 1, false),
            allow(t(1), 1.0, 4, false),
            allow(t(2), 2.0, 1, true),
            allow(t(3), 2.0, 1, true),
            allow(t(4), 2.0, 1, true),
            allow(t(4), 1.0, 1, true),
            allow(t(4), 0.0, 1, false),
            allow(t(4), 0.0, 1, false),
            allow(t(9), 3.0, 3, true),
            allow(t(9), 0.0, 0, true),
        ],
    );
}

#[test]
fn limiter_jump_backwards() {
    run(
        &bucket(10.0, 3),
        &[
            allow(t(1), 3.0, 1, true), // start at t1
            allow(t(0), 2.0, 1, true), // jump back to t0, two tokens remain
            allow(t(0), 1.0, 1, true),
            allow(t(0), 0.0, 1, false),
            allow(t(0), 0.0, 1, false),
            allow(t(1), 1.0, 1, true), // got a token
            allow(t(1), 0.0, 1, false),
            allow(t(1), 0.0, 1, false),
            allow(t(2), 1.0, 1, true), // got another token
            allow(t(2), 0.0, 1, false),
            allow(t(2), 0.0, 1, false),
        ],
    );
}

#[test]
fn no_truncation_errors() {
    // golang.org/issues/34861: tokens_from_duration must not truncate nanoseconds.
    assert!(bucket(0.7692307692307693, 1).allow_n_at(T0, 1));
}

#[test]
fn simultaneous_requests() {
    // Very slow refill: exactly `burst` of 15 simultaneous requests get through.
    let lim = bucket(1.0, 5);
    let granted = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|scope| {
        for _ in 0..15 {
            scope.spawn(|| {
                if lim.allow_n_at(T0, 1) {
                    granted.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(granted.load(Ordering::SeqCst), 5);
}

#[test]
fn long_running_qps() {
    // Five (fake) seconds offering ~500 requests/s to a 100/s limiter with burst 100.
    let lim = bucket(100.0, 100);
    let mut now = T0;
    let end = T0 + Duration::from_secs(5);
    let mut granted = 0u32;
    while now < end {
        if lim.allow_n_at(now, 1) {
            granted += 1;
        }
        now += Duration::from_millis(2);
    }
    let ideal = 100.0 + 100.0 * (now - T0).as_secs_f64();
    // Go's bounds, truncated to integers as Go's test does.
    assert!(
        granted <= (ideal + 1.0) as u32,
        "granted {granted}, ideal {ideal}"
    );
    assert!(
        granted >= (0.999 * ideal) as u32,
        "granted {granted}, ideal {ideal}"
    );
}

#[test]
fn simple_reserve() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    reserve(&lim, t(0), 2, t(2), true);
    reserve(&lim, t(3), 2, t(4), true);
}

#[test]
fn mix() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(0), 3, t(1), false); // n > burst
    reserve(&lim, t(0), 2, t(0), true);
    run(&lim, &[allow(t(1), 1.0, 2, false)]); // not enough tokens
    reserve(&lim, t(1), 2, t(2), true);
    run(&lim, &[allow(t(1), -1.0, 1, false)]); // negative tokens
    run(&lim, &[allow(t(3), 1.0, 1, true)]);
}

#[test]
fn cancel_invalid() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    let r = reserve(&lim, t(0), 3, t(3), false);
    lim.cancel_at(&r, t(0)); // no effect
    reserve(&lim, t(0), 2, t(2), true); // no extra tokens
}

#[test]
fn cancel_last() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    let r = reserve(&lim, t(0), 2, t(2), true);
    lim.cancel_at(&r, t(1)); // 2 tokens back
    reserve(&lim, t(1), 2, t(2), true);
}

#[test]
fn cancel_too_late() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    let r = reserve(&lim, t(0), 2, t(2), true);
    lim.cancel_at(&r, t(3)); // too late: no effect
    reserve(&lim, t(3), 2, t(4), true);
}

#[test]
fn cancel_0_tokens() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    let r = reserve(&lim, t(0), 1, t(1), true);
    reserve(&lim, t(0), 1, t(2), true);
    lim.cancel_at(&r, t(0)); // 0 tokens back
    reserve(&lim, t(0), 1, t(3), true);
}

#[test]
fn cancel_1_token() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    let r = reserve(&lim, t(0), 2, t(2), true);
    reserve(&lim, t(0), 1, t(3), true);
    lim.cancel_at(&r, t(2)); // 1 token back
    reserve(&lim, t(2), 2, t(4), true);
}

#[test]
fn cancel_multi() {
    let lim = bucket(10.0, 4);
    reserve(&lim, t(0), 4, t(0), true);
    let a = reserve(&lim, t(0), 3, t(3), true);
    reserve(&lim, t(0), 1, t(4), true);
    let c = reserve(&lim, t(0), 1, t(5), true);
    lim.cancel_at(&c, t(1)); // 1 token back
    lim.cancel_at(&a, t(1)); // 2 tokens back, as if C was never reserved
    reserve(&lim, t(1), 3, t(5), true);
}

#[test]
fn reserve_jump_back() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(1), 2, t(1), true); // start at t1
    reserve(&lim, t(0), 1, t(1), true); // should violate limit, burst
    reserve(&lim, t(2), 2, t(3), true);
    // n = 3 > burst always fails and leaves the state alone
    reserve(&lim, t(0), 3, T0, false);
    reserve(&lim, t(2), 1, t(4), true);
    // too long for max_reserve: fails and leaves the state alone
    reserve_max(&lim, t(0), 2, T0, false, to_nanos(D));
    reserve(&lim, t(2), 1, t(5), true);
}

#[test]
fn reserve_jump_back_cancel() {
    let lim = bucket(10.0, 2);
    reserve(&lim, t(1), 2, t(1), true); // start at t1
    let r = reserve(&lim, t(1), 2, t(3), true);
    reserve(&lim, t(1), 1, t(4), true);
    lim.cancel_at(&r, t(0)); // cancel at t0, 1 token back
    reserve(&lim, t(1), 2, t(4), true); // should violate limit, burst
}

#[test]
fn reserve_set_limit() {
    let lim = bucket(5.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    reserve(&lim, t(0), 2, t(4), true);
    lim.set_limit_at(t(2), 10.0).unwrap();
    reserve(&lim, t(2), 1, t(4), true); // violates limit and burst
}

#[test]
fn reserve_set_burst() {
    let lim = bucket(5.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    reserve(&lim, t(0), 2, t(4), true);
    lim.set_burst_at(t(3), 4);
    reserve(&lim, t(0), 4, t(9), true); // violates limit and burst
}

#[test]
fn reserve_set_limit_cancel() {
    let lim = bucket(5.0, 2);
    reserve(&lim, t(0), 2, t(0), true);
    let r = reserve(&lim, t(0), 2, t(4), true);
    lim.set_limit_at(t(2), 10.0).unwrap();
    lim.cancel_at(&r, t(2)); // 2 tokens back
    reserve(&lim, t(2), 2, t(3), true);
}

#[test]
fn reserve_max_wait() {
    let lim = bucket(10.0, 2);
    let max = to_nanos(D);
    reserve_max(&lim, t(0), 2, t(0), true, max);
    reserve_max(&lim, t(0), 1, t(1), true, max); // reserve for close future
    reserve_max(&lim, t(0), 1, t(2), false, max); // time to act too far in the future
}

#[test]
fn zero_limit_allows_the_initial_burst_only() {
    let lim = bucket(0.0, 1);
    assert!(lim.allow_n_at(T0, 1), "starts full");
    assert!(!lim.allow_n_at(T0, 1));
    assert!(
        !lim.allow_n_at(T0 + Duration::from_secs(3600), 1),
        "never refills"
    );
}

#[test]
fn set_limit_after_zero_limit() {
    let lim = bucket(0.0, 1);
    assert!(lim.allow_n_at(T0, 1));
    assert!(!lim.allow_n_at(T0, 1));
    lim.set_limit_at(T0, 10.0).unwrap();
    // 10/s: the next token comes 100 ms later.
    let r = lim.reserve_n_at(T0, 1);
    assert!(r.ok());
    assert_eq!(in_d(to_nanos(r.delay_from(T0))), 1);
}

#[test]
fn tiny_limit_does_not_overflow() {
    // golang.org/issue/71154: a tiny rate must not overflow the delay computation.
    let lim = bucket(1e-10, 1);
    assert!(lim.allow_n_at(T0, 1));
    assert!(!lim.allow_n_at(T0, 1));
}

#[test]
fn infinite_limit_allows_everything_and_ignores_burst() {
    let lim = bucket(f64::INFINITY, 0);
    assert_eq!(lim.limit(), f64::INFINITY);
    for _ in 0..100 {
        assert!(lim.allow_n_at(T0, 1000));
    }
    let r = lim.reserve_n_at(T0, 5);
    assert!(r.ok());
    assert_eq!(r.delay_from(T0), Duration::ZERO);
    lim.cancel_at(&r, T0); // no effect, no panic
    assert!(lim.allow_n_at(T0, u32::MAX));
}

#[test]
fn not_ok_reservations_report_infinite_delay() {
    let lim = bucket(10.0, 2);
    let r = lim.reserve_n_at(T0, 3);
    assert!(!r.ok());
    assert_eq!(r.delay_from(T0), INF_DURATION);
    assert_eq!(r.time_to_act(), None);
    assert_eq!(r.tokens(), 0);
}

#[test]
fn invalid_limits_are_refused_with_a_clear_message() {
    for bad in [-1.0, -f64::INFINITY, f64::NAN] {
        let err = TokenBucket::new(bad, 1).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("limit: {bad} is not allowed")),
            "{err}"
        );
        assert!(
            err.to_string().contains("0 or more tokens per second"),
            "{err}"
        );
    }
    let lim = bucket(1.0, 1);
    assert!(lim.set_limit_at(T0, f64::NAN).is_err());
    assert_eq!(lim.limit(), 1.0, "a refused change leaves the limit alone");
    assert!(
        TokenBucket::new(0.0, 0).is_ok(),
        "a zero limit is valid, as in Go"
    );
}

#[test]
fn reservations_from_another_bucket_are_ignored() {
    let a = bucket(10.0, 2);
    let b = bucket(10.0, 2);
    assert!(b.allow_n_at(T0, 2));
    let r = a.reserve_n_at(T0, 2);
    b.cancel_at(&r, T0);
    assert_eq!(b.tokens_at(T0), 0.0);
}

#[test]
fn set_burst_lower_caps_tokens_on_next_read() {
    let lim = bucket(10.0, 10);
    lim.set_burst_at(T0, 3);
    assert_eq!(lim.burst(), 3);
    assert_eq!(lim.tokens_at(T0 + D), 3.0);
}

#[cfg(not(target_arch = "wasm32"))]
mod deny_hint {
    //! The lock-free "certainly refused" hint must never refuse what the exact path
    //! would grant.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn hint_never_refuses_a_grant(
            limit in prop_oneof![Just(0.0), 1e-3f64..1e9, Just(f64::INFINITY)],
            burst in 0u32..6,
            steps in prop::collection::vec((0i64..400_000_000, 0u32..6, any::<bool>(), any::<bool>()), 1..60),
        ) {
            let bucket = TokenBucket::new(limit, burst).unwrap();
            let mut t: i64 = 1_000_000_000;
            for (dt, n, reserve, jump_back) in steps {
                t = if jump_back { t - dt / 4 } else { t + dt };
                let now = from_nanos(t);
                // Probe times around now, and just before the hint's own bound (where a
                // too-late hint would show), with the exact path on a copy.
                let state = bucket.cell.read();
                let hint = state.deny_until_nanos();
                prop_assert_eq!(bucket.cell.deny_until(), hint_nanos(hint));
                let near_hint = if hint == i64::MIN || hint == i64::MAX { t } else { hint };
                for probe in [t - 1_000_000, t - 1, t, t + 1, t + 999, t + dt / 3, t + dt, near_hint - 1, near_hint - 2] {
                    let refused_by_hint = probe >= 0 && (probe as u64) < bucket.cell.deny_until();
                    let mut copy = state;
                    let exact = TokenBucket::reserve_in(0, &mut copy, probe, n.max(1), 0).ok;
                    prop_assert!(!(refused_by_hint && exact), "hint {} refuses t={} n={} that the exact path grants", hint, probe, n.max(1));
                }
                if reserve { bucket.reserve_n_at(now, n); } else { bucket.allow_n_at(now, n); }
            }
        }
    }
}

#[test]
fn the_refusal_hint_maps_times_and_is_tight() {
    // The lock-free shortcut answers "certainly refused" before this time (ns).
    assert_eq!(hint_nanos(i64::MAX), u64::MAX, "always refused");
    assert_eq!(hint_nanos(i64::MIN), 0, "never refused by the hint");
    assert_eq!(hint_nanos(-5), 0);
    assert_eq!(hint_nanos(0), 0);
    assert_eq!(hint_nanos(7), 7);
    let bucket = TokenBucket::new(10.0, 1).unwrap();
    assert_eq!(bucket.cell.deny_until(), 0, "a full bucket refuses nothing");
    assert!(bucket.allow_n_at(Duration::from_secs(1), 1));
    // Refused until just before the next token, due 100 ms later: the hint errs early
    // by its margin, 1 µs plus 1e-9 of the wait (0.1 ns here), truncated.
    assert_eq!(bucket.cell.deny_until(), 1_100_000_000 - 1_001);
    assert_eq!(
        TokenBucket::new(10.0, 0).unwrap().cell.deny_until(),
        u64::MAX
    );
}

#[test]
fn durations_from_tokens_truncate_and_saturate_like_go() {
    assert_eq!(duration_from_tokens(10.0, 1.0), 100_000_000);
    assert_eq!(
        duration_from_tokens(3.0, 1.0),
        333_333_333,
        "truncated toward zero"
    );
    assert_eq!(
        duration_from_tokens(0.0, 1.0),
        i64::MAX,
        "a zero limit never refills"
    );
    assert_eq!(
        duration_from_tokens(1e-12, 1e9),
        i64::MAX,
        "saturates at InfDuration"
    );
}

#[test]
fn the_refill_shortcut_fires_only_when_the_bucket_certainly_fills() {
    // 10 tokens/s, burst 5, 2 tokens in: 3 tokens of room, refilled in 300 ms.
    let state = State {
        limit: 10.0,
        burst: 5,
        tokens: 2.0,
        last: 0,
        last_event: 0,
    };
    assert!(
        state.certainly_refills(301_000_000),
        "a gap well past 300 ms fills it"
    );
    assert!(
        !state.certainly_refills(300_000_000),
        "exactly 300 ms: the exact path decides"
    );
    assert!(!state.certainly_refills(299_000_000));
    assert!(!state.certainly_refills(0));
    assert_eq!(state.advance(301_000_000), 5.0);
    assert_eq!(state.advance(100_000_000), 3.0);
    assert_eq!(state.advance(-5), 2.0, "time going back mints nothing");
}

#[test]
fn cancelling_on_an_infinite_limiter_changes_nothing() {
    // Go's CancelAt returns at once when the limit is Inf: nothing was taken.
    // A bucket emptied at a finite rate, then made infinite: its token count stays 0.
    let bucket = TokenBucket::new(1.0, 3).unwrap();
    let at = Duration::from_secs(1);
    assert!(bucket.allow_n_at(at, 3));
    bucket.set_limit_at(at, f64::INFINITY).unwrap();
    let reservation = bucket.reserve_n_at(at, 2);
    assert!(reservation.ok());
    let before = bucket.tokens_at(at);
    bucket.cancel_at(&reservation, at);
    assert_eq!(bucket.tokens_at(at).to_bits(), before.to_bits());
    assert!(bucket.allow_n_at(at, 3));
}

#[test]
fn a_reservation_says_when_and_how_much() {
    let bucket = TokenBucket::new(10.0, 2).unwrap();
    let at = Duration::from_secs(1);
    let now = bucket.reserve_n_at(at, 2);
    assert_eq!(
        (now.ok(), now.tokens(), now.time_to_act()),
        (true, 2, Some(at))
    );
    let later = bucket.reserve_n_at(at, 1);
    assert_eq!(later.tokens(), 1);
    assert_eq!(later.time_to_act(), Some(at + Duration::from_millis(100)));
    let never = bucket.reserve_n_at(at, 3);
    assert_eq!(
        (never.ok(), never.tokens(), never.time_to_act()),
        (false, 0, None)
    );
    assert_eq!(never.delay_from(at), INF_DURATION);
}
