//! Permutation tests and bootstrap confidence intervals for any estimator, parallel and seeded.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::{ContinuousError, Result};

/// The outcome of a permutation test.
#[derive(Debug, Clone, PartialEq)]
pub struct PermutationTest {
    /// The estimate on the original data.
    pub observed: f64,
    /// p = (1 + #{null ≥ observed}) / (1 + S).
    pub p_value: f64,
    /// Mean of the null distribution.
    pub null_mean: f64,
    /// Standard deviation of the null distribution.
    pub null_sd: f64,
    /// The surrogate estimates, in surrogate order.
    pub null: Vec<f64>,
}

/// A seeded generator for surrogate s: identical whatever the thread count.
fn rng_for(seed: u64, s: usize) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(s as u64 + 1);
    r
}

/// Permutation test: `estimate(perm)` must compute the statistic with the shuffled variable's
/// rows taken in the order `perm` (the identity gives the observed value).
///
/// # Formula
/// ```text
/// p = (1 + #{s : θ*_s ≥ θ}) / (1 + S)
/// ```
///
/// # Errors
/// [`ContinuousError::InvalidParameter`] for 0 surrogates or more than [`MAX_RESAMPLES`];
/// errors of `estimate` pass through.
///
/// # Examples
/// ```
/// use infometer_continuous::permutation_test;
/// // statistic: correlation-like sum of x_i · y_perm(i) for perfectly aligned data
/// let x: Vec<f64> = (0..50).map(|i| i as f64).collect();
/// let t = permutation_test(50, 99, 7, |p| Ok::<_, infometer_continuous::ContinuousError>(p.iter().enumerate().map(|(i, &j)| x[i] * x[j]).sum())).unwrap();
/// assert!(t.p_value <= 0.01 + 1e-12);
/// ```
///
/// # References
/// Phipson & Smyth, "Permutation p-values should never be zero", Stat. Appl. Genet. Mol. Biol. 9(1), 2010;
/// Lizier, JIDT (surrogates for MI and TE significance).
pub fn permutation_test<F, E>(
    n: usize,
    n_surrogates: usize,
    seed: u64,
    estimate: F,
) -> Result<PermutationTest, E>
where
    F: Fn(&[usize]) -> Result<f64, E> + Sync,
    E: From<ContinuousError> + Send,
{
    permutation_test_with_progress(n, n_surrogates, seed, estimate, |_| {})
}

/// Most surrogates or resamples a test may ask for: beyond this the p-value's resolution
/// (1/(S + 1) ≤ 1e-5) no longer matters, and the run would take hours.
pub const MAX_RESAMPLES: usize = 100_000;

/// Refuses 0 or more than [`MAX_RESAMPLES`] surrogates or resamples.
fn check_count(name: &'static str, count: usize) -> Result<()> {
    if count == 0 {
        return Err(ContinuousError::InvalidParameter {
            name,
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    if count > MAX_RESAMPLES {
        return Err(ContinuousError::InvalidParameter {
            name,
            value: count as f64,
            reason: "must be at most 100000 (the p-value's resolution is then 1e-5)",
        });
    }
    Ok(())
}

/// [`permutation_test`] that calls `progress(done)` after each surrogate (from any thread;
/// `done` counts the surrogates finished so far), for a progress bar on long runs.
///
/// # Errors
/// As [`permutation_test`].
///
/// # Examples
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use infometer_continuous::permutation_test_with_progress;
/// let calls = AtomicUsize::new(0);
/// let x: Vec<f64> = (0..30).map(|i| i as f64).collect();
/// let t = permutation_test_with_progress(30, 19, 1,
///     |p| Ok::<_, infometer_continuous::ContinuousError>(p.iter().enumerate().map(|(i, &j)| x[i] * x[j]).sum()),
///     |_| { calls.fetch_add(1, Ordering::Relaxed); }).unwrap();
/// assert_eq!(calls.load(Ordering::Relaxed), 19);
/// assert_eq!(t.null.len(), 19);
/// ```
///
/// # References
/// As [`permutation_test`].
pub fn permutation_test_with_progress<F, E, P>(
    n: usize,
    n_surrogates: usize,
    seed: u64,
    estimate: F,
    progress: P,
) -> Result<PermutationTest, E>
where
    F: Fn(&[usize]) -> Result<f64, E> + Sync,
    E: From<ContinuousError> + Send,
    P: Fn(usize) + Sync,
{
    check_count("permutations", n_surrogates)?;
    let identity: Vec<usize> = (0..n).collect();
    let observed = estimate(&identity)?;
    let null = permutation_null(n, 0..n_surrogates, seed, estimate, progress)?;
    Ok(PermutationTest::from_null(observed, null))
}

impl PermutationTest {
    /// The test from the observed value and the surrogate values (in surrogate order), for
    /// nulls computed in parts ([`permutation_null`]) and put together.
    ///
    /// # Examples
    /// ```
    /// let t = infometer_continuous::PermutationTest::from_null(1.0, vec![0.0, 2.0, 0.5]);
    /// assert_eq!(t.p_value, 0.5); // (1 + 1) / (1 + 3)
    /// ```
    pub fn from_null(observed: f64, null: Vec<f64>) -> PermutationTest {
        let ge = null.iter().filter(|&&v| v >= observed).count();
        let mean = null.iter().sum::<f64>() / null.len() as f64;
        let sd = if null.len() > 1 {
            (null.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (null.len() - 1) as f64).sqrt()
        } else {
            0.0
        };
        PermutationTest {
            observed,
            p_value: (1 + ge) as f64 / (1 + null.len()) as f64,
            null_mean: mean,
            null_sd: sd,
            null,
        }
    }
}

/// The surrogate values of a permutation test for surrogate indices `surrogates` only:
/// surrogate s always uses the permutation drawn from stream s of `seed`, so the null of a
/// test split across processes by index ranges, concatenated in order, equals the `null` of
/// one [`permutation_test`] bit for bit.
///
/// # Errors
/// [`ContinuousError::InvalidParameter`] for an empty range or one reaching past
/// [`MAX_RESAMPLES`]; errors of `estimate` pass through.
///
/// # Examples
/// ```
/// use infometer_continuous::{permutation_null, permutation_test, ContinuousError};
/// let x: Vec<f64> = (0..40).map(|i| (i as f64 * 0.7).sin()).collect();
/// let stat = |p: &[usize]| Ok::<_, ContinuousError>(p.iter().enumerate().map(|(i, &j)| x[i] * x[j]).sum::<f64>());
/// let whole = permutation_test(40, 30, 9, stat).unwrap();
/// let mut split = permutation_null(40, 0..12, 9, stat, |_| {}).unwrap();
/// split.extend(permutation_null(40, 12..30, 9, stat, |_| {}).unwrap());
/// assert_eq!(split, whole.null);
/// ```
///
/// # References
/// As [`permutation_test`].
pub fn permutation_null<F, E, P>(
    n: usize,
    surrogates: std::ops::Range<usize>,
    seed: u64,
    estimate: F,
    progress: P,
) -> Result<Vec<f64>, E>
where
    F: Fn(&[usize]) -> Result<f64, E> + Sync,
    E: From<ContinuousError> + Send,
    P: Fn(usize) + Sync,
{
    if surrogates.is_empty() || surrogates.end > MAX_RESAMPLES {
        return Err(ContinuousError::InvalidParameter {
            name: "permutations",
            value: surrogates.end as f64,
            reason: "the surrogate range must be non-empty and end at most at 100000",
        }
        .into());
    }
    let identity: Vec<usize> = (0..n).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    surrogates
        .into_par_iter()
        .map(|s| {
            let mut p = identity.clone();
            p.shuffle(&mut rng_for(seed, s));
            let v = estimate(&p);
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            v
        })
        .collect()
}

/// A percentile bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapInterval {
    /// The estimate on the original data.
    pub estimate: f64,
    /// Lower percentile bound.
    pub lower: f64,
    /// Upper percentile bound.
    pub upper: f64,
    /// Coverage asked for, e.g. 0.95.
    pub level: f64,
}

/// Percentile bootstrap: `estimate(rows)` computes the statistic on the rows `rows` (with repeats).
///
/// Resampling repeats rows, so k-NN estimators see zero distances: keep their noise on.
///
/// # Errors
/// [`ContinuousError::InvalidParameter`] for 0 resamples, more than [`MAX_RESAMPLES`], or a
/// level outside (0, 1).
///
/// # Examples
/// ```
/// use infometer_continuous::bootstrap_ci;
/// let v: Vec<f64> = (0..200).map(|i| (i % 10) as f64).collect();
/// let ci = bootstrap_ci(200, 200, 0.9, 1, |rows| Ok::<_, infometer_continuous::ContinuousError>(rows.iter().map(|&i| v[i]).sum::<f64>() / rows.len() as f64)).unwrap();
/// assert!(ci.lower < 4.5 && 4.5 < ci.upper);
/// ```
///
/// # References
/// Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13.
pub fn bootstrap_ci<F, E>(
    n: usize,
    n_resamples: usize,
    level: f64,
    seed: u64,
    estimate: F,
) -> Result<BootstrapInterval, E>
where
    F: Fn(&[usize]) -> Result<f64, E> + Sync,
    E: From<ContinuousError> + Send,
{
    check_count("resamples", n_resamples)?;
    if !(level > 0.0 && level < 1.0) {
        return Err(ContinuousError::InvalidParameter {
            name: "level",
            value: level,
            reason: "must lie in (0, 1)",
        }
        .into());
    }
    let identity: Vec<usize> = (0..n).collect();
    let est = estimate(&identity)?;
    let mut vals: Vec<f64> = (0..n_resamples)
        .into_par_iter()
        .map(|s| {
            use rand::Rng;
            let mut r = rng_for(seed, s);
            let rows: Vec<usize> = (0..n).map(|_| r.random_range(0..n)).collect();
            estimate(&rows)
        })
        .collect::<Result<_, E>>()?;
    vals.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (vals.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        vals[lo] + (vals[hi] - vals[lo]) * (pos - lo as f64)
    };
    let a = (1.0 - level) / 2.0;
    Ok(BootstrapInterval {
        estimate: est,
        lower: q(a),
        upper: q(1.0 - a),
        level,
    })
}
