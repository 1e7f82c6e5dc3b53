//! Mutual information between a discrete label and continuous features (Ross 2014).

use std::collections::HashMap;

use rayon::prelude::*;

use crate::ksg::{Digamma, ordered_mean};
use crate::neighbors::distance;
use crate::neighbors::{Backend, Index, Metric};
use crate::{ContinuousError, Result, Samples};

/// MI between a discrete variable (labels) and a continuous one, in nats (max-norm).
///
/// Points whose label occurs once carry no neighbour information and are dropped, as in
/// Ross's reference code; for a label with N_l points, k is lowered to N_l − 1 when needed.
///
/// # Formula
/// ```text
/// I = ψ(N) − ⟨ψ(N_{l_i})⟩ + ψ(k) − ⟨ψ(m_i)⟩
/// d_i: distance to the k-th neighbour with the same label; m_i = #{j ≠ i : ‖x_j − x_i‖ ≤ d_i}
/// ```
///
/// # Errors
/// [`ContinuousError::ShapeMismatch`]; [`ContinuousError::InvalidParameter`] for k = 0;
/// [`ContinuousError::ClassTooSmall`] when no label occurs twice.
///
/// # Examples
/// ```
/// use infometer_continuous::{mixed_mi, Samples};
/// // labels perfectly separated in x: I = H(L) = ln 2
/// # let mut s = 42u64;
/// # let mut u = move || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
/// let l: Vec<i64> = (0..400).map(|i| (i % 2) as i64).collect();
/// let x: Vec<f64> = l.iter().map(|&li| 100.0 * li as f64 + u()).collect();
/// let mi = mixed_mi(&l, &Samples::from_column(&x).unwrap(), 3).unwrap();
/// assert!((mi - 2f64.ln()).abs() < 0.02);
/// ```
///
/// # References
/// Ross, "Mutual Information between Discrete and Continuous Data Sets", PLoS ONE 9(2): e87357, 2014.
pub fn mixed_mi(labels: &[i64], x: &Samples, k: usize) -> Result<f64> {
    Ok(ordered_mean(&mixed_terms(labels, x, k)?.1))
}

/// The samples kept by [`mixed_mi`] (those whose label occurs at least twice) and their
/// per-point terms ψ(N) − ψ(N_l) + ψ(k) − ψ(m_i), in that order.
pub(crate) fn mixed_terms(labels: &[i64], x: &Samples, k: usize) -> Result<(Vec<usize>, Vec<f64>)> {
    if labels.len() != x.n_samples() {
        return Err(ContinuousError::ShapeMismatch {
            what: "labels",
            expected: x.n_samples(),
            got: labels.len(),
        });
    }
    if k == 0 {
        return Err(ContinuousError::InvalidParameter {
            name: "k",
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    let mut groups: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, &l) in labels.iter().enumerate() {
        groups.entry(l).or_default().push(i);
    }
    let keep: Vec<usize> = (0..labels.len())
        .filter(|&i| groups[&labels[i]].len() > 1)
        .collect();
    if keep.is_empty() {
        return Err(ContinuousError::ClassTooSmall {
            estimator: "mixed MI",
            label: labels.first().copied().unwrap_or_default(),
            count: labels.len().min(1),
            needed: 2,
        });
    }
    let x = x.take_rows(&keep);
    let labels: Vec<i64> = keep.iter().map(|&i| labels[i]).collect();
    let n = x.n_samples();
    let mut groups: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, &l) in labels.iter().enumerate() {
        groups.entry(l).or_default().push(i);
    }
    let full = Index::new(&x, Metric::MaxNorm, 0, Backend::Auto);
    let psi = Digamma::new(n + 1);
    let terms: Vec<f64> = (0..n)
        .into_par_iter()
        .with_min_len(64)
        .map(|i| {
            let g = &groups[&labels[i]];
            let kk = k.min(g.len() - 1);
            let mut d: Vec<f64> = g
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| distance(x.row(i), x.row(j), Metric::MaxNorm))
                .collect();
            d.select_nth_unstable_by(kk - 1, f64::total_cmp);
            let di = d[kk - 1];
            let m = full.count(i, di, false).max(1);
            psi.at(n) - psi.at(g.len()) + psi.at(kk) - psi.at(m)
        })
        .collect();
    Ok((keep, terms))
}
