//! The typed error of `infometer-health`.

/// Why a scenario could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HealthError {
    /// A discrete measure refused its input.
    #[error(transparent)]
    Core(#[from] infometer_core::CoreError),
    /// An estimator refused its input.
    #[error(transparent)]
    Continuous(#[from] infometer_continuous::ContinuousError),
    /// A set of scores or documents that must hold at least one is empty.
    #[error("the {what} set is empty")]
    EmptySet {
        /// Which set.
        what: &'static str,
    },
    /// A score is NaN.
    #[error("{what} score {index} is NaN")]
    NanScore {
        /// Which set.
        what: &'static str,
        /// Its index in the set.
        index: usize,
    },
    /// A parameter outside its range.
    #[error("{name} = {value} is outside {expected}")]
    OutOfRange {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The range, in words.
        expected: &'static str,
    },
    /// A scenario input is invalid.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Result alias for `infometer-health`.
pub type Result<T, E = HealthError> = std::result::Result<T, E>;
