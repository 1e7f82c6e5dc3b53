//! The typed error of `infometer-core`: one variant per reason an input is refused.

/// Everything that can be wrong with an input to `infometer-core`.
///
/// Messages are lower-case and name the offending value.
///
/// # Examples
/// ```
/// use infometer_core::{CoreError, Distribution};
/// let err = Distribution::from_probs(&[0.5, 0.6]).unwrap_err();
/// assert!(matches!(err, CoreError::NotNormalized { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// An input that must hold at least one element was empty.
    #[error("empty input: {what}")]
    Empty {
        /// Which input was empty.
        what: &'static str,
    },
    /// The flat length is not a multiple of the vocabulary size, or two inputs disagree in shape.
    #[error("shape mismatch: {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// What was being compared.
        what: &'static str,
        /// The length or size that was expected.
        expected: usize,
        /// The length or size that was given.
        got: usize,
    },
    /// A value is NaN or infinite where a finite number is required.
    #[error("non-finite value {value} in {what} at index {index}")]
    NonFinite {
        /// Which input held it.
        what: &'static str,
        /// Flat index of the value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A probability is negative or above one.
    #[error("probability {value} at index {index} is outside [0, 1]")]
    InvalidProbability {
        /// Flat index of the value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// Probabilities (or exp of log-probabilities) do not sum to one within the tolerance.
    #[error("probabilities sum to {sum}, not 1 (tolerance {tolerance})")]
    NotNormalized {
        /// The sum that was found.
        sum: f64,
        /// The tolerance that applies.
        tolerance: f64,
    },
    /// A row of logits carries no probability mass (every entry is -inf).
    #[error("row {row} has no probability mass (every logit is -inf)")]
    NoMass {
        /// Index of the row.
        row: usize,
    },
    /// Counts or table cells whose total is zero: there is no distribution to normalise.
    #[error("the {what} sum to zero; there is no distribution to normalise")]
    ZeroTotal {
        /// Which input.
        what: &'static str,
    },
    /// A finite value outside the domain of its quantity (a negative NLL, a positive
    /// log-probability).
    #[error("{what} at index {index} is {value}, outside its domain: {domain}")]
    OutOfDomain {
        /// Which input held it.
        what: &'static str,
        /// Flat index of the value.
        index: usize,
        /// The value itself.
        value: f64,
        /// The domain, in words.
        domain: &'static str,
    },
    /// A name that is not one of the choices (a logarithm base, an estimator).
    #[error("{name} {got:?} is not one of: {expected}")]
    InvalidChoice {
        /// What was being chosen.
        name: &'static str,
        /// What was given.
        got: String,
        /// The choices, in words.
        expected: &'static str,
    },
    /// An estimator that needs counts was given probabilities.
    #[error("{estimator} needs counts, not probabilities")]
    NeedsCounts {
        /// The estimator.
        estimator: &'static str,
    },
    /// A label is neither a valid class index nor the ignore index.
    #[error("label {label} at row {row} is out of range for vocabulary {vocab}")]
    LabelOutOfRange {
        /// Index of the row.
        row: usize,
        /// The label given.
        label: i64,
        /// The vocabulary size.
        vocab: usize,
    },
    /// Fewer units (documents, tokens, members) than a procedure needs.
    #[error("{got} {what}: at least {needed} are needed")]
    TooFewUnits {
        /// What was counted.
        what: &'static str,
        /// How many there are.
        got: usize,
        /// How many are needed.
        needed: usize,
    },
    /// An error about one member of an ensemble.
    #[error("member {member}: {error}")]
    InMember {
        /// Index of the member (from 0).
        member: usize,
        /// What is wrong with it.
        error: Box<CoreError>,
    },
    /// Every token was masked or ignored, so a mean over valid tokens is undefined.
    #[error("no valid token: every position is masked or ignored")]
    NoValidTokens,
    /// Two passes or states that cannot be combined: one has labels (or reference logits)
    /// and the other does not.
    #[error(
        "cannot combine: one side has {what} and the other does not (expected {what}: {expected})"
    )]
    Incompatible {
        /// What differs.
        what: &'static str,
        /// Whether the receiving side has it.
        expected: bool,
    },
    /// A parameter is outside its domain.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// Why it is refused.
        reason: &'static str,
    },
}

impl CoreError {
    /// The same error about a chunk that starts at row `row0` of a larger input: its row and
    /// flat element indices made absolute (`vocab` values per row).
    ///
    /// # Examples
    /// ```
    /// use infometer_core::CoreError;
    /// let e = CoreError::NoMass { row: 2 }.shifted(100, 8);
    /// assert_eq!(e, CoreError::NoMass { row: 102 });
    /// ```
    pub fn shifted(self, row0: usize, vocab: usize) -> CoreError {
        match self {
            CoreError::NonFinite { what, index, value } => CoreError::NonFinite {
                what,
                index: index + row0 * vocab,
                value,
            },
            CoreError::NoMass { row } => CoreError::NoMass { row: row + row0 },
            CoreError::LabelOutOfRange { label, row, vocab } => CoreError::LabelOutOfRange {
                label,
                row: row + row0,
                vocab,
            },
            other => other,
        }
    }
}

/// Result alias for `infometer-core`.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
