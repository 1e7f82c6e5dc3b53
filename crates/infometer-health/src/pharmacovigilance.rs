//! Pharmacovigilance signals from drug × event report counts: PRR, ROR with its confidence interval, the BCPNN information component with its lower credibility bound, and the table's mutual information.

use infometer_core::{Base, JointTable, TableEstimator};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::{HealthError, Result};

/// Report counts for one drug–event pair (a 2×2 contingency table).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Counts {
    /// Reports with the drug and the event.
    pub a: f64,
    /// Reports with the drug, without the event.
    pub b: f64,
    /// Reports without the drug, with the event.
    pub c: f64,
    /// Reports with neither.
    pub d: f64,
}

/// Disproportionality measures of one pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// Pair label.
    pub pair: String,
    /// The counts.
    pub counts: Counts,
    /// Proportional reporting ratio.
    pub prr: f64,
    /// Reporting odds ratio.
    pub ror: f64,
    /// Lower bound of the ROR's 95% CI.
    pub ror_lower: f64,
    /// Upper bound of the ROR's 95% CI.
    pub ror_upper: f64,
    /// Information component, bits.
    pub ic: f64,
    /// Lower 2.5% credibility bound of the IC, bits.
    pub ic025: f64,
    /// Mutual information of the 2×2 table, bits.
    pub mi_bits: f64,
    /// IC025 > 0 (the BCPNN signal criterion).
    pub signal: bool,
}

/// Computes the measures.
///
/// # Formula
/// ```text
/// PRR = [a/(a+b)] / [c/(c+d)]            ROR = ad/(bc),  95% CI: exp(ln ROR ± 1.96 √(1/a+1/b+1/c+1/d))
/// IC = log₂((a + ½)/(E + ½)),  E = (a+b)(a+c)/N
/// IC₀₂₅ ≈ IC − 3.3 (a + ½)^{−½} − 2 (a + ½)^{−3/2}
/// ```
///
/// # Errors
/// A negative or non-finite count, or a zero cell where PRR/ROR need it.
///
/// # References
/// Evans, Waller, Davis, Pharmacoepidemiol. Drug Saf. 10, 2001 (PRR); van Puijenbroek et al.,
/// ibid. 11, 2002 (ROR); Bate et al., Eur. J. Clin. Pharmacol. 54, 1998 and Norén et al.,
/// Stat. Med. 25, 2006 (IC and its credibility bound).
pub fn signal(pair: &str, k: Counts) -> Result<Signal> {
    let cells = [k.a, k.b, k.c, k.d];
    if cells.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(HealthError::Invalid(format!(
            "{pair}: counts must be finite and non-negative"
        )));
    }
    if k.b == 0.0 || k.c == 0.0 || k.a + k.b == 0.0 || k.c + k.d == 0.0 || k.a == 0.0 || k.d == 0.0
    {
        return Err(HealthError::Invalid(format!(
            "{pair}: every cell must be positive for PRR and ROR"
        )));
    }
    let n = k.a + k.b + k.c + k.d;
    let prr = (k.a / (k.a + k.b)) / (k.c / (k.c + k.d));
    let ror = (k.a * k.d) / (k.b * k.c);
    let se = (1.0 / k.a + 1.0 / k.b + 1.0 / k.c + 1.0 / k.d).sqrt();
    let e = (k.a + k.b) * (k.a + k.c) / n;
    let ic = ((k.a + 0.5) / (e + 0.5)).log2();
    let ic025 = ic - 3.3 * (k.a + 0.5).powf(-0.5) - 2.0 * (k.a + 0.5).powf(-1.5);
    let mi = JointTable::from_counts(2, 2, &cells)?
        .measures(TableEstimator::PlugIn)?
        .mutual_information;
    Ok(Signal {
        pair: pair.to_string(),
        counts: k,
        prr,
        ror,
        ror_lower: (ror.ln() - 1.96 * se).exp(),
        ror_upper: (ror.ln() + 1.96 * se).exp(),
        ic,
        ic025,
        mi_bits: Base::TWO.from_nats(mi),
        signal: ic025 > 0.0,
    })
}

/// A seeded set of drug–event pairs from a spontaneous-report database of `n` reports:
/// (label, reporting rate of the event with the drug, rate without, share of reports naming the drug).
pub fn synthetic_pairs(n: usize, seed: u64) -> Vec<(String, Counts)> {
    let specs = [
        ("drug A / hepatotoxicity", 0.030, 0.004, 0.02),
        ("drug B / headache", 0.010, 0.010, 0.05),
        ("drug C / QT prolongation", 0.012, 0.006, 0.01),
        ("drug D / rash", 0.020, 0.021, 0.03),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    specs
        .iter()
        .map(|&(label, p_drug, p_other, share)| {
            let (mut a, mut b, mut c, mut d) = (0.0, 0.0, 0.0, 0.0);
            for _ in 0..n {
                let drug = rng.random::<f64>() < share;
                let event = rng.random::<f64>() < if drug { p_drug } else { p_other };
                match (drug, event) {
                    (true, true) => a += 1.0,
                    (true, false) => b += 1.0,
                    (false, true) => c += 1.0,
                    (false, false) => d += 1.0,
                }
            }
            (label.to_string(), Counts { a, b, c, d })
        })
        .collect()
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: PRR {:.3}, ROR {:.2} [{:.2}, {:.2}], IC {:.3} (IC025 {:.3}), MI {:.5} bits{}",
            self.pair,
            self.prr,
            self.ror,
            self.ror_lower,
            self.ror_upper,
            self.ic,
            self.ic025,
            self.mi_bits,
            if self.signal { " → SIGNAL" } else { "" }
        )
    }
}
