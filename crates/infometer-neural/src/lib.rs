//! infometer-neural: neural lower bounds on mutual information (MINE, Donsker–Varadhan, NWJ, InfoNCE) trained with burn on CPU (flex; ndarray behind a feature) or GPU (wgpu behind a feature), with an honest protocol: fit on one half, report the other.
//!
//! This is the only crate of the workspace that depends on burn.
//!
//! ```no_run
//! use infometer_continuous::Samples;
//! use infometer_neural::{estimate_mi, Bound, NeuralConfig};
//! let x = Samples::from_column(&[0.0; 1000]).unwrap();
//! # let y = x.clone();
//! let est = estimate_mi(&x, &y, &NeuralConfig { bound: Bound::InfoNce, ..Default::default() }).unwrap();
//! println!("{:.3} nats (best at step {})", est.estimate, est.best_step);
//! ```

#![warn(missing_docs)]

mod any;
mod config;
mod critic;
mod error;
mod train;

pub use any::{AnyMi, NeuralMi};
pub use config::{BackendChoice, Bound, CriticKind, NeuralConfig};
pub use error::NeuralError;
pub use train::{NeuralEstimate, estimate_mi, estimate_mi_with_progress, probe_backend};
