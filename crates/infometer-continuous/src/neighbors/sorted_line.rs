//! 1-D radius counts: the values radix-sorted once, each count the difference of two ranks, each rank found in two levels (a gallop outward from the point's own rank over every 16th value, then a branch-free count within one block).

use crate::Samples;

/// Values per block of [`SortedLine`]'s coarse level (16: against 32 and 8, 2% less time per
/// 1+1 run at 1e4 and 1e5 rows; a block's count is two cache lines).
const BLOCK: usize = 16;

/// 1-D values sorted ascending (ties by row), and each row's position in that order.
pub(super) struct SortedLine {
    sorted: Vec<f64>,
    /// every BLOCK-th sorted value (sorted[0], sorted[BLOCK], …): a search gallops here,
    /// in a few cache lines, then counts within one block without a branch
    coarse: Vec<f64>,
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
            // a stable radix sort on keys that order as `total_cmp` does, from row order:
            // ties stay in row order
            radsort::sort_by_key(&mut pairs, |&(v, _)| total_order_key(v));
            let mut rank = vec![0u32; pairs.len()];
            for (pos, &(_, row)) in pairs.iter().enumerate() {
                rank[row as usize] = pos as u32;
            }
            let sorted: Vec<f64> = pairs.into_iter().map(|(v, _)| v).collect();
            SortedLine {
                coarse: sorted.iter().step_by(BLOCK).copied().collect(),
                sorted,
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
        let (lo, hi) = if strict {
            (
                self.partition(at, |v| x - v >= r),
                self.partition(at, |v| v - x < r),
            )
        } else {
            (
                self.partition(at, |v| x - v > r),
                self.partition(at, |v| v - x <= r),
            )
        };
        (lo, hi.max(lo))
    }
}

/// An unsigned key that orders as `f64::total_cmp` orders the values: negative values (sign
/// bit set) have every bit flipped, others only the sign bit.
#[inline]
fn total_order_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 { !b } else { b | 1 << 63 }
}

impl SortedLine {
    /// `sorted.partition_point(pred)` (pred true on a prefix, false after), searched from
    /// position `start`: galloping over the coarse level from start's block finds B, the
    /// number of coarse values that hold pred. The answer is then past the value at
    /// (B − 1)·BLOCK, which holds pred, and at most B·BLOCK, which does not (0 when B = 0):
    /// it is (B − 1)·BLOCK + 1 plus the count of the values between that hold pred (they are
    /// a prefix), counted without a branch.
    #[inline]
    fn partition(&self, start: usize, pred: impl Fn(f64) -> bool) -> usize {
        let blocks = gallop(&self.coarse, start / BLOCK, &pred);
        if blocks == 0 {
            return 0;
        }
        let first = (blocks - 1) * BLOCK + 1;
        let rest =
            &self.sorted[first.min(self.sorted.len())..(blocks * BLOCK).min(self.sorted.len())];
        first + rest.iter().map(|&v| usize::from(pred(v))).sum::<usize>()
    }
}

/// `sorted.partition_point(pred)` (pred true on a prefix, false after), found by galloping
/// outward from `start`: the same index, in O(log |answer − start|) probes.
fn gallop(sorted: &[f64], start: usize, pred: &impl Fn(f64) -> bool) -> usize {
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
        /// The radix sort's keys order every value, −0, ±∞ and NaNs included, as
        /// `total_cmp` does.
        #[test]
        fn total_order_key_orders_as_total_cmp(a in proptest::num::f64::ANY, b in proptest::num::f64::ANY) {
            for (x, y) in [(a, b), (a, -0.0), (0.0, b), (-0.0, 0.0), (f64::NEG_INFINITY, a), (b, f64::NAN), (-f64::NAN, a)] {
                proptest::prop_assert_eq!(
                    total_order_key(x).cmp(&total_order_key(y)),
                    x.total_cmp(&y)
                );
            }
        }

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
                proptest::prop_assert_eq!(gallop(&v, start, &pred), want);
            }
        }

        /// The two-level search (gallop over the coarse level, count in the block) finds std's
        /// `partition_point` from any start, on lines of many blocks with long runs of ties
        /// across block edges.
        #[test]
        fn two_level_partition_equals_std_partition_point(
            v in proptest::collection::vec(0u8..12, 1..300),
            start in 0usize..310,
            t in 0u8..13,
        ) {
            let s = Samples::new(v.len(), 1, v.iter().map(|&a| f64::from(a)).collect()).unwrap();
            let line = SortedLine::of_column(&s, 0).unwrap();
            let t = f64::from(t);
            for pred in [&(|x: f64| x < t) as &dyn Fn(f64) -> bool, &|x: f64| x <= t] {
                let want = line.sorted().partition_point(|&x| pred(x));
                proptest::prop_assert_eq!(line.partition(start.min(v.len()), pred), want);
            }
        }
    }
}
