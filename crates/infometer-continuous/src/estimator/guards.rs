//! The checks shared by every estimator: repeated rows, identical columns across variables, and more dimensions than samples (warned); the twin of the zero-distance refusal, which the KSG pass raises itself.

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
/// Exact, from the groups of identical rows: the brute-force twin of the flag the KSG pass
/// raises itself ([`crate::ksg::KsgTerms::zero_distance`]).
#[cfg(test)]
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

    /// The KSG pass's own zero-distance flag (MI and CMI, both algorithms, every backend,
    /// with and without a Theiler window) equals the brute-force twin on the joint space, on
    /// data with many identical rows and none.
    #[test]
    fn the_pass_flags_exactly_the_zero_distance_rows() {
        use crate::ksg::{KsgAlgorithm, KsgConfig, Prepared, ksg_cmi_terms, ksg_multi_terms};
        use crate::neighbors::Backend;
        let mut state = 5u64;
        for trial in 0..120 {
            let n = 8 + trial % 19;
            let mut col = |levels: u64| -> Samples {
                let v: Vec<f64> = (0..n)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        // many levels: no ties at all
                        let l = if levels == 0 { 1 << 40 } else { levels };
                        ((state >> 20) % l) as f64
                    })
                    .collect();
                Samples::from_column(&v).unwrap()
            };
            let t = trial as u64;
            let vars = vec![col(t % 5), col(t % 3), col(t % 4)];
            let xy = vars[0].hstack(&vars[1]).unwrap();
            let xyz = xy.hstack(&vars[2]).unwrap();
            for k in 1..4 {
                for theiler in [0usize, 2] {
                    if k + 2 * theiler + 1 > n {
                        continue;
                    }
                    for algorithm in [KsgAlgorithm::One, KsgAlgorithm::Two] {
                        for backend in [Backend::Auto, Backend::BruteForce] {
                            let cfg = KsgConfig {
                                k,
                                algorithm,
                                theiler,
                                backend,
                                standardize: false,
                                noise: 0.0,
                                ..KsgConfig::default()
                            };
                            let mi = ksg_multi_terms(&Prepared(vars[..2].to_vec()), &cfg).unwrap();
                            let want = zero_distance_row(&xy, k, theiler).is_some();
                            assert_eq!(mi.zero_distance, want, "MI n={n} k={k} W={theiler}");
                            let cmi = ksg_cmi_terms(&Prepared(vars.clone()), &cfg).unwrap();
                            let want = zero_distance_row(&xyz, k, theiler).is_some();
                            assert_eq!(cmi.zero_distance, want, "CMI n={n} k={k} W={theiler}");
                        }
                    }
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
