//! infometer: information measures for language models and data, one dependency away.
//!
//! This facade only re-exports; it holds no logic.
//!
//! # Features
//! - `continuous` (default): [`continuous`], estimators from samples (KSG, CMI, transfer
//!   entropy, Kozachenko–Leonenko, k-NN KL, KDE, Gaussian, significance tests).
//! - `neural`: `neural`, MINE, Donsker–Varadhan, NWJ and InfoNCE trained with burn on the
//!   CPU (flex backend); `neural-ndarray` adds burn-ndarray, `neural-wgpu` the GPU backend.
//!
//! The discrete measures of [`core`] are always present and also re-exported at the root.
//!
//! ```
//! use infometer::{entropy, Distribution};
//! let p = Distribution::from_probs(&[0.5, 0.5]).unwrap();
//! assert!((entropy(&p) - 2f64.ln()).abs() < 1e-15);
//! ```

#![warn(missing_docs)]

pub use infometer_core as core;
pub use infometer_core::*;

#[cfg(feature = "continuous")]
pub use infometer_continuous as continuous;

#[cfg(feature = "neural")]
pub use infometer_neural as neural;

/// The README's code blocks, compiled and run as doctests so the quick-start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
