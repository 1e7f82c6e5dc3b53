//! Conditional counts for a 1-D conditioning variable: the points sorted by z with their other coordinates stored in that order, so the points within a z-radius are one contiguous run and the counts inside it one scan.

use std::ops::Range;

use super::fmax;
use super::sorted_line::SortedLine;
use crate::Samples;

/// A joint sample set sorted by its last column (z), rows stored position by position.
///
/// Exactness: the run of positions within r of z is found with the same predicates as a 1-D
/// radius count (`|fl(z − v)| < r`, or `≤ r`), and every other test is the max-norm block
/// distance that brute force computes, so the counts are brute force's, bit for bit.
pub(super) struct Slab {
    line: SortedLine,
    /// the joint rows in z order, row-major (width = the joint dimension)
    rows: Vec<f64>,
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
        let rows = order
            .iter()
            .flat_map(|&i| joint.row(i as usize).iter().copied())
            .collect();
        Some(Slab { line, rows, width })
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
        let inside = |d: f64, r: f64| if strict { d < r } else { d <= r };
        let (lo, hi) = self
            .line
            .range_at_rank(self.line.rank(i), q[self.width - 1], rz, strict);
        let block = |row: &[f64], cols: &Range<usize>| {
            row[cols.clone()]
                .iter()
                .zip(&q[cols.clone()])
                .fold(0.0f64, |m, (a, b)| fmax(m, (b - a).abs()))
        };
        let (mut xz, mut yz) = (0usize, 0usize);
        for row in self.rows[lo * self.width..hi * self.width].chunks_exact(self.width) {
            xz += usize::from(inside(block(row, x), rx));
            yz += usize::from(inside(block(row, y), ry));
        }
        SlabCounts { z: hi - lo, xz, yz }
    }
}
