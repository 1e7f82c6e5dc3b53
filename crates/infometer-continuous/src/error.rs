//! The typed error of `infometer-continuous`.

/// Everything that can be wrong with samples or settings given to an estimator.
///
/// # Examples
/// ```
/// use infometer_continuous::{ContinuousError, Samples};
/// assert!(matches!(Samples::new(2, 1, vec![0.0, f64::NAN]), Err(ContinuousError::NonFinite { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ContinuousError {
    /// No samples, or no columns.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// Variables disagree in their number of samples, or a buffer in its size.
    #[error("shape mismatch: {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// What was compared.
        what: &'static str,
        /// Expected size.
        expected: usize,
        /// Given size.
        got: usize,
    },
    /// NaN or infinity in the samples.
    #[error("non-finite value {value} at row {row}, column {col}")]
    NonFinite {
        /// Row of the value.
        row: usize,
        /// Column of the value.
        col: usize,
        /// The value.
        value: f64,
    },
    /// k must satisfy 1 ≤ k ≤ number of usable neighbours (those outside the Theiler window).
    #[error("k = {k} needs more samples: only {available} neighbours are available")]
    TooFewSamples {
        /// The k asked for.
        k: usize,
        /// Neighbours available per point (after exclusions).
        available: usize,
    },
    /// A column has zero variance, so it cannot be standardised (or a covariance is singular).
    #[error(
        "column {col} is constant (zero variance); it carries no information and cannot be standardised"
    )]
    ConstantColumn {
        /// The column.
        col: usize,
    },
    /// A covariance matrix is not positive definite.
    #[error("covariance of {what} is singular (not positive definite)")]
    SingularCovariance {
        /// Which block.
        what: &'static str,
    },
    /// A parameter outside its domain.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Name.
        name: &'static str,
        /// Value.
        value: f64,
        /// Why.
        reason: &'static str,
    },
    /// Duplicated samples make every nearest-neighbour distance zero.
    #[error(
        "{what}: zero nearest-neighbour distances from duplicated samples; add noise or remove duplicates"
    )]
    ZeroDistance {
        /// Which estimator.
        what: &'static str,
    },
    /// An estimator needs more samples than it was given (a covariance of d dimensions needs
    /// more than d rows).
    #[error("{estimator} needs at least {needed} samples, got {got}")]
    NotEnoughSamples {
        /// Which estimator, and for which block.
        estimator: &'static str,
        /// The smallest number of samples that works.
        needed: usize,
        /// The number given.
        got: usize,
    },
    /// A class of a discrete variable has too few samples for its class-conditional estimate.
    #[error(
        "label {label} occurs {count} times; {estimator} needs at least {needed} samples per label"
    )]
    ClassTooSmall {
        /// Which estimator.
        estimator: &'static str,
        /// The label.
        label: i64,
        /// Its number of samples.
        count: usize,
        /// The smallest number that works.
        needed: usize,
    },
    /// A time series too short for its delay embedding: it must leave at least two rows.
    #[error(
        "the series has {len} values; the histories and lag use the first {history}, so it needs at least {needed}"
    )]
    SeriesTooShort {
        /// The length of the series.
        len: usize,
        /// The shortest length that works.
        needed: usize,
        /// Values taken by the longest history (and the lag) before the first embedded row.
        history: usize,
    },
    /// A name that is not one of the choices (an estimator, a metric).
    #[error("{name} {got:?} is not one of: {}", expected.join(", "))]
    InvalidChoice {
        /// What was being chosen.
        name: &'static str,
        /// What was given.
        got: String,
        /// The choices.
        expected: &'static [&'static str],
    },
    /// A setting that the chosen estimator does not use: refused rather than ignored.
    #[error("{setting} does not apply to the {estimator} estimator")]
    NotApplicable {
        /// The setting, as [`crate::Setting`] names it.
        setting: crate::Setting,
        /// The estimator.
        estimator: &'static str,
    },
    /// A conditional MI (or transfer entropy) asked of an estimator that has no conditional form.
    #[error("the {estimator} estimator has no conditional form")]
    NoConditionalForm {
        /// The estimator.
        estimator: &'static str,
    },
    /// An estimator of MI with a discrete variable found a value that is not an integer label.
    #[error("{estimator} needs integer labels; found {value} at row {row}")]
    NotLabels {
        /// The estimator.
        estimator: &'static str,
        /// The row of the first value that is not an integer.
        row: usize,
        /// The value.
        value: f64,
    },
    /// An error from infometer-core.
    #[error(transparent)]
    Core(#[from] infometer_core::CoreError),
}

/// Result alias for `infometer-continuous`.
pub type Result<T, E = ContinuousError> = std::result::Result<T, E>;
