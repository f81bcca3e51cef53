use super::*;
use crate::engine::config::{Arrival, RunConfig};

fn config(arrival: Arrival, rate: f64) -> RunConfig {
    RunConfig {
        arrival,
        arrival_rate: rate,
        ..RunConfig::default()
    }
}

fn times(schedule: &mut ArrivalSchedule, n: usize) -> Vec<u64> {
    std::iter::from_fn(|| schedule.next_ns()).take(n).collect()
}

#[test]
fn a_closed_loop_has_no_schedule() {
    assert!(ArrivalSchedule::new(&RunConfig::default()).is_none());
}

#[test]
fn constant_arrivals_are_evenly_spaced_from_the_start() {
    let mut s = ArrivalSchedule::new(&config(Arrival::Constant, 1000.0)).unwrap();
    let t = times(&mut s, 10_001);
    assert_eq!(t[0], 0);
    assert_eq!(t[1], 1_000_000);
    assert_eq!(t[10_000], 10_000_000_000, "no drift after 10,000 gaps");
    assert_eq!(s.mean_rate(0.0, 10.0), 1000.0);
}

#[test]
fn a_duration_ends_the_schedule() {
    let c = RunConfig {
        duration_ms: 10.0,
        ..config(Arrival::Constant, 1000.0)
    };
    let mut s = ArrivalSchedule::new(&c).unwrap();
    assert_eq!(times(&mut s, 100).len(), 10, "t = 0, 1, …, 9 ms");
    assert_eq!(s.next_ns(), None);
}

/// The Kolmogorov–Smirnov statistic of `gaps` against Exp(rate).
fn ks_exponential(gaps: &[f64], rate: f64) -> f64 {
    let mut sorted = gaps.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let cdf = 1.0 - (-rate * x).exp();
            (cdf - i as f64 / n)
                .abs()
                .max(((i + 1) as f64 / n - cdf).abs())
        })
        .fold(0.0, f64::max)
}

#[test]
fn poisson_gaps_are_exponential_and_seeded() {
    let c = config(Arrival::Poisson, 500.0);
    let mut s = ArrivalSchedule::new(&c).unwrap();
    let t = times(&mut s, 20_001);
    let gaps: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]) as f64 / 1e9).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!((mean * 500.0 - 1.0).abs() < 0.02, "mean gap {mean}");
    // KS at 5%: the critical value is 1.358 / sqrt(n).
    let d = ks_exponential(&gaps, 500.0);
    assert!(d < 1.358 / (gaps.len() as f64).sqrt(), "KS D = {d}");
    // Not exponential: evenly spaced gaps fail the same test.
    let even = vec![1.0 / 500.0; 1000];
    assert!(ks_exponential(&even, 500.0) > 1.358 / 1000f64.sqrt());
    // Same seed, same schedule; another seed, another.
    let again = times(&mut ArrivalSchedule::new(&c).unwrap(), 100);
    assert_eq!(&t[..100], &again[..]);
    let other = RunConfig { seed: 9, ..c };
    assert_ne!(
        &t[..100],
        &times(&mut ArrivalSchedule::new(&other).unwrap(), 100)[..]
    );
}

#[test]
fn stages_ramp_linearly_like_k6() {
    // From 0.1/s (arrivalRate) up to 1000/s over 1 s, hold 1 s, then down to 0 over 1 s.
    let c = RunConfig {
        stages: Stages::parse_text("1000:1000, 1000:1000, 1000:0").unwrap(),
        ..config(Arrival::Stages, 0.1)
    };
    let mut s = ArrivalSchedule::new(&c).unwrap();
    let t: Vec<u64> = std::iter::from_fn(|| s.next_ns()).collect();
    // Λ(3 s) = 500.05 + 1000 + 500 arrivals, the first at t = 0.
    assert_eq!(t.len(), 2001);
    assert!(t.windows(2).all(|w| w[0] <= w[1]));
    let in_hold = t
        .iter()
        .filter(|&&x| (1e9..2e9).contains(&(x as f64)))
        .count();
    assert_eq!(in_hold, 1000, "the hold runs at exactly its rate");
    // Halfway up the ramp (t = 0.5 s) Λ = 0.05 + 125: arrival 125 is just before it.
    assert!(
        t[125] < 500_000_000 && t[126] > 500_000_000,
        "{} {}",
        t[125],
        t[126]
    );
    assert_eq!(s.mean_rate(1.0, 2.0), 1000.0);
    assert!((s.mean_rate(0.0, 1.0) - 500.05).abs() < 1e-6);
    assert!(t.last().copied().unwrap() < 3_000_000_000);
}

#[test]
fn a_zero_length_stage_is_a_step() {
    let c = RunConfig {
        stages: Stages::parse_text("0:2000,100:2000").unwrap(),
        ..config(Arrival::Stages, 10.0)
    };
    let mut s = ArrivalSchedule::new(&c).unwrap();
    let t: Vec<u64> = std::iter::from_fn(|| s.next_ns()).collect();
    assert_eq!(t.len(), 200);
    assert_eq!(t[1], 500_000, "2000/s from the start");
}

#[test]
fn a_spike_raises_the_rate_for_its_length() {
    let c = RunConfig {
        spike_rate: 1000.0,
        spike_at_ms: 1000.0,
        spike_for_ms: 100.0,
        duration_ms: 2000.0,
        ..config(Arrival::Spike, 100.0)
    };
    let mut s = ArrivalSchedule::new(&c).unwrap();
    let t: Vec<u64> = std::iter::from_fn(|| s.next_ns()).collect();
    let between = |a: f64, b: f64| {
        t.iter()
            .filter(|&&x| (a..b).contains(&(x as f64 / 1e9)))
            .count()
    };
    assert_eq!(between(0.0, 1.0), 100);
    assert_eq!(between(1.0, 1.1), 100, "1000/s for 100 ms");
    assert_eq!(between(1.1, 2.0), 90);
    assert_eq!(t.len(), 290);
}

#[test]
fn stage_lists_read_as_text_or_json_and_bad_ones_are_named() {
    let text = Stages::parse_text("2000:100, 500:0").unwrap();
    let json =
        Stages::parse_text(r#"[{"durationMs":2000,"rate":100},{"durationMs":500,"rate":0}]"#)
            .unwrap();
    assert_eq!(text, json);
    assert_eq!(Stages::parse_text(&text.to_text()).unwrap(), text);
    assert_eq!(text.to_text(), "2000:100,500:0");
    assert_eq!(Stages::parse_text("").unwrap(), Stages::default());
    let bad = [
        ("2000", "has a stage that is not durationMs:rate"),
        ("a:b", "has a stage that is not durationMs:rate"),
        ("-1:100", "has a stage duration out of range"),
        ("100:100001", "has a stage rate out of range"),
        ("100:NaN", "has a stage rate out of range"),
        (
            r#"[{"duration":1,"rate":1}]"#,
            "is not a list of { durationMs, rate }",
        ),
    ];
    for (given, problem) in bad {
        assert_eq!(Stages::parse_text(given), Err(problem), "{given}");
    }
    let many = vec!["1:1"; MAX_STAGES + 1].join(",");
    assert_eq!(Stages::parse_text(&many), Err("has too many stages"));
}
