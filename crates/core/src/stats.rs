//! Order statistics shared by the metrics.

/// The nearest-rank percentile of sorted values: the smallest value with at least `percent`
/// of the values at or below it. The median of 1..=8 is 4, the 75th percentile 6.
pub fn nearest_rank<T: Copy>(sorted: &[T], percent: usize) -> Option<T> {
    let rank = (sorted.len() * percent).div_ceil(100);
    sorted.get(rank.checked_sub(1)?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

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
