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
    /// A scenario input is invalid.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Result alias for `infometer-health`.
pub type Result<T, E = HealthError> = std::result::Result<T, E>;
