//! The range of outcomes the deal model implies: every open deal won or not at its own
//! probability, independently, over many trials; the 10th, 50th and 90th percentiles of the
//! totals. Deterministic: a fixed seed, so the same deals always give the same range.

use pipewise_core::stats::nearest_rank;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Trials per forecast: enough that the percentiles move by well under a deal's amount
/// from one seed to another on a pipeline of a few dozen deals or more.
pub const TRIALS: usize = 2_000;
const SEED: u64 = 0x7069_7065_7769_7365;

/// Percentiles of the simulated total won from open deals, in corporate minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutcomeRange {
    pub p10: i64,
    pub p50: i64,
    pub p90: i64,
    pub trials: usize,
}

/// Simulates `trials` outcomes of `deals` (amount, probability of winning).
pub fn simulate(deals: &[(i64, f64)], trials: usize) -> OutcomeRange {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    // Each deal is won when a uniform 32-bit draw falls under p · 2³²: half the random bytes
    // of a float draw, and exact at 0 and 1.
    let scale = f64::from(u32::MAX) + 1.0;
    let weighed: Vec<(u64, f64)> = deals
        .iter()
        .map(|(amount, p)| ((p.clamp(0.0, 1.0) * scale) as u64, *amount as f64))
        .collect();
    let mut totals: Vec<f64> = (0..trials)
        .map(|_| {
            weighed
                .iter()
                .filter(|(threshold, _)| u64::from(rng.random::<u32>()) < *threshold)
                .map(|(_, amount)| amount)
                .sum()
        })
        .collect();
    totals.sort_by(f64::total_cmp);
    let at = |rank| nearest_rank(&totals, rank).unwrap_or(0.0).round() as i64;
    OutcomeRange {
        p10: at(10),
        p50: at(50),
        p90: at(90),
        trials,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certain_deals_give_a_point() {
        let range = simulate(&[(500, 1.0), (300, 0.0), (200, 1.0)], 100);
        assert_eq!((range.p10, range.p50, range.p90), (700, 700, 700));
    }

    #[test]
    fn many_like_deals_spread_as_the_binomial_does() {
        // 100 deals of 1 at 30%: mean 30, standard deviation √21 ≈ 4.58, so P10 ≈ 24.1 and
        // P90 ≈ 35.9 (normal approximation).
        let deals = vec![(1, 0.3); 100];
        let range = simulate(&deals, TRIALS);
        assert!((23..=25).contains(&range.p10), "{range:?}");
        assert!((29..=31).contains(&range.p50), "{range:?}");
        assert!((35..=37).contains(&range.p90), "{range:?}");
        assert_eq!(
            simulate(&deals, TRIALS),
            range,
            "the same deals, the same range"
        );
    }
}
