//! The checks shared by every estimator: zero nearest-neighbour distances (refused), repeated rows, identical columns across variables, and more dimensions than samples (warned).

use std::cmp::Ordering;

use super::{Variable, Warning};
use crate::Samples;

/// Compares two rows value by value; −0 and +0 compare equal (their distance is 0).
fn cmp_rows(a: &[f64], b: &[f64]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x + 0.0).total_cmp(&(y + 0.0)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Groups of row indices holding identical rows (groups of one left out), each group in
/// ascending index order.
fn duplicate_groups(s: &Samples) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..s.n_samples()).collect();
    // stable: equal rows keep ascending index order
    order.sort_by(|&a, &b| cmp_rows(s.row(a), s.row(b)));
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=order.len() {
        if i == order.len() || cmp_rows(s.row(order[start]), s.row(order[i])).is_ne() {
            if i - start > 1 {
                groups.push(order[start..i].to_vec());
            }
            start = i;
        }
    }
    groups
}

/// The first row whose k-th nearest neighbour (outside the Theiler window `theiler`) is at
/// distance 0, in any norm: a row with at least k identical rows j, |i − j| > theiler.
///
/// Exact, from the groups of identical rows, so it agrees with every search backend.
pub(crate) fn zero_distance_row(s: &Samples, k: usize, theiler: usize) -> Option<usize> {
    duplicate_groups(s)
        .into_iter()
        .filter(|g| g.len() > k)
        .filter_map(|g| {
            g.iter().copied().find(|&i| {
                // members within the window (the row itself included) are excluded
                let lo = g.partition_point(|&j| j + theiler < i);
                let hi = g.partition_point(|&j| j <= i + theiler);
                g.len() - (hi - lo) >= k
            })
        })
        .min()
}

/// The longest run of equal values in column 0 (−0 and +0 equal): no row can have k
/// identical rows unless this run is longer than k. A sort of bare f64 keys, far cheaper
/// than the row sort of [`duplicate_groups`], which then runs only on tied data.
fn longest_tie_in_first_column(s: &Samples) -> usize {
    let mut v: Vec<f64> = (0..s.n_samples()).map(|i| s.row(i)[0] + 0.0).collect();
    v.sort_unstable_by(f64::total_cmp);
    let (mut best, mut run) = (usize::from(!v.is_empty()), 1);
    for w in v.windows(2) {
        run = if w[0] == w[1] { run + 1 } else { 1 };
        best = best.max(run);
    }
    best
}

/// [`zero_distance_row`] for the joint space of several variables, without building it
/// unless the first column has ties long enough to matter.
pub(crate) fn zero_distance_row_joint(
    vars: &[Samples],
    k: usize,
    theiler: usize,
) -> crate::Result<Option<usize>> {
    if vars.is_empty() || longest_tie_in_first_column(&vars[0]) <= k {
        return Ok(None);
    }
    let joint = crate::ksg::Blocks::new(vars)?.joint;
    Ok(zero_distance_row(&joint, k, theiler))
}

/// The smallest sample standard deviation (N − 1) of any non-constant column of the
/// variables (+inf when every column is constant).
pub(crate) fn smallest_sd(vars: &[&Samples]) -> f64 {
    vars.iter()
        .flat_map(|s| (0..s.dim()).map(move |j| s.column_mean_sd(j).1))
        .filter(|&sd| sd > 0.0)
        .fold(f64::INFINITY, f64::min)
}

/// Rows that repeat an earlier row.
pub(crate) fn repeated_rows(s: &Samples) -> usize {
    duplicate_groups(s).iter().map(|g| g.len() - 1).sum()
}

/// Warns about each column of one variable equal, value for value, to a column of another.
pub(crate) fn overlaps(vars: &[(Variable, &Samples)], out: &mut Vec<Warning>) {
    for (a, (va, sa)) in vars.iter().enumerate() {
        for (vb, sb) in &vars[a + 1..] {
            for ca in 0..sa.dim() {
                for cb in 0..sb.dim() {
                    let same = (0..sa.n_samples()).all(|i| sa.row(i)[ca] == sb.row(i)[cb]);
                    if same {
                        out.push(Warning::Overlap {
                            first: *va,
                            first_col: ca,
                            second: *vb,
                            second_col: cb,
                        });
                    }
                }
            }
        }
    }
}

/// Warns when the joint space has at least as many dimensions as samples.
pub(crate) fn dims_vs_rows(vars: &[&Samples], out: &mut Vec<Warning>) {
    let dims: usize = vars.iter().map(|v| v.dim()).sum();
    let rows = vars[0].n_samples();
    if dims >= rows {
        out.push(Warning::DimsAtLeastRows { dims, rows });
    }
}

/// The warnings every estimator of I(X; Y) or I(X; Y | Z) gives about its input.
pub(crate) fn input_warnings(vars: &[&Samples]) -> Vec<Warning> {
    let names = [Variable::X, Variable::Y, Variable::Z];
    let tagged: Vec<(Variable, &Samples)> =
        names.iter().copied().zip(vars.iter().copied()).collect();
    let mut out = Vec::new();
    overlaps(&tagged, &mut out);
    dims_vs_rows(vars, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The brute-force twin: the k-th smallest distance to rows outside the window.
    fn kth_is_zero(s: &Samples, i: usize, k: usize, w: usize) -> bool {
        let mut d: Vec<f64> = (0..s.n_samples())
            .filter(|&j| j.abs_diff(i) > w)
            .map(|j| {
                s.row(i)
                    .iter()
                    .zip(s.row(j))
                    .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
            })
            .collect();
        if d.len() < k {
            return false;
        }
        d.sort_by(f64::total_cmp);
        d[k - 1] == 0.0
    }

    #[test]
    fn zero_distance_row_matches_brute_force() {
        let mut state = 17u64;
        for trial in 0..200 {
            let n = 5 + trial % 23;
            let d = 1 + trial % 3;
            let levels = 1 + (trial % 4) as u64;
            let data: Vec<f64> = (0..n * d)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let v = ((state >> 33) % levels) as f64;
                    if v == 0.0 && state & 1 == 1 { -0.0 } else { v }
                })
                .collect();
            let s = Samples::new(n, d, data).unwrap();
            for k in 1..4 {
                for w in [0usize, 1, 3] {
                    let want = (0..n).find(|&i| kth_is_zero(&s, i, k, w));
                    assert_eq!(zero_distance_row(&s, k, w), want, "n={n} d={d} k={k} w={w}");
                }
            }
        }
    }

    #[test]
    fn the_joint_check_equals_the_full_check() {
        let mut state = 5u64;
        for trial in 0..100 {
            let n = 6 + trial % 19;
            let mut col = |levels: u64| -> Samples {
                let v: Vec<f64> = (0..n)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        ((state >> 33) % levels) as f64
                    })
                    .collect();
                Samples::from_column(&v).unwrap()
            };
            let vars = vec![col(1 + trial as u64 % 5), col(1 + trial as u64 % 3)];
            let joint = vars[0].hstack(&vars[1]).unwrap();
            for k in 1..4 {
                for w in [0usize, 2] {
                    assert_eq!(
                        zero_distance_row_joint(&vars, k, w).unwrap(),
                        zero_distance_row(&joint, k, w)
                    );
                }
            }
        }
    }

    #[test]
    fn repeated_rows_counts_rows_after_the_first() {
        let s = Samples::from_column(&[1.0, 2.0, 1.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(repeated_rows(&s), 3);
        let u = Samples::from_column(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(repeated_rows(&u), 0);
    }

    #[test]
    fn overlap_and_dimension_warnings() {
        let x = Samples::from_columns(&[&[1.0, 2.0, 3.0], &[0.0, 5.0, 1.0]]).unwrap();
        let y = Samples::from_columns(&[&[4.0, 4.0, 4.5], &[0.0, 5.0, 1.0]]).unwrap();
        let w = input_warnings(&[&x, &y]);
        assert!(w.contains(&Warning::Overlap {
            first: Variable::X,
            first_col: 1,
            second: Variable::Y,
            second_col: 1
        }));
        assert!(w.contains(&Warning::DimsAtLeastRows { dims: 4, rows: 3 }));
        let z = Samples::from_column(&[9.0, 8.0, 7.0]).unwrap();
        assert!(
            input_warnings(&[&z, &x])
                .iter()
                .all(|w| !matches!(w, Warning::Overlap { .. }))
        );
    }
}
