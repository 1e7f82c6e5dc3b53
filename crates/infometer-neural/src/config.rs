//! Settings of the neural estimators, with the Beyond Normal benchmark's defaults.

use crate::NeuralError;

/// Which variational bound is trained and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bound {
    /// MINE: the Donsker–Varadhan bound with the bias-corrected gradient (moving average of
    /// the partition term).
    Mine,
    /// Donsker–Varadhan: `E_P[T] − ln E_{P_X⊗P_Y}[e^T]`.
    DonskerVaradhan,
    /// NWJ (f-divergence) bound: `E_P[T] − E_{P_X⊗P_Y}[e^{T−1}]`.
    Nwj,
    /// InfoNCE: `ln B + E[T(x_i, y_i) − ln Σ_j e^{T(x_i, y_j)}]`; never exceeds ln B.
    #[default]
    InfoNce,
}

impl Bound {
    /// The short name used by the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Bound::Mine => "mine",
            Bound::DonskerVaradhan => "dv",
            Bound::Nwj => "nwj",
            Bound::InfoNce => "infonce",
        }
    }
}

/// The critic's architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CriticKind {
    /// An MLP on the concatenation (x, y).
    #[default]
    Joint,
    /// T(x, y) = g(x)·h(y) with two MLPs (InfoNCE only: scores all B² pairs with 2B evaluations).
    Separable,
}

/// Where training runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// burn's pure-Rust CPU backend (default).
    #[default]
    Flex,
    /// burn-ndarray (deprecated upstream; needs the `ndarray` feature).
    NdArray,
    /// wgpu pinned to Vulkan (needs the `wgpu` feature and a Vulkan device).
    Wgpu,
}

impl BackendChoice {
    /// The name used on the command line and in errors: "flex", "ndarray" or "wgpu".
    ///
    /// # Examples
    /// ```
    /// assert_eq!(infometer_neural::BackendChoice::Wgpu.name(), "wgpu");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Flex => "flex",
            BackendChoice::NdArray => "ndarray",
            BackendChoice::Wgpu => "wgpu",
        }
    }
}

/// Training protocol and model. Defaults follow the Beyond Normal benchmark (Czyż et al. 2023):
/// standardised inputs, 50/50 split, batch 256, Adam with learning rate 0.1, at most 10 000
/// steps, evaluation on the held-out half every 250 steps, stop after 2 checks without
/// improvement, critic widths (16, 8). Unlike the benchmark, the per-coordinate asinh
/// transform is on by default: it is invertible, so it leaves MI unchanged, and it keeps
/// heavy tails from blowing up the exponential terms of MINE, DV and NWJ.
///
/// # Examples
/// ```
/// let c = infometer_neural::NeuralConfig::default();
/// assert_eq!((c.batch, c.max_steps, c.eval_every, c.patience), (256, 10_000, 250, 2));
/// assert_eq!(c.hidden, vec![16, 8]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralConfig {
    /// The bound.
    pub bound: Bound,
    /// The critic architecture.
    pub critic: CriticKind,
    /// Hidden layer widths of each MLP (ReLU between layers).
    pub hidden: Vec<usize>,
    /// Batch size B.
    pub batch: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Maximum training steps.
    pub max_steps: usize,
    /// Evaluate on the test half every this many steps.
    pub eval_every: usize,
    /// Stop after this many evaluations without improvement.
    pub patience: usize,
    /// Fraction of samples held out for evaluation.
    pub test_fraction: f64,
    /// Replace each column by the normal scores of its ranks over all rows first
    /// (`Samples::copula`, ties broken with `seed`), then standardise. The transform is
    /// marginal, so it carries no information about the pairing of X and Y from the test
    /// half into training. It keeps heavy tails from blowing up the exponential terms of
    /// MINE, DV and NWJ. `asinh` is not applied on top: normal scores already have Gaussian
    /// tails, and compressing them again would squash the joint tails where heavy-tailed
    /// dependence lives.
    pub copula: bool,
    /// Standardise each column with the training half's mean and sd.
    pub standardize: bool,
    /// Apply asinh to every coordinate after standardising (ignored when `copula` is on).
    pub asinh: bool,
    /// Decay of MINE's moving average of E[e^T] (ma ← α·ma + (1 − α)·batch mean).
    pub ma_decay: f64,
    /// Seed of the split, batches, shuffles and weight initialisation.
    pub seed: u64,
    /// The backend.
    pub backend: BackendChoice,
}

impl Default for NeuralConfig {
    fn default() -> Self {
        NeuralConfig {
            bound: Bound::InfoNce,
            critic: CriticKind::Joint,
            hidden: vec![16, 8],
            batch: 256,
            learning_rate: 0.1,
            max_steps: 10_000,
            eval_every: 250,
            patience: 2,
            test_fraction: 0.5,
            copula: false,
            standardize: true,
            asinh: true,
            ma_decay: 0.9,
            seed: 0,
            backend: BackendChoice::Flex,
        }
    }
}

impl NeuralConfig {
    pub(crate) fn validate(&self) -> Result<(), NeuralError> {
        let bad = |name, value: f64, reason| {
            Err(NeuralError::InvalidParameter {
                name,
                value,
                reason,
            })
        };
        if self.batch < 2 {
            return bad("batch", self.batch as f64, "must be at least 2");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "learning_rate",
                self.learning_rate,
                "must be finite and positive",
            );
        }
        if self.max_steps == 0 {
            return bad("max_steps", 0.0, "must be at least 1");
        }
        if self.eval_every == 0 {
            return bad("eval_every", 0.0, "must be at least 1");
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return bad("test_fraction", self.test_fraction, "must lie in (0, 1)");
        }
        if !(0.0..1.0).contains(&self.ma_decay) {
            return bad("ma_decay", self.ma_decay, "must lie in [0, 1)");
        }
        if let Some(layer) = self.hidden.iter().position(|&w| w == 0) {
            return Err(NeuralError::EmptyLayer { layer });
        }
        if self.critic == CriticKind::Separable && self.bound != Bound::InfoNce {
            return Err(NeuralError::CriticNotForBound {
                critic: "separable",
                bound: self.bound.name(),
            });
        }
        Ok(())
    }
}
