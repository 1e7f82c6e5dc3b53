//! Physiological coupling in the SFI sleep-apnea recording (heart rate, chest volume, blood O2 at 2 Hz): MI, transfer entropy both ways with permutation significance, and CMI given blood oxygen.

use infometer_continuous::{
    KsgConfig, Samples, TeEmbedding, TeEstimator, ksg_cmi, ksg_mi, transfer_entropy_test,
};
use serde::Serialize;

use crate::{HealthError, Result};

/// The recording, embedded at build time: 34 000 rows of (heart rate, chest volume, blood O2).
/// Santa Fe Institute 1991 time-series contest, data set B (Rigney, Goldberger et al. 1993),
/// as distributed with JIDT; see data/PROVENANCE.txt.
pub const SFI_DATA: &str = include_str!("../data/jidt-SFI-heartRate_breathVol_bloodOx.txt");

/// The three series.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Heart rate.
    pub heart: Vec<f64>,
    /// Chest volume (breathing).
    pub breath: Vec<f64>,
    /// Blood oxygen concentration.
    pub oxygen: Vec<f64>,
}

/// Parses the recording (whitespace-separated, `%` comments).
///
/// # Errors
/// Malformed lines.
pub fn parse(text: &str) -> Result<Recording> {
    let mut r = Recording {
        heart: vec![],
        breath: vec![],
        oxygen: vec![],
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('%') {
            continue;
        }
        let v: Vec<f64> = line
            .split_whitespace()
            .map(|t| t.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| HealthError::Invalid(format!("line {}: not numeric", i + 1)))?;
        if v.len() != 3 {
            return Err(HealthError::Invalid(format!(
                "line {}: expected 3 columns",
                i + 1
            )));
        }
        r.heart.push(v[0]);
        r.breath.push(v[1]);
        r.oxygen.push(v[2]);
    }
    Ok(r)
}

/// Coupling measures on one stretch of the recording (nats; p-values from surrogates).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coupling {
    /// Which rows.
    pub label: String,
    /// Samples used.
    pub n_samples: usize,
    /// I(heart; breath), KSG1.
    pub mi: f64,
    /// I(heart; breath | O2), KSG1.
    pub cmi_given_o2: f64,
    /// TE breath → heart.
    pub te_breath_to_heart: f64,
    /// Its p-value.
    pub p_breath_to_heart: f64,
    /// TE heart → breath.
    pub te_heart_to_breath: f64,
    /// Its p-value.
    pub p_heart_to_breath: f64,
    /// Surrogates per test.
    pub permutations: usize,
}

/// MI, CMI and TE (k = 4, history 1, lag 1, JIDT defaults) on rows `range` of the recording.
///
/// # Errors
/// Estimator errors (too few rows, constant columns).
pub fn coupling(
    rec: &Recording,
    range: std::ops::Range<usize>,
    label: &str,
    permutations: usize,
    seed: u64,
) -> Result<Coupling> {
    let h = &rec.heart[range.clone()];
    let b = &rec.breath[range.clone()];
    let o = &rec.oxygen[range];
    let cfg = KsgConfig {
        seed,
        ..Default::default()
    };
    let col = |v: &[f64]| Samples::from_column(v);
    let mi = ksg_mi(&col(h)?, &col(b)?, &cfg)?;
    let cmi = ksg_cmi(&col(h)?, &col(b)?, &col(o)?, &cfg)?;
    let est = TeEstimator::Ksg(cfg);
    let e = TeEmbedding::default();
    let bh = transfer_entropy_test(b, h, &e, &est, permutations, seed)?;
    let hb = transfer_entropy_test(h, b, &e, &est, permutations, seed)?;
    Ok(Coupling {
        label: label.to_string(),
        n_samples: h.len(),
        mi,
        cmi_given_o2: cmi,
        te_breath_to_heart: bh.observed,
        p_breath_to_heart: bh.p_value,
        te_heart_to_breath: hb.observed,
        p_heart_to_breath: hb.p_value,
        permutations,
    })
}

impl std::fmt::Display for Coupling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (N = {}): I(H;B) {:.4}, I(H;B|O2) {:.4}, TE breath→heart {:.4} (p = {:.3}), heart→breath {:.4} (p = {:.3}) nats",
            self.label,
            self.n_samples,
            self.mi,
            self.cmi_given_o2,
            self.te_breath_to_heart,
            self.p_breath_to_heart,
            self.te_heart_to_breath,
            self.p_heart_to_breath
        )
    }
}
