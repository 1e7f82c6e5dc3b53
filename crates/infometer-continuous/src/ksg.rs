//! KSG estimators (Kraskov, Stögbauer, Grassberger 2004): mutual information (algorithms 1 and 2), multi-information, and conditional MI (Frenzel & Pompe 2007), with JIDT's conventions.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::neighbors::{Backend, Conditional, Index, Metric, Radii, by_row, ksg_pass};
use crate::samples::check_same_n;
use crate::{ContinuousError, Result, Samples};

/// Which KSG algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KsgAlgorithm {
    /// Algorithm 1: one radius ε_i (k-th neighbour in the joint space); marginal counts strictly inside ε_i.
    #[default]
    One,
    /// Algorithm 2: per-marginal radii ε_{x,i}, ε_{y,i} from the k neighbours; counts within or on them.
    Two,
}

/// Settings shared by the KSG estimators. Defaults follow JIDT.
///
/// # Examples
/// ```
/// let c = infometer_continuous::KsgConfig::default();
/// assert_eq!((c.k, c.copula, c.standardize, c.noise, c.theiler), (4, false, true, 1e-8, 0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KsgConfig {
    /// Number of neighbours k ≥ 1 (JIDT default 4).
    pub k: usize,
    /// Algorithm 1 or 2.
    pub algorithm: KsgAlgorithm,
    /// Replace each column by the normal scores of its ranks first ([`Samples::copula`], ties
    /// broken with `seed`), then standardise and add noise as set: the estimate then depends
    /// on the ranks alone, which tames heavy tails and monotone distortions. CMI and transfer
    /// entropy transform each variable (each series) on its own.
    pub copula: bool,
    /// Standardise each column (mean 0, sample sd with N − 1) first.
    pub standardize: bool,
    /// Standard deviation of Gaussian noise added after standardising (0 = none); breaks ties.
    pub noise: f64,
    /// Seed of the noise.
    pub seed: u64,
    /// Theiler window W: neighbours with |i − j| ≤ W are excluded from every search.
    pub theiler: usize,
    /// Neighbour-search backend.
    pub backend: Backend,
}

impl Default for KsgConfig {
    fn default() -> Self {
        KsgConfig {
            k: 4,
            algorithm: KsgAlgorithm::One,
            copula: false,
            standardize: true,
            noise: 1e-8,
            seed: 0,
            theiler: 0,
            backend: Backend::Auto,
        }
    }
}

impl KsgConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(ContinuousError::InvalidParameter {
                name: "k",
                value: 0.0,
                reason: "must be at least 1",
            });
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(ContinuousError::InvalidParameter {
                name: "noise",
                value: self.noise,
                reason: "must be finite and ≥ 0",
            });
        }
        Ok(())
    }

    /// Copula (if asked), standardises (if asked), then adds noise to each variable; variable
    /// v's tie-breaking and noise use seed + v·0x9E3779B9 (its own stream, so the variables
    /// are prepared in parallel with the same result).
    pub(crate) fn prepare(&self, vars: &[&Samples]) -> Result<Prepared> {
        vars.par_iter()
            .enumerate()
            .map(|(v, s)| {
                let seed = crate::copula::variable_seed(self.seed, v);
                let c;
                let s = if self.copula {
                    c = s.copula(seed)?;
                    &c
                } else {
                    *s
                };
                let mut noisy = if self.standardize {
                    s.standardized()?
                } else {
                    s.clone()
                };
                noisy.add_noise(self.noise, seed);
                // noise so large that a value overflows leaves nothing of the data
                if noisy.as_slice().iter().any(|v| !v.is_finite()) {
                    return Err(ContinuousError::InvalidParameter {
                        name: "noise",
                        value: self.noise,
                        reason: "so large that the noisy values overflow",
                    });
                }
                Ok(noisy)
            })
            .collect::<Result<Vec<_>>>()
            .map(Prepared)
    }

    pub(crate) fn check_k(&self, n: usize) -> Result<()> {
        let available = n.saturating_sub(2 * self.theiler + 1);
        if self.k > available {
            return Err(ContinuousError::TooFewSamples {
                k: self.k,
                available,
            });
        }
        Ok(())
    }
}

/// Variables after the copula, standardising and noise of a [`KsgConfig`]: the searches run
/// on these as they are, so nothing is prepared twice (transfer entropy prepares the two
/// series, then embeds them).
#[derive(Debug, Clone)]
pub(crate) struct Prepared(pub(crate) Vec<Samples>);

/// A KSG sum split into its constant and its per-point terms: the estimate is
/// `constant − mean(terms)` and the local value of point i is `constant − terms[i]`.
pub(crate) struct KsgTerms {
    pub(crate) constant: f64,
    pub(crate) terms: Vec<f64>,
    /// Some point's k-th joint neighbour (outside the Theiler window) is at distance 0: it
    /// has k identical rows, and its terms mean nothing. Found by the pass itself, which
    /// finds every k-th distance anyway, so the guards refuse it without a search of their own.
    pub(crate) zero_distance: bool,
}

impl KsgTerms {
    /// Refuses terms with a zero k-th distance ([`KsgTerms::zero_distance`]).
    pub(crate) fn refuse_zero_distance(self, what: &'static str) -> Result<KsgTerms> {
        if self.zero_distance {
            return Err(ContinuousError::ZeroDistance { what });
        }
        Ok(self)
    }
    /// The estimate, summed in index order (identical for any thread count).
    pub(crate) fn estimate(&self) -> f64 {
        self.constant - ordered_mean(&self.terms)
    }
    /// The local (pointwise) values; their mean is the estimate up to rounding.
    pub(crate) fn locals(&self) -> Vec<f64> {
        self.terms.iter().map(|t| self.constant - t).collect()
    }
}

/// ψ(n) for integers n ≥ 1 via ψ(1) = −γ, ψ(n+1) = ψ(n) + 1/n, exact to rounding.
pub(crate) struct Digamma(Vec<f64>);

impl Digamma {
    pub(crate) fn new(max: usize) -> Self {
        let mut t = vec![f64::NAN; max + 2];
        t[1] = -0.577_215_664_901_532_9;
        for n in 1..=max {
            t[n + 1] = t[n] + 1.0 / n as f64;
        }
        Digamma(t)
    }
    #[inline]
    pub(crate) fn at(&self, n: usize) -> f64 {
        self.0[n]
    }
}

/// Sum of per-point terms in index order (identical for any thread count).
pub(crate) fn ordered_mean(terms: &[f64]) -> f64 {
    let n = terms.len() as f64;
    terms.iter().sum::<f64>() / n
}

/// `term(i)` for every row, evaluated in the index's query order (spatially close rows one
/// after another, for the caches) and returned in index order, so the sum that follows is
/// the same, bit for bit, whatever the order or the thread count.
pub(crate) fn in_query_order<F>(index: &Index<'_>, term: F) -> Vec<f64>
where
    F: Fn(usize) -> f64 + Sync,
{
    by_row(&index.query_order(), |i| i, term)
}

/// Joint space made of several variables, with a per-point max-norm per block.
pub(crate) struct Blocks {
    pub(crate) joint: Samples,
    /// column ranges of each variable in the joint space
    pub(crate) ranges: Vec<std::ops::Range<usize>>,
}

impl Blocks {
    pub(crate) fn new(vars: &[Samples]) -> Result<Blocks> {
        let parts: Vec<&Samples> = vars.iter().collect();
        let joint = Samples::side_by_side(&parts)?;
        let ranges = vars
            .iter()
            .scan(0, |start, v| {
                let r = *start..*start + v.dim();
                *start = r.end;
                Some(r)
            })
            .collect();
        Ok(Blocks { joint, ranges })
    }
    #[inline]
    pub(crate) fn block_dist(&self, b: usize, i: usize, j: usize) -> f64 {
        let r = self.ranges[b].clone();
        let (a, c) = (&self.joint.row(i)[r.clone()], &self.joint.row(j)[r]);
        a.iter()
            .zip(c)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
    }
}

/// KSG mutual information I(X; Y) in nats.
///
/// # Formula
/// ```text
/// algorithm 1: I = ψ(k) + ψ(N) − ⟨ψ(n_x + 1) + ψ(n_y + 1)⟩,  n_x = #{j ≠ i : ‖x_j − x_i‖ < ε_i}
/// algorithm 2: I = ψ(k) − 1/k + ψ(N) − ⟨ψ(n_x) + ψ(n_y)⟩,    n_x = #{j ≠ i : ‖x_j − x_i‖ ≤ ε_{x,i}}
/// ε_i: distance to the k-th neighbour in the joint space under the max-norm
/// ```
///
/// # Errors
/// [`ContinuousError::ShapeMismatch`] when X and Y differ in N; [`ContinuousError::TooFewSamples`]
/// when k ≥ N (after the Theiler window); [`ContinuousError::ConstantColumn`] when standardising
/// a constant column; [`ContinuousError::InvalidParameter`] for k = 0 or negative noise.
///
/// # Examples
/// ```
/// use infometer_continuous::{ksg_mi, KsgConfig, Samples};
/// let x: Vec<f64> = (0..500).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| v + 0.1 * (i as f64 * 1.7).cos()).collect();
/// let mi = ksg_mi(&Samples::from_column(&x).unwrap(), &Samples::from_column(&y).unwrap(), &KsgConfig::default()).unwrap();
/// assert!(mi > 1.0);
/// ```
///
/// # References
/// Kraskov, Stögbauer, Grassberger, "Estimating mutual information", Phys. Rev. E 69, 066138, 2004;
/// Lizier, "JIDT: An information-theoretic toolkit", Front. Robot. AI 1:11, 2014.
pub fn ksg_mi(x: &Samples, y: &Samples, cfg: &KsgConfig) -> Result<f64> {
    cfg.validate()?;
    check_same_n(x, y)?;
    cfg.check_k(x.n_samples())?;
    let vars = cfg.prepare(&[x, y])?;
    Ok(ksg_multi_terms(&vars, cfg)?.estimate())
}

/// KSG multi-information (total correlation) of m ≥ 2 variables, in nats.
///
/// # Formula
/// ```text
/// algorithm 1: I = ψ(k) + (m − 1) ψ(N) − ⟨Σ_v ψ(n_v + 1)⟩
/// algorithm 2: I = ψ(k) − (m − 1)/k + (m − 1) ψ(N) − ⟨Σ_v ψ(n_v)⟩
/// ```
///
/// # Errors
/// As [`ksg_mi`]; [`ContinuousError::Empty`] for fewer than 2 variables.
///
/// # Examples
/// ```
/// use infometer_continuous::{ksg_multi_info, ksg_mi, KsgConfig, Samples};
/// let a = Samples::from_column(&(0..300).map(|i| (i as f64).sin()).collect::<Vec<_>>()).unwrap();
/// let b = Samples::from_column(&(0..300).map(|i| (i as f64 * 1.3).cos()).collect::<Vec<_>>()).unwrap();
/// let c = KsgConfig::default();
/// let two = ksg_multi_info(&[&a, &b], &c).unwrap();
/// assert!((two - ksg_mi(&a, &b, &c).unwrap()).abs() < 1e-12);
/// ```
///
/// # References
/// Kraskov et al. 2004, eq. (9)–(10) and §II.C.
pub fn ksg_multi_info(vars: &[&Samples], cfg: &KsgConfig) -> Result<f64> {
    cfg.validate()?;
    if vars.len() < 2 {
        return Err(ContinuousError::Empty {
            what: "variables (multi-information needs at least 2)",
        });
    }
    for v in &vars[1..] {
        check_same_n(vars[0], v)?;
    }
    cfg.check_k(vars[0].n_samples())?;
    let prepared = cfg.prepare(vars)?;
    Ok(ksg_multi_terms(&prepared, cfg)?.estimate())
}

/// The KSG multi-information sum over prepared variables (the MI of two when m = 2).
pub(crate) fn ksg_multi_terms(vars: &Prepared, cfg: &KsgConfig) -> Result<KsgTerms> {
    let vars = &vars.0;
    let n = vars[0].n_samples();
    let m = vars.len();
    let k = cfg.k;
    let blocks = Blocks::new(vars)?;
    let (joint, marg) = Index::joint_and_marginals(&blocks.joint, vars, cfg.theiler, cfg.backend);
    let psi = Digamma::new(n + 1);
    // KSG1: every variable counts strictly inside the k-th joint distance; KSG2: within or
    // on the largest distance of the k neighbours in that variable's own block
    let radii = match cfg.algorithm {
        KsgAlgorithm::One => Radii::KthJoint,
        KsgAlgorithm::Two => Radii::FromNeighbours(|i: usize, nn: &[(f64, usize)], b: usize| {
            nn.iter()
                .map(|&(_, j)| blocks.block_dist(b, i, j))
                .fold(0.0f64, f64::max)
        }),
    };
    let strict = cfg.algorithm == KsgAlgorithm::One;
    let pass = ksg_pass(&joint, &marg, k, strict, radii, |_, counts| {
        match cfg.algorithm {
            KsgAlgorithm::One => counts.iter().map(|&c| psi.at(c + 1)).sum::<f64>(),
            KsgAlgorithm::Two => counts.iter().map(|&c| psi.at(c.max(1))).sum::<f64>(),
        }
    });
    let mm1 = (m - 1) as f64;
    let constant = match cfg.algorithm {
        KsgAlgorithm::One => psi.at(k) + mm1 * psi.at(n),
        KsgAlgorithm::Two => psi.at(k) - mm1 / k as f64 + mm1 * psi.at(n),
    };
    Ok(KsgTerms {
        constant,
        terms: pass.terms,
        zero_distance: pass.zero_distance,
    })
}

/// KSG conditional mutual information I(X; Y | Z) in nats (Frenzel & Pompe), as JIDT computes it.
///
/// # Formula
/// ```text
/// algorithm 1: I = ψ(k) − ⟨ψ(n_xz + 1) + ψ(n_yz + 1) − ψ(n_z + 1)⟩, counts strictly inside ε_i
/// algorithm 2: I = ψ(k) − 2/k + ⟨ψ(n_z) − ψ(n_xz) + 1/n_xz − ψ(n_yz) + 1/n_yz⟩,
///              n_xz = #{j : ‖x_j − x_i‖ ≤ ε_x,i and ‖z_j − z_i‖ ≤ ε_z,i}, etc.
/// ```
///
/// # Errors
/// As [`ksg_mi`].
///
/// # Examples
/// ```
/// use infometer_continuous::{ksg_cmi, KsgConfig, Samples};
/// // X and Y both copy Z plus independent noise: I(X;Y|Z) ≈ 0
/// # let mut s = 42u64;
/// # let mut u = move || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
/// let z: Vec<f64> = (0..1000).map(|_| u()).collect();
/// let x: Vec<f64> = z.iter().map(|v| v + 0.3 * u()).collect();
/// let y: Vec<f64> = z.iter().map(|v| v + 0.3 * u()).collect();
/// let s = |v: &[f64]| Samples::from_column(v).unwrap();
/// let cmi = ksg_cmi(&s(&x), &s(&y), &s(&z), &KsgConfig::default()).unwrap();
/// assert!(cmi.abs() < 0.1);
/// ```
///
/// # References
/// Frenzel & Pompe, "Partial Mutual Information for Coupling Analysis of Multivariate Time
/// Series", Phys. Rev. Lett. 99, 204101, 2007; Wibral et al., "Transfer Entropy in
/// Neuroscience", 2014 (algorithm 2 form); JIDT `ConditionalMutualInfoCalculatorMultiVariateKraskov{1,2}`.
pub fn ksg_cmi(x: &Samples, y: &Samples, z: &Samples, cfg: &KsgConfig) -> Result<f64> {
    cfg.validate()?;
    check_same_n(x, y)?;
    check_same_n(x, z)?;
    cfg.check_k(x.n_samples())?;
    let vars = cfg.prepare(&[x, y, z])?;
    Ok(ksg_cmi_terms(&vars, cfg)?.estimate())
}

/// The KSG CMI sum over prepared variables (X, Y, Z in that order).
pub(crate) fn ksg_cmi_terms(vars: &Prepared, cfg: &KsgConfig) -> Result<KsgTerms> {
    let vars = &vars.0;
    let n = vars[0].n_samples();
    let k = cfg.k;
    let blocks = Blocks::new(vars)?;
    let (joint, cond) = rayon::join(
        || Index::new(&blocks.joint, Metric::MaxNorm, cfg.theiler, cfg.backend),
        || {
            let (x, y) = (blocks.ranges[0].clone(), blocks.ranges[1].clone());
            Conditional::new(&blocks.joint, &vars[2], x, y, cfg.theiler, cfg.backend)
        },
    );
    let psi = Digamma::new(n + 1);
    let zero = AtomicBool::new(false);
    let note_zero = |kth: f64| {
        if kth == 0.0 {
            zero.store(true, Ordering::Relaxed);
        }
    };
    // KSG1 needs each row's k-th joint distance only: the batched walk finds them all first
    let kth = (cfg.algorithm == KsgAlgorithm::One).then(|| joint.kth_map(k));
    let terms = in_query_order(&joint, |i| {
        match &kth {
            // KSG1
            Some(kth) => {
                let eps = kth[i];
                note_zero(eps);
                let (n_z, n_xz, n_yz) = cond.counts(i, (eps, eps, eps), true);
                psi.at(n_xz + 1) + psi.at(n_yz + 1) - psi.at(n_z + 1)
            }
            // KSG2
            None => {
                let nn = joint.knn(i, k);
                note_zero(nn[k - 1].0);
                let eb = |b: usize| {
                    nn.iter()
                        .map(|&(_, j)| blocks.block_dist(b, i, j))
                        .fold(0.0f64, f64::max)
                };
                let (n_z, n_xz, n_yz) = cond.counts(i, (eb(0), eb(1), eb(2)), false);
                let (n_z, n_xz, n_yz) = (n_z.max(1), n_xz.max(1), n_yz.max(1));
                // negated so the mean below subtracts it
                -(psi.at(n_z) - psi.at(n_xz) + 1.0 / n_xz as f64 - psi.at(n_yz) + 1.0 / n_yz as f64)
            }
        }
    });
    let constant = match cfg.algorithm {
        KsgAlgorithm::One => psi.at(k),
        KsgAlgorithm::Two => psi.at(k) - 2.0 / k as f64,
    };
    Ok(KsgTerms {
        constant,
        terms,
        zero_distance: zero.into_inner(),
    })
}
