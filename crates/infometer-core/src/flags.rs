//! Information-content flags: tokens whose surprisal exceeds a threshold given in a base's units or as a probability.

use crate::{Base, CoreError, Result};

/// A surprisal threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SurprisalThreshold {
    /// Flag when surprisal > `value` in `base`'s units (e.g. 10 bits).
    Information {
        /// The threshold.
        value: f64,
        /// Its unit.
        base: Base,
    },
    /// Flag when the token's probability < `p` (surprisal > −ln p).
    Probability(f64),
}

impl SurprisalThreshold {
    /// The threshold in nats.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] for a negative or NaN value, or p outside (0, 1].
    pub fn nats(self) -> Result<f64> {
        match self {
            SurprisalThreshold::Information { value, base } => {
                if value.is_nan() || value < 0.0 {
                    return Err(CoreError::InvalidParameter {
                        name: "threshold",
                        value,
                        reason: "must be ≥ 0",
                    });
                }
                Ok(base.to_nats(value))
            }
            SurprisalThreshold::Probability(p) => {
                if !(p > 0.0 && p <= 1.0) {
                    return Err(CoreError::InvalidParameter {
                        name: "probability threshold",
                        value: p,
                        reason: "must lie in (0, 1]",
                    });
                }
                Ok(-p.ln())
            }
        }
    }
}

/// Indices of tokens whose surprisal (NLL, nats) exceeds the threshold; NaN entries
/// (ignored or masked tokens) are never flagged.
///
/// # Formula
/// ```text
/// flag_t ⇔ −ln p(x_t) > τ_nats,  τ_nats = τ · ln b  or  −ln p_min
/// ```
///
/// # Errors
/// As [`SurprisalThreshold::nats`].
///
/// # Examples
/// ```
/// use infometer_core::{surprisal_flags, Base, SurprisalThreshold};
/// let nll = [0.1, 9.0, f64::NAN, 7.0];
/// let t = SurprisalThreshold::Information { value: 10.0, base: Base::TWO }; // 6.93 nats
/// assert_eq!(surprisal_flags(&nll, t).unwrap(), vec![1, 3]);
/// assert_eq!(surprisal_flags(&nll, SurprisalThreshold::Probability(2e-4)).unwrap(), vec![1]); // 8.5 nats
/// ```
///
/// # References
/// Shannon, Bell Syst. Tech. J. 27, 1948; Hale, "A Probabilistic Earley Parser as a
/// Psycholinguistic Model", NAACL 2001 (surprisal).
pub fn surprisal_flags(
    surprisal_nats: &[f64],
    threshold: SurprisalThreshold,
) -> Result<Vec<usize>> {
    let t = threshold.nats()?;
    Ok(surprisal_nats
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > t)
        .map(|(i, _)| i)
        .collect())
}
