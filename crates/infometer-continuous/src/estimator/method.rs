//! Estimators by name: [`MiMethod`] (the names, which settings each one takes), [`MiSettings`] (the settings a user may give), and [`ClassicalMi`] (the dispatcher over the classical estimators).

use super::{
    BoxKernel, CmiEstimator, Gaussian, Gcmi, GcmiMixed, Kde, Ksg, MiEstimate, MiEstimator, Mixed,
};
use crate::{ContinuousError, GcmiConfig, KdeConfig, KsgAlgorithm, Result, Samples};

/// A setting that only some estimators take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The number of neighbours k.
    K,
    /// The tie-breaking noise.
    Noise,
    /// Standardising each column (or not).
    Standardize,
    /// The Theiler window.
    Theiler,
    /// The copula transform.
    Copula,
    /// A permutation test.
    Permutations,
    /// Local (pointwise) values.
    Local,
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Setting::K => "k",
            Setting::Noise => "noise",
            Setting::Standardize => "standardize",
            Setting::Theiler => "theiler",
            Setting::Copula => "copula",
            Setting::Permutations => "permutations",
            Setting::Local => "local values",
        })
    }
}

/// Every MI estimator, by the name the command line and the experiments use.
///
/// # Examples
/// ```
/// use infometer_continuous::{MiMethod, Setting};
/// let m: MiMethod = "ksg2".parse().unwrap();
/// assert_eq!(m.to_string(), "ksg2");
/// assert!(m.accepts(Setting::Theiler) && !MiMethod::Gaussian.accepts(Setting::K));
/// assert!("foo".parse::<MiMethod>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MiMethod {
    /// KSG algorithm 1.
    Ksg1,
    /// KSG algorithm 2.
    Ksg2,
    /// Gaussian-kernel KDE (leave-one-out, Scott's bandwidth).
    Kde,
    /// JIDT's box kernel (width 0.25 sd).
    Box,
    /// Linear-Gaussian closed form.
    Gaussian,
    /// Gaussian-copula MI.
    Gcmi,
    /// Ross's labels–continuous estimator (X holds integer labels).
    Mixed,
    /// Gaussian-copula labels–continuous estimator (X holds integer labels).
    GcmiMixed,
    /// MINE (neural; `infometer-neural`).
    Mine,
    /// Donsker–Varadhan bound (neural).
    Dv,
    /// NWJ bound (neural).
    Nwj,
    /// InfoNCE bound (neural).
    InfoNce,
}

impl MiMethod {
    /// Every method, in the order the help lists them.
    pub const ALL: [MiMethod; 12] = [
        MiMethod::Ksg1,
        MiMethod::Ksg2,
        MiMethod::Kde,
        MiMethod::Box,
        MiMethod::Gaussian,
        MiMethod::Gcmi,
        MiMethod::Mixed,
        MiMethod::GcmiMixed,
        MiMethod::Mine,
        MiMethod::Dv,
        MiMethod::Nwj,
        MiMethod::InfoNce,
    ];

    /// The names of [`MiMethod::ALL`].
    pub const NAMES: &'static [&'static str] = &[
        "ksg1",
        "ksg2",
        "kde",
        "box",
        "gaussian",
        "gcmi",
        "mixed",
        "gcmi-mixed",
        "mine",
        "dv",
        "nwj",
        "infonce",
    ];

    /// The name as the command line spells it.
    pub fn name(self) -> &'static str {
        let i = MiMethod::ALL
            .iter()
            .position(|&m| m == self)
            .expect("every method is in ALL");
        MiMethod::NAMES[i]
    }

    /// Whether this is one of the neural bounds (built by `infometer-neural`).
    pub fn is_neural(self) -> bool {
        matches!(
            self,
            MiMethod::Mine | MiMethod::Dv | MiMethod::Nwj | MiMethod::InfoNce
        )
    }

    /// Whether X holds integer labels.
    pub fn labels_in_x(self) -> bool {
        matches!(self, MiMethod::Mixed | MiMethod::GcmiMixed)
    }

    /// Whether the method has a conditional form (CMI and transfer entropy).
    pub fn has_conditional(self) -> bool {
        matches!(
            self,
            MiMethod::Ksg1 | MiMethod::Ksg2 | MiMethod::Gaussian | MiMethod::Gcmi
        )
    }

    /// Whether the method gives local (pointwise) values ([`MiEstimate::local`]).
    pub fn has_locals(self) -> bool {
        matches!(
            self,
            MiMethod::Ksg1 | MiMethod::Ksg2 | MiMethod::Kde | MiMethod::Box | MiMethod::Mixed
        )
    }

    /// Whether the method takes a setting.
    pub fn accepts(self, s: Setting) -> bool {
        use MiMethod as M;
        use Setting as S;
        match s {
            S::K => matches!(self, M::Ksg1 | M::Ksg2 | M::Mixed),
            S::Noise | S::Theiler => matches!(self, M::Ksg1 | M::Ksg2),
            S::Standardize => matches!(
                self,
                M::Ksg1 | M::Ksg2 | M::Box | M::Mine | M::Dv | M::Nwj | M::InfoNce
            ),
            // the Gaussian estimator with the copula is GCMI, without its bias correction
            S::Copula => self != M::Gaussian,
            // a neural surrogate trains a new critic: hours, not seconds
            S::Permutations => !self.is_neural(),
            S::Local => self.has_locals(),
        }
    }

    /// Refuses a setting the method does not take.
    ///
    /// # Errors
    /// [`ContinuousError::NotApplicable`].
    pub fn require(self, s: Setting) -> Result<()> {
        if self.accepts(s) {
            Ok(())
        } else {
            Err(ContinuousError::NotApplicable {
                setting: s,
                estimator: self.name(),
            })
        }
    }

    /// Refuses a conditional estimate from a method without one.
    ///
    /// # Errors
    /// [`ContinuousError::NoConditionalForm`].
    pub fn require_conditional(self) -> Result<()> {
        if self.has_conditional() {
            Ok(())
        } else {
            Err(ContinuousError::NoConditionalForm {
                estimator: self.name(),
            })
        }
    }
}

impl std::fmt::Display for MiMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for MiMethod {
    type Err = ContinuousError;
    fn from_str(s: &str) -> Result<MiMethod> {
        MiMethod::NAMES
            .iter()
            .position(|&n| n == s)
            .map(|i| MiMethod::ALL[i])
            .ok_or_else(|| ContinuousError::InvalidChoice {
                name: "estimator",
                got: s.to_string(),
                expected: MiMethod::NAMES,
            })
    }
}

/// The settings a user may give any estimator; `None` (or `false`) leaves the estimator's
/// default. A setting given to an estimator that does not take it is refused, not ignored.
///
/// # Examples
/// ```
/// use infometer_continuous::{ClassicalMi, MiMethod, MiSettings};
/// let s = MiSettings { k: Some(3), ..Default::default() };
/// assert!(ClassicalMi::new(MiMethod::Ksg1, &s).is_ok());
/// assert!(ClassicalMi::new(MiMethod::Gaussian, &s).is_err()); // no k
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MiSettings {
    /// Neighbours (KSG default 4, mixed default 4).
    pub k: Option<usize>,
    /// Tie-breaking noise sd (KSG default 1e-8).
    pub noise: Option<f64>,
    /// Standardise each column (default on where it applies).
    pub standardize: Option<bool>,
    /// Theiler window (default 0).
    pub theiler: Option<usize>,
    /// Copula transform first.
    pub copula: bool,
    /// Seed of every random step (noise, tie-breaking, training).
    pub seed: u64,
}

impl MiSettings {
    /// Refuses each given setting that `method` does not take.
    ///
    /// # Errors
    /// [`ContinuousError::NotApplicable`] for the first such setting.
    pub fn check_for(&self, method: MiMethod) -> Result<()> {
        let given = [
            (Setting::K, self.k.is_some()),
            (Setting::Noise, self.noise.is_some()),
            (Setting::Standardize, self.standardize.is_some()),
            (Setting::Theiler, self.theiler.is_some()),
            (Setting::Copula, self.copula),
        ];
        for (s, on) in given {
            if on {
                method.require(s)?;
            }
        }
        Ok(())
    }

    /// The KSG estimator these settings describe (for multi-information, which only KSG
    /// estimates).
    ///
    /// # Errors
    /// As [`crate::KsgParams::check`].
    pub fn ksg(&self, algorithm: KsgAlgorithm) -> Result<Ksg> {
        let d = Ksg::params();
        let mut p = d
            .algorithm(algorithm)
            .copula(self.copula)
            .seed(self.seed)
            .standardize(self.standardize.unwrap_or(true));
        if let Some(k) = self.k {
            p = p.k(k);
        }
        if let Some(sd) = self.noise {
            p = p.noise(sd);
        }
        if let Some(w) = self.theiler {
            p = p.theiler(w);
        }
        p.check()
    }
}

/// Every classical estimator behind one value, chosen by [`MiMethod`]: what the command line
/// and the experiments build. The neural bounds join it in `infometer-neural`.
///
/// # Formula
/// That of the chosen estimator.
///
/// # Errors
/// [`ClassicalMi::new`]: [`ContinuousError::NotApplicable`] for a setting the method does not
/// take, [`ContinuousError::InvalidChoice`] for a neural method, the estimator's parameter
/// checks. Estimating: the estimator's own; [`ContinuousError::NoConditionalForm`] for CMI
/// from a method without one.
///
/// # Examples
/// ```
/// use infometer_continuous::{ClassicalMi, MiEstimator, MiMethod, MiSettings, Samples};
/// let x: Vec<f64> = (0..400).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| v + 0.1 * (i as f64 * 1.7).cos()).collect();
/// let (x, y) = (Samples::from_column(&x).unwrap(), Samples::from_column(&y).unwrap());
/// for m in [MiMethod::Ksg1, MiMethod::Ksg2, MiMethod::Kde, MiMethod::Gcmi] {
///     let est = ClassicalMi::new(m, &MiSettings::default()).unwrap();
///     assert!(est.estimate(&x, &y).unwrap().nats > 1.0, "{m}");
/// }
/// ```
///
/// # References
/// See each estimator.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassicalMi {
    /// KSG 1 or 2.
    Ksg(Ksg),
    /// Gaussian KDE.
    Kde(Kde),
    /// Box kernel.
    Box(BoxKernel),
    /// Linear Gaussian.
    Gaussian(Gaussian),
    /// Gaussian copula.
    Gcmi(Gcmi),
    /// Labels–continuous (Ross).
    Mixed(Mixed),
    /// Labels–continuous (Gaussian copula).
    GcmiMixed(GcmiMixed),
}

impl ClassicalMi {
    /// The estimator `method` with `settings`, checked.
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn new(method: MiMethod, settings: &MiSettings) -> Result<ClassicalMi> {
        settings.check_for(method)?;
        let gcmi = GcmiConfig {
            seed: settings.seed,
            ..Default::default()
        };
        Ok(match method {
            MiMethod::Ksg1 => ClassicalMi::Ksg(settings.ksg(KsgAlgorithm::One)?),
            MiMethod::Ksg2 => ClassicalMi::Ksg(settings.ksg(KsgAlgorithm::Two)?),
            MiMethod::Kde => ClassicalMi::Kde(Kde::new(KdeConfig {
                leave_one_out: true,
                copula: settings.copula,
                seed: settings.seed,
                ..Default::default()
            })?),
            MiMethod::Box => ClassicalMi::Box(
                BoxKernel::params()
                    .standardize(settings.standardize.unwrap_or(true))
                    .copula(settings.copula)
                    .seed(settings.seed)
                    .check()?,
            ),
            MiMethod::Gaussian => ClassicalMi::Gaussian(Gaussian),
            MiMethod::Gcmi => ClassicalMi::Gcmi(Gcmi(gcmi)),
            MiMethod::Mixed => {
                let k = settings.k.unwrap_or(4);
                if k == 0 {
                    return Err(ContinuousError::InvalidParameter {
                        name: "k",
                        value: 0.0,
                        reason: "must be at least 1",
                    });
                }
                ClassicalMi::Mixed(Mixed {
                    k,
                    copula: settings.copula,
                    seed: settings.seed,
                })
            }
            MiMethod::GcmiMixed => ClassicalMi::GcmiMixed(GcmiMixed(gcmi)),
            MiMethod::Mine | MiMethod::Dv | MiMethod::Nwj | MiMethod::InfoNce => {
                return Err(ContinuousError::InvalidChoice {
                    name: "classical estimator",
                    got: method.name().to_string(),
                    expected: &MiMethod::NAMES[..8],
                });
            }
        })
    }

    /// The method this value runs.
    pub fn method(&self) -> MiMethod {
        match self {
            ClassicalMi::Ksg(k) => match k.config().algorithm {
                KsgAlgorithm::One => MiMethod::Ksg1,
                KsgAlgorithm::Two => MiMethod::Ksg2,
            },
            ClassicalMi::Kde(_) => MiMethod::Kde,
            ClassicalMi::Box(_) => MiMethod::Box,
            ClassicalMi::Gaussian(_) => MiMethod::Gaussian,
            ClassicalMi::Gcmi(_) => MiMethod::Gcmi,
            ClassicalMi::Mixed(_) => MiMethod::Mixed,
            ClassicalMi::GcmiMixed(_) => MiMethod::GcmiMixed,
        }
    }
}

impl std::str::FromStr for ClassicalMi {
    type Err = ContinuousError;
    /// A classical estimator by name, with default settings.
    fn from_str(s: &str) -> Result<ClassicalMi> {
        ClassicalMi::new(s.parse()?, &MiSettings::default())
    }
}

impl std::fmt::Display for ClassicalMi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.method().name())
    }
}

impl MiEstimator for ClassicalMi {
    type Error = ContinuousError;
    fn name(&self) -> &'static str {
        self.method().name()
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate> {
        match self {
            ClassicalMi::Ksg(e) => e.estimate(x, y),
            ClassicalMi::Kde(e) => e.estimate(x, y),
            ClassicalMi::Box(e) => e.estimate(x, y),
            ClassicalMi::Gaussian(e) => e.estimate(x, y),
            ClassicalMi::Gcmi(e) => e.estimate(x, y),
            ClassicalMi::Mixed(e) => e.estimate(x, y),
            ClassicalMi::GcmiMixed(e) => e.estimate(x, y),
        }
    }
}

impl CmiEstimator for ClassicalMi {
    type Error = ContinuousError;
    fn estimate_cmi(&self, x: &Samples, y: &Samples, z: &Samples) -> Result<MiEstimate> {
        match self {
            ClassicalMi::Ksg(e) => e.estimate_cmi(x, y, z),
            ClassicalMi::Gaussian(e) => e.estimate_cmi(x, y, z),
            ClassicalMi::Gcmi(e) => e.estimate_cmi(x, y, z),
            other => Err(ContinuousError::NoConditionalForm {
                estimator: other.method().name(),
            }),
        }
    }
}
