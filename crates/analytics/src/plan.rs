//! The target stack: from a revenue target back to the pipeline and stage entries it takes,
//! with the conversions of each funnel step (DESIGN §4).

use serde::Serialize;

/// What a target needs, stage by stage.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TargetStack {
    /// Target / average deal size, rounded up.
    pub wins: u64,
    /// Deals that must enter each step, first step first: entries(k) = entries(k+1) /
    /// conversion(k → k+1), the last step converting into wins. Rounded up.
    pub entries: Vec<u64>,
    /// The product of the step conversions: the overall conversion they imply.
    pub chained_conversion: f64,
}

/// Rounds up, forgiving the last bits of floating-point division (20 / 0.2 is 100, not 101).
fn ceil(x: f64) -> u64 {
    (x - 1e-9).ceil().max(0.0) as u64
}

/// The stack for `target` at `average_deal` (same units) with `conversions`, one per step
/// from the first stage to a win. `None` if the average deal or a conversion is not positive.
pub fn target_stack(target: i64, average_deal: i64, conversions: &[f64]) -> Option<TargetStack> {
    if average_deal <= 0 || conversions.iter().any(|c| *c <= 0.0 || *c > 1.0) {
        return None;
    }
    let wins = target.max(0) as f64 / average_deal as f64;
    let mut needed = wins;
    let mut entries: Vec<u64> = conversions
        .iter()
        .rev()
        .map(|conversion| {
            needed /= conversion;
            ceil(needed)
        })
        .collect();
    entries.reverse();
    Some(TargetStack {
        wins: ceil(wins),
        entries,
        chained_conversion: conversions.iter().product(),
    })
}

/// The pipeline a target needs at a coverage multiple: $500k at 3× is $1.5M.
pub fn pipeline_for_coverage(target: i64, multiple: f64) -> i64 {
    (target as f64 * multiple).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_1_2m_target_at_60k_and_20_percent_needs_100_qualified_opportunities() {
        let stack = target_stack(1_200_000, 60_000, &[0.2]).unwrap();
        assert_eq!((stack.wins, stack.entries.as_slice()), (20, &[100][..]));
        assert_eq!(stack.chained_conversion, 0.2);
    }

    #[test]
    fn entries_are_computed_backward_through_each_step() {
        // 18 wins from the funnel 18% → 40% → 62.5% → 40%: 45, 72, 180, 1,000 entries.
        let stack = target_stack(18 * 50_000, 50_000, &[0.18, 0.4, 0.625, 0.4]).unwrap();
        assert_eq!(stack.wins, 18);
        assert_eq!(stack.entries, [1000, 180, 72, 45]);
        assert!((stack.chained_conversion - 0.018).abs() < 1e-12);
        assert_eq!(target_stack(1, 0, &[0.5]), None);
        assert_eq!(target_stack(1, 1, &[0.0]), None);
    }

    #[test]
    fn a_500k_target_at_3x_needs_1_5m() {
        // In cents.
        assert_eq!(pipeline_for_coverage(50_000_000, 3.0), 150_000_000);
    }
}
