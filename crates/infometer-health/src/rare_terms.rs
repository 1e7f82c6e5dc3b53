//! Rare-term surprisal: the information content of each term of a note, with terms above a threshold flagged for attention.

use infometer_core::{Base, information_content};
use serde::Serialize;

use crate::Result;

/// Default flag threshold in bits: 8 bits ⇔ a term the model expected less than once in 256.
pub const DEFAULT_THRESHOLD_BITS: f64 = 8.0;

/// One term's information content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermSurprisal {
    /// The term.
    pub term: String,
    /// The model's probability for it.
    pub probability: f64,
    /// −log2 p.
    pub bits: f64,
    /// bits > threshold.
    pub flagged: bool,
}

/// Information content of each (term, probability) and whether it exceeds `threshold_bits`.
///
/// # Errors
/// A probability outside [0, 1] or NaN.
///
/// # Examples
/// ```
/// let r = infometer_health::rare_terms::surprisal(&[("pneumomediastinum", 0.001)], 8.0).unwrap();
/// assert!(r[0].flagged && (r[0].bits - 9.965784).abs() < 1e-6);
/// ```
pub fn surprisal(terms: &[(&str, f64)], threshold_bits: f64) -> Result<Vec<TermSurprisal>> {
    terms
        .iter()
        .map(|&(t, p)| {
            let bits = Base::TWO.from_nats(information_content(p)?);
            Ok(TermSurprisal {
                term: t.to_string(),
                probability: p,
                bits,
                flagged: bits > threshold_bits,
            })
        })
        .collect()
}

impl std::fmt::Display for TermSurprisal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: p = {}, {:.3} bits{}",
            self.term,
            self.probability,
            self.bits,
            if self.flagged { " [FLAG]" } else { "" }
        )
    }
}
