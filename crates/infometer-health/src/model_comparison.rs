//! Is the new model of clinical notes really better? Two language models compared note by note on held-out notes, with document-level intervals, the delta method, a sign-flip test and the design effect, beside the too-narrow interval of token resampling.

use infometer_core::{
    CiMethod, CompareMetric, CompareOptions, PairedUnits, Resampling, TokenPair, compare,
};
use serde::Serialize;

use crate::ood::{BigramKn, clinical_notes};
use crate::{HealthError, Result};

/// The comparison of a model trained on more notes (A) with one trained on fewer (B).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteComparison {
    /// Held-out notes scored.
    pub notes: usize,
    /// Tokens scored (words and the end of each note).
    pub tokens: u64,
    /// Corpus perplexity of A (a ratio of sums over notes).
    pub perplexity_a: f64,
    /// Corpus perplexity of B.
    pub perplexity_b: f64,
    /// Perplexity of A ÷ perplexity of B.
    pub ratio: f64,
    /// Its 95 % BCa interval, resampling notes.
    pub ratio_ci: (f64, f64),
    /// Its 95 % delta-method interval (cluster-robust over notes).
    pub ratio_ci_delta: (f64, f64),
    /// Its 95 % interval when tokens are resampled as if independent (too narrow).
    pub ratio_ci_tokens: (f64, f64),
    /// Two-sided p of the paired sign-flip test by note.
    pub p_value: f64,
    /// Clustered ÷ i.i.d. standard error.
    pub design_effect: f64,
    /// Independent tokens worth as much as the scored ones.
    pub effective_tokens: f64,
    /// "A" or "B" when the note-level interval excludes 1, else "neither".
    pub better: &'static str,
}

/// Trains bigram models of seeded synthetic notes on `train_a` and `train_b` notes, scores
/// `test` held-out notes with both, and compares them by note.
///
/// # Errors
/// [`HealthError::OutOfRange`] for fewer than 2 test notes, no training notes, or 0 or too
/// many resamples; errors of the comparison.
///
/// # Examples
/// ```
/// use infometer_health::model_comparison::compare_note_models;
/// let r = compare_note_models(400, 40, 60, 999, 5).unwrap();
/// assert_eq!(r.better, "A"); // ten times the training notes
/// assert!(r.ratio_ci.1 < 1.0);
/// ```
pub fn compare_note_models(
    train_a: usize,
    train_b: usize,
    test: usize,
    resamples: usize,
    seed: u64,
) -> Result<NoteComparison> {
    for (name, v, ok) in [
        ("train_a", train_a, train_a >= 1),
        ("train_b", train_b, train_b >= 1),
        ("test", test, test >= 2),
        (
            "resamples",
            resamples,
            (1..=infometer_core::MAX_RESAMPLES).contains(&resamples),
        ),
    ] {
        if !ok {
            return Err(HealthError::OutOfRange {
                name,
                value: v as f64,
                expected: "train ≥ 1, test ≥ 2, resamples in 1..=100000",
            });
        }
    }
    let a = BigramKn::fit(&clinical_notes(train_a, seed), 0.75)?;
    let b = BigramKn::fit(&clinical_notes(train_b, seed + 1), 0.75)?;
    let held = clinical_notes(test, seed + 2);
    let mut docs = PairedUnits::documents(1)?;
    let mut toks = PairedUnits::tokens();
    let mut sum_b = 0.0;
    for note in &held {
        docs.start_unit();
        for (x, y) in a.nll(note).into_iter().zip(b.nll(note)) {
            sum_b += y;
            let t = TokenPair {
                nll_a: x,
                nll_b: y,
                brier_a: 0.0,
                brier_b: 0.0,
                conf_a: 0.0,
                conf_b: 0.0,
                correct_a: false,
                correct_b: false,
            };
            docs.add_token(&t)?;
            toks.add_token(&t)?;
        }
    }
    let o = CompareOptions {
        resamples,
        seed,
        level: 0.95,
        method: CiMethod::Bca,
        resampling: Resampling::Units,
    };
    let c = compare(&docs, &o)?;
    let t = compare(
        &toks,
        &CompareOptions {
            method: CiMethod::Percentile,
            ..o
        },
    )?;
    let ratio = c
        .metric(CompareMetric::PerplexityRatio)
        .expect("always available");
    let delta = c
        .metric(CompareMetric::DeltaNll)
        .expect("always available")
        .estimate;
    let n = c.n_tokens as f64;
    let nll_b = sum_b / n;
    let better = if ratio.ci.1 < 1.0 {
        "A"
    } else if ratio.ci.0 > 1.0 {
        "B"
    } else {
        "neither"
    };
    Ok(NoteComparison {
        notes: c.n_units,
        tokens: c.n_tokens,
        perplexity_a: (nll_b + delta).exp(),
        perplexity_b: nll_b.exp(),
        ratio: ratio.estimate,
        ratio_ci: ratio.ci,
        ratio_ci_delta: c.delta_method.ratio_ci,
        ratio_ci_tokens: t
            .metric(CompareMetric::PerplexityRatio)
            .expect("always available")
            .ci,
        p_value: c.sign_flip.p_value,
        design_effect: c.delta_method.design_effect.unwrap_or(f64::NAN),
        effective_tokens: c.delta_method.effective_tokens.unwrap_or(f64::NAN),
        better,
    })
}
