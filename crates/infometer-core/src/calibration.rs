//! Calibration of top-1 confidence: ECE, MCE, reliability bins, Brier score and temperature fitting.

use crate::{Analyze, CoreError, Element, Result, Rows};

/// Default number of equal-width confidence bins (as Guo et al. 2017 and torchmetrics).
pub const DEFAULT_BINS: usize = 15;

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBin {
    /// Lower edge (exclusive, except 0 for the first bin).
    pub lower: f64,
    /// Upper edge (inclusive).
    pub upper: f64,
    /// Tokens whose confidence falls in the bin.
    pub count: usize,
    /// Mean confidence in the bin (NaN when empty).
    pub mean_confidence: f64,
    /// Fraction correct in the bin (NaN when empty).
    pub accuracy: f64,
}

/// Expected and maximum calibration error with the reliability table.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Expected calibration error, in [0, 1].
    pub ece: f64,
    /// Maximum calibration error over non-empty bins, in [0, 1].
    pub mce: f64,
    /// The bins, lowest first.
    pub bins: Vec<ReliabilityBin>,
}

/// ECE, MCE and the reliability table from top-1 confidences and correctness.
///
/// Bins are equal-width on [0, 1]; a confidence c falls in bin ⌈c·B⌉ − 1 (bins are
/// (lo, hi], the first includes 0), as torchmetrics' `binary_calibration_error` with
/// `norm='l1'`.
///
/// # Formula
/// ```text
/// ECE = Σ_b (n_b / N) |acc_b − conf_b|,   MCE = max_b |acc_b − conf_b|
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`]; [`CoreError::NoValidTokens`] when empty;
/// [`CoreError::InvalidProbability`] for a confidence outside [0, 1] or NaN;
/// [`CoreError::InvalidParameter`] for 0 bins.
///
/// # Examples
/// ```
/// use infometer_core::calibration;
/// let c = calibration(&[0.9, 0.9, 0.6, 0.6], &[true, false, true, true], 10).unwrap();
/// // bin (0.8, 0.9]: acc 0.5 vs conf 0.9; bin (0.5, 0.6]: acc 1 vs conf 0.6
/// assert!((c.ece - 0.4).abs() < 1e-12);
/// assert!((c.mce - 0.4).abs() < 1e-12);
/// ```
///
/// # References
/// Naeini, Cooper, Hauskrecht, "Obtaining Well Calibrated Probabilities Using Bayesian
/// Binning", AAAI 2015; Guo et al., "On Calibration of Modern Neural Networks", ICML 2017.
pub fn calibration(confidence: &[f64], correct: &[bool], n_bins: usize) -> Result<Calibration> {
    if n_bins == 0 {
        return Err(CoreError::InvalidParameter {
            name: "n_bins",
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    if confidence.len() != correct.len() {
        return Err(CoreError::ShapeMismatch {
            what: "correctness",
            expected: confidence.len(),
            got: correct.len(),
        });
    }
    if confidence.is_empty() {
        return Err(CoreError::NoValidTokens);
    }
    let mut count = vec![0usize; n_bins];
    let mut sum_c = vec![0.0f64; n_bins];
    let mut sum_a = vec![0.0f64; n_bins];
    for (index, (&c, &ok)) in confidence.iter().zip(correct).enumerate() {
        if !(0.0..=1.0).contains(&c) {
            return Err(CoreError::InvalidProbability { index, value: c });
        }
        let b = ((c * n_bins as f64).ceil() as usize).clamp(1, n_bins) - 1;
        count[b] += 1;
        sum_c[b] += c;
        sum_a[b] += ok as u8 as f64;
    }
    Ok(from_bin_sums(&count, &sum_c, &sum_a))
}

/// ECE, MCE and the bins from per-bin counts, Σ confidence and Σ correct (n_bins ≥ 1 and
/// at least one token, checked by the callers).
pub(crate) fn from_bin_sums(count: &[usize], sum_c: &[f64], sum_a: &[f64]) -> Calibration {
    let n_bins = count.len();
    let n = count.iter().sum::<usize>() as f64;
    let mut ece = 0.0;
    let mut mce: f64 = 0.0;
    let bins = (0..n_bins)
        .map(|b| {
            let k = count[b];
            let (mc, acc) = if k == 0 {
                (f64::NAN, f64::NAN)
            } else {
                (sum_c[b] / k as f64, sum_a[b] / k as f64)
            };
            if k > 0 {
                let gap = (acc - mc).abs();
                ece += k as f64 / n * gap;
                mce = mce.max(gap);
            }
            ReliabilityBin {
                lower: b as f64 / n_bins as f64,
                upper: (b + 1) as f64 / n_bins as f64,
                count: k,
                mean_confidence: mc,
                accuracy: acc,
            }
        })
        .collect();
    Calibration { ece, mce, bins }
}

/// Result of [`fit_temperature`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemperatureFit {
    /// The temperature T minimising mean NLL of softmax(x/T).
    pub temperature: f64,
    /// Mean NLL (nats) at T = 1.
    pub nll_before: f64,
    /// Mean NLL (nats) at the fitted T.
    pub nll_after: f64,
}

/// Fits a softmax temperature on held-out logits by minimising the mean NLL.
///
/// The mean NLL is convex in β = 1/T (log-sum-exp is convex and the label term linear),
/// so a golden-section search over β ∈ [1/100, 100] finds the optimum to a relative 1e-7.
///
/// # Formula
/// ```text
/// T* = argmin_T  (1/N) Σ_t [ lse(x_t / T) − x_{t,y_t} / T ]
/// ```
///
/// # Errors
/// As [`Analyze::run`]; [`CoreError::NoValidTokens`] when no label is valid.
///
/// # Examples
/// ```
/// use infometer_core::{fit_temperature, Rows};
/// // over-confident logits: right 3 times out of 4 with confidence ≈ 1
/// let logits = [9.0f64, 0.0, 9.0, 0.0, 9.0, 0.0, 9.0, 0.0];
/// let fit = fit_temperature(Rows::new(&logits, 2).unwrap(), &[0, 0, 0, 1], None).unwrap();
/// assert!(fit.temperature > 1.0 && fit.nll_after < fit.nll_before);
/// ```
///
/// # References
/// Guo et al., "On Calibration of Modern Neural Networks", ICML 2017, §4.2.
pub fn fit_temperature<T: Element>(
    logits: Rows<'_, T>,
    labels: &[i64],
    mask: Option<&[bool]>,
) -> Result<TemperatureFit> {
    let eval = |beta: f64| -> Result<f64> {
        let mut a = Analyze::new(logits)
            .labels(labels)
            .temperature(1.0 / beta)
            .with_js(false);
        if let Some(m) = mask {
            a = a.mask(m);
        }
        let m = a.run()?;
        let nll = m.nll.expect("labels were given");
        let (s, c) = nll
            .iter()
            .zip(&m.valid)
            .filter(|(_, v)| **v)
            .fold((0.0, 0usize), |(s, c), (x, _)| (s + x, c + 1));
        if c == 0 {
            return Err(CoreError::NoValidTokens);
        }
        Ok(s / c as f64)
    };
    fit_temperature_by(eval)
}

/// The temperature search of [`fit_temperature`] over any mean-NLL function of β = 1/T,
/// for callers that evaluate it themselves (streamed over shards, or on another device).
///
/// `mean_nll(β)` must give the mean NLL at temperature 1/β; it is convex in β for softmax
/// models. A golden-section search over ln β ∈ [ln 0.01, ln 100] finds the minimum to a
/// relative 1e-7; when the fit is no better than T = 1, T = 1 is kept.
///
/// # Formula
/// ```text
/// T* = 1 / argmin_β mean_nll(β)
/// ```
///
/// # Errors
/// Whatever `mean_nll` returns.
///
/// # Examples
/// ```
/// use infometer_core::fit_temperature_by;
/// // a convex function of β with its minimum at β = 0.5, so T* = 2
/// let fit = fit_temperature_by(|b: f64| Ok::<_, ()>((b - 0.5).powi(2) + 1.0)).unwrap();
/// assert!((fit.temperature - 2.0).abs() < 1e-5);
/// assert!(fit.nll_after < fit.nll_before);
/// ```
///
/// # References
/// Guo et al., "On Calibration of Modern Neural Networks", ICML 2017, §4.2.
pub fn fit_temperature_by<E, F: FnMut(f64) -> std::result::Result<f64, E>>(
    mut eval: F,
) -> std::result::Result<TemperatureFit, E> {
    let nll_before = eval(1.0)?;
    // golden section on ln β
    let (mut a, mut b) = ((0.01f64).ln(), (100.0f64).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (eval(c.exp())?, eval(d.exp())?);
    while (b - a).abs() > 1e-7 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = eval(c.exp())?;
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = eval(d.exp())?;
        }
    }
    let beta = (0.5 * (a + b)).exp();
    let nll_after = eval(beta)?;
    let (temperature, nll_after) = if nll_after <= nll_before {
        (1.0 / beta, nll_after)
    } else {
        (1.0, nll_before)
    };
    Ok(TemperatureFit {
        temperature,
        nll_before,
        nll_after,
    })
}
