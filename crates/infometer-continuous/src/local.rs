//! Local (pointwise) information on the time axis: local KSG transfer entropy with invalid time points masked (never padded), and windowed means with a moving-block bootstrap interval.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ksg::Prepared;
use crate::te::{ksg_embedding, ksg_te_terms};
use crate::{ContinuousError, Result, Setting, TeEmbedding, TeEstimator};

/// Local values on the original time axis of a series.
///
/// `values[t]` is the local value at time t where `valid[t]`, and NaN where the embedding
/// has no value (the first time points, whose history reaches before the series). The mean
/// of the valid values is `estimate`, up to rounding.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSeries {
    /// One value per time point, NaN where not valid.
    pub values: Vec<f64>,
    /// Whether each time point has a value.
    pub valid: Vec<bool>,
    /// The average estimate (nats): the mean of the valid values.
    pub estimate: f64,
}

/// Local transfer entropy T(X → Y) at each time point, by KSG (JIDT's local form).
///
/// # Formula
/// ```text
/// KSG1: t_i = ψ(k) − ⟨ψ(n_xz + 1) + ψ(n_yz + 1) − ψ(n_z + 1)⟩ → ψ(k) − ψ(n_xz,i + 1) − ψ(n_yz,i + 1) + ψ(n_z,i + 1)
/// KSG2: t_i = ψ(k) − 2/k − ψ(n_xz,i) − ψ(n_yz,i) + ψ(n_z,i) + 1/n_xz,i + 1/n_yz,i
/// ```
/// with x = next target value, y = source past, z = target past; the local value at the time
/// of the next target value. TE = mean_t t_i over the valid t.
///
/// # Errors
/// [`ContinuousError::NotApplicable`] for an estimator other than KSG (the closed forms have
/// no pointwise KSG counts); as [`crate::transfer_entropy`] otherwise.
///
/// # Examples
/// ```
/// use infometer_continuous::{local_transfer_entropy, transfer_entropy, KsgConfig, TeEmbedding, TeEstimator};
/// # let mut s = 3u64;
/// # let mut u = move || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
/// let x: Vec<f64> = (0..400).map(|_| u()).collect();
/// let y: Vec<f64> = (0..400).map(|t| if t == 0 { 0.0 } else { x[t - 1] } + 0.1 * u()).collect();
/// let est = TeEstimator::Ksg(KsgConfig::default());
/// let e = TeEmbedding::default();
/// let l = local_transfer_entropy(&x, &y, &e, &est).unwrap();
/// assert!(!l.valid[0] && l.values[0].is_nan() && l.valid[1]);
/// assert!((l.estimate - transfer_entropy(&x, &y, &e, &est).unwrap()).abs() < 1e-12);
/// ```
///
/// # References
/// Lizier, Prokopenko, Zomaya, "Local information transfer as a spatiotemporal filter for
/// complex systems", Phys. Rev. E 77, 026110, 2008; Lizier, "JIDT", Front. Robot. AI 1:11,
/// 2014 (local KSG values).
pub fn local_transfer_entropy(
    source: &[f64],
    target: &[f64],
    e: &TeEmbedding,
    est: &TeEstimator,
) -> Result<LocalSeries> {
    let TeEstimator::Ksg(cfg) = est else {
        return Err(ContinuousError::NotApplicable {
            setting: Setting::Local,
            estimator: match est {
                TeEstimator::Gaussian => "gaussian",
                _ => "gcmi",
            },
        });
    };
    let (next, past, src) = ksg_embedding(source, target, e, cfg)?;
    let terms = ksg_te_terms(&Prepared(vec![next, src, past]), cfg)?;
    let n = target.len();
    let locals = terms.locals();
    let start = n - locals.len();
    let mut values = vec![f64::NAN; n];
    values[start..].copy_from_slice(&locals);
    let mut valid = vec![false; n];
    valid[start..].fill(true);
    Ok(LocalSeries {
        values,
        valid,
        estimate: terms.estimate(),
    })
}

/// The mean of a window of local values, with its moving-block bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalWindow {
    /// First time point of the window.
    pub start: usize,
    /// One past the last time point.
    pub end: usize,
    /// Valid time points in the window.
    pub n_valid: usize,
    /// Mean of the valid values (NaN when there are none).
    pub mean: f64,
    /// Moving-block bootstrap interval of the mean (None with fewer than 2 blocks of valid
    /// values).
    pub ci: Option<(f64, f64)>,
}

/// Settings of [`local_windows`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowOptions {
    /// Time points per window.
    pub window: usize,
    /// Time points between window starts.
    pub stride: usize,
    /// Values per bootstrap block (local values are serially correlated).
    pub block: usize,
    /// Bootstrap replicates per window (1..=[`crate::MAX_RESAMPLES`]).
    pub resamples: usize,
    /// Confidence level in (0, 1).
    pub level: f64,
    /// Seed; window w draws from stream w.
    pub seed: u64,
}

/// Windowed means of a local series, each with a moving-block bootstrap percentile interval
/// over its valid values (in time order).
///
/// # Formula
/// ```text
/// mean_w = (1/n_w) Σ_{t ∈ w, valid} l_t;  a replicate concatenates ⌈n_w/b⌉ blocks of b
/// consecutive valid values, starts drawn uniformly, cut to n_w; CI = percentiles of the
/// replicate means (linear between order statistics)
/// ```
///
/// # Errors
/// [`ContinuousError::ShapeMismatch`] for `valid` of another length;
/// [`ContinuousError::InvalidParameter`] for a zero window, stride or block, a window longer
/// than the series, 0 or too many replicates, or a level outside (0, 1).
///
/// # Examples
/// ```
/// use infometer_continuous::{local_windows, WindowOptions};
/// let v: Vec<f64> = (0..100).map(|t| if t < 50 { 0.0 } else { 1.0 }).collect();
/// let ok = vec![true; 100];
/// let o = WindowOptions { window: 50, stride: 50, block: 5, resamples: 99, level: 0.9, seed: 1 };
/// let w = local_windows(&v, &ok, &o).unwrap();
/// assert_eq!((w[0].mean, w[1].mean), (0.0, 1.0));
/// assert_eq!(w[1].ci, Some((1.0, 1.0)));
/// ```
///
/// # References
/// Künsch, "The jackknife and the bootstrap for general stationary observations", Ann. Stat.
/// 17(3), 1989.
pub fn local_windows(
    values: &[f64],
    valid: &[bool],
    o: &WindowOptions,
) -> Result<Vec<LocalWindow>> {
    if values.len() != valid.len() {
        return Err(ContinuousError::ShapeMismatch {
            what: "valid flags",
            expected: values.len(),
            got: valid.len(),
        });
    }
    for (name, v, ok) in [
        (
            "window",
            o.window,
            o.window >= 1 && o.window <= values.len(),
        ),
        ("stride", o.stride, o.stride >= 1),
        ("block", o.block, o.block >= 1),
        (
            "resamples",
            o.resamples,
            o.resamples >= 1 && o.resamples <= crate::MAX_RESAMPLES,
        ),
    ] {
        if !ok {
            return Err(ContinuousError::InvalidParameter {
                name,
                value: v as f64,
                reason: "window in 1..=series length; stride, block ≥ 1; resamples in 1..=100000",
            });
        }
    }
    if !(o.level > 0.0 && o.level < 1.0) {
        return Err(ContinuousError::InvalidParameter {
            name: "level",
            value: o.level,
            reason: "must lie strictly between 0 and 1",
        });
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut w = 0u64;
    while start + o.window <= values.len() {
        let end = start + o.window;
        let v: Vec<f64> = (start..end)
            .filter(|&t| valid[t])
            .map(|t| values[t])
            .collect();
        let n = v.len();
        let mean = if n == 0 {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / n as f64
        };
        let ci = (n >= 2 * o.block).then(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
            rng.set_stream(w + 1);
            let mut prefix = vec![0.0; n + 1];
            for i in 0..n {
                prefix[i + 1] = prefix[i] + v[i];
            }
            let mut reps: Vec<f64> = (0..o.resamples)
                .map(|_| {
                    let (mut left, mut s) = (n, 0.0);
                    while left > 0 {
                        let take = left.min(o.block);
                        let b = rng.random_range(0..=n - o.block);
                        s += prefix[b + take] - prefix[b];
                        left -= take;
                    }
                    s / n as f64
                })
                .collect();
            reps.sort_by(f64::total_cmp);
            let q = |p: f64| {
                let h = (reps.len() - 1) as f64 * p;
                let lo = h.floor() as usize;
                let hi = (lo + 1).min(reps.len() - 1);
                reps[lo] + (h - lo as f64) * (reps[hi] - reps[lo])
            };
            let a = 1.0 - o.level;
            (q(a / 2.0), q(1.0 - a / 2.0))
        });
        out.push(LocalWindow {
            start,
            end,
            n_valid: n,
            mean,
            ci,
        });
        start += o.stride;
        w += 1;
    }
    Ok(out)
}
