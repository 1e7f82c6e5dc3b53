//! Logarithm bases: nats inside, any base b > 1 at the edge.

use crate::{CoreError, Result};

/// The base in which an information quantity is displayed.
///
/// Every computation in infometer happens in nats; a `Base` converts at the edge.
/// Perplexity is base-invariant and never converted.
///
/// # Formula
/// ```text
/// x_b = x_nats / ln b
/// ```
///
/// # Errors
/// [`Base::new`] refuses b ≤ 1, NaN and infinity.
///
/// # Examples
/// ```
/// use infometer_core::Base;
/// assert!((Base::TWO.from_nats(std::f64::consts::LN_2) - 1.0).abs() < 1e-15);
/// assert_eq!("10".parse::<Base>().unwrap(), Base::TEN);
/// ```
///
/// # References
/// Cover & Thomas, *Elements of Information Theory*, 2nd ed., §2.1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Base(f64);

impl Base {
    /// Natural logarithm: nats.
    pub const E: Base = Base(std::f64::consts::E);
    /// Base 2: bits (shannons).
    pub const TWO: Base = Base(2.0);
    /// Base 10: hartleys (dits, bans).
    pub const TEN: Base = Base(10.0);

    /// A base b > 1.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] when b is not finite or b ≤ 1.
    ///
    /// # Examples
    /// ```
    /// use infometer_core::Base;
    /// assert!(Base::new(3.0).is_ok());
    /// assert!(Base::new(1.0).is_err());
    /// ```
    pub fn new(b: f64) -> Result<Base> {
        if b.is_finite() && b > 1.0 {
            Ok(Base(b))
        } else {
            Err(CoreError::InvalidParameter {
                name: "base",
                value: b,
                reason: "a logarithm base must be finite and greater than 1",
            })
        }
    }

    /// The base itself.
    pub fn value(self) -> f64 {
        self.0
    }

    /// ln b, the number of nats in one unit of this base.
    pub fn ln(self) -> f64 {
        if self == Base::E { 1.0 } else { self.0.ln() }
    }

    /// Converts a quantity in nats to this base.
    ///
    /// # Examples
    /// ```
    /// use infometer_core::Base;
    /// assert_eq!(Base::E.from_nats(1.5), 1.5);
    /// ```
    pub fn from_nats(self, nats: f64) -> f64 {
        nats / self.ln()
    }

    /// Converts a quantity in this base to nats.
    pub fn to_nats(self, x: f64) -> f64 {
        x * self.ln()
    }

    /// The unit's name: `nats`, `bits`, `hartleys`, or `log<b>`.
    pub fn unit(self) -> String {
        if self == Base::E {
            "nats".into()
        } else if self == Base::TWO {
            "bits".into()
        } else if self == Base::TEN {
            "hartleys".into()
        } else {
            format!("log{}", self.0)
        }
    }
}

impl Default for Base {
    fn default() -> Self {
        Base::E
    }
}

impl std::fmt::Display for Base {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == Base::E {
            f.write_str("e")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl std::str::FromStr for Base {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Base> {
        match s.trim() {
            "e" | "nats" | "nat" => Ok(Base::E),
            "2" | "bits" | "bit" => Ok(Base::TWO),
            "10" | "hartleys" | "dits" => Ok(Base::TEN),
            other => other
                .parse::<f64>()
                .map_err(|_| CoreError::InvalidChoice {
                    name: "base",
                    got: other.to_string(),
                    expected: "e, 2, 10 or a number greater than 1",
                })
                .and_then(Base::new),
        }
    }
}
