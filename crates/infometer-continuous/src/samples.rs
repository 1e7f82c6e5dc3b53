//! `Samples`: a validated n × d matrix of finite f64 observations, with standardisation and seeded noise.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{ContinuousError, Result};

/// n observations of a d-dimensional variable, row-major, all finite.
///
/// # Errors
/// [`ContinuousError::Empty`], [`ContinuousError::ShapeMismatch`], [`ContinuousError::NonFinite`].
///
/// # Examples
/// ```
/// use infometer_continuous::Samples;
/// let s = Samples::from_columns(&[&[1.0, 2.0, 3.0], &[0.0, 0.5, 1.0]]).unwrap();
/// assert_eq!((s.n_samples(), s.dim()), (3, 2));
/// assert_eq!(s.row(1), &[2.0, 0.5]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    n: usize,
    d: usize,
    data: Vec<f64>,
}

impl Samples {
    /// From a row-major buffer of n × d values.
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn new(n: usize, d: usize, data: Vec<f64>) -> Result<Self> {
        if n == 0 {
            return Err(ContinuousError::Empty { what: "samples" });
        }
        if d == 0 {
            return Err(ContinuousError::Empty { what: "columns" });
        }
        if data.len() != n * d {
            return Err(ContinuousError::ShapeMismatch {
                what: "n × d buffer",
                expected: n * d,
                got: data.len(),
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(ContinuousError::NonFinite {
                row: i / d,
                col: i % d,
                value: data[i],
            });
        }
        Ok(Samples { n, d, data })
    }

    /// From columns of equal length.
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn from_columns(cols: &[&[f64]]) -> Result<Self> {
        let d = cols.len();
        if d == 0 {
            return Err(ContinuousError::Empty { what: "columns" });
        }
        let n = cols[0].len();
        if let Some(c) = cols.iter().find(|c| c.len() != n) {
            return Err(ContinuousError::ShapeMismatch {
                what: "column lengths",
                expected: n,
                got: c.len(),
            });
        }
        let mut data = Vec::with_capacity(n * d);
        for i in 0..n {
            for c in cols {
                data.push(c[i]);
            }
        }
        Self::new(n, d, data)
    }

    /// A one-dimensional variable.
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn from_column(col: &[f64]) -> Result<Self> {
        Self::from_columns(&[col])
    }

    /// Number of observations.
    pub fn n_samples(&self) -> usize {
        self.n
    }
    /// Dimension.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// Row i.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.d..(i + 1) * self.d]
    }
    /// The row-major buffer.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }
    /// Column j, copied.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.n).map(|i| self.data[i * self.d + j]).collect()
    }

    /// Rows in the given order (a permutation or a bootstrap resample).
    pub fn take_rows(&self, idx: &[usize]) -> Samples {
        let mut data = Vec::with_capacity(idx.len() * self.d);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Samples {
            n: idx.len(),
            d: self.d,
            data,
        }
    }

    /// Columns side by side: [self | other].
    ///
    /// # Errors
    /// [`ContinuousError::ShapeMismatch`] when the sample counts differ.
    pub fn hstack(&self, other: &Samples) -> Result<Samples> {
        Samples::side_by_side(&[self, other])
    }

    /// The columns of several sets side by side, in order: [parts₀ | parts₁ | …], in one pass
    /// per part (element by element: a call to copy each short row would cost more than it).
    pub(crate) fn side_by_side(parts: &[&Samples]) -> Result<Samples> {
        let Some(first) = parts.first() else {
            return Err(ContinuousError::Empty { what: "variables" });
        };
        for p in &parts[1..] {
            check_same_n(first, p)?;
        }
        let n = first.n;
        let d: usize = parts.iter().map(|p| p.d).sum();
        let mut data = vec![0.0; n * d];
        let mut start = 0;
        for p in parts.iter().filter(|p| p.d > 0) {
            for (out, row) in data.chunks_exact_mut(d).zip(p.data.chunks_exact(p.d)) {
                for (o, &v) in out[start..start + p.d].iter_mut().zip(row) {
                    *o = v;
                }
            }
            start += p.d;
        }
        Ok(Samples { n, d, data })
    }

    /// Each column to mean 0 and sample standard deviation 1 (N − 1 denominator), as JIDT.
    ///
    /// # Errors
    /// [`ContinuousError::ConstantColumn`] for a zero-variance column.
    pub fn standardized(&self) -> Result<Samples> {
        let mut stats = Vec::with_capacity(self.d);
        for j in 0..self.d {
            let (mean, sd) = self.column_mean_sd(j);
            if sd.is_nan() || sd <= 0.0 || !sd.is_finite() {
                return Err(ContinuousError::ConstantColumn { col: j });
            }
            stats.push((mean, sd));
        }
        // one pass down the rows, each value as (value − mean) / sd of its column
        let mut data = self.data.clone();
        for row in data.chunks_exact_mut(self.d.max(1)) {
            for (v, &(mean, sd)) in row.iter_mut().zip(&stats) {
                *v = (*v - mean) / sd;
            }
        }
        Ok(Samples {
            n: self.n,
            d: self.d,
            data,
        })
    }

    /// Mean and sample standard deviation (N − 1; 0 for one row) of column j.
    ///
    /// Where the squares overflow (values beyond about 10¹⁵⁴) or vanish below f64's range
    /// (values below about 10⁻¹⁵⁴), the sd would come out infinite or 0 for a column that is
    /// neither: the same sums are then taken on the column divided by its largest |value|,
    /// and scaled back. Every other column keeps the plain sums, bit for bit.
    pub(crate) fn column_mean_sd(&self, j: usize) -> (f64, f64) {
        let col = self.column(j);
        let (mean, sd) = mean_sd(&col, 1.0);
        if sd.is_finite() && sd > 0.0 {
            return (mean, sd);
        }
        let scale = col.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if !(scale.is_finite() && scale > 0.0) {
            return (mean, sd);
        }
        let (mean, sd) = mean_sd(&col, scale);
        (mean * scale, sd * scale)
    }

    /// Adds N(0, sd²) noise to every value from a ChaCha8 generator seeded with `seed`.
    pub fn with_noise(&self, sd: f64, seed: u64) -> Samples {
        let mut out = self.clone();
        out.add_noise(sd, seed);
        out
    }

    /// [`Samples::with_noise`] in place, for a copy that is ours already.
    pub(crate) fn add_noise(&mut self, sd: f64, seed: u64) {
        if sd > 0.0 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for v in &mut self.data {
                let e: f64 = StandardNormal.sample(&mut rng);
                *v += sd * e;
            }
        }
    }
}

/// Mean and sample standard deviation (N − 1; 0 for one value) of `col / scale`.
fn mean_sd(col: &[f64], scale: f64) -> (f64, f64) {
    let n = col.len();
    let mean = col.iter().map(|v| v / scale).sum::<f64>() / n as f64;
    let var = if n > 1 {
        col.iter().map(|v| (v / scale - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    (mean, var.sqrt())
}

pub(crate) fn check_same_n(a: &Samples, b: &Samples) -> Result<()> {
    if a.n == b.n {
        Ok(())
    } else {
        Err(ContinuousError::ShapeMismatch {
            what: "samples per variable",
            expected: a.n,
            got: b.n,
        })
    }
}
