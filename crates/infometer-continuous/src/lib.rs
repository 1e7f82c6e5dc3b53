//! infometer-continuous: estimators of information from samples — KSG mutual information and conditional MI, transfer entropy, Kozachenko–Leonenko entropy, k-NN KL divergence, mixed discrete–continuous MI, KDE and Gaussian closed forms, Gaussian-copula MI, the copula transform, and significance tests.
//!
//! Conventions follow JIDT (Lizier 2014): k = 4; each column standardised (sample sd,
//! N − 1) and then perturbed by N(0, 1e-8²) noise from a seeded generator, both switchable
//! in [`KsgConfig`]; KSG1 counts marginal neighbours strictly inside ε, KSG2 within or on
//! the per-marginal radii; a Theiler window excludes temporally close neighbours from every
//! search. Results are in nats and identical for any number of threads.
//!
//! ```
//! use infometer_continuous::{ksg_mi, KsgConfig, Samples};
//! let x: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.7).sin()).collect();
//! let y: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.7).sin() * 2.0 + (i as f64 * 3.1).cos() * 0.5).collect();
//! let mi = ksg_mi(&Samples::from_column(&x).unwrap(), &Samples::from_column(&y).unwrap(), &KsgConfig::default()).unwrap();
//! assert!(mi > 0.5);
//! ```

#![warn(missing_docs)]

mod copula;
mod entropy;
mod error;
mod estimator;
mod gaussian;
mod gcmi;
mod kde;
mod ksg;
mod local;
mod mixed;
mod neighbors;
mod samples;
mod significance;
mod te;

pub use copula::copula_variables;
pub use entropy::{kl_entropy, knn_kl_divergence};
pub use error::{ContinuousError, Result};
pub use estimator::{
    BoxKernel, BoxKernelParams, ClassicalMi, CmiEstimator, Gaussian, Gcmi, GcmiMixed, Kde, Ksg,
    KsgParams, MiEstimate, MiEstimator, MiMethod, MiSettings, Mixed, Setting, Variable, Warning,
};
pub use gaussian::{gaussian_cmi, gaussian_mi};
pub use gcmi::{GcmiConfig, gaussian_entropy_bias, gcmi_cmi, gcmi_mi, gcmi_mixed};
pub use kde::{Bandwidth, KdeConfig, box_kernel_mi, kde_mi};
pub use ksg::{KsgAlgorithm, KsgConfig, ksg_cmi, ksg_mi, ksg_multi_info};
pub use local::{LocalSeries, LocalWindow, WindowOptions, local_transfer_entropy, local_windows};
pub use mixed::mixed_mi;
pub use neighbors::{Backend, Metric};
pub use samples::Samples;
pub use significance::{
    BootstrapInterval, MAX_RESAMPLES, PermutationTest, bootstrap_ci, permutation_null,
    permutation_test, permutation_test_with_progress,
};
pub use te::{
    TeEmbedding, TeEstimator, embed_te, transfer_entropy, transfer_entropy_test,
    transfer_entropy_test_with_progress,
};
