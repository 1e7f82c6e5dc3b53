//! infometer-core: exact, fast discrete information measures over probabilities, log-probabilities and LLM logits.
//!
//! Rows of logits (any leading shape, vocabulary last and contiguous) in f32, f64, f16 or
//! bf16 go through one fused, parallel pass ([`Analyze`]) that yields per-token log-sum-exp,
//! entropy, NLL, top-1, Brier and, against a reference, KL both ways and Jensen–Shannon.
//! Single distributions ([`Distribution`]) have the classic measures; [`cross_entropy`]
//! follows PyTorch's semantics; [`PerplexityAccumulator`] weights by tokens; calibration,
//! RLHF estimators and joint tables complete the set.
//!
//! Conventions: everything is computed in log space and accumulated in f64; results are in
//! nats and a [`Base`] converts at the edge; KL(p‖q) = +inf where q_i = 0 < p_i; 0·ln 0 = 0;
//! no epsilon anywhere except [`kl_divergence_clamped`], a documented compatibility mode.
//! This crate does no IO.
//!
//! ```
//! use infometer_core::{Analyze, Base, Rows};
//! let logits = [2.0f32, 0.5, -1.0, 0.0, 0.0, 0.0];
//! let m = Analyze::new(Rows::new(&logits, 3).unwrap()).labels(&[0, 2]).run().unwrap();
//! let s = m.summary().unwrap();
//! println!("ppl {:.3}, H {:.3} bits", s.perplexity.unwrap(), Base::TWO.from_nats(s.mean_entropy));
//! assert!(s.perplexity.unwrap() > 1.0);
//! ```

#![warn(missing_docs)]

mod accumulate;
mod analyze;
mod base;
mod calibration;
mod compare;
mod cross_entropy;
mod distribution;
mod element;
mod ensemble;
mod error;
mod flags;
mod kernel;
mod pairwise;
mod perplexity;
mod report;
mod rlhf;
mod rows;
mod table;

pub use accumulate::LogitsAccumulator;
pub use analyze::{Analyze, DEFAULT_IGNORE_INDEX, TokenMeasures};
pub use base::Base;
pub use calibration::{
    Calibration, DEFAULT_BINS, ReliabilityBin, TemperatureFit, calibration, fit_temperature,
    fit_temperature_by,
};
pub use compare::{
    CiMethod, CompareMetric, CompareOptions, CompareWarning, Comparison, DeltaMethod, MAX_BINS,
    MAX_RESAMPLES, MetricCi, PairedUnits, Resampling, SignFlip, TokenPair, UnitKind,
    bits_per_byte_docs, compare, mean_stderr, weighted_perplexity,
};
pub use cross_entropy::{CrossEntropyOptions, Loss, Reduction, Target, cross_entropy};
pub use distribution::{
    Distribution, NORMALIZATION_TOLERANCE, cross_entropy_dist, entropy, hellinger,
    information_content, js_divergence, kl_divergence, kl_divergence_clamped, log_sum_exp,
    renyi_entropy, total_variation,
};
pub use element::{Element, Lane};
pub use ensemble::{
    Ensemble, EnsembleAccumulator, EnsembleMeasures, EnsembleSummary, MemberJackknife,
};
pub use error::{CoreError, Result};
pub use flags::{SurprisalThreshold, surprisal_flags};
pub use pairwise::{PairDistances, pair_distances, renyi_divergence};
pub use perplexity::{
    PerplexityAccumulator, ProfileWindow, Window, per_sequence_perplexity, perplexity,
    perplexity_profile, sliding_window_perplexity, sliding_windows,
};
pub use report::{DEFAULT_UNCERTAINTY_THRESHOLD, PredictionReport, Summary};
pub use rlhf::{KlEstimates, distillation_loss, kl_estimators, kl_penalized_rewards};
pub use rows::{Rows, shift_labels};
pub use table::{JointTable, TableEstimator, TableMeasures};
