//! Paired comparison of two models on the same labelled tokens: per-document sufficient statistics, ratio-of-sums metrics, and their uncertainty (document bootstrap, delta method, sign-flip test).
//!
//! Tokens of one document are correlated, so every interval and test here resamples or
//! flips whole *units* (documents by default). A metric is a ratio of sums over units, so
//! document order never matters and swapping the two models flips every sign.

mod harness;
mod resample;

pub use harness::{bits_per_byte_docs, mean_stderr, weighted_perplexity};
pub use resample::{
    CiMethod, CompareOptions, CompareWarning, Comparison, DeltaMethod, MetricCi, Resampling,
    SignFlip, compare,
};

use crate::{CoreError, Result};

/// The largest number of bootstrap replicates or sign-flip draws [`compare`] accepts.
pub const MAX_RESAMPLES: usize = 100_000;

/// The most calibration bins [`PairedUnits::documents`] accepts: each document keeps 6
/// numbers per bin, and finer bins than this leave almost every bin empty.
pub const MAX_BINS: usize = 1000;

/// One scored token under both models: what [`PairedUnits::add_token`] needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenPair {
    /// −ln p_A(label), nats.
    pub nll_a: f64,
    /// −ln p_B(label), nats.
    pub nll_b: f64,
    /// Brier score of model A at this token.
    pub brier_a: f64,
    /// Brier score of model B at this token.
    pub brier_b: f64,
    /// Top-1 probability (confidence) of model A.
    pub conf_a: f64,
    /// Top-1 probability (confidence) of model B.
    pub conf_b: f64,
    /// Whether A's top-1 class is the label.
    pub correct_a: bool,
    /// Whether B's top-1 class is the label.
    pub correct_b: bool,
}

/// What a unit of resampling is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// Documents (sequences): the honest unit when tokens within a document are correlated.
    Documents,
    /// Single tokens, in text order: for one long text (with a moving-block bootstrap) or,
    /// with i.i.d. resampling, a naive baseline that ignores within-document correlation.
    Tokens,
}

// column layout of one unit's row
const TOKENS: usize = 0;
const NLL_A: usize = 1;
const NLL_B: usize = 2;
const SQ_DIFF: usize = 3;
const BRIER_A: usize = 4;
const BRIER_B: usize = 5;
const BYTES: usize = 6;
const BINS0: usize = 7;

/// Additive sufficient statistics of each unit (document or token) for a paired comparison.
///
/// Each unit is one row: token count, Σ NLL under A and B, Σ (NLL_A − NLL_B)², Σ Brier of
/// each model, bytes, and, with calibration bins, per bin and model the count, Σ confidence
/// and Σ correct. Every metric of [`CompareMetric`] is a function of the column sums, so a
/// resample is a sum of rows.
///
/// # Errors
/// [`PairedUnits::documents`] refuses 0 bins ([`CoreError::InvalidParameter`]);
/// [`PairedUnits::add_token`] refuses a NaN, infinite or negative NLL or Brier, and a
/// confidence outside [0, 1] ([`CoreError::NonFinite`], [`CoreError::OutOfDomain`],
/// [`CoreError::InvalidProbability`]), with the token's index.
///
/// # Examples
/// ```
/// use infometer_core::{PairedUnits, TokenPair};
/// let mut u = PairedUnits::documents(10).unwrap();
/// let t = TokenPair { nll_a: 1.0, nll_b: 0.5, brier_a: 0.2, brier_b: 0.1,
///                     conf_a: 0.6, conf_b: 0.7, correct_a: true, correct_b: true };
/// u.start_unit();
/// u.add_token(&t).unwrap();
/// u.add_token(&t).unwrap();
/// u.start_unit();
/// u.add_token(&t).unwrap();
/// assert_eq!((u.n_units(), u.n_tokens()), (2, 3));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PairedUnits {
    kind: UnitKind,
    bins: usize,
    width: usize,
    data: Vec<f64>,
    open: bool,
    has_bytes: bool,
    seen: u64,
}

impl PairedUnits {
    /// Units that are documents, with `bins` equal-width calibration bins (ECE).
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] for 0 bins or more than [`MAX_BINS`].
    pub fn documents(bins: usize) -> Result<Self> {
        if bins == 0 || bins > MAX_BINS {
            return Err(CoreError::InvalidParameter {
                name: "bins",
                value: bins as f64,
                reason: "must lie in 1..=1000",
            });
        }
        Ok(Self::with(UnitKind::Documents, bins))
    }

    /// Units that are single tokens, in text order. No calibration bins are kept (a row per
    /// token would cost 6 · bins numbers), so ΔECE is not available with token units.
    pub fn tokens() -> Self {
        Self::with(UnitKind::Tokens, 0)
    }

    fn with(kind: UnitKind, bins: usize) -> Self {
        PairedUnits {
            kind,
            bins,
            width: BINS0 + 6 * bins,
            data: Vec::new(),
            open: false,
            has_bytes: false,
            seen: 0,
        }
    }

    /// Bytes of one unit's row of sums with `bins` calibration bins: a caller can check the
    /// memory of D documents before any work.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(infometer_core::PairedUnits::row_bytes(15), 8 * (7 + 6 * 15));
    /// ```
    pub fn row_bytes(bins: usize) -> usize {
        8 * (BINS0 + 6 * bins)
    }

    /// What the units are.
    pub fn kind(&self) -> UnitKind {
        self.kind
    }

    /// Calibration bins per model (0 for token units).
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// Starts a new document; later tokens go to it. (Token units start one per token.)
    pub fn start_unit(&mut self) {
        self.data.extend(std::iter::repeat_n(0.0, self.width));
        self.open = true;
    }

    /// Adds one valid token to the current document (or as a new unit, for token units).
    ///
    /// # Errors
    /// See [`PairedUnits`]; nothing is added then.
    pub fn add_token(&mut self, t: &TokenPair) -> Result<()> {
        let index = self.seen as usize;
        for (what, v) in [
            ("NLL of model A", t.nll_a),
            ("NLL of model B", t.nll_b),
            ("Brier score of model A", t.brier_a),
            ("Brier score of model B", t.brier_b),
        ] {
            if !v.is_finite() {
                return Err(CoreError::NonFinite {
                    what,
                    index,
                    value: v,
                });
            }
            if v < 0.0 {
                return Err(CoreError::OutOfDomain {
                    what,
                    index,
                    value: v,
                    domain: "≥ 0",
                });
            }
        }
        for c in [t.conf_a, t.conf_b] {
            if !(0.0..=1.0).contains(&c) {
                return Err(CoreError::InvalidProbability { index, value: c });
            }
        }
        if self.kind == UnitKind::Tokens || !self.open {
            self.start_unit();
        }
        self.seen += 1;
        let w = self.width;
        let bins = self.bins;
        let n = self.data.len();
        let row = &mut self.data[n - w..];
        row[TOKENS] += 1.0;
        row[NLL_A] += t.nll_a;
        row[NLL_B] += t.nll_b;
        row[SQ_DIFF] += (t.nll_a - t.nll_b) * (t.nll_a - t.nll_b);
        row[BRIER_A] += t.brier_a;
        row[BRIER_B] += t.brier_b;
        if bins > 0 {
            for (m, (c, ok)) in [(t.conf_a, t.correct_a), (t.conf_b, t.correct_b)]
                .into_iter()
                .enumerate()
            {
                let b = ((c * bins as f64).ceil() as usize).clamp(1, bins) - 1;
                let at = BINS0 + m * 3 * bins + 3 * b;
                row[at] += 1.0;
                row[at + 1] += c;
                row[at + 2] += f64::from(u8::from(ok));
            }
        }
        Ok(())
    }

    /// Sets the UTF-8 byte count of the current document, for bits per byte. Either every
    /// document gets one or none does.
    ///
    /// # Errors
    /// [`CoreError::Empty`] before any [`PairedUnits::start_unit`].
    pub fn set_bytes(&mut self, bytes: u64) -> Result<()> {
        if !self.open {
            return Err(CoreError::Empty { what: "documents" });
        }
        let n = self.data.len();
        self.data[n - self.width + BYTES] = bytes as f64;
        self.has_bytes = true;
        Ok(())
    }

    /// Units that hold at least one token.
    pub fn n_units(&self) -> usize {
        self.rows().filter(|r| r[TOKENS] > 0.0).count()
    }

    /// Tokens over all units.
    pub fn n_tokens(&self) -> u64 {
        self.seen
    }

    /// Whether byte counts were given.
    pub fn has_bytes(&self) -> bool {
        self.has_bytes
    }

    fn rows(&self) -> std::slice::ChunksExact<'_, f64> {
        self.data.chunks_exact(self.width)
    }

    /// The rows of the units that hold tokens, flat (`width` numbers each).
    fn scored(&self) -> Vec<f64> {
        self.rows()
            .filter(|r| r[TOKENS] > 0.0)
            .flatten()
            .copied()
            .collect()
    }

    /// Σ over units of each unit's (NLL_A − NLL_B), its token count: the sign-flip inputs.
    fn differences(rows: &[f64], width: usize) -> Vec<(f64, f64)> {
        rows.chunks_exact(width)
            .map(|r| (r[NLL_A] - r[NLL_B], r[TOKENS]))
            .collect()
    }
}

/// A metric of the comparison, A relative to B; each is a function of the sums over units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareMetric {
    /// Mean NLL of A minus mean NLL of B, nats per token (negative: A is better).
    DeltaNll,
    /// Perplexity of A ÷ perplexity of B = exp(ΔNLL); its interval is exp of ΔNLL's.
    PerplexityRatio,
    /// Bits per byte of A minus that of B (with byte counts).
    DeltaBitsPerByte,
    /// ECE of A minus ECE of B (with calibration bins).
    DeltaEce,
    /// Mean Brier score of A minus that of B.
    DeltaBrier,
}

impl CompareMetric {
    /// Every metric, in report order.
    pub const ALL: [CompareMetric; 5] = [
        CompareMetric::DeltaNll,
        CompareMetric::PerplexityRatio,
        CompareMetric::DeltaBitsPerByte,
        CompareMetric::DeltaEce,
        CompareMetric::DeltaBrier,
    ];

    /// The metric's name in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            CompareMetric::DeltaNll => "delta_nll",
            CompareMetric::PerplexityRatio => "perplexity_ratio",
            CompareMetric::DeltaBitsPerByte => "delta_bits_per_byte",
            CompareMetric::DeltaEce => "delta_ece",
            CompareMetric::DeltaBrier => "delta_brier",
        }
    }

    /// Whether the units carry what the metric needs.
    fn available(self, u: &PairedUnits) -> bool {
        match self {
            CompareMetric::DeltaBitsPerByte => u.has_bytes,
            CompareMetric::DeltaEce => u.bins > 0,
            _ => true,
        }
    }

    /// The metric from column sums (`bins` calibration bins per model).
    ///
    /// # Formula
    /// ```text
    /// ΔNLL = (Σ a − Σ b) / Σ n                  ratio = exp(ΔNLL)
    /// ΔBPB = (Σ a − Σ b) / (ln 2 · Σ bytes)     ΔBrier = (Σ brier_a − Σ brier_b) / Σ n
    /// ΔECE = Σ_bins |Σ correct_A − Σ conf_A| / Σ n − (the same for B)
    /// ```
    fn value(self, s: &[f64], bins: usize) -> f64 {
        let n = s[TOKENS];
        match self {
            CompareMetric::DeltaNll => (s[NLL_A] - s[NLL_B]) / n,
            CompareMetric::PerplexityRatio => ((s[NLL_A] - s[NLL_B]) / n).exp(),
            CompareMetric::DeltaBitsPerByte => {
                (s[NLL_A] - s[NLL_B]) / std::f64::consts::LN_2 / s[BYTES]
            }
            CompareMetric::DeltaEce => {
                let ece = |m: usize| -> f64 {
                    (0..bins)
                        .map(|b| {
                            let at = BINS0 + m * 3 * bins + 3 * b;
                            (s[at + 2] - s[at + 1]).abs()
                        })
                        .sum::<f64>()
                        / n
                };
                ece(0) - ece(1)
            }
            CompareMetric::DeltaBrier => (s[BRIER_A] - s[BRIER_B]) / n,
        }
    }
}

#[cfg(test)]
mod tests;
