//! Uncertainty of an ensemble (or MC-dropout samples): total, aleatoric and epistemic (mutual information, BALD), reverse mutual information and expected pairwise KL per token, in log space, with a jackknife over members.

use rayon::prelude::*;

use crate::kernel::{self, inverse_temperature};
use crate::{CoreError, Element, Result, Rows};

/// Per-token uncertainty of an ensemble of M members over the same rows, configured, then
/// [`Ensemble::run`].
///
/// The predictive distribution is the members' mean p̄, formed in log space:
/// ln p̄_i = logsumexp_m ln p_m,i − ln M (exactly ln p_m,i when every member agrees).
///
/// # Formula
/// ```text
/// total      = H[p̄] = −Σ_i p̄_i ln p̄_i
/// aleatoric  = E_m H[p_m]
/// epistemic  = MI = E_m KL(p_m ‖ p̄) = total − aleatoric          (BALD)
/// RMI        = E_m KL(p̄ ‖ p_m)                                   (reverse MI)
/// EPKL       = E_m E_m' KL(p_m ‖ p_m') = E_m Σ_i (p_m,i − p̄_i) ln p_m,i = MI + RMI
/// max prob   = max_i p̄_i
/// Rényi      = D_α(p̄ ‖ u) = ln V − ln(Σ_i p̄_i^α)/(1 − α)           (α ≠ 1; α = 1: ln V − H[p̄])
/// Fisher–Rao = 2 arccos( Σ_i √(p̄_i / V) )                      (geodesic distance to uniform)
/// ```
/// EPKL averages over all M² ordered pairs (the M self-pairs add 0); the mean over distinct
/// pairs is M/(M − 1) times it. RMI and EPKL are +inf where a member gives 0 to an outcome
/// that another member gives mass; MI is always finite (≤ ln M).
///
/// # Errors
/// [`CoreError::TooFewUnits`] for fewer than 2 members; [`CoreError::InMember`] wrapping a
/// member's shape mismatch, NaN/+inf ([`CoreError::NonFinite`]) or all −inf row
/// ([`CoreError::NoMass`]); [`CoreError::ShapeMismatch`] for a mask of another length;
/// [`CoreError::InvalidParameter`] for a bad temperature or α.
///
/// # Examples
/// ```
/// use infometer_core::{Ensemble, Rows};
/// let inf = f32::NEG_INFINITY;
/// // two confident members that disagree: the predictive is uniform over 2, all epistemic
/// let (a, b) = ([0.0f32, inf], [inf, 0.0f32]);
/// let m = Ensemble::new(vec![Rows::new(&a, 2).unwrap(), Rows::new(&b, 2).unwrap()])
///     .unwrap().run().unwrap();
/// assert!((m.mutual_information[0] - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(m.aleatoric[0], 0.0);
/// assert_eq!(m.epkl[0], f64::INFINITY);
/// ```
///
/// # References
/// Houlsby, Huszár, Ghahramani, Lengyel, "Bayesian active learning for classification and
/// preference learning", arXiv:1112.5745, 2011 (BALD); Depeweg et al., "Decomposition of
/// uncertainty in Bayesian deep learning", ICML 2018; Malinin & Gales, "Uncertainty estimation
/// in autoregressive structured prediction", ICLR 2021 (EPKL, RMI); Fadeeva et al.,
/// "LM-Polygraph", EMNLP 2023 (logit-only estimators).
#[derive(Debug, Clone)]
pub struct Ensemble<'a, T> {
    members: Vec<Rows<'a, T>>,
    mask: Option<&'a [bool]>,
    temperature: f64,
    alpha: f64,
}

/// Per-token results of [`Ensemble::run`], in nats, NaN at masked tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleMeasures {
    /// Members M.
    pub members: usize,
    /// Vocabulary size V.
    pub vocab: usize,
    /// The Rényi order α used.
    pub renyi_alpha: f64,
    /// Whether each token is scored (the mask).
    pub valid: Vec<bool>,
    /// H(p̄), the total uncertainty.
    pub total: Vec<f64>,
    /// E_m H(p_m), the aleatoric part.
    pub aleatoric: Vec<f64>,
    /// E_m KL(p_m ‖ p̄), the epistemic part (BALD).
    pub mutual_information: Vec<f64>,
    /// E_m KL(p̄ ‖ p_m), the reverse mutual information.
    pub rmi: Vec<f64>,
    /// Expected pairwise KL, E_m E_m' KL(p_m ‖ p_m').
    pub epkl: Vec<f64>,
    /// max_i p̄_i.
    pub max_prob: Vec<f64>,
    /// D_α(p̄ ‖ uniform).
    pub renyi_to_uniform: Vec<f64>,
    /// Fisher–Rao distance from p̄ to uniform, in [0, π].
    pub fisher_rao_to_uniform: Vec<f64>,
}

/// Means over the scored tokens of [`EnsembleMeasures`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnsembleSummary {
    /// Scored tokens.
    pub n_tokens: usize,
    /// Mean H(p̄).
    pub total: f64,
    /// Mean E_m H(p_m).
    pub aleatoric: f64,
    /// Mean mutual information.
    pub mutual_information: f64,
    /// Mean RMI (+inf if any token's is).
    pub rmi: f64,
    /// Mean EPKL (+inf if any token's is).
    pub epkl: f64,
    /// Tokens whose EPKL is +inf.
    pub infinite_epkl: usize,
    /// Mean max_i p̄_i.
    pub max_prob: f64,
    /// Mean D_α(p̄ ‖ uniform).
    pub renyi_to_uniform: f64,
    /// Mean Fisher–Rao distance to uniform.
    pub fisher_rao_to_uniform: f64,
}

/// Jackknife over members of the mean epistemic measures (M ≥ 3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemberJackknife {
    /// Standard error of the mean mutual information.
    pub mi_se: f64,
    /// M θ̂ − (M − 1) θ̄₍·₎: the mean mutual information with its O(1/M) bias removed.
    pub mi_bias_corrected: f64,
    /// Standard error of the mean total uncertainty.
    pub total_se: f64,
    /// Standard error of the mean EPKL (NaN when some EPKL is infinite).
    pub epkl_se: f64,
}

impl<'a, T: Element> Ensemble<'a, T> {
    /// An ensemble of members with the same rows and vocabulary; T = 1, α = 0.5, no mask.
    ///
    /// # Errors
    /// [`CoreError::TooFewUnits`] for fewer than 2 members; [`CoreError::InMember`] with a
    /// [`CoreError::ShapeMismatch`] for a member whose shape differs from the first's.
    pub fn new(members: Vec<Rows<'a, T>>) -> Result<Self> {
        if members.len() < 2 {
            return Err(CoreError::TooFewUnits {
                what: "ensemble members for a decomposition",
                got: members.len(),
                needed: 2,
            });
        }
        let (n, v) = (members[0].n_rows(), members[0].vocab());
        for (m, r) in members.iter().enumerate().skip(1) {
            let bad = if r.vocab() != v {
                Some(("vocabulary", v, r.vocab()))
            } else if r.n_rows() != n {
                Some(("rows", n, r.n_rows()))
            } else {
                None
            };
            if let Some((what, expected, got)) = bad {
                return Err(CoreError::InMember {
                    member: m,
                    error: Box::new(CoreError::ShapeMismatch {
                        what,
                        expected,
                        got,
                    }),
                });
            }
        }
        Ok(Ensemble {
            members,
            mask: None,
            temperature: 1.0,
            alpha: 0.5,
        })
    }

    /// A mask, one entry per row: false leaves the token out (NaN in every output).
    pub fn mask(mut self, mask: &'a [bool]) -> Self {
        self.mask = Some(mask);
        self
    }

    /// Softmax temperature applied to every member (default 1).
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = t;
        self
    }

    /// Order α of the Rényi divergence to uniform (default 0.5).
    pub fn renyi_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Runs the per-token pass over every member (rows in parallel).
    ///
    /// # Errors
    /// See [`Ensemble`].
    pub fn run(&self) -> Result<EnsembleMeasures> {
        run_subset(self, None)
    }

    /// Jackknife over members: the means recomputed M times, each without one member.
    ///
    /// # Formula
    /// ```text
    /// SE = sqrt( (M − 1)/M · Σ_j (θ₍j₎ − θ̄₍·₎)² ),   bias-corrected θ = M θ̂ − (M − 1) θ̄₍·₎
    /// ```
    ///
    /// # Errors
    /// [`CoreError::TooFewUnits`] for fewer than 3 members; as [`Ensemble::run`].
    ///
    /// # References
    /// Efron & Stein, "The jackknife estimate of variance", Ann. Stat. 9(3), 1981.
    pub fn jackknife(&self) -> Result<MemberJackknife> {
        let m = self.members.len();
        if m < 3 {
            return Err(CoreError::TooFewUnits {
                what: "ensemble members for a jackknife",
                got: m,
                needed: 3,
            });
        }
        let full = self.run()?.summary()?;
        let loo = (0..m)
            .map(|j| run_subset(self, Some(j))?.summary())
            .collect::<Result<Vec<_>>>()?;
        Ok(MemberJackknife::from_summaries(&full, &loo))
    }

    /// The pass without member `j`: one leave-one-out step of [`Ensemble::jackknife`], for
    /// callers that stream rows in chunks and combine the means themselves.
    ///
    /// # Errors
    /// [`CoreError::TooFewUnits`] when fewer than 2 members would remain;
    /// [`CoreError::InvalidParameter`] for `j` ≥ M; as [`Ensemble::run`].
    pub fn run_without(&self, j: usize) -> Result<EnsembleMeasures> {
        let m = self.members.len();
        if m < 3 {
            return Err(CoreError::TooFewUnits {
                what: "ensemble members for a jackknife",
                got: m,
                needed: 3,
            });
        }
        if j >= m {
            return Err(CoreError::InvalidParameter {
                name: "member",
                value: j as f64,
                reason: "must be below the number of members",
            });
        }
        run_subset(self, Some(j))
    }
}

impl MemberJackknife {
    /// The jackknife from the full ensemble's means and the M leave-one-out means.
    ///
    /// # Formula
    /// As [`Ensemble::jackknife`].
    ///
    /// # Examples
    /// ```
    /// use infometer_core::{EnsembleSummary, MemberJackknife};
    /// let s = |mi: f64| EnsembleSummary { n_tokens: 1, total: 1.0, aleatoric: 1.0 - mi,
    ///     mutual_information: mi, rmi: mi, epkl: 2.0 * mi, infinite_epkl: 0, max_prob: 0.5,
    ///     renyi_to_uniform: 0.1, fisher_rao_to_uniform: 0.1 };
    /// let j = MemberJackknife::from_summaries(&s(0.3), &[s(0.2), s(0.2), s(0.2)]);
    /// assert!((j.mi_bias_corrected - 0.5).abs() < 1e-12); // 3·0.3 − 2·0.2
    /// assert!(j.mi_se < 1e-12); // every leave-one-out mean is the same
    /// ```
    pub fn from_summaries(full: &EnsembleSummary, loo: &[EnsembleSummary]) -> MemberJackknife {
        let mf = loo.len() as f64;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / mf;
        let se = |v: &[f64]| {
            let b = mean(v);
            ((mf - 1.0) / mf * v.iter().map(|x| (x - b) * (x - b)).sum::<f64>()).sqrt()
        };
        let mi: Vec<f64> = loo.iter().map(|s| s.mutual_information).collect();
        let total: Vec<f64> = loo.iter().map(|s| s.total).collect();
        let epkl: Vec<f64> = loo.iter().map(|s| s.epkl).collect();
        MemberJackknife {
            mi_se: se(&mi),
            mi_bias_corrected: mf * full.mutual_information - (mf - 1.0) * mean(&mi),
            total_se: se(&total),
            epkl_se: if epkl.iter().all(|x| x.is_finite()) {
                se(&epkl)
            } else {
                f64::NAN
            },
        }
    }
}

impl EnsembleMeasures {
    /// Means over the scored tokens.
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when every token is masked.
    pub fn summary(&self) -> Result<EnsembleSummary> {
        let mut acc = EnsembleAccumulator::default();
        acc.add(self);
        acc.summary()
    }

    /// The eight per-token columns, in the order of [`EnsembleMeasures::COLUMNS`].
    pub fn columns(&self) -> [&[f64]; 8] {
        [
            &self.total,
            &self.aleatoric,
            &self.mutual_information,
            &self.rmi,
            &self.epkl,
            &self.max_prob,
            &self.renyi_to_uniform,
            &self.fisher_rao_to_uniform,
        ]
    }

    /// The names of [`EnsembleMeasures::columns`], as reports and files call them.
    pub const COLUMNS: [&'static str; 8] = [
        "total",
        "aleatoric",
        "mutual_information",
        "rmi",
        "epkl",
        "max_prob",
        "renyi_to_uniform",
        "fisher_rao_to_uniform",
    ];
}

/// Running sums of [`EnsembleMeasures`] over chunks of rows, for the means of a pass
/// streamed in pieces; merging two accumulators equals one pass over both.
///
/// # Examples
/// ```
/// use infometer_core::{Ensemble, EnsembleAccumulator, Rows};
/// let (a, b) = ([0.0f64, 1.0, 2.0, 0.5], [1.0f64, 0.0, 0.0, 0.0]);
/// let run = |r: std::ops::Range<usize>| {
///     Ensemble::new(vec![Rows::new(&a[r.clone()], 2).unwrap(), Rows::new(&b[r], 2).unwrap()])
///         .unwrap().run().unwrap()
/// };
/// let mut acc = EnsembleAccumulator::default();
/// acc.add(&run(0..2));
/// acc.add(&run(2..4));
/// let whole = run(0..4).summary().unwrap();
/// assert!((acc.summary().unwrap().mutual_information - whole.mutual_information).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnsembleAccumulator {
    n: usize,
    sums: [f64; 8],
    infinite_epkl: usize,
}

impl EnsembleAccumulator {
    /// Adds the scored tokens of one pass (or chunk).
    pub fn add(&mut self, m: &EnsembleMeasures) {
        let cols = m.columns();
        for i in (0..m.valid.len()).filter(|&i| m.valid[i]) {
            self.n += 1;
            for (s, c) in self.sums.iter_mut().zip(cols) {
                *s += c[i];
            }
            self.infinite_epkl += usize::from(m.epkl[i].is_infinite());
        }
    }

    /// Adds another accumulator's sums.
    pub fn merge(&mut self, other: &EnsembleAccumulator) {
        self.n += other.n;
        for (s, o) in self.sums.iter_mut().zip(other.sums) {
            *s += o;
        }
        self.infinite_epkl += other.infinite_epkl;
    }

    /// Means over every token added.
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when no token was added.
    pub fn summary(&self) -> Result<EnsembleSummary> {
        if self.n == 0 {
            return Err(CoreError::NoValidTokens);
        }
        let m = |k: usize| self.sums[k] / self.n as f64;
        Ok(EnsembleSummary {
            n_tokens: self.n,
            total: m(0),
            aleatoric: m(1),
            mutual_information: m(2),
            rmi: m(3),
            epkl: m(4),
            infinite_epkl: self.infinite_epkl,
            max_prob: m(5),
            renyi_to_uniform: m(6),
            fisher_rao_to_uniform: m(7),
        })
    }
}

/// One token's measures.
#[derive(Debug, Clone, Copy)]
struct Slot([f64; 8]);

fn run_subset<T: Element>(e: &Ensemble<'_, T>, skip: Option<usize>) -> Result<EnsembleMeasures> {
    let inv_t = inverse_temperature(e.temperature)?;
    if !(e.alpha.is_finite() && e.alpha > 0.0) {
        return Err(CoreError::InvalidParameter {
            name: "alpha",
            value: e.alpha,
            reason: "must be finite and positive",
        });
    }
    let members: Vec<(usize, &Rows<'_, T>)> = e
        .members
        .iter()
        .enumerate()
        .filter(|(j, _)| Some(*j) != skip)
        .collect();
    let n = e.members[0].n_rows();
    let v = e.members[0].vocab();
    if let Some(m) = e.mask
        && m.len() != n
    {
        return Err(CoreError::ShapeMismatch {
            what: "mask",
            expected: n,
            got: m.len(),
        });
    }
    let mm = members.len();
    let ln_m = (mm as f64).ln();
    let (alpha, ln_v) = (e.alpha, (v as f64).ln());
    let mut out = vec![Slot([f64::NAN; 8]); n];
    out.par_iter_mut()
        .enumerate()
        .with_min_len(4)
        .try_for_each_init(
            || (Vec::new(), vec![0.0f64; mm], vec![(0.0, 0.0); mm]),
            |(scratch, lp, stats), (i, slot)| -> Result<()> {
                if e.mask.is_some_and(|m| !m[i]) {
                    return Ok(());
                }
                for (k, (j, rows)) in members.iter().enumerate() {
                    let x = T::as_lanes(rows.row(i), scratch);
                    let st = kernel::single(x, inv_t).map_err(|err| CoreError::InMember {
                        member: *j,
                        error: Box::new(match err {
                            kernel::RowError::NonFinite(c, value) => CoreError::NonFinite {
                                what: "logits",
                                index: i * v + c,
                                value,
                            },
                            kernel::RowError::NoMass => CoreError::NoMass { row: i },
                        }),
                    })?;
                    stats[k] = (st.max_raw, st.ln_sum);
                }
                let mut acc = [0.0f64; 8];
                let (mut total, mut ent, mut mi, mut rmi, mut epkl) = (0.0, 0.0, 0.0, 0.0, 0.0);
                let (mut max_lp, mut sum_sqrt) = (f64::NEG_INFINITY, 0.0);
                // ln Σ p̄_i^α as a running log-sum-exp relative to the largest α ln p̄_i, so
                // that neither a large α (underflow to ln 0) nor a small one overflows
                let (mut top_alpha, mut rel_alpha) = (f64::NEG_INFINITY, 0.0f64);
                for c in 0..v {
                    let mut mx = f64::NEG_INFINITY;
                    let mut same = true;
                    for (k, (_, rows)) in members.iter().enumerate() {
                        let (max_raw, ln_sum) = stats[k];
                        lp[k] = (rows.row(i)[c].to_f64() - max_raw) * inv_t - ln_sum;
                        mx = mx.max(lp[k]);
                        same &= lp[k] == lp[0];
                    }
                    // ln p̄: exactly the members' value when they all agree
                    let lbar = if same {
                        lp[0]
                    } else {
                        mx + lp.iter().map(|&l| (l - mx).exp()).sum::<f64>().ln() - ln_m
                    };
                    if lbar == f64::NEG_INFINITY {
                        continue; // no member gives this outcome mass
                    }
                    let pbar = lbar.exp();
                    total -= pbar * lbar;
                    max_lp = max_lp.max(lbar);
                    let a = alpha * lbar;
                    if a > top_alpha {
                        rel_alpha = rel_alpha * (top_alpha - a).exp() + 1.0;
                        top_alpha = a;
                    } else {
                        rel_alpha += (a - top_alpha).exp();
                    }
                    sum_sqrt += (0.5 * lbar).exp();
                    for &l in lp.iter() {
                        if l == f64::NEG_INFINITY {
                            rmi = f64::INFINITY;
                            epkl = f64::INFINITY;
                            continue;
                        }
                        let p = if same { pbar } else { l.exp() };
                        ent -= p * l;
                        mi += p * (l - lbar);
                        rmi += pbar * (lbar - l);
                        epkl += (p - pbar) * l;
                    }
                }
                let mf = mm as f64;
                acc[0] = total;
                acc[1] = ent / mf;
                acc[2] = (mi / mf).max(0.0);
                acc[3] = (rmi / mf).max(0.0);
                acc[4] = (epkl / mf).max(0.0);
                acc[5] = max_lp.exp();
                acc[6] = if alpha == 1.0 {
                    ln_v - total
                } else {
                    ln_v - (top_alpha + rel_alpha.ln()) / (1.0 - alpha)
                };
                acc[7] = 2.0 * (sum_sqrt / (v as f64).sqrt()).min(1.0).acos();
                *slot = Slot(acc);
                Ok(())
            },
        )?;
    let col = |k: usize| out.iter().map(|s| s.0[k]).collect::<Vec<f64>>();
    Ok(EnsembleMeasures {
        members: mm,
        vocab: v,
        renyi_alpha: alpha,
        valid: (0..n).map(|i| e.mask.is_none_or(|m| m[i])).collect(),
        total: col(0),
        aleatoric: col(1),
        mutual_information: col(2),
        rmi: col(3),
        epkl: col(4),
        max_prob: col(5),
        renyi_to_uniform: col(6),
        fisher_rao_to_uniform: col(7),
    })
}

#[cfg(test)]
mod tests;
