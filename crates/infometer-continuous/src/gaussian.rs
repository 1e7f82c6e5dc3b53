//! Closed forms for jointly Gaussian data: MI and conditional MI from sample covariances (½ ln det ratios), with nalgebra's Cholesky.

use nalgebra::DMatrix;

use crate::samples::check_same_n;
use crate::{ContinuousError, Result, Samples};

/// Sample covariance (N − 1) of the columns of `s`.
pub(crate) fn covariance(s: &Samples) -> DMatrix<f64> {
    let (n, d) = (s.n_samples(), s.dim());
    let mut mean = vec![0.0; d];
    for i in 0..n {
        for (j, v) in s.row(i).iter().enumerate() {
            mean[j] += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut c = DMatrix::zeros(d, d);
    for i in 0..n {
        let r = s.row(i);
        for a in 0..d {
            for b in 0..=a {
                c[(a, b)] += (r[a] - mean[a]) * (r[b] - mean[b]);
            }
        }
    }
    for a in 0..d {
        for b in 0..=a {
            c[(a, b)] /= (n - 1) as f64;
            c[(b, a)] = c[(a, b)];
        }
    }
    c
}

/// ln det of a covariance block by Cholesky.
pub(crate) fn ln_det(c: &DMatrix<f64>, what: &'static str) -> Result<f64> {
    let ch = c
        .clone()
        .cholesky()
        .ok_or(ContinuousError::SingularCovariance { what })?;
    let l = ch.l();
    let v: f64 = (0..c.nrows()).map(|i| 2.0 * l[(i, i)].ln()).sum();
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ContinuousError::SingularCovariance { what })
    }
}

/// Column indices of the (X, Z), (Y, Z), Z and (X, Y, Z) blocks of a covariance of [X | Y | Z].
pub(crate) fn cmi_blocks(dx: usize, dy: usize, dz: usize) -> [Vec<usize>; 4] {
    let iz: Vec<usize> = (dx + dy..dx + dy + dz).collect();
    let xz: Vec<usize> = (0..dx).chain(iz.iter().copied()).collect();
    let yz: Vec<usize> = (dx..dx + dy).chain(iz.iter().copied()).collect();
    let all: Vec<usize> = (0..dx + dy + dz).collect();
    [xz, yz, iz, all]
}

pub(crate) fn block(c: &DMatrix<f64>, idx: &[usize]) -> DMatrix<f64> {
    DMatrix::from_fn(idx.len(), idx.len(), |a, b| c[(idx[a], idx[b])])
}

/// Gaussian mutual information from the sample covariance, in nats.
///
/// # Formula
/// ```text
/// I(X; Y) = ½ ln( det Σ_X · det Σ_Y / det Σ_XY )
/// ```
///
/// # Errors
/// [`ContinuousError::ShapeMismatch`]; [`ContinuousError::NotEnoughSamples`] for N < 2;
/// [`ContinuousError::SingularCovariance`] for constant or collinear columns.
///
/// # Examples
/// ```
/// use infometer_continuous::{gaussian_mi, Samples};
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0];
/// let y = [1.1, 1.9, 3.2, 3.9, 5.1];
/// let mi = gaussian_mi(&Samples::from_column(&x).unwrap(), &Samples::from_column(&y).unwrap()).unwrap();
/// // for one variable each, the closed form is −½ ln(1 − r²) with r the sample correlation
/// let (mx, my) = (3.0, 3.04);
/// let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
/// let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
/// let syy: f64 = y.iter().map(|b| (b - my) * (b - my)).sum();
/// let r = sxy / (sxx * syy).sqrt();
/// assert!((mi - (-0.5 * (1.0 - r * r).ln())).abs() < 1e-12);
/// ```
///
/// # References
/// Cover & Thomas, *Elements of Information Theory*, 2nd ed., §8.4–8.5.
pub fn gaussian_mi(x: &Samples, y: &Samples) -> Result<f64> {
    check_same_n(x, y)?;
    if x.n_samples() < 2 {
        return Err(ContinuousError::NotEnoughSamples {
            estimator: "Gaussian MI",
            needed: 2,
            got: x.n_samples(),
        });
    }
    let c = covariance(&x.hstack(y)?);
    let (dx, dy) = (x.dim(), y.dim());
    let ix: Vec<usize> = (0..dx).collect();
    let iy: Vec<usize> = (dx..dx + dy).collect();
    let all: Vec<usize> = (0..dx + dy).collect();
    Ok((0.5
        * (ln_det(&block(&c, &ix), "X")? + ln_det(&block(&c, &iy), "Y")?
            - ln_det(&block(&c, &all), "XY")?))
    .max(0.0))
}

/// Gaussian conditional mutual information from the sample covariance, in nats.
///
/// # Formula
/// ```text
/// I(X; Y | Z) = ½ ln( det Σ_XZ · det Σ_YZ / (det Σ_Z · det Σ_XYZ) )
/// ```
///
/// # Errors
/// As [`gaussian_mi`].
///
/// # Examples
/// ```
/// use infometer_continuous::{gaussian_cmi, gaussian_mi, Samples};
/// let s = |v: Vec<f64>| Samples::from_column(&v).unwrap();
/// let z: Vec<f64> = (0..400).map(|i| (i as f64 * 0.1).sin()).collect();
/// let x: Vec<f64> = (0..400).map(|i| z[i] + (i as f64 * 2.1).cos()).collect();
/// let y: Vec<f64> = (0..400).map(|i| z[i] + (i as f64 * 3.7).sin()).collect();
/// // X and Y share only Z: conditioning removes most of their MI
/// assert!(gaussian_cmi(&s(x.clone()), &s(y.clone()), &s(z)).unwrap() < gaussian_mi(&s(x), &s(y)).unwrap());
/// ```
///
/// # References
/// Barnett, Barrett, Seth, PRL 103, 238701, 2009.
pub fn gaussian_cmi(x: &Samples, y: &Samples, z: &Samples) -> Result<f64> {
    check_same_n(x, y)?;
    check_same_n(x, z)?;
    if x.n_samples() < 2 {
        return Err(ContinuousError::NotEnoughSamples {
            estimator: "Gaussian CMI",
            needed: 2,
            got: x.n_samples(),
        });
    }
    let c = covariance(&x.hstack(y)?.hstack(z)?);
    let [xz, yz, iz, all] = cmi_blocks(x.dim(), y.dim(), z.dim());
    let v = 0.5
        * (ln_det(&block(&c, &xz), "XZ")? + ln_det(&block(&c, &yz), "YZ")?
            - ln_det(&block(&c, &iz), "Z")?
            - ln_det(&block(&c, &all), "XYZ")?);
    Ok(v.max(0.0))
}
