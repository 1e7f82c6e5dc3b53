//! The copula transform: every column to the normal scores of its ranks, ties broken by a seeded permutation.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::{ContinuousError, Result, Samples};

/// The normal score of rank r (1-based) among n: Φ⁻¹(r / (n + 1)), made exactly antisymmetric
/// (the score of rank n + 1 − r is the negated score of rank r, and the middle rank scores 0).
fn normal_score(r: usize, n: usize) -> f64 {
    let m = n + 1;
    match (2 * r).cmp(&m) {
        std::cmp::Ordering::Equal => 0.0,
        std::cmp::Ordering::Less => probit(r as f64 / m as f64),
        std::cmp::Ordering::Greater => -probit((m - r) as f64 / m as f64),
    }
}

/// Φ⁻¹(p) for p in (0, ½], from statrs' inverse complementary error function:
/// Φ⁻¹(p) = −√2 · erfc⁻¹(2p).
fn probit(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p)
}

/// The copula transform of several variables, variable v with seed + v·0x9E3779B9 (the
/// seeding every estimator of this crate uses for its per-variable randomness).
///
/// # Formula
/// ```text
/// vars[v] ↦ vars[v].copula(seed + v·0x9E3779B9)
/// ```
///
/// # Errors
/// [`ContinuousError::ConstantColumn`] for a constant column of any variable.
///
/// # Examples
/// ```
/// use infometer_continuous::{copula_variables, Samples};
/// let x = Samples::from_column(&[3.0, 1.0, 2.0]).unwrap();
/// let y = Samples::from_column(&[0.5, 0.7, 0.6]).unwrap();
/// let c = copula_variables(&[&x, &y], 0).unwrap();
/// assert_eq!(c[1], y.copula(0x9E37_79B9).unwrap());
/// ```
///
/// # References
/// Ince et al., Human Brain Mapping 38:1541, 2017.
pub fn copula_variables(vars: &[&Samples], seed: u64) -> Result<Vec<Samples>> {
    vars.iter()
        .enumerate()
        .map(|(v, s)| s.copula(variable_seed(seed, v)))
        .collect()
}

/// The seed of variable v: seed + v·0x9E3779B9.
pub(crate) fn variable_seed(seed: u64, v: usize) -> u64 {
    seed.wrapping_add(v as u64 * 0x9E37_79B9)
}

impl Samples {
    /// The copula transform: each column replaced by the normal scores of its ranks.
    ///
    /// Mutual information, conditional MI and transfer entropy do not change under strictly
    /// monotone maps of each coordinate; this transform makes an estimator's input depend on
    /// the ranks alone, so heavy tails and monotone distortions no longer matter. Every
    /// column ends up with the same values (a permutation of the n scores), with mean 0.
    ///
    /// Ties are broken by a permutation of the rows drawn from ChaCha8 seeded with `seed`
    /// (stream j + 1 for column j), so the result is reproducible and a k-NN estimator sees
    /// no artificial zero distances; without ties the seed plays no part. The alternative,
    /// average ranks, keeps the ties (and the zero distances that k-NN estimators refuse).
    ///
    /// # Formula
    /// ```text
    /// z_ij = Φ⁻¹( r_ij / (n + 1) ),  r_ij = rank of x_ij in column j (1..n, ties by the seeded permutation)
    /// ```
    ///
    /// # Errors
    /// [`ContinuousError::ConstantColumn`] for a column whose values are all equal: its ranks
    /// would be the seed's alone.
    ///
    /// # Examples
    /// ```
    /// use infometer_continuous::Samples;
    /// let s = Samples::from_columns(&[&[10.0, -3.0, 7.0], &[0.1, 0.2, 0.3]]).unwrap();
    /// let c = s.copula(0).unwrap();
    /// // ranks 3, 1, 2 of n = 3 map to Φ⁻¹(3/4), Φ⁻¹(1/4), Φ⁻¹(2/4) = 0
    /// assert!((c.row(0)[0] - 0.674489750196082).abs() < 1e-12);
    /// assert_eq!(c.row(1)[0], -c.row(0)[0]);
    /// assert_eq!(c.row(2)[0], 0.0);
    /// // a strictly increasing map of a column leaves the transform unchanged, bit for bit
    /// let e = Samples::from_columns(&[&[10f64.exp(), (-3f64).exp(), 7f64.exp()], &[0.1, 0.2, 0.3]]).unwrap();
    /// assert_eq!(e.copula(0).unwrap(), c);
    /// ```
    ///
    /// # References
    /// Ince et al., "A statistical framework for neuroimaging data analysis based on mutual
    /// information estimated via a gaussian copula", Human Brain Mapping 38:1541, 2017.
    pub fn copula(&self, seed: u64) -> Result<Samples> {
        let (n, d) = (self.n_samples(), self.dim());
        let scores: Vec<f64> = (1..=n).map(|r| normal_score(r, n)).collect();
        let mut out = vec![0.0; n * d];
        let mut order: Vec<usize> = Vec::with_capacity(n);
        for j in 0..d {
            let col = self.column(j);
            let by_value = |a: &usize, b: &usize| {
                col[*a]
                    .partial_cmp(&col[*b])
                    .unwrap_or(std::cmp::Ordering::Equal)
            };
            order.clear();
            order.extend(0..n);
            order.sort_by(by_value);
            if n > 1 && col[order[0]] == col[order[n - 1]] {
                return Err(ContinuousError::ConstantColumn { col: j });
            }
            // `==` (not the sort's order) decides a tie, so −0 and +0 tie as they should
            if order.windows(2).any(|w| col[w[0]] == col[w[1]]) {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(j as u64 + 1);
                let mut key: Vec<usize> = (0..n).collect();
                key.shuffle(&mut rng);
                order.sort_by(|a, b| by_value(a, b).then(key[*a].cmp(&key[*b])));
            }
            for (r, &i) in order.iter().enumerate() {
                out[i * d + j] = scores[r];
            }
        }
        Samples::new(n, d, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_antisymmetric_and_match_the_normal_quantiles() {
        for n in [1usize, 2, 3, 10, 1001] {
            for r in 1..=n {
                assert_eq!(normal_score(r, n), -normal_score(n + 1 - r, n));
                // statrs' Normal::inverse_cdf, an independent route to Φ⁻¹
                use statrs::distribution::{ContinuousCDF, Normal};
                let q = Normal::new(0.0, 1.0)
                    .unwrap()
                    .inverse_cdf(r as f64 / (n + 1) as f64);
                assert!((normal_score(r, n) - q).abs() < 1e-12, "{r} of {n}");
            }
        }
    }
}
