//! The estimator values of the classical estimators: KSG (with its checked parameters), KDE, the box kernel, Gaussian, Gaussian-copula and the two label–continuous estimators.

use super::guards;
use super::{CmiEstimator, MiEstimate, MiEstimator, Variable, Warning};
use crate::ksg::{KsgTerms, Prepared, ksg_cmi_terms, ksg_multi_terms};
use crate::samples::check_same_n;
use crate::{
    Backend, ContinuousError, GcmiConfig, KdeConfig, KsgAlgorithm, KsgConfig, Result, Samples,
};

/// Checked-later parameters of the KSG estimator; [`KsgParams::check`] turns them into a [`Ksg`].
///
/// # Examples
/// ```
/// use infometer_continuous::{Ksg, KsgAlgorithm};
/// let est = Ksg::params().k(4).algorithm(KsgAlgorithm::Two).theiler(10).check().unwrap();
/// assert_eq!(est.config().theiler, 10);
/// assert!(Ksg::params().k(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KsgParams(KsgConfig);

impl KsgParams {
    /// Number of neighbours k ≥ 1.
    pub fn k(mut self, k: usize) -> Self {
        self.0.k = k;
        self
    }
    /// Algorithm 1 or 2.
    pub fn algorithm(mut self, a: KsgAlgorithm) -> Self {
        self.0.algorithm = a;
        self
    }
    /// Theiler window W ≥ 0.
    pub fn theiler(mut self, w: usize) -> Self {
        self.0.theiler = w;
        self
    }
    /// Standard deviation of the tie-breaking noise (finite, ≥ 0).
    pub fn noise(mut self, sd: f64) -> Self {
        self.0.noise = sd;
        self
    }
    /// Standardise each column first.
    pub fn standardize(mut self, on: bool) -> Self {
        self.0.standardize = on;
        self
    }
    /// Copula transform each variable first.
    pub fn copula(mut self, on: bool) -> Self {
        self.0.copula = on;
        self
    }
    /// Seed of the noise and of the copula's tie-breaking.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
    /// Neighbour-search backend.
    pub fn backend(mut self, b: Backend) -> Self {
        self.0.backend = b;
        self
    }
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`ContinuousError::InvalidParameter`] for k = 0 or a negative or non-finite noise.
    pub fn check(self) -> Result<Ksg> {
        self.0.validate()?;
        Ok(Ksg { cfg: self.0 })
    }
}

/// The KSG estimator (algorithm 1 or 2) with checked parameters, guarded: tied samples that
/// leave a point's k-th neighbour at distance 0 are refused.
///
/// # Formula
/// As [`crate::ksg_mi`] and [`crate::ksg_cmi`]; the local value of point i is the summand,
/// e.g. `ψ(k) + ψ(N) − ψ(n_x,i + 1) − ψ(n_y,i + 1)` for algorithm 1.
///
/// # Errors
/// Those of [`crate::ksg_mi`]; [`ContinuousError::ZeroDistance`] when, after the noise, some
/// point has k identical points (outside the Theiler window) in the joint space: ε = 0 there
/// and the marginal counts collapse, which gives arbitrary values (8 nats on three levels).
///
/// # Examples
/// ```
/// use infometer_continuous::{ContinuousError, Ksg, MiEstimator, Samples};
/// let levels: Vec<f64> = (0..300).map(|i| (i % 3) as f64).collect();
/// let s = Samples::from_column(&levels).unwrap();
/// let refused = Ksg::params().noise(0.0).check().unwrap().estimate(&s, &s);
/// assert!(matches!(refused, Err(ContinuousError::ZeroDistance { .. })));
/// ```
///
/// # References
/// Kraskov, Stögbauer, Grassberger, PRE 69, 066138, 2004; Lizier, JIDT, 2014 (local values).
#[derive(Debug, Clone, PartialEq)]
pub struct Ksg {
    cfg: KsgConfig,
}

impl Ksg {
    /// Default parameters (JIDT's: k = 4, algorithm 1, standardised, noise 1e-8).
    pub fn params() -> KsgParams {
        KsgParams::default()
    }
    /// The estimator for a config, checked.
    ///
    /// # Errors
    /// As [`KsgParams::check`].
    pub fn new(cfg: KsgConfig) -> Result<Ksg> {
        KsgParams(cfg).check()
    }
    /// The checked settings.
    pub fn config(&self) -> &KsgConfig {
        &self.cfg
    }

    /// Warns about noise large next to the data, and about ties in each variable when no
    /// noise breaks them. (A k-th distance of 0 is refused from the pass's own terms,
    /// [`KsgTerms::refuse_zero_distance`].)
    fn guard(&self, prep: &Prepared, raw: &[&Samples]) -> Vec<Warning> {
        let mut w = Vec::new();
        // standardised (or normal scores): unit scale; otherwise the smallest column sd
        let scale = if self.cfg.standardize || self.cfg.copula {
            1.0
        } else {
            guards::smallest_sd(raw)
        };
        if self.cfg.noise > 0.01 * scale {
            w.push(Warning::LargeNoise {
                noise: self.cfg.noise,
                scale,
            });
        }
        if self.cfg.noise == 0.0 {
            let names = [Variable::X, Variable::Y, Variable::Z];
            for (v, s) in names.iter().zip(&prep.0) {
                let repeated_rows = guards::repeated_rows(s);
                if repeated_rows > 0 {
                    w.push(Warning::Ties {
                        variable: *v,
                        repeated_rows,
                    });
                }
            }
        }
        w
    }

    /// Multi-information (total correlation) of m ≥ 2 variables ([`crate::ksg_multi_info`]),
    /// guarded as the MI is, with local values.
    ///
    /// # Errors
    /// As [`crate::ksg_multi_info`]; [`ContinuousError::ZeroDistance`] as for the MI.
    pub fn multi_information(&self, vars: &[&Samples]) -> Result<MiEstimate> {
        if vars.len() < 2 {
            return Err(ContinuousError::Empty {
                what: "variables (multi-information needs at least 2)",
            });
        }
        for v in &vars[1..] {
            check_same_n(vars[0], v)?;
        }
        let n = vars[0].n_samples();
        self.cfg.check_k(n)?;
        let prep = self.cfg.prepare(vars)?;
        let ties = self.guard(&prep, vars);
        let t = ksg_multi_terms(&prep, &self.cfg)?.refuse_zero_distance("KSG multi-information")?;
        let mut e = MiEstimate::with_local(t.estimate(), n, Some(t.locals()));
        guards::dims_vs_rows(vars, &mut e.warnings);
        // variables beyond Z are not named in warnings: ties are reported for the first three
        e.warnings.extend(ties);
        Ok(e)
    }

    fn finish(&self, t: KsgTerms, n: usize, raw: &[&Samples], ties: Vec<Warning>) -> MiEstimate {
        let mut e = MiEstimate::with_local(t.estimate(), n, Some(t.locals()));
        e.warnings.extend(guards::input_warnings(raw));
        e.warnings.extend(ties);
        e
    }
}

impl MiEstimator for Ksg {
    type Error = ContinuousError;
    fn name(&self) -> &'static str {
        match self.cfg.algorithm {
            KsgAlgorithm::One => "ksg1",
            KsgAlgorithm::Two => "ksg2",
        }
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate> {
        check_same_n(x, y)?;
        self.cfg.check_k(x.n_samples())?;
        let prep = self.cfg.prepare(&[x, y])?;
        let ties = self.guard(&prep, &[x, y]);
        let t =
            ksg_multi_terms(&prep, &self.cfg)?.refuse_zero_distance("KSG mutual information")?;
        Ok(self.finish(t, x.n_samples(), &[x, y], ties))
    }
}

impl CmiEstimator for Ksg {
    type Error = ContinuousError;
    fn estimate_cmi(&self, x: &Samples, y: &Samples, z: &Samples) -> Result<MiEstimate> {
        check_same_n(x, y)?;
        check_same_n(x, z)?;
        self.cfg.check_k(x.n_samples())?;
        let prep = self.cfg.prepare(&[x, y, z])?;
        let ties = self.guard(&prep, &[x, y, z]);
        let t = ksg_cmi_terms(&prep, &self.cfg)?
            .refuse_zero_distance("KSG conditional mutual information")?;
        Ok(self.finish(t, x.n_samples(), &[x, y, z], ties))
    }
}

/// The Gaussian-kernel KDE estimator of MI ([`crate::kde_mi`]) with checked settings.
///
/// # Formula
/// As [`crate::kde_mi`]; the local value is `ln f̂_XY − ln f̂_X − ln f̂_Y` at the sample.
///
/// # Errors
/// [`ContinuousError::InvalidParameter`] from [`Kde::new`] for a bandwidth factor that is not
/// finite and positive; at estimation, those of [`crate::kde_mi`].
///
/// # Examples
/// ```
/// use infometer_continuous::{Kde, KdeConfig, MiEstimator, Samples};
/// let x: Vec<f64> = (0..300).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| v + 0.1 * (i as f64 * 1.7).cos()).collect();
/// let e = Kde::new(KdeConfig { leave_one_out: true, ..Default::default() }).unwrap()
///     .estimate(&Samples::from_column(&x).unwrap(), &Samples::from_column(&y).unwrap()).unwrap();
/// assert!(e.nats > 1.0 && e.local.unwrap().len() == 300);
/// ```
///
/// # References
/// Moon, Rajagopalan, Lall, PRE 52, 2318, 1995.
#[derive(Debug, Clone, PartialEq)]
pub struct Kde {
    cfg: KdeConfig,
}

impl Kde {
    /// The estimator for a config, checked.
    ///
    /// # Errors
    /// [`ContinuousError::InvalidParameter`] for a bad bandwidth factor.
    pub fn new(cfg: KdeConfig) -> Result<Kde> {
        if let crate::Bandwidth::Factor(h) = cfg.bandwidth
            && !(h.is_finite() && h > 0.0)
        {
            return Err(ContinuousError::InvalidParameter {
                name: "bandwidth",
                value: h,
                reason: "must be finite and positive",
            });
        }
        Ok(Kde { cfg })
    }
    /// The checked settings.
    pub fn config(&self) -> &KdeConfig {
        &self.cfg
    }
}

impl MiEstimator for Kde {
    type Error = ContinuousError;
    fn name(&self) -> &'static str {
        "kde"
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate> {
        let terms = crate::kde::kde_terms(x, y, &self.cfg)?;
        let nats = crate::ksg::ordered_mean(&terms);
        let mut e = MiEstimate::with_local(nats, x.n_samples(), Some(terms));
        e.warnings.extend(guards::input_warnings(&[x, y]));
        Ok(e)
    }
}

/// Parameters of the box-kernel estimator; [`BoxKernelParams::check`] gives a [`BoxKernel`].
///
/// # Examples
/// ```
/// use infometer_continuous::BoxKernel;
/// assert!(BoxKernel::params().width(0.25).check().is_ok());
/// assert!(BoxKernel::params().width(-1.0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BoxKernelParams {
    width: f64,
    standardize: bool,
    copula: bool,
    seed: u64,
}

impl Default for BoxKernelParams {
    fn default() -> Self {
        BoxKernelParams {
            width: 0.25,
            standardize: true,
            copula: false,
            seed: 0,
        }
    }
}

impl BoxKernelParams {
    /// Kernel width (in standard deviations when standardising; JIDT's default 0.25).
    pub fn width(mut self, w: f64) -> Self {
        self.width = w;
        self
    }
    /// Standardise each column first.
    pub fn standardize(mut self, on: bool) -> Self {
        self.standardize = on;
        self
    }
    /// Copula transform X and Y first (seeded tie-breaking).
    pub fn copula(mut self, on: bool) -> Self {
        self.copula = on;
        self
    }
    /// Seed of the copula's tie-breaking.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`ContinuousError::InvalidParameter`] for a width that is not finite and positive.
    pub fn check(self) -> Result<BoxKernel> {
        if !(self.width.is_finite() && self.width > 0.0) {
            return Err(ContinuousError::InvalidParameter {
                name: "width",
                value: self.width,
                reason: "must be finite and positive",
            });
        }
        Ok(BoxKernel { p: self })
    }
}

/// JIDT's box-kernel estimator ([`crate::box_kernel_mi`]) with checked parameters.
///
/// # Formula
/// As [`crate::box_kernel_mi`]; the local value is `ln(N · n_xy / (n_x · n_y))` at the sample.
///
/// # Errors
/// Those of [`crate::box_kernel_mi`].
///
/// # Examples
/// ```
/// use infometer_continuous::{BoxKernel, MiEstimator, Samples};
/// let x: Vec<f64> = (0..300).map(|i| (i as f64 * 0.37).sin()).collect();
/// let s = Samples::from_column(&x).unwrap();
/// assert!(BoxKernel::params().check().unwrap().estimate(&s, &s).unwrap().nats > 1.0);
/// ```
///
/// # References
/// Kantz & Schreiber, *Nonlinear Time Series Analysis*, 1997.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxKernel {
    p: BoxKernelParams,
}

impl BoxKernel {
    /// Default parameters (width 0.25, standardised).
    pub fn params() -> BoxKernelParams {
        BoxKernelParams::default()
    }
}

impl MiEstimator for BoxKernel {
    type Error = ContinuousError;
    fn name(&self) -> &'static str {
        "box"
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate> {
        let scores;
        let (xs, ys) = if self.p.copula {
            scores = crate::copula_variables(&[x, y], self.p.seed)?;
            (&scores[0], &scores[1])
        } else {
            (x, y)
        };
        let terms = crate::kde::box_terms(xs, ys, self.p.width, self.p.standardize)?;
        let nats = crate::ksg::ordered_mean(&terms);
        let mut e = MiEstimate::with_local(nats, x.n_samples(), Some(terms));
        e.warnings.extend(guards::input_warnings(&[x, y]));
        Ok(e)
    }
}

/// The linear-Gaussian estimator: MI and CMI from sample covariances
/// ([`crate::gaussian_mi`], [`crate::gaussian_cmi`]). No parameters, no local values.
///
/// # Formula
/// `I = ½ ln(|Σ_X| |Σ_Y| / |Σ_XY|)`.
///
/// # Errors
/// Those of [`crate::gaussian_mi`].
///
/// # Examples
/// ```
/// use infometer_continuous::{Gaussian, MiEstimator, Samples};
/// let x: Vec<f64> = (0..300).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = (0..300).map(|i| (i as f64 * 1.91).cos()).collect();
/// let e = Gaussian.estimate(&Samples::from_column(&x).unwrap(), &Samples::from_column(&y).unwrap()).unwrap();
/// assert!(e.nats.abs() < 0.05 && e.local.is_none());
/// ```
///
/// # References
/// Cover & Thomas, *Elements of Information Theory*, 2nd ed., §8.4–8.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gaussian;

impl MiEstimator for Gaussian {
    type Error = ContinuousError;
    fn name(&self) -> &'static str {
        "gaussian"
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate> {
        let mut e = MiEstimate::scalar(crate::gaussian_mi(x, y)?, x.n_samples());
        e.warnings.extend(guards::input_warnings(&[x, y]));
        Ok(e)
    }
}

impl CmiEstimator for Gaussian {
    type Error = ContinuousError;
    fn estimate_cmi(&self, x: &Samples, y: &Samples, z: &Samples) -> Result<MiEstimate> {
        let mut e = MiEstimate::scalar(crate::gaussian_cmi(x, y, z)?, x.n_samples());
        e.warnings.extend(guards::input_warnings(&[x, y, z]));
        Ok(e)
    }
}

/// Gaussian-copula MI and CMI ([`crate::gcmi_mi`], [`crate::gcmi_cmi`]).
///
/// # Formula
/// The Gaussian estimator on the normal scores of each variable's ranks, bias-corrected.
///
/// # Errors
/// Those of [`crate::gcmi_mi`].
///
/// # Examples
/// ```
/// use infometer_continuous::{Gcmi, GcmiConfig, MiEstimator, Samples};
/// let x: Vec<f64> = (0..300).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| (v + 0.1 * (i as f64 * 1.7).cos()).exp()).collect();
/// let e = Gcmi(GcmiConfig::default()).estimate(&Samples::from_column(&x).unwrap(), &Samples::from_column(&y).unwrap()).unwrap();
/// assert!(e.nats > 1.0);
/// ```
///
/// # References
/// Ince et al., "A statistical framework for neuroimaging data analysis based on mutual
/// information estimated via a gaussian copula", Hum. Brain Mapp. 38, 2017.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gcmi(pub GcmiConfig);

impl MiEstimator for Gcmi {
    type Error = ContinuousError;
    fn name(&self) -> &'static str {
        "gcmi"
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate> {
        let mut e = MiEstimate::scalar(crate::gcmi_mi(x, y, &self.0)?, x.n_samples());
        e.warnings.extend(guards::input_warnings(&[x, y]));
        Ok(e)
    }
}

impl CmiEstimator for Gcmi {
    type Error = ContinuousError;
    fn estimate_cmi(&self, x: &Samples, y: &Samples, z: &Samples) -> Result<MiEstimate> {
        let mut e = MiEstimate::scalar(crate::gcmi_cmi(x, y, z, &self.0)?, x.n_samples());
        e.warnings.extend(guards::input_warnings(&[x, y, z]));
        Ok(e)
    }
}

/// X as integer labels: one column, every value an integer.
fn labels_of(x: &Samples, estimator: &'static str) -> Result<Vec<i64>> {
    if x.dim() != 1 {
        return Err(ContinuousError::ShapeMismatch {
            what: "label columns",
            expected: 1,
            got: x.dim(),
        });
    }
    x.as_slice()
        .iter()
        .enumerate()
        .map(|(row, &v)| {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(v as i64)
            } else {
                Err(ContinuousError::NotLabels {
                    estimator,
                    row,
                    value: v,
                })
            }
        })
        .collect()
}

/// Ross's MI between labels (X, one integer column) and continuous Y ([`crate::mixed_mi`]).
///
/// # Formula
/// As [`crate::mixed_mi`]; the local value is `ψ(N) − ψ(N_l) + ψ(k) − ψ(m_i)`, over the
/// samples whose label occurs at least twice.
///
/// # Errors
/// [`ContinuousError::NotLabels`] for a value of X that is not an integer,
/// [`ContinuousError::ShapeMismatch`] for more than one X column; those of [`crate::mixed_mi`].
///
/// # Examples
/// ```
/// use infometer_continuous::{MiEstimator, Mixed, Samples};
/// let l: Vec<f64> = (0..200).map(|i| (i % 2) as f64).collect();
/// let y: Vec<f64> = l.iter().enumerate().map(|(i, v)| 10.0 * v + (i as f64 * 0.7).sin()).collect();
/// let e = Mixed { k: 3, copula: false, seed: 0 }
///     .estimate(&Samples::from_column(&l).unwrap(), &Samples::from_column(&y).unwrap()).unwrap();
/// assert!((e.nats - 2f64.ln()).abs() < 0.05);
/// ```
///
/// # References
/// Ross, PLoS ONE 9(2): e87357, 2014.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mixed {
    /// Neighbours k ≥ 1.
    pub k: usize,
    /// Copula transform Y first.
    pub copula: bool,
    /// Seed of the copula's tie-breaking.
    pub seed: u64,
}

impl MiEstimator for Mixed {
    type Error = ContinuousError;
    fn name(&self) -> &'static str {
        "mixed"
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate> {
        let labels = labels_of(x, "mixed MI")?;
        let scores;
        let ys = if self.copula {
            scores = y.copula(crate::copula::variable_seed(self.seed, 1))?;
            &scores
        } else {
            y
        };
        let (keep, terms) = crate::mixed::mixed_terms(&labels, ys, self.k)?;
        let nats = crate::ksg::ordered_mean(&terms);
        let mut e = MiEstimate::with_local(nats, keep.len(), Some(terms));
        guards::dims_vs_rows(&[x, y], &mut e.warnings);
        Ok(e)
    }
}

/// Gaussian-copula MI between labels (X, one integer column) and continuous Y
/// ([`crate::gcmi_mixed`]).
///
/// # Formula
/// As [`crate::gcmi_mixed`].
///
/// # Errors
/// As [`Mixed`] for the labels; those of [`crate::gcmi_mixed`].
///
/// # Examples
/// ```
/// use infometer_continuous::{GcmiMixed, MiEstimator, Samples};
/// let l: Vec<f64> = (0..200).map(|i| (i % 2) as f64).collect();
/// let y: Vec<f64> = l.iter().enumerate().map(|(i, v)| 3.0 * v + (i as f64 * 0.7).sin()).collect();
/// let e = GcmiMixed::default().estimate(&Samples::from_column(&l).unwrap(), &Samples::from_column(&y).unwrap()).unwrap();
/// assert!(e.nats > 0.3);
/// ```
///
/// # References
/// Ince et al., Hum. Brain Mapp. 38, 2017.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GcmiMixed(pub GcmiConfig);

impl MiEstimator for GcmiMixed {
    type Error = ContinuousError;
    fn name(&self) -> &'static str {
        "gcmi-mixed"
    }
    fn estimate(&self, x: &Samples, y: &Samples) -> Result<MiEstimate> {
        let labels = labels_of(x, "Gaussian-copula mixed MI")?;
        let mut e = MiEstimate::scalar(crate::gcmi_mixed(&labels, y, &self.0)?, x.n_samples());
        guards::dims_vs_rows(&[x, y], &mut e.warnings);
        Ok(e)
    }
}
