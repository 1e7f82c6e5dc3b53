//! Transfer entropy from a source to a target time series, as a conditional MI over delay embeddings (KSG or Gaussian), with a Theiler window.

use crate::ksg::Prepared;
use crate::{
    ContinuousError, KsgAlgorithm, KsgConfig, MiMethod, MiSettings, Result, Samples, gaussian_cmi,
};

/// Delay-embedding parameters of transfer entropy. Defaults: k = l = 1, spacings 1, delay 1.
///
/// # Examples
/// ```
/// let e = infometer_continuous::TeEmbedding::default();
/// assert_eq!((e.target_history, e.source_history, e.delay), (1, 1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeEmbedding {
    /// Target history length k.
    pub target_history: usize,
    /// Spacing τ_k between target history values.
    pub target_spacing: usize,
    /// Source history length l.
    pub source_history: usize,
    /// Spacing τ_l between source history values.
    pub source_spacing: usize,
    /// Source–target delay u ≥ 1: the most recent source value is x_{t+1−u} for target y_{t+1}.
    pub delay: usize,
}

impl Default for TeEmbedding {
    fn default() -> Self {
        TeEmbedding {
            target_history: 1,
            target_spacing: 1,
            source_history: 1,
            source_spacing: 1,
            delay: 1,
        }
    }
}

/// How transfer entropy is estimated.
#[derive(Debug, Clone, PartialEq)]
pub enum TeEstimator {
    /// KSG conditional MI with these settings.
    Ksg(KsgConfig),
    /// Linear-Gaussian TE (half Granger causality) from sample covariances.
    Gaussian,
    /// Gaussian-copula CMI ([`crate::gcmi_cmi`]) of the embedded variables, each transformed
    /// to normal scores on its own.
    Gcmi(crate::GcmiConfig),
}

impl TeEstimator {
    /// The transfer-entropy estimator for a method by name and the user's settings.
    ///
    /// # Errors
    /// [`ContinuousError::NoConditionalForm`] for a method without a conditional form;
    /// [`ContinuousError::NotApplicable`] for a setting the method does not take; the KSG
    /// parameter checks.
    ///
    /// # Examples
    /// ```
    /// use infometer_continuous::{MiMethod, MiSettings, TeEstimator};
    /// assert!(matches!(TeEstimator::new(MiMethod::Ksg2, &MiSettings::default()), Ok(TeEstimator::Ksg(_))));
    /// assert!(TeEstimator::new(MiMethod::Kde, &MiSettings::default()).is_err());
    /// ```
    pub fn new(method: MiMethod, settings: &MiSettings) -> Result<TeEstimator> {
        method.require_conditional()?;
        settings.check_for(method)?;
        Ok(match method {
            MiMethod::Ksg1 => TeEstimator::Ksg(settings.ksg(KsgAlgorithm::One)?.config().clone()),
            MiMethod::Ksg2 => TeEstimator::Ksg(settings.ksg(KsgAlgorithm::Two)?.config().clone()),
            MiMethod::Gaussian => TeEstimator::Gaussian,
            _ => TeEstimator::Gcmi(crate::GcmiConfig {
                seed: settings.seed,
                ..Default::default()
            }),
        })
    }
}

/// The embedded vectors: (next target value, target past, source past), one row per time t.
///
/// # Errors
/// [`ContinuousError::ShapeMismatch`] for series of different length; [`ContinuousError::InvalidParameter`]
/// for a zero history, spacing or delay; [`ContinuousError::SeriesTooShort`] when the series
/// leaves fewer than two embedded rows.
///
/// # Examples
/// ```
/// use infometer_continuous::{embed_te, TeEmbedding};
/// let x = [0.0, 1.0, 2.0, 3.0, 4.0];
/// let y = [10.0, 11.0, 12.0, 13.0, 14.0];
/// let (next, past, src) = embed_te(&x, &y, &TeEmbedding::default()).unwrap();
/// assert_eq!(next.column(0), vec![11.0, 12.0, 13.0, 14.0]);
/// assert_eq!(past.column(0), vec![10.0, 11.0, 12.0, 13.0]);
/// assert_eq!(src.column(0), vec![0.0, 1.0, 2.0, 3.0]);
/// ```
pub fn embed_te(
    source: &[f64],
    target: &[f64],
    e: &TeEmbedding,
) -> Result<(Samples, Samples, Samples)> {
    if source.len() != target.len() {
        return Err(ContinuousError::ShapeMismatch {
            what: "source and target lengths",
            expected: target.len(),
            got: source.len(),
        });
    }
    for (name, v) in [
        ("target_history", e.target_history),
        ("target_spacing", e.target_spacing),
        ("source_history", e.source_history),
        ("source_spacing", e.source_spacing),
        ("delay", e.delay),
    ] {
        if v == 0 {
            return Err(ContinuousError::InvalidParameter {
                name,
                value: 0.0,
                reason: "must be at least 1",
            });
        }
    }
    let n = target.len();
    // first t (index of the next target value) with all history available
    let start = ((e.target_history - 1) * e.target_spacing + 1)
        .max((e.source_history - 1) * e.source_spacing + e.delay);
    if n <= start + 1 {
        return Err(ContinuousError::SeriesTooShort {
            len: n,
            needed: start + 2,
            history: start,
        });
    }
    let rows = n - start;
    let mut next = Vec::with_capacity(rows);
    let mut past = Vec::with_capacity(rows * e.target_history);
    let mut src = Vec::with_capacity(rows * e.source_history);
    for t in start..n {
        next.push(target[t]);
        for h in 0..e.target_history {
            past.push(target[t - 1 - h * e.target_spacing]);
        }
        for h in 0..e.source_history {
            src.push(source[t - e.delay - h * e.source_spacing]);
        }
    }
    Ok((
        Samples::new(rows, 1, next)?,
        Samples::new(rows, e.target_history, past)?,
        Samples::new(rows, e.source_history, src)?,
    ))
}

/// Transfer entropy T(X → Y) in nats: I(Y_{t+1} ; X_past | Y_past).
///
/// With KSG, the source and target series are standardised (and noise added) before
/// embedding, as JIDT does (after the copula transform of each series, when the config asks
/// for it); the Theiler window of the config applies to every search. With GCMI each
/// embedded variable is transformed to normal scores on its own.
///
/// # Formula
/// ```text
/// T_{X→Y} = I( y_{t+1} ; (x_{t+1−u}, x_{t+1−u−τ_l}, …) | (y_t, y_{t−τ_k}, …) )
/// ```
///
/// # Errors
/// As [`embed_te`] and [`crate::ksg_cmi`] / [`gaussian_cmi`]; with KSG,
/// [`ContinuousError::ZeroDistance`] when tied values (noise off) leave some point's k-th
/// neighbour in the joint embedding at distance 0.
///
/// # Examples
/// ```
/// use infometer_continuous::{transfer_entropy, TeEmbedding, TeEstimator, KsgConfig};
/// // y copies x with one step of lag: information flows x → y, not y → x
/// # let mut s = 42u64;
/// # let mut u = move || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
/// let x: Vec<f64> = (0..1000).map(|_| u()).collect();
/// let mut y = vec![0.0; 1000];
/// for t in 1..1000 { y[t] = x[t - 1] + 0.05 * u(); }
/// let est = TeEstimator::Ksg(KsgConfig::default());
/// let xy = transfer_entropy(&x, &y, &TeEmbedding::default(), &est).unwrap();
/// let yx = transfer_entropy(&y, &x, &TeEmbedding::default(), &est).unwrap();
/// assert!(xy > 1.0 && yx.abs() < 0.1);
/// ```
///
/// # References
/// Schreiber, "Measuring Information Transfer", Phys. Rev. Lett. 85, 461, 2000; Wibral et al.,
/// "Measuring information-transfer delays", PLoS ONE 8(2), 2013 (delay u); Barnett, Barrett,
/// Seth, "Granger causality and transfer entropy are equivalent for Gaussian variables",
/// PRL 103, 238701, 2009.
pub fn transfer_entropy(
    source: &[f64],
    target: &[f64],
    e: &TeEmbedding,
    est: &TeEstimator,
) -> Result<f64> {
    match est {
        TeEstimator::Gaussian => {
            let (next, past, src) = embed_te(source, target, e)?;
            gaussian_cmi(&next, &src, &past)
        }
        TeEstimator::Gcmi(cfg) => {
            let (next, past, src) = embed_te(source, target, e)?;
            crate::gcmi_cmi(&next, &src, &past, cfg)
        }
        TeEstimator::Ksg(cfg) => {
            let (next, past, src) = ksg_embedding(source, target, e, cfg)?;
            ksg_te(Prepared(vec![next, src, past]), cfg)
        }
    }
}

/// Permutation test of transfer entropy: surrogates shuffle the source-history vectors over
/// time while each target value keeps its own history, so only the source → target link is
/// destroyed.
///
/// # Formula
/// ```text
/// p = (1 + #{s : T*_s ≥ T}) / (1 + S),  T*_s = I(y_{t+1} ; x_past(π_s(t)) | y_past(t))
/// ```
///
/// # Errors
/// As [`transfer_entropy`]; [`ContinuousError::InvalidParameter`] for 0 surrogates.
///
/// # Examples
/// ```
/// use infometer_continuous::{transfer_entropy_test, TeEmbedding, TeEstimator};
/// # let mut s = 7u64;
/// # let mut u = move || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
/// let x: Vec<f64> = (0..500).map(|_| u()).collect();
/// let mut y = vec![0.0; 500];
/// for t in 1..500 { y[t] = 0.5 * x[t - 1] + u(); }
/// let t = transfer_entropy_test(&x, &y, &TeEmbedding::default(), &TeEstimator::Gaussian, 99, 1).unwrap();
/// assert!(t.p_value <= 0.01 + 1e-12);
/// ```
///
/// # References
/// Lizier et al., "Multivariate information-theoretic measures reveal directed information
/// structure", J. Comput. Neurosci. 30, 2011 (surrogates that keep the target's past).
pub fn transfer_entropy_test(
    source: &[f64],
    target: &[f64],
    e: &TeEmbedding,
    est: &TeEstimator,
    n_surrogates: usize,
    seed: u64,
) -> Result<crate::PermutationTest> {
    transfer_entropy_test_with_progress(source, target, e, est, n_surrogates, seed, &|_| {})
}

/// [`transfer_entropy_test`] calling `progress(done)` after each surrogate.
///
/// # Errors
/// As [`transfer_entropy_test`].
///
/// # Examples
/// ```
/// use infometer_continuous::{transfer_entropy_test_with_progress, TeEmbedding, TeEstimator};
/// let x: Vec<f64> = (0..200).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = (0..200).map(|i| (i as f64 * 1.91).cos()).collect();
/// let max = std::sync::atomic::AtomicUsize::new(0);
/// let t = transfer_entropy_test_with_progress(&x, &y, &TeEmbedding::default(), &TeEstimator::Gaussian, 9, 1,
///     &|d| { max.fetch_max(d, std::sync::atomic::Ordering::Relaxed); }).unwrap();
/// assert_eq!((t.null.len(), max.into_inner()), (9, 9));
/// ```
pub fn transfer_entropy_test_with_progress(
    source: &[f64],
    target: &[f64],
    e: &TeEmbedding,
    est: &TeEstimator,
    n_surrogates: usize,
    seed: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<crate::PermutationTest> {
    match est {
        TeEstimator::Gaussian => {
            let (next, past, src) = embed_te(source, target, e)?;
            crate::permutation_test_with_progress(
                next.n_samples(),
                n_surrogates,
                seed,
                |p| gaussian_cmi(&next, &src.take_rows(p), &past),
                progress,
            )
        }
        TeEstimator::Gcmi(cfg) => {
            let (next, past, src) = embed_te(source, target, e)?;
            crate::permutation_test_with_progress(
                next.n_samples(),
                n_surrogates,
                seed,
                |p| crate::gcmi_cmi(&next, &src.take_rows(p), &past, cfg),
                progress,
            )
        }
        TeEstimator::Ksg(cfg) => {
            let (next, past, src) = ksg_embedding(source, target, e, cfg)?;
            crate::permutation_test_with_progress(
                next.n_samples(),
                n_surrogates,
                seed,
                |p| {
                    ksg_te(
                        Prepared(vec![next.clone(), src.take_rows(p), past.clone()]),
                        cfg,
                    )
                },
                progress,
            )
        }
    }
}

/// KSG transfer entropy of embedded, prepared variables (next, source past, target past),
/// refusing ties that leave some k-th distance at 0: the observed value and every surrogate
/// of a test go through here.
fn ksg_te(vars: Prepared, cfg: &KsgConfig) -> Result<f64> {
    Ok(ksg_te_terms(&vars, cfg)?.estimate())
}

/// The per-point terms of [`ksg_te`] (its local values), under the same zero-distance guard.
pub(crate) fn ksg_te_terms(vars: &Prepared, cfg: &KsgConfig) -> Result<crate::ksg::KsgTerms> {
    crate::ksg::ksg_cmi_terms(vars, cfg)?.refuse_zero_distance("KSG transfer entropy")
}

/// The KSG path of TE: prepare the two series as JIDT does (copula, standardise, noise, per
/// the config), then embed them; the searches run on the embedding as it is.
pub(crate) fn ksg_embedding(
    source: &[f64],
    target: &[f64],
    e: &TeEmbedding,
    cfg: &KsgConfig,
) -> Result<(Samples, Samples, Samples)> {
    cfg.validate()?;
    let prep = cfg.prepare(&[
        &Samples::from_column(source)?,
        &Samples::from_column(target)?,
    ])?;
    let (s, t) = (prep.0[0].column(0), prep.0[1].column(0));
    let (next, past, src) = embed_te(&s, &t, e)?;
    cfg.check_k(next.n_samples())?;
    Ok((next, past, src))
}
