//! Queueing theory to check the engine against: the M/M/c queue (Poisson arrivals at
//! rate λ, exponential service at rate μ per server, `c` servers, FIFO). Erlang's C
//! formula gives the probability that an arrival has to wait, and from it the mean
//! wait in the queue, `Wq = C(c, a) / (cμ − λ)` with `a = λ/μ` (Erlangs).

/// Erlang's B formula (blocking probability of `c` servers at `a` Erlangs), by the
/// stable recursion `B(0) = 1`, `B(k) = a·B(k−1) / (k + a·B(k−1))`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// Erlang's C formula: the probability that an arrival waits, for `c` servers at `a`
/// Erlangs (`a < c`; 1 when the queue is unstable).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if a >= c as f64 {
        return 1.0;
    }
    let b = erlang_b(c, a);
    c as f64 * b / (c as f64 - a * (1.0 - b))
}

/// The M/M/c queue's mean figures.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MmcQueue {
    /// Probability that an arrival waits.
    pub wait_probability: f64,
    /// Mean time in the queue (the same unit as `1/λ`).
    pub mean_wait: f64,
    /// Mean time in the system (queue and service).
    pub mean_sojourn: f64,
    /// Utilisation of each server, `λ / (cμ)`.
    pub utilisation: f64,
}

/// The M/M/c queue with arrival rate `lambda`, service rate `mu` per server and `c`
/// servers; `None` when it is unstable (`lambda >= c·mu`).
pub fn mmc(lambda: f64, mu: f64, c: u32) -> Option<MmcQueue> {
    let capacity = c as f64 * mu;
    if !(lambda > 0.0 && mu > 0.0 && c > 0 && lambda < capacity) {
        return None;
    }
    let a = lambda / mu;
    let waits = erlang_c(c, a);
    let mean_wait = waits / (capacity - lambda);
    Some(MmcQueue {
        wait_probability: waits,
        mean_wait,
        mean_sojourn: mean_wait + 1.0 / mu,
        utilisation: lambda / capacity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn one_server_is_the_m_m_1_queue() {
        // M/M/1: P(wait) = ρ, Wq = ρ / (μ − λ).
        let q = mmc(0.8, 1.0, 1).unwrap();
        assert!(close(q.wait_probability, 0.8));
        assert!(close(q.mean_wait, 4.0));
        assert!(close(q.mean_sojourn, 5.0));
    }

    #[test]
    fn by_hand_for_two_servers() {
        // M/M/2 at a = 1 Erlang: C = (1/2 · 2) / (1 + 1 + 1) = 1/3; Wq = C / (2 − 1).
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0));
        let q = mmc(1.0, 1.0, 2).unwrap();
        assert!(close(q.mean_wait, 1.0 / 3.0));
        assert!(close(q.utilisation, 0.5));
        // 8 servers at 7 Erlangs, from the closed form
        // C = (a^c/c! · c/(c−a)) / (Σ_{k<c} a^k/k! + a^c/c! · c/(c−a)).
        let (c, a) = (8, 7.0f64);
        let factorial = |n: u32| (1..=n).map(f64::from).product::<f64>();
        let top = a.powi(c) / factorial(c as u32) * (c as f64 / (c as f64 - a));
        let sum: f64 = (0..c).map(|k| a.powi(k) / factorial(k as u32)).sum();
        assert!(close(erlang_c(8, 7.0), top / (sum + top)));
    }

    #[test]
    fn an_unstable_queue_has_no_mean() {
        assert_eq!(mmc(2.0, 1.0, 2), None);
        assert_eq!(erlang_c(2, 2.5), 1.0);
    }
}
