//! 1-D radius counts: the values sorted once, each count the difference of two ranks found by galloping outward from the point's own rank.

use crate::Samples;

/// 1-D values sorted ascending (ties by row), and each row's position in that order.
pub(super) struct SortedLine {
    sorted: Vec<f64>,
    rank: Vec<u32>,
}

impl SortedLine {
    /// Sorts a one-column sample set (None beyond u32 rows).
    pub(super) fn build(s: &Samples) -> Option<SortedLine> {
        (s.dim() == 1).then(|| Self::of_column(s, 0)).flatten()
    }

    /// Sorts column `col` of a sample set (None beyond u32 rows).
    pub(super) fn of_column(s: &Samples, col: usize) -> Option<SortedLine> {
        (s.n_samples() <= u32::MAX as usize).then(|| {
            let mut pairs: Vec<(f64, u32)> = (0..s.n_samples())
                .map(|i| (s.row(i)[col], i as u32))
                .collect();
            // (value, row) pairs are distinct, so the unstable sort has one result
            let by = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
            if pairs.len() >= 1 << 15 {
                use rayon::slice::ParallelSliceMut;
                pairs.par_sort_unstable_by(by);
            } else {
                pairs.sort_unstable_by(by);
            }
            let mut rank = vec![0u32; pairs.len()];
            for (pos, &(_, row)) in pairs.iter().enumerate() {
                rank[row as usize] = pos as u32;
            }
            SortedLine {
                sorted: pairs.into_iter().map(|(v, _)| v).collect(),
                rank,
            }
        })
    }

    /// The values in ascending order (`total_cmp`).
    pub(super) fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// Row i's position in [`SortedLine::sorted`] (ties in row order).
    pub(super) fn rank(&self, i: usize) -> usize {
        self.rank[i] as usize
    }

    /// Values x_j with |x_j − x| < r (strict) or ≤ r, x = row i's value; the row itself included.
    pub(super) fn count(&self, i: usize, x: f64, r: f64, strict: bool) -> usize {
        self.count_at_rank(self.rank[i] as usize, x, r, strict)
    }

    /// [`SortedLine::count`] for the value x at position `at` of the sorted values.
    pub(super) fn count_at_rank(&self, at: usize, x: f64, r: f64, strict: bool) -> usize {
        let (lo, hi) = self.range_at_rank(at, x, r, strict);
        hi - lo
    }

    /// The positions lo..hi of the sorted values v with |x − v| < r (strict) or ≤ r, for the
    /// value x at position `at`.
    pub(super) fn range_at_rank(&self, at: usize, x: f64, r: f64, strict: bool) -> (usize, usize) {
        // both ends are searched outward from the point's own position: the count is
        // local, so a galloping search touches O(log count) nearby values, not log N
        let sorted = &self.sorted;
        let (lo, hi) = if strict {
            (
                gallop(sorted, at, |v| x - v >= r),
                gallop(sorted, at, |v| v - x < r),
            )
        } else {
            (
                gallop(sorted, at, |v| x - v > r),
                gallop(sorted, at, |v| v - x <= r),
            )
        };
        (lo, hi.max(lo))
    }
}

/// `sorted.partition_point(pred)` (pred true on a prefix, false after), found by galloping
/// outward from `start`: the same index, in O(log |answer − start|) probes.
fn gallop(sorted: &[f64], start: usize, pred: impl Fn(f64) -> bool) -> usize {
    let n = sorted.len();
    if n == 0 {
        return 0;
    }
    let start = start.min(n - 1);
    if pred(sorted[start]) {
        // the answer lies in (start, n]
        let (mut lo, mut step) = (start + 1, 1usize);
        loop {
            let probe = start + step;
            if probe >= n {
                return lo + sorted[lo..].partition_point(|&v| pred(v));
            }
            if !pred(sorted[probe]) {
                return lo + sorted[lo..probe].partition_point(|&v| pred(v));
            }
            lo = probe + 1;
            step *= 2;
        }
    } else {
        // the answer lies in [0, start]
        let (mut hi, mut step) = (start, 1usize);
        loop {
            if step > start {
                return sorted[..hi].partition_point(|&v| pred(v));
            }
            let probe = start - step;
            if pred(sorted[probe]) {
                return probe + 1 + sorted[probe + 1..hi].partition_point(|&v| pred(v));
            }
            hi = probe;
            step *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Galloping from any start finds std's `partition_point` on sorted arrays with many
        /// ties, for every threshold.
        #[test]
        fn gallop_equals_std_partition_point(
            mut v in proptest::collection::vec(0u8..12, 0..80),
            start in 0usize..90,
            t in 0u8..13,
        ) {
            v.sort_unstable();
            let v: Vec<f64> = v.into_iter().map(f64::from).collect();
            let t = f64::from(t);
            for pred in [&(|x: f64| x < t) as &dyn Fn(f64) -> bool, &|x: f64| x <= t] {
                let want = v.partition_point(|&x| pred(x));
                proptest::prop_assert_eq!(gallop(&v, start, pred), want);
            }
        }
    }
}
