//! One shape for every MI estimator: checked parameters, the [`MiEstimator`] and [`CmiEstimator`] traits, the [`MiEstimate`] they return (nats, locals, warnings), and the name-level dispatcher [`ClassicalMi`].
//!
//! The free functions ([`crate::ksg_mi`], [`crate::kde_mi`], …) are the kernels: they compute
//! exactly what their formula says on whatever they are given. The estimator values here add
//! what a user needs around them: parameters checked once when the value is built, guards that
//! refuse data the estimator cannot handle (zero nearest-neighbour distances), warnings for
//! results that are legal but doubtful, local values, and significance tests that work for
//! any estimator.

mod classical;
pub(crate) mod guards;
mod method;

pub use classical::{
    BoxKernel, BoxKernelParams, Gaussian, Gcmi, GcmiMixed, Kde, Ksg, KsgParams, Mixed,
};
pub use method::{ClassicalMi, MiMethod, MiSettings, Setting};

use crate::{BootstrapInterval, ContinuousError, PermutationTest, Samples};

/// Which variable of an estimate a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variable {
    /// The first variable, X.
    X,
    /// The second variable, Y.
    Y,
    /// The conditioning variable, Z.
    Z,
}

impl std::fmt::Display for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Variable::X => "X",
            Variable::Y => "Y",
            Variable::Z => "Z",
        })
    }
}

/// A result that is legal but doubtful: returned with the estimate, never instead of it.
///
/// # Examples
/// ```
/// use infometer_continuous::Warning;
/// let w = Warning::Negative { nats: -0.01 };
/// assert!(w.to_string().contains("negative"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// The estimate of a quantity that is ≥ 0 (MI, CMI, TE) came out negative: estimator bias
    /// or noise; read it as no detectable dependence.
    Negative {
        /// The estimate.
        nats: f64,
    },
    /// A column of one variable equals a column of another, value for value: the MI of a
    /// variable with itself is infinite for continuous data, so the estimate measures the
    /// estimator, not the data.
    Overlap {
        /// The first variable.
        first: Variable,
        /// Its column (0-based, within the variable).
        first_col: usize,
        /// The second variable.
        second: Variable,
        /// Its column.
        second_col: usize,
    },
    /// The joint space has at least as many dimensions as there are samples: every estimator
    /// is dominated by its bias there.
    DimsAtLeastRows {
        /// Dimensions of the joint space.
        dims: usize,
        /// Samples.
        rows: usize,
    },
    /// A variable has repeated values and no noise breaks the ties: k-NN estimators assume
    /// continuous data, and their marginal counts then include the ties.
    Ties {
        /// The variable.
        variable: Variable,
        /// Rows that repeat an earlier row of that variable.
        repeated_rows: usize,
    },
    /// The tie-breaking noise is more than 1% of the data's scale: it blurs the dependence it
    /// is only meant to untie, and pulls the estimate toward 0.
    LargeNoise {
        /// The noise's standard deviation.
        noise: f64,
        /// The smallest column standard deviation it is added to (1 when standardised).
        scale: f64,
    },
    /// An InfoNCE estimate is within 20% of its ceiling ln B: the truth may be larger.
    NearCeiling {
        /// The estimate.
        nats: f64,
        /// The ceiling ln B.
        ceiling: f64,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::Negative { nats } => write!(
                f,
                "negative estimate {nats:.4} nats: the quantity is ≥ 0, so this is estimator bias or noise; read it as no detectable dependence"
            ),
            Warning::Overlap {
                first,
                first_col,
                second,
                second_col,
            } => write!(
                f,
                "{first} column {first_col} and {second} column {second_col} are identical: the information of a variable with itself is unbounded, so the estimate reflects the estimator, not the data"
            ),
            Warning::DimsAtLeastRows { dims, rows } => write!(
                f,
                "{dims} dimensions for {rows} samples: with at least as many dimensions as samples the estimate is dominated by bias"
            ),
            Warning::Ties {
                variable,
                repeated_rows,
            } => write!(
                f,
                "{variable} repeats {repeated_rows} rows and the noise is off: k-NN estimators assume continuous data; add noise or use an estimator for discrete data"
            ),
            Warning::LargeNoise { noise, scale } => write!(
                f,
                "the noise sd {noise:e} is more than 1% of the data's scale ({scale:e}): it blurs the dependence it is only meant to untie and pulls the estimate toward 0; the default is 1e-8"
            ),
            Warning::NearCeiling { nats, ceiling } => write!(
                f,
                "InfoNCE estimate {nats:.4} nats is within 20% of its ceiling ln B = {ceiling:.4}: the truth may be larger; raise the batch size"
            ),
        }
    }
}

/// An estimate of mutual information (or of CMI, TE), in nats, with what a user needs to
/// trust it.
///
/// # Examples
/// ```
/// use infometer_continuous::{Ksg, MiEstimator, Samples};
/// let x: Vec<f64> = (0..400).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| v + 0.2 * (i as f64 * 1.7).cos()).collect();
/// let e = Ksg::params().check().unwrap()
///     .estimate(&Samples::from_column(&x).unwrap(), &Samples::from_column(&y).unwrap()).unwrap();
/// let local = e.local.as_ref().unwrap();
/// assert!((local.iter().sum::<f64>() / local.len() as f64 - e.nats).abs() < 1e-12);
/// assert!((e.bits() - e.nats / std::f64::consts::LN_2).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MiEstimate {
    /// The estimate, in nats.
    pub nats: f64,
    /// Samples the estimate used.
    pub n_samples: usize,
    /// Local (pointwise) values, one per sample used, where the estimator defines them; their
    /// mean is `nats` up to rounding. `None` for the closed forms and the neural bounds.
    pub local: Option<Vec<f64>>,
    /// Doubts about the result, in the order found.
    pub warnings: Vec<Warning>,
}

impl MiEstimate {
    /// The estimate in bits: nats / ln 2.
    pub fn bits(&self) -> f64 {
        self.nats / std::f64::consts::LN_2
    }

    /// An estimate without local values, with the warning for a negative value added.
    pub(crate) fn scalar(nats: f64, n_samples: usize) -> MiEstimate {
        MiEstimate::with_local(nats, n_samples, None)
    }

    /// An estimate with (optional) local values, with the warning for a negative value added.
    pub(crate) fn with_local(nats: f64, n_samples: usize, local: Option<Vec<f64>>) -> MiEstimate {
        let mut warnings = Vec::new();
        if nats < 0.0 {
            warnings.push(Warning::Negative { nats });
        }
        MiEstimate {
            nats,
            n_samples,
            local,
            warnings,
        }
    }
}

/// An estimator of I(X; Y): build it once from checked parameters, then call it on samples.
///
/// The significance tests are provided for every estimator: a permutation test that shuffles
/// X's rows, and a percentile bootstrap over rows.
///
/// # Formula
/// Each estimator documents its own; the tests are
/// ```text
/// p = (1 + #{s : Î(X_π_s; Y) ≥ Î(X; Y)}) / (1 + S)
/// ```
///
/// # Errors
/// Each estimator's own ([`ContinuousError`] or a type that wraps it).
///
/// # Examples
/// ```
/// use infometer_continuous::{Gaussian, MiEstimator, Samples};
/// let x: Vec<f64> = (0..300).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| v + (i as f64 * 1.3).cos()).collect();
/// let (x, y) = (Samples::from_column(&x).unwrap(), Samples::from_column(&y).unwrap());
/// let t = Gaussian.permutation_test(&x, &y, 99, 1).unwrap();
/// assert!(t.p_value <= 0.01 + 1e-12);
/// ```
///
/// # References
/// Lizier, "JIDT: An information-theoretic toolkit", Front. Robot. AI 1:11, 2014 (one
/// calculator shape); Phipson & Smyth 2010 (the p-value).
pub trait MiEstimator: Sync {
    /// The error; it can always carry a [`ContinuousError`].
    type Error: std::error::Error + From<ContinuousError> + Send + Sync + 'static;

    /// The estimator's name as the command line spells it.
    fn name(&self) -> &'static str;

    /// Estimates I(X; Y) in nats.
    ///
    /// # Errors
    /// The estimator's own.
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate, Self::Error>;

    /// Permutation test: X's rows shuffled `n_surrogates` times (ChaCha8, seeded).
    ///
    /// # Errors
    /// As [`crate::permutation_test`] and [`MiEstimator::estimate`].
    fn permutation_test(
        &self,
        x: &Samples,
        y: &Samples,
        n_surrogates: usize,
        seed: u64,
    ) -> Result<PermutationTest, Self::Error> {
        self.permutation_test_with_progress(x, y, n_surrogates, seed, &|_| {})
    }

    /// [`MiEstimator::permutation_test`] calling `progress(done)` after each surrogate.
    ///
    /// # Errors
    /// As [`MiEstimator::permutation_test`].
    fn permutation_test_with_progress(
        &self,
        x: &Samples,
        y: &Samples,
        n_surrogates: usize,
        seed: u64,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<PermutationTest, Self::Error> {
        crate::permutation_test_with_progress(
            x.n_samples(),
            n_surrogates,
            seed,
            |p| Ok(self.estimate(&x.take_rows(p), y)?.nats),
            progress,
        )
    }

    /// Percentile bootstrap over rows (X and Y resampled together).
    ///
    /// # Errors
    /// As [`crate::bootstrap_ci`] and [`MiEstimator::estimate`].
    fn bootstrap_ci(
        &self,
        x: &Samples,
        y: &Samples,
        n_resamples: usize,
        level: f64,
        seed: u64,
    ) -> Result<BootstrapInterval, Self::Error> {
        crate::bootstrap_ci(x.n_samples(), n_resamples, level, seed, |rows| {
            Ok(self.estimate(&x.take_rows(rows), &y.take_rows(rows))?.nats)
        })
    }
}

/// An estimator of the conditional mutual information I(X; Y | Z).
///
/// # Formula
/// Each estimator documents its own.
///
/// # Errors
/// Each estimator's own; [`ContinuousError::NoConditionalForm`] from [`ClassicalMi`] for the
/// estimators that have none.
///
/// # Examples
/// ```
/// use infometer_continuous::{CmiEstimator, Gaussian, Samples};
/// let z: Vec<f64> = (0..400).map(|i| (i as f64 * 0.37).sin()).collect();
/// let x: Vec<f64> = z.iter().enumerate().map(|(i, v)| v + (i as f64 * 1.3).cos()).collect();
/// let y: Vec<f64> = z.iter().enumerate().map(|(i, v)| v + (i as f64 * 2.9).cos()).collect();
/// let s = |v: &[f64]| Samples::from_column(v).unwrap();
/// let e = Gaussian.estimate_cmi(&s(&x), &s(&y), &s(&z)).unwrap();
/// assert!(e.nats.abs() < 0.05);
/// ```
///
/// # References
/// Frenzel & Pompe, PRL 99, 204101, 2007.
pub trait CmiEstimator: Sync {
    /// The error; it can always carry a [`ContinuousError`].
    type Error: std::error::Error + From<ContinuousError> + Send + Sync + 'static;

    /// Estimates I(X; Y | Z) in nats.
    ///
    /// # Errors
    /// The estimator's own.
    fn estimate_cmi(
        &self,
        x: &Samples,
        y: &Samples,
        z: &Samples,
    ) -> Result<MiEstimate, Self::Error>;

    /// Permutation test of I(X; Y | Z): X's rows shuffled, Y and Z kept together.
    ///
    /// # Errors
    /// As [`crate::permutation_test`] and [`CmiEstimator::estimate_cmi`].
    fn cmi_permutation_test(
        &self,
        x: &Samples,
        y: &Samples,
        z: &Samples,
        n_surrogates: usize,
        seed: u64,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<PermutationTest, Self::Error> {
        crate::permutation_test_with_progress(
            x.n_samples(),
            n_surrogates,
            seed,
            |p| Ok(self.estimate_cmi(&x.take_rows(p), y, z)?.nats),
            progress,
        )
    }
}
