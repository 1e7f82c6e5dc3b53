//! Conditional counts for a 1-D conditioning variable: the points sorted by z with their other coordinates stored in that order, so the points within a z-radius are one contiguous run and the counts inside it one scan.

use std::ops::Range;

use super::fmax;
use super::sorted_line::SortedLine;
use crate::Samples;

/// A joint sample set sorted by its last column (z), rows stored position by position.
///
/// Exactness: the run of positions within r of z is found with the same predicates as a 1-D
/// radius count (`|fl(z − v)| < r`, or `≤ r`), and every other test is the max-norm block
/// distance that brute force computes (the maximum of the same |differences|, taken column
/// by column), so the counts are brute force's, bit for bit.
pub(super) struct Slab {
    line: SortedLine,
    /// each joint column in z order (column c at c·n..(c + 1)·n), so a run of positions is
    /// a contiguous stretch of every column
    cols: Vec<f64>,
    n: usize,
    width: usize,
}

/// Whole-set counts around one point (the point itself and its Theiler window included).
pub(super) struct SlabCounts {
    /// Points within the z-radius.
    pub(super) z: usize,
    /// Of those, points within the x-radius on the x columns.
    pub(super) xz: usize,
    /// Of those, points within the y-radius on the y columns.
    pub(super) yz: usize,
}

impl Slab {
    /// Sorts a joint sample set on its last column (None beyond u32 rows).
    pub(super) fn build(joint: &Samples) -> Option<Slab> {
        let width = joint.dim();
        let line = SortedLine::of_column(joint, width.checked_sub(1)?)?;
        let mut order = vec![0u32; joint.n_samples()];
        for (i, o) in (0..joint.n_samples()).map(|i| (i, line.rank(i))) {
            order[o] = i as u32;
        }
        let n = joint.n_samples();
        let mut cols = vec![0.0; n * width];
        for (p, &i) in order.iter().enumerate() {
            for (c, &v) in joint.row(i as usize).iter().enumerate() {
                cols[c * n + p] = v;
            }
        }
        Some(Slab {
            line,
            cols,
            n,
            width,
        })
    }

    /// Counts around row i (joint values q): points with |z − z_i| within `rz`, and of those
    /// the points whose x columns (`x`) are within `rx` and whose y columns (`y`) are within
    /// `ry` (all `<` when strict, else `≤`).
    #[allow(clippy::too_many_arguments)] // three radii and two column ranges: one query
    pub(super) fn counts(
        &self,
        i: usize,
        q: &[f64],
        (rx, ry, rz): (f64, f64, f64),
        x: &Range<usize>,
        y: &Range<usize>,
        strict: bool,
    ) -> SlabCounts {
        let (lo, hi) = self
            .line
            .range_at_rank(self.line.rank(i), q[self.width - 1], rz, strict);
        // the points of the run within r on the columns `cols`, 64 positions at a time, their
        // running maxima down each contiguous column
        let within = |cols: &Range<usize>, r: f64| {
            const W: usize = 64;
            let mut total = 0usize;
            let mut acc = [0.0f64; W];
            let mut start = lo;
            while start < hi {
                let len = (hi - start).min(W);
                acc[..len].fill(0.0);
                for c in cols.clone() {
                    let col = &self.cols[c * self.n + start..c * self.n + start + len];
                    for (a, &v) in acc[..len].iter_mut().zip(col) {
                        *a = fmax(*a, (q[c] - v).abs());
                    }
                }
                total += acc[..len]
                    .iter()
                    .map(|&d| usize::from(if strict { d < r } else { d <= r }))
                    .sum::<usize>();
                start += len;
            }
            total
        };
        let (xz, yz) = (within(x, rx), within(y, ry));
        SlabCounts { z: hi - lo, xz, yz }
    }
}
