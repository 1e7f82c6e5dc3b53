//! Out-of-distribution screening over any per-document score (perplexities from any model): a percentile threshold from in-domain scores, AUROC and FPR at 95% TPR; and a seeded bigram scenario that feeds it.

use std::collections::HashMap;

use infometer_core::PerplexityAccumulator;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::{HealthError, Result};

const BOS: &str = "<s>";
const EOS: &str = "</s>";
const UNK: &str = "<unk>";

/// A word-level bigram language model with interpolated Kneser–Ney smoothing.
///
/// # Formula
/// ```text
/// P(w | v) = max(c(v,w) − D, 0)/c(v) + D·N₁₊(v•)/c(v) · P_cont(w),   P_cont(w) = N₁₊(•w)/N₁₊(••)
/// P_cont is mixed with 1% uniform mass so that no word has probability 0; words seen once in
/// training become <unk>.
/// ```
///
/// # References
/// Chen & Goodman, "An Empirical Study of Smoothing Techniques for Language Modeling", 1998.
#[derive(Debug, Clone)]
pub struct BigramKn {
    vocab: HashMap<String, usize>,
    bigram: HashMap<(usize, usize), f64>,
    ctx_count: Vec<f64>,
    ctx_types: Vec<f64>,
    cont: Vec<f64>,
    discount: f64,
}

fn tokens(doc: &str) -> Vec<String> {
    doc.split_whitespace().map(|w| w.to_lowercase()).collect()
}

impl BigramKn {
    /// Fits the model on documents.
    ///
    /// # Errors
    /// No documents, or no words.
    pub fn fit(docs: &[String], discount: f64) -> Result<Self> {
        let mut freq: HashMap<String, usize> = HashMap::new();
        for d in docs {
            for t in tokens(d) {
                *freq.entry(t).or_default() += 1;
            }
        }
        if freq.is_empty() {
            return Err(HealthError::Invalid("no training words".into()));
        }
        let mut words: Vec<&String> = freq
            .iter()
            .filter(|(_, c)| **c >= 2)
            .map(|(w, _)| w)
            .collect();
        words.sort();
        let mut vocab: HashMap<String, usize> = HashMap::new();
        for w in [BOS, EOS, UNK] {
            let id = vocab.len();
            vocab.insert(w.to_string(), id);
        }
        for w in words {
            let id = vocab.len();
            vocab.entry(w.clone()).or_insert(id);
        }
        let v = vocab.len();
        let mut m = BigramKn {
            vocab,
            bigram: HashMap::new(),
            ctx_count: vec![0.0; v],
            ctx_types: vec![0.0; v],
            cont: vec![0.0; v],
            discount,
        };
        for d in docs {
            let ids = m.ids(d);
            for w in ids.windows(2) {
                let e = m.bigram.entry((w[0], w[1])).or_insert(0.0);
                if *e == 0.0 {
                    m.ctx_types[w[0]] += 1.0;
                    m.cont[w[1]] += 1.0;
                }
                *e += 1.0;
                m.ctx_count[w[0]] += 1.0;
            }
        }
        Ok(m)
    }

    fn ids(&self, doc: &str) -> Vec<usize> {
        let unk = self.vocab[UNK];
        let mut v = vec![self.vocab[BOS]];
        v.extend(
            tokens(doc)
                .iter()
                .map(|t| *self.vocab.get(t).unwrap_or(&unk)),
        );
        v.push(self.vocab[EOS]);
        v
    }

    fn prob(&self, prev: usize, w: usize) -> f64 {
        let n_types: f64 = self.cont.iter().sum();
        let pc = 0.99 * self.cont[w] / n_types + 0.01 / self.vocab.len() as f64;
        let c = self.ctx_count[prev];
        if c == 0.0 {
            return pc;
        }
        let cvw = self.bigram.get(&(prev, w)).copied().unwrap_or(0.0);
        (cvw - self.discount).max(0.0) / c + self.discount * self.ctx_types[prev] / c * pc
    }

    /// Per-token NLL (nats) of a document, end-of-document token included.
    pub fn nll(&self, doc: &str) -> Vec<f64> {
        self.ids(doc)
            .windows(2)
            .map(|w| -self.prob(w[0], w[1]).ln())
            .collect()
    }

    /// The document's perplexity: exp of its mean token NLL.
    ///
    /// # Errors
    /// Never for a fitted model (every document has at least the end token).
    pub fn perplexity(&self, doc: &str) -> Result<f64> {
        let mut acc = PerplexityAccumulator::new();
        acc.extend(&self.nll(doc))?;
        Ok(acc.perplexity()?)
    }
}

/// Seeded synthetic in-domain notes (templates of clinical phrasing).
pub fn clinical_notes(n: usize, seed: u64) -> Vec<String> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let age = [
        "45-year-old",
        "62-year-old",
        "71-year-old",
        "38-year-old",
        "80-year-old",
    ];
    let sex = ["male", "female"];
    let sym = [
        "chest pain",
        "shortness of breath",
        "fever",
        "abdominal pain",
        "headache",
        "cough",
        "dizziness",
        "nausea",
    ];
    let dur = [
        "for two days",
        "since this morning",
        "for one week",
        "for several hours",
    ];
    let vit = [
        "vitals stable",
        "tachycardic to 110",
        "febrile to 38.5",
        "hypotensive at 90/60",
        "oxygen saturation 94% on room air",
    ];
    let exam = [
        "lungs clear",
        "mild tenderness in the right lower quadrant",
        "no focal deficits",
        "regular rate and rhythm",
    ];
    let plan = [
        "obtain troponin and ecg",
        "start iv fluids",
        "chest x-ray ordered",
        "admit for observation",
        "discharge with follow up",
    ];
    (0..n)
        .map(|_| {
            format!(
                "{} {} presents with {} and {} {} . {} . exam : {} . plan : {} .",
                age.choose(&mut r).expect("non-empty"),
                sex.choose(&mut r).expect("non-empty"),
                sym.choose(&mut r).expect("non-empty"),
                sym.choose(&mut r).expect("non-empty"),
                dur.choose(&mut r).expect("non-empty"),
                vit.choose(&mut r).expect("non-empty"),
                exam.choose(&mut r).expect("non-empty"),
                plan.choose(&mut r).expect("non-empty"),
            )
        })
        .collect()
}

/// Seeded out-of-domain text (billing and legal phrasing).
pub fn out_of_domain(n: usize, seed: u64) -> Vec<String> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let a = [
        "the invoice",
        "the claim",
        "the contract",
        "this agreement",
        "the policy holder",
    ];
    let b = [
        "is payable within thirty days",
        "was denied for missing documentation",
        "shall terminate upon written notice",
        "remains subject to arbitration",
    ];
    let c = [
        "pursuant to section 4",
        "as stated in the appendix",
        "without further liability",
        "unless otherwise agreed",
    ];
    (0..n)
        .map(|_| {
            let k = r.random_range(1..3);
            (0..k)
                .map(|_| {
                    format!(
                        "{} {} {} .",
                        a.choose(&mut r).expect("non-empty"),
                        b.choose(&mut r).expect("non-empty"),
                        c.choose(&mut r).expect("non-empty")
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The out-of-distribution screen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OodReport {
    /// The percentile of in-domain calibration perplexities used as threshold.
    pub percentile: f64,
    /// The threshold (perplexity).
    pub threshold: f64,
    /// Median perplexity of held-out in-domain notes.
    pub median_in_domain: f64,
    /// Median perplexity of out-of-domain documents.
    pub median_out_of_domain: f64,
    /// Fraction of held-out in-domain notes flagged (false-positive rate).
    pub false_positive_rate: f64,
    /// Fraction of out-of-domain documents flagged (sensitivity).
    pub sensitivity: f64,
    /// Area under the ROC curve of the score as an OOD detector.
    pub auroc: f64,
    /// Fraction of held-out in-domain documents flagged at the threshold that flags 95% of
    /// the out-of-domain ones.
    pub fpr_at_95_tpr: f64,
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// AUROC of a score (positives should score higher), ties counted half (Mann–Whitney),
/// from ranks in O((n + m) log(n + m)).
///
/// # Formula
/// ```text
/// AUROC = ( Σ_{positives} rank − m(m + 1)/2 ) / (n m)     (mid-ranks for ties)
/// ```
///
/// # Examples
/// ```
/// use infometer_health::ood::auroc;
/// assert_eq!(auroc(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
/// assert_eq!(auroc(&[1.0, 2.0], &[2.0, 1.0]), 0.5);
/// ```
///
/// # References
/// Hanley & McNeil, "The meaning and use of the area under a ROC curve", Radiology 143, 1982.
pub fn auroc(negatives: &[f64], positives: &[f64]) -> f64 {
    let (n, m) = (negatives.len(), positives.len());
    let mut all: Vec<(f64, bool)> = negatives
        .iter()
        .map(|&x| (x, false))
        .chain(positives.iter().map(|&x| (x, true)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    (rank_sum - (m * (m + 1)) as f64 / 2.0) / (n * m) as f64
}

/// The fraction of `negatives` at or above the threshold that flags at least 95% of
/// `positives` (the largest such threshold).
fn fpr_at_95_tpr(negatives: &[f64], positives: &[f64]) -> f64 {
    let mut pos = positives.to_vec();
    pos.sort_by(|a, b| b.total_cmp(a));
    let k = ((0.95 * pos.len() as f64).ceil() as usize).clamp(1, pos.len());
    let t = pos[k - 1];
    negatives.iter().filter(|&&x| x >= t).count() as f64 / negatives.len() as f64
}

fn check_scores(what: &'static str, v: &[f64]) -> Result<()> {
    if v.is_empty() {
        return Err(HealthError::EmptySet { what });
    }
    if let Some(index) = v.iter().position(|x| x.is_nan()) {
        return Err(HealthError::NanScore { what, index });
    }
    Ok(())
}

/// The OOD screen over any per-document scores where higher means more unusual
/// (perplexities from any model, negative log-likelihoods, distances): the threshold is the
/// `percentile` of the in-domain `calibration` scores; a document is flagged above it.
///
/// # Formula
/// ```text
/// threshold = Q_percentile(calibration)     (linear between order statistics)
/// FPR = #{held_out > threshold} / n,  sensitivity = #{ood > threshold} / m
/// ```
///
/// # Errors
/// [`HealthError::EmptySet`] for an empty set; [`HealthError::NanScore`] for a NaN score
/// (+inf is a legal perplexity); [`HealthError::OutOfRange`] for a percentile outside (0, 1).
///
/// # Examples
/// ```
/// use infometer_health::ood::screen_scores;
/// let cal: Vec<f64> = (0..100).map(|i| 10.0 + i as f64 / 10.0).collect();
/// let held: Vec<f64> = (0..50).map(|i| 10.0 + i as f64 / 5.0).collect();
/// let ood: Vec<f64> = (0..50).map(|i| 25.0 + i as f64).collect();
/// let r = screen_scores(&cal, &held, &ood, 0.95).unwrap();
/// assert_eq!(r.auroc, 1.0);
/// assert_eq!(r.sensitivity, 1.0);
/// assert_eq!(r.fpr_at_95_tpr, 0.0);
/// ```
///
/// # References
/// Hendrycks & Gimpel, "A baseline for detecting misclassified and out-of-distribution
/// examples in neural networks", ICLR 2017 (AUROC, FPR at 95% TPR).
pub fn screen_scores(
    calibration: &[f64],
    held_out: &[f64],
    ood: &[f64],
    percentile: f64,
) -> Result<OodReport> {
    check_scores("calibration", calibration)?;
    check_scores("held-out in-domain", held_out)?;
    check_scores("out-of-domain", ood)?;
    if !(percentile > 0.0 && percentile < 1.0) {
        return Err(HealthError::OutOfRange {
            name: "percentile",
            value: percentile,
            expected: "(0, 1)",
        });
    }
    let mut cal = calibration.to_vec();
    let threshold = quantile(&mut cal, percentile);
    let (mut ind, mut out) = (held_out.to_vec(), ood.to_vec());
    let fpr = ind.iter().filter(|&&p| p > threshold).count() as f64 / ind.len() as f64;
    let sens = out.iter().filter(|&&p| p > threshold).count() as f64 / out.len() as f64;
    Ok(OodReport {
        percentile,
        threshold,
        median_in_domain: quantile(&mut ind, 0.5),
        median_out_of_domain: quantile(&mut out, 0.5),
        false_positive_rate: fpr,
        sensitivity: sens,
        auroc: auroc(held_out, ood),
        fpr_at_95_tpr: fpr_at_95_tpr(held_out, ood),
    })
}

/// Trains the bigram model on `train`, scores every document by its perplexity, and runs
/// [`screen_scores`].
///
/// # Errors
/// As [`screen_scores`]; no training words.
pub fn screen(
    train: &[String],
    calibration: &[String],
    held_out: &[String],
    ood: &[String],
    percentile: f64,
) -> Result<OodReport> {
    let lm = BigramKn::fit(train, 0.75)?;
    let ppl = |docs: &[String]| {
        docs.iter()
            .map(|d| lm.perplexity(d))
            .collect::<Result<Vec<f64>>>()
    };
    screen_scores(&ppl(calibration)?, &ppl(held_out)?, &ppl(ood)?, percentile)
}

impl std::fmt::Display for OodReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "threshold {:.3} ({}th percentile of in-domain), median score {:.3} in-domain vs {:.3} OOD, FPR {:.1}%, sensitivity {:.1}%, AUROC {:.3}, FPR at 95% TPR {:.1}%",
            self.threshold,
            (self.percentile * 100.0).round(),
            self.median_in_domain,
            self.median_out_of_domain,
            100.0 * self.false_positive_rate,
            100.0 * self.sensitivity,
            self.auroc,
            100.0 * self.fpr_at_95_tpr
        )
    }
}
