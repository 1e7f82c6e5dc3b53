//! infometer-health: healthcare scenarios built on infometer's measures — triage by uncertainty, deferral when an ensemble disagrees, rare-term surprisal, rare critical classes in training, out-of-distribution notes, comparing two notes models, drift monitoring, biomarker ranking, pharmacovigilance signals and physiological coupling — each from typed inputs to a typed report with a decision and its rationale.
//!
//! This is the only crate of the workspace that speaks of patients. Every scenario is seeded
//! and uses only the public APIs of `infometer-core` and `infometer-continuous`.
//!
//! ```
//! use infometer_health::triage::{triage, TriagePolicy, Decision};
//! let r = triage(&[0.85, 0.08, 0.04, 0.02, 0.01], &TriagePolicy::default()).unwrap();
//! assert_eq!(r.decision, Decision::Automate);
//! ```

#![warn(missing_docs)]

pub mod biomarkers;
pub mod class_weights;
pub mod demo;
pub mod drift;
pub mod ensemble_triage;
mod error;
mod fmt;
pub mod model_comparison;
pub mod ood;
pub mod pharmacovigilance;
pub mod physio;
pub mod rare_terms;
pub mod triage;

pub use error::{HealthError, Result};
