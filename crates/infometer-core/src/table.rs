//! Joint tables of two discrete variables: entropies, conditional entropies, mutual information, normalised MI and variation of information, plug-in or Miller–Madow.

use crate::{CoreError, Result};

/// How entropies are estimated from a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableEstimator {
    /// The plug-in (maximum-likelihood) estimate: the table's frequencies as probabilities.
    #[default]
    PlugIn,
    /// Miller–Madow: plug-in + (m − 1)/(2N) per entropy, m = cells with non-zero count.
    /// Needs counts (the sample size N); a probability table is refused.
    MillerMadow,
}

/// A joint table over X (rows) and Y (columns), held as non-negative weights.
///
/// # Errors
/// [`CoreError::Empty`], [`CoreError::ShapeMismatch`], [`CoreError::NonFinite`],
/// [`CoreError::InvalidProbability`] (negative cell), [`CoreError::NoMass`] (all zero),
/// [`CoreError::NotNormalized`] for a probability table that does not sum to 1.
///
/// # Examples
/// ```
/// use infometer_core::{Base, JointTable, TableEstimator};
/// let t = JointTable::from_probs(2, 2, &[0.3, 0.1, 0.2, 0.4]).unwrap();
/// let m = t.measures(TableEstimator::PlugIn).unwrap();
/// assert!((Base::TWO.from_nats(m.mutual_information) - 0.124511).abs() < 1e-6);
/// ```
///
/// # References
/// Cover & Thomas, *Elements of Information Theory*, 2nd ed., ch. 2.
#[derive(Debug, Clone, PartialEq)]
pub struct JointTable {
    n_x: usize,
    n_y: usize,
    cells: Vec<f64>,
    total: f64,
    is_counts: bool,
}

/// Information measures of a [`JointTable`], all in nats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableMeasures {
    /// H(X).
    pub entropy_x: f64,
    /// H(Y).
    pub entropy_y: f64,
    /// H(X, Y).
    pub joint_entropy: f64,
    /// H(X | Y) = H(X, Y) − H(Y).
    pub conditional_entropy_x_given_y: f64,
    /// H(Y | X) = H(X, Y) − H(X).
    pub conditional_entropy_y_given_x: f64,
    /// I(X; Y) = H(X) + H(Y) − H(X, Y) (clamped at 0 for the plug-in estimate).
    pub mutual_information: f64,
    /// I / sqrt(H(X) H(Y)) (0 when a marginal entropy is 0).
    pub nmi_sqrt: f64,
    /// 2I / (H(X) + H(Y)), the arithmetic normalisation (scikit-learn's default).
    pub nmi_arithmetic: f64,
    /// I / min(H(X), H(Y)).
    pub nmi_min: f64,
    /// I / max(H(X), H(Y)).
    pub nmi_max: f64,
    /// I / H(X, Y).
    pub nmi_joint: f64,
    /// Variation of information H(X, Y) − I(X; Y), a metric.
    pub variation_of_information: f64,
}

impl JointTable {
    /// From a row-major probability table (sums to 1 within 1e-6).
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn from_probs(n_x: usize, n_y: usize, probs: &[f64]) -> Result<Self> {
        let t = Self::build(n_x, n_y, probs, false)?;
        if (t.total - 1.0).abs() > crate::NORMALIZATION_TOLERANCE {
            return Err(CoreError::NotNormalized {
                sum: t.total,
                tolerance: crate::NORMALIZATION_TOLERANCE,
            });
        }
        Ok(t)
    }

    /// From a row-major table of counts (any non-negative numbers; normalised by their total).
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn from_counts(n_x: usize, n_y: usize, counts: &[f64]) -> Result<Self> {
        Self::build(n_x, n_y, counts, true)
    }

    /// Counts of paired labels: cell (x, y) counts the positions where `xs[i] = x` and `ys[i] = y`.
    ///
    /// # Errors
    /// [`CoreError::ShapeMismatch`] when lengths differ; [`CoreError::Empty`] when empty.
    ///
    /// # Examples
    /// ```
    /// use infometer_core::{JointTable, TableEstimator};
    /// let t = JointTable::from_labels(&[0, 0, 1, 1], &[1, 1, 0, 0]).unwrap();
    /// let m = t.measures(TableEstimator::PlugIn).unwrap();
    /// assert!((m.mutual_information - 2f64.ln()).abs() < 1e-15);
    /// ```
    pub fn from_labels(xs: &[usize], ys: &[usize]) -> Result<Self> {
        if xs.len() != ys.len() {
            return Err(CoreError::ShapeMismatch {
                what: "paired labels",
                expected: xs.len(),
                got: ys.len(),
            });
        }
        if xs.is_empty() {
            return Err(CoreError::Empty { what: "labels" });
        }
        let n_x = xs.iter().max().map_or(0, |m| m + 1);
        let n_y = ys.iter().max().map_or(0, |m| m + 1);
        if n_x.checked_mul(n_y).is_none_or(|c| c > 1 << 28) {
            return Err(CoreError::InvalidParameter {
                name: "label range",
                value: (n_x as f64) * (n_y as f64),
                reason: "table too large; relabel to dense indices",
            });
        }
        let mut cells = vec![0.0; n_x * n_y];
        for (&x, &y) in xs.iter().zip(ys) {
            cells[x * n_y + y] += 1.0;
        }
        Self::build(n_x, n_y, &cells, true)
    }

    fn build(n_x: usize, n_y: usize, cells: &[f64], is_counts: bool) -> Result<Self> {
        if n_x == 0 || n_y == 0 || cells.is_empty() {
            return Err(CoreError::Empty {
                what: "joint table",
            });
        }
        if cells.len() != n_x * n_y {
            return Err(CoreError::ShapeMismatch {
                what: "joint table cells",
                expected: n_x * n_y,
                got: cells.len(),
            });
        }
        for (index, &v) in cells.iter().enumerate() {
            if !v.is_finite() {
                return Err(CoreError::NonFinite {
                    what: "joint table",
                    index,
                    value: v,
                });
            }
            if v < 0.0 {
                return Err(CoreError::InvalidProbability { index, value: v });
            }
        }
        let total: f64 = cells.iter().sum();
        if total <= 0.0 {
            return Err(CoreError::ZeroTotal {
                what: "joint table cells",
            });
        }
        Ok(JointTable {
            n_x,
            n_y,
            cells: cells.to_vec(),
            total,
            is_counts,
        })
    }

    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        (self.n_x, self.n_y)
    }

    /// All measures with the chosen estimator.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] for Miller–Madow on a probability table.
    pub fn measures(&self, estimator: TableEstimator) -> Result<TableMeasures> {
        let mut px = vec![0.0; self.n_x];
        let mut py = vec![0.0; self.n_y];
        for x in 0..self.n_x {
            for y in 0..self.n_y {
                let c = self.cells[x * self.n_y + y];
                px[x] += c;
                py[y] += c;
            }
        }
        let mm = match estimator {
            TableEstimator::PlugIn => None,
            TableEstimator::MillerMadow => {
                if !self.is_counts {
                    return Err(CoreError::NeedsCounts {
                        estimator: "Miller–Madow",
                    });
                }
                Some(self.total)
            }
        };
        let h = |w: &[f64]| -> f64 {
            let lt = self.total.ln();
            let plug: f64 = w
                .iter()
                .filter(|c| **c > 0.0)
                .map(|c| -(c / self.total) * (c.ln() - lt))
                .sum();
            let plug = plug.max(0.0);
            match mm {
                None => plug,
                Some(n) => plug + (w.iter().filter(|c| **c > 0.0).count() as f64 - 1.0) / (2.0 * n),
            }
        };
        let hx = h(&px);
        let hy = h(&py);
        let hxy = h(&self.cells);
        let raw_mi = hx + hy - hxy;
        let mi = if mm.is_none() {
            raw_mi.max(0.0)
        } else {
            raw_mi
        };
        let ratio = |den: f64| if den > 0.0 { mi / den } else { 0.0 };
        Ok(TableMeasures {
            entropy_x: hx,
            entropy_y: hy,
            joint_entropy: hxy,
            conditional_entropy_x_given_y: (hxy - hy).max(0.0),
            conditional_entropy_y_given_x: (hxy - hx).max(0.0),
            mutual_information: mi,
            nmi_sqrt: ratio((hx * hy).sqrt()),
            nmi_arithmetic: ratio(0.5 * (hx + hy)),
            nmi_min: ratio(hx.min(hy)),
            nmi_max: ratio(hx.max(hy)),
            nmi_joint: ratio(hxy),
            variation_of_information: (hxy - mi).max(0.0),
        })
    }
}
