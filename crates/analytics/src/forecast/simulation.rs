//! The range of outcomes the deal model implies: every open deal won or not at its own
//! probability, independently, over many trials; the 10th, 50th and 90th percentiles of the
//! totals. Deterministic: a fixed seed, so the same deals always give the same range.
//!
//! The largest deals are drawn one by one, for they shape the range. Past them, the sum of
//! the many small ones is drawn at once from the normal distribution with its exact mean
//! and variance: with hundreds of independent deals none of which dominates, that sum is
//! normal to well within a deal's amount (the central limit theorem), and a pipeline of fifty
//! thousand deals costs a thousand draws per trial instead of fifty thousand.

use pipewise_core::stats::nearest_rank;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

/// Trials per forecast: enough that the percentiles move by well under a deal's amount
/// from one seed to another on a pipeline of a few dozen deals or more.
pub const TRIALS: usize = 2_000;
const SEED: u64 = 0x7069_7065_7769_7365;
/// Deals drawn one by one, largest first; the rest are summed as one normal draw.
const DRAWN_ONE_BY_ONE: usize = 1_000;

/// Percentiles of the simulated total won from open deals, in corporate minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OutcomeRange {
    pub p10: i64,
    pub p50: i64,
    pub p90: i64,
    pub trials: usize,
}

/// Simulates `trials` outcomes of `deals` (amount, probability of winning).
pub fn simulate(deals: &[(i64, f64)], trials: usize) -> OutcomeRange {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut by_size: Vec<(i64, f64)> = deals.to_vec();
    by_size.sort_by_key(|d| std::cmp::Reverse(d.0));
    let (large, small) = by_size.split_at(by_size.len().min(DRAWN_ONE_BY_ONE));
    // Each large deal is won when a uniform 32-bit draw falls under p · 2³²: half the random
    // bytes of a float draw, and exact at 0 and 1.
    let scale = f64::from(u32::MAX) + 1.0;
    // Summed in integers, which is exact and lets the sum run several deals at a time; no
    // real deal comes near the cap that keeps a thousand of them from overflowing.
    let cap = i64::MAX / i64::try_from(large.len().max(1)).unwrap_or(i64::MAX);
    let (thresholds, amounts): (Vec<u64>, Vec<i64>) = large
        .iter()
        .map(|(amount, p)| {
            (
                (p.clamp(0.0, 1.0) * scale) as u64,
                (*amount).clamp(-cap, cap),
            )
        })
        .unzip();
    let (mean, variance) = small.iter().fold((0.0, 0.0), |(m, v), (amount, p)| {
        let (a, p) = (*amount as f64, p.clamp(0.0, 1.0));
        (m + a * p, v + a * a * p * (1.0 - p))
    });
    let spread = variance.sqrt();
    let mut draws = vec![0u32; large.len()];
    let mut totals: Vec<f64> = (0..trials)
        .map(|_| {
            // A trial's draws in one go, then each deal adds its amount or nothing, without a
            // branch: a draw is a coin flip the processor cannot predict.
            rng.fill(&mut draws[..]);
            let drawn: i64 = draws
                .iter()
                .zip(&thresholds)
                .zip(&amounts)
                .map(|((draw, threshold), amount)| {
                    amount * i64::from(u64::from(*draw) < *threshold)
                })
                .sum();
            let rest = if small.is_empty() {
                0.0
            } else {
                let z: f64 = rng.sample(StandardNormal);
                (mean + spread * z).max(0.0)
            };
            drawn as f64 + rest
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

    proptest::proptest! {
        /// The range is that of drawing each large deal in turn, one 32-bit draw per deal and
        /// trial, then the normal for the rest: the plain reading of the method.
        #[test]
        fn the_range_is_that_of_drawing_deal_by_deal(
            deals in proptest::collection::vec((1i64..1_000_000, 0.0f64..=1.0), 1..1_100),
            trials in 1usize..60,
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(SEED);
            let mut by_size = deals.clone();
            by_size.sort_by_key(|d| std::cmp::Reverse(d.0));
            let (large, small) = by_size.split_at(by_size.len().min(DRAWN_ONE_BY_ONE));
            let mean: f64 = small.iter().map(|(a, p)| *a as f64 * p).sum();
            let variance: f64 = small.iter().map(|(a, p)| (*a as f64).powi(2) * p * (1.0 - p)).sum();
            let mut totals: Vec<f64> = (0..trials)
                .map(|_| {
                    let mut total = 0.0;
                    for (amount, p) in large {
                        let threshold = (p * (f64::from(u32::MAX) + 1.0)) as u64;
                        if u64::from(rng.random::<u32>()) < threshold {
                            total += *amount as f64;
                        }
                    }
                    if !small.is_empty() {
                        let z: f64 = rng.sample(StandardNormal);
                        total += (mean + variance.sqrt() * z).max(0.0);
                    }
                    total
                })
                .collect();
            totals.sort_by(f64::total_cmp);
            let at = |rank| nearest_rank(&totals, rank).unwrap().round() as i64;
            let range = simulate(&deals, trials);
            proptest::prop_assert_eq!((range.p10, range.p50, range.p90), (at(10), at(50), at(90)));
        }
    }

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

    #[test]
    fn past_the_largest_deals_the_rest_are_summed_as_a_normal() {
        // 200 deals of 1,000 at 50% drawn one by one, and 5,000 deals of 1 at 30% beyond
        // them: mean 100,000 + 1,500, standard deviation √(200 · 250,000 + 5,000 · 0.21)
        // ≈ 7,071.2, so P10 ≈ 92,438 and P90 ≈ 110,562 (normal approximation), each within
        // one large deal: wins come in steps of 1,000.
        let mut deals = vec![(1_000, 0.5); 200];
        deals.extend(vec![(1, 0.3); 5_000]);
        let range = simulate(&deals, TRIALS);
        let within = |value: i64, expected: f64| (value as f64 - expected).abs() <= 1_000.0;
        assert!(within(range.p10, 92_438.0), "{range:?}");
        assert!(within(range.p50, 101_500.0), "{range:?}");
        assert!(within(range.p90, 110_562.0), "{range:?}");
    }

    #[test]
    fn the_normal_part_matches_its_binomial() {
        // 1,000 deals of 10 drawn one by one at 0 (never won), then 10,000 deals of 1 at 50%:
        // the rest alone, mean 5,000, standard deviation 50: P10 ≈ 4,936, P90 ≈ 5,064.
        let mut deals = vec![(10, 0.0); 1_000];
        deals.extend(vec![(1, 0.5); 10_000]);
        let range = simulate(&deals, TRIALS);
        assert!((range.p10 - 4_936).abs() <= 8, "{range:?}");
        assert!((range.p50 - 5_000).abs() <= 5, "{range:?}");
        assert!((range.p90 - 5_064).abs() <= 8, "{range:?}");
    }
}
