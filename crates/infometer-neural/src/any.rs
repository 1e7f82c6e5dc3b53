//! The neural bounds behind the estimator trait ([`NeuralMi`]) and the one dispatcher over every MI estimator ([`AnyMi`]), used by the command line and the experiments.

use infometer_continuous::{
    ClassicalMi, ContinuousError, MiEstimate, MiEstimator, MiMethod, MiSettings, Samples, Setting,
    Warning,
};

use crate::{Bound, NeuralConfig, NeuralError, NeuralEstimate, estimate_mi_with_progress};

/// A neural bound with checked settings, as an [`MiEstimator`]. Trained on one half of the
/// rows and scored on the other; no local values.
///
/// # Formula
/// As [`crate::estimate_mi`].
///
/// # Errors
/// [`NeuralMi::new`]: those of the settings check. Estimating: those of [`crate::estimate_mi`].
///
/// # Examples
/// ```
/// use infometer_neural::{NeuralConfig, NeuralMi};
/// assert!(NeuralMi::new(NeuralConfig { batch: 1, ..Default::default() }).is_err());
/// assert!(NeuralMi::new(NeuralConfig::default()).is_ok());
/// ```
///
/// # References
/// Belghazi et al., ICML 2018; Poole et al., ICML 2019.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralMi {
    cfg: NeuralConfig,
}

impl NeuralMi {
    /// The estimator for a config, checked.
    ///
    /// # Errors
    /// [`NeuralError::InvalidParameter`], [`NeuralError::CriticNotForBound`].
    pub fn new(cfg: NeuralConfig) -> Result<NeuralMi, NeuralError> {
        cfg.validate()?;
        Ok(NeuralMi { cfg })
    }

    /// The checked settings.
    pub fn config(&self) -> &NeuralConfig {
        &self.cfg
    }

    /// Trains and scores, calling `progress(step, held-out estimate)` as training goes; returns
    /// the estimate with the training record.
    ///
    /// # Errors
    /// As [`crate::estimate_mi`].
    pub fn estimate_with_progress<F: FnMut(usize, Option<f64>)>(
        &self,
        x: &Samples,
        y: &Samples,
        progress: F,
    ) -> Result<(MiEstimate, NeuralEstimate), NeuralError> {
        let r = estimate_mi_with_progress(x, y, &self.cfg, progress)?;
        let mut warnings = Vec::new();
        if r.estimate < 0.0 {
            warnings.push(Warning::Negative { nats: r.estimate });
        }
        if let Some(ceiling) = r.ceiling.filter(|_| r.near_ceiling) {
            warnings.push(Warning::NearCeiling {
                nats: r.estimate,
                ceiling,
            });
        }
        let dims = x.dim() + y.dim();
        if dims >= x.n_samples() {
            warnings.push(Warning::DimsAtLeastRows {
                dims,
                rows: x.n_samples(),
            });
        }
        let e = MiEstimate {
            nats: r.estimate,
            n_samples: x.n_samples(),
            local: None,
            warnings,
        };
        Ok((e, r))
    }
}

impl MiEstimator for NeuralMi {
    type Error = NeuralError;
    fn name(&self) -> &'static str {
        self.cfg.bound.name()
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate, NeuralError> {
        Ok(self.estimate_with_progress(x, y, |_, _| {})?.0)
    }
}

/// Every MI estimator of infometer behind one value: the classical ones and the neural bounds.
/// Built from a method name, the user's settings and (for the neural bounds) a training config.
///
/// # Formula
/// That of the chosen estimator.
///
/// # Errors
/// [`AnyMi::new`]: [`ContinuousError::NotApplicable`] (inside [`NeuralError::Continuous`]) for
/// a setting the method does not take; each estimator's parameter checks.
///
/// # Examples
/// ```
/// use infometer_continuous::{MiEstimator, MiMethod, MiSettings, Samples};
/// use infometer_neural::{AnyMi, NeuralConfig};
/// let est: AnyMi = "ksg2".parse().unwrap();
/// assert_eq!(est.to_string(), "ksg2");
/// let xs: Vec<f64> = (0..300).map(|i| (i as f64 * 0.37).sin()).collect();
/// let ys: Vec<f64> = xs.iter().enumerate().map(|(i, v)| v + 0.1 * (i as f64 * 1.7).cos()).collect();
/// let (x, y) = (Samples::from_column(&xs).unwrap(), Samples::from_column(&ys).unwrap());
/// assert!(est.estimate(&x, &y).unwrap().nats > 1.0);
/// // --k does not apply to a neural bound
/// let s = MiSettings { k: Some(3), ..Default::default() };
/// assert!(AnyMi::new(MiMethod::InfoNce, &s, &NeuralConfig::default()).is_err());
/// ```
///
/// # References
/// See each estimator.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyMi {
    /// A classical estimator.
    Classical(ClassicalMi),
    /// A neural bound.
    Neural(NeuralMi),
}

impl AnyMi {
    /// The estimator `method` with `settings`; a neural bound takes its training settings from
    /// `neural` (its bound, seed, standardising and copula come from `method` and `settings`).
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn new(
        method: MiMethod,
        settings: &MiSettings,
        neural: &NeuralConfig,
    ) -> Result<AnyMi, NeuralError> {
        let bound = match method {
            MiMethod::Mine => Bound::Mine,
            MiMethod::Dv => Bound::DonskerVaradhan,
            MiMethod::Nwj => Bound::Nwj,
            MiMethod::InfoNce => Bound::InfoNce,
            _ => return Ok(AnyMi::Classical(ClassicalMi::new(method, settings)?)),
        };
        settings.check_for(method)?;
        Ok(AnyMi::Neural(NeuralMi::new(NeuralConfig {
            bound,
            seed: settings.seed,
            copula: settings.copula,
            standardize: settings.standardize.unwrap_or(neural.standardize),
            ..neural.clone()
        })?))
    }

    /// The method this value runs.
    pub fn method(&self) -> MiMethod {
        match self {
            AnyMi::Classical(c) => c.method(),
            AnyMi::Neural(n) => match n.cfg.bound {
                Bound::Mine => MiMethod::Mine,
                Bound::DonskerVaradhan => MiMethod::Dv,
                Bound::Nwj => MiMethod::Nwj,
                Bound::InfoNce => MiMethod::InfoNce,
            },
        }
    }

    /// Refuses a permutation test for a method that does not offer one.
    ///
    /// # Errors
    /// [`ContinuousError::NotApplicable`] for the neural bounds.
    pub fn require_permutations(&self) -> Result<(), ContinuousError> {
        self.method().require(Setting::Permutations)
    }
}

impl std::str::FromStr for AnyMi {
    type Err = NeuralError;
    /// Any estimator by name, with default settings.
    fn from_str(s: &str) -> Result<AnyMi, NeuralError> {
        let method: MiMethod = s.parse()?;
        AnyMi::new(method, &MiSettings::default(), &NeuralConfig::default())
    }
}

impl std::fmt::Display for AnyMi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.method().name())
    }
}

impl MiEstimator for AnyMi {
    type Error = NeuralError;
    fn name(&self) -> &'static str {
        self.method().name()
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate, NeuralError> {
        match self {
            AnyMi::Classical(c) => Ok(c.estimate(x, y)?),
            AnyMi::Neural(n) => n.estimate(x, y),
        }
    }
}
