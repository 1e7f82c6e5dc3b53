//! The typed error of `infometer-neural`.

/// Why a neural estimate could not be produced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NeuralError {
    /// Training produced a NaN or infinite loss.
    #[error("training diverged at step {step}: loss is {loss}")]
    Diverged {
        /// The step at which the loss stopped being finite.
        step: usize,
        /// The loss value.
        loss: f64,
    },
    /// Not enough samples for the train/test split and the batch size.
    #[error(
        "{n_samples} samples are too few: the split needs at least {needed} (batch {batch} in each half)"
    )]
    TooFewSamples {
        /// Samples given.
        n_samples: usize,
        /// Samples needed.
        needed: usize,
        /// The batch size.
        batch: usize,
    },
    /// A setting outside its domain.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Name.
        name: &'static str,
        /// Value.
        value: f64,
        /// Why.
        reason: &'static str,
    },
    /// A hidden layer of width 0.
    #[error("hidden layer {layer} has width 0; every layer needs at least one unit")]
    EmptyLayer {
        /// The layer (0-based).
        layer: usize,
    },
    /// A critic architecture that the bound cannot train.
    #[error("the {critic} critic cannot train the {bound} bound (it is for InfoNCE only)")]
    CriticNotForBound {
        /// The critic.
        critic: &'static str,
        /// The bound.
        bound: &'static str,
    },
    /// The requested backend is not compiled in or no device is usable.
    #[error("backend {backend} unavailable: {reason}")]
    BackendUnavailable {
        /// The backend asked for.
        backend: &'static str,
        /// Why.
        reason: String,
    },
    /// An error from the sample layer.
    #[error(transparent)]
    Continuous(#[from] infometer_continuous::ContinuousError),
}
