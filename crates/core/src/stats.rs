//! Order statistics shared by the metrics.

use std::cmp::Ordering;

/// The nearest-rank percentile of sorted values: the smallest value with at least `percent`
/// of the values at or below it. The median of 1..=8 is 4, the 75th percentile 6.
pub fn nearest_rank<T: Copy>(sorted: &[T], percent: usize) -> Option<T> {
    let rank = (sorted.len() * percent).div_ceil(100);
    sorted.get(rank.checked_sub(1)?).copied()
}

/// [`nearest_rank`] of values in any order, in linear time: `values` is reordered so that
/// the value found sits at its rank, smaller ones before it and larger ones after. Cheaper
/// than sorting when a few percentiles of many values are wanted.
pub fn nearest_rank_by<T: Copy>(
    values: &mut [T],
    percent: usize,
    compare: impl FnMut(&T, &T) -> Ordering,
) -> Option<T> {
    let index = (values.len() * percent).div_ceil(100).checked_sub(1)?;
    if index >= values.len() {
        return None;
    }
    Some(*values.select_nth_unstable_by(index, compare).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_of_unsorted_values_equals_that_of_sorted_ones() {
        let shuffled = [5.0, 1.0, 8.0, 3.0, 7.0, 2.0, 6.0, 4.0];
        for percent in [0, 1, 25, 50, 75, 99, 100] {
            let mut sorted = shuffled;
            sorted.sort_by(f64::total_cmp);
            let mut values = shuffled;
            assert_eq!(
                nearest_rank_by(&mut values, percent, f64::total_cmp),
                nearest_rank(&sorted, percent),
                "{percent}%"
            );
        }
        assert_eq!(
            nearest_rank_by(&mut [8.0, 2.0, 4.0, 6.0], 75, f64::total_cmp),
            Some(6.0)
        );
        assert_eq!(nearest_rank_by::<f64>(&mut [], 50, f64::total_cmp), None);
    }

    #[test]
    fn nearest_rank_picks_an_observed_value() {
        let eight = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(nearest_rank(&eight, 50), Some(4));
        assert_eq!(nearest_rank(&eight, 75), Some(6));
        assert_eq!(nearest_rank(&eight, 100), Some(8));
        assert_eq!(nearest_rank(&[7], 75), Some(7));
        assert_eq!(nearest_rank::<i32>(&[], 50), None);
    }
}
