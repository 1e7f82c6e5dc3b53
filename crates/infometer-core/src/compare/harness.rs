//! lm-evaluation-harness's corpus aggregates, reproduced: weighted (word or byte) perplexity, bits per byte, and the standard error of a mean.

use crate::{CoreError, Result};

fn check(sum_nll: &[f64], weights: &[u64], what: &'static str) -> Result<f64> {
    if sum_nll.len() != weights.len() {
        return Err(CoreError::ShapeMismatch {
            what,
            expected: sum_nll.len(),
            got: weights.len(),
        });
    }
    if sum_nll.is_empty() {
        return Err(CoreError::Empty { what: "documents" });
    }
    for (index, &v) in sum_nll.iter().enumerate() {
        if !v.is_finite() {
            return Err(CoreError::NonFinite {
                what: "document NLL",
                index,
                value: v,
            });
        }
        if v < 0.0 {
            return Err(CoreError::OutOfDomain {
                what: "document NLL",
                index,
                value: v,
                domain: "≥ 0",
            });
        }
    }
    let w: u64 = weights.iter().sum();
    if w == 0 {
        return Err(CoreError::ZeroTotal { what });
    }
    Ok(sum_nll.iter().sum::<f64>() / w as f64)
}

/// Corpus perplexity per word (or per byte): exp of Σ NLL over Σ words, a ratio of sums,
/// not a mean of per-document perplexities.
///
/// # Formula
/// ```text
/// PPL_w = exp( Σ_d NLL_d / Σ_d words_d )
/// ```
/// lm-evaluation-harness's `weighted_perplexity(items) = exp(-weighted_mean(items))`, with
/// `weighted_mean = Σ loglik / Σ weight`, for `word_perplexity` and `byte_perplexity`.
///
/// # Errors
/// [`CoreError::ShapeMismatch`], [`CoreError::Empty`], [`CoreError::NonFinite`],
/// [`CoreError::OutOfDomain`] for a negative NLL, [`CoreError::ZeroTotal`] for no words.
///
/// # Examples
/// ```
/// use infometer_core::weighted_perplexity;
/// let p = weighted_perplexity(&[3.0, 1.0], &[2, 2]).unwrap();
/// assert!((p - 1f64.exp()).abs() < 1e-12);
/// ```
///
/// # References
/// Gao et al., lm-evaluation-harness, `lm_eval/api/metrics.py` (`weighted_perplexity`,
/// `bits_per_byte`, `mean_stderr`), 2021–2025.
pub fn weighted_perplexity(sum_nll: &[f64], words: &[u64]) -> Result<f64> {
    Ok(check(sum_nll, words, "words")?.exp())
}

/// Corpus bits per byte: Σ NLL over Σ UTF-8 bytes, in bits.
///
/// # Formula
/// ```text
/// BPB = Σ_d NLL_d / (ln 2 · Σ_d bytes_d)
/// ```
/// lm-evaluation-harness's `bits_per_byte(items) = -weighted_mean(items) / ln 2`.
///
/// # Errors
/// As [`weighted_perplexity`].
///
/// # Examples
/// ```
/// use infometer_core::bits_per_byte_docs;
/// let b = bits_per_byte_docs(&[2f64.ln() * 8.0], &[4]).unwrap();
/// assert!((b - 2.0).abs() < 1e-12);
/// ```
///
/// # References
/// As [`weighted_perplexity`].
pub fn bits_per_byte_docs(sum_nll: &[f64], bytes: &[u64]) -> Result<f64> {
    Ok(check(sum_nll, bytes, "bytes")? / std::f64::consts::LN_2)
}

/// Standard error of a mean of per-document values: the sample SD (n − 1) over √n.
///
/// It treats documents as independent, which is right for per-document scores; for a
/// ratio of sums over tokens use [`crate::compare`]'s delta method.
///
/// # Formula
/// ```text
/// SE = sqrt( Σ (x_i − x̄)² / (n − 1) ) / √n
/// ```
/// lm-evaluation-harness's `mean_stderr(arr) = sample_stddev(arr) / sqrt(len(arr))`.
///
/// # Errors
/// [`CoreError::TooFewUnits`] for fewer than 2 values; [`CoreError::NonFinite`].
///
/// # Examples
/// ```
/// use infometer_core::mean_stderr;
/// let se = mean_stderr(&[1.0, 2.0, 3.0, 4.0]).unwrap();
/// assert!((se - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
/// ```
///
/// # References
/// As [`weighted_perplexity`].
pub fn mean_stderr(values: &[f64]) -> Result<f64> {
    if values.len() < 2 {
        return Err(CoreError::TooFewUnits {
            what: "values for a standard error",
            got: values.len(),
            needed: 2,
        });
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(CoreError::NonFinite {
            what: "values",
            index,
            value: values[index],
        });
    }
    let n = values.len() as f64;
    let m = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    Ok((var / n).sqrt())
}
