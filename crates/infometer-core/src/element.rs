//! Element types accepted as logits (f32, f64, f16, bf16) and the lane arithmetic of the fused kernel.

use half::{bf16, f16};

/// A floating-point element a row of logits, log-probabilities or probabilities may hold.
///
/// Implemented for `f32`, `f64`, [`half::f16`] and [`half::bf16`]. Half-precision rows are
/// widened to `f32` one row at a time; every sum is accumulated in `f64`.
///
/// # Examples
/// ```
/// use infometer_core::Element;
/// assert_eq!(half::f16::from_f32(0.5).to_f64(), 0.5);
/// ```
pub trait Element: Copy + Send + Sync + 'static + private::Sealed {
    /// The lane type the kernel computes in (`f32` or `f64`).
    #[doc(hidden)]
    type Lane: Lane;
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
    /// The row as lanes, widened into `scratch` when needed.
    #[doc(hidden)]
    fn as_lanes<'a>(row: &'a [Self], scratch: &'a mut Vec<Self::Lane>) -> &'a [Self::Lane];
}

mod private {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
}

impl Element for f32 {
    type Lane = f32;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn as_lanes<'a>(row: &'a [f32], _: &'a mut Vec<f32>) -> &'a [f32] {
        row
    }
}

impl Element for f64 {
    type Lane = f64;
    fn to_f64(self) -> f64 {
        self
    }
    fn as_lanes<'a>(row: &'a [f64], _: &'a mut Vec<f64>) -> &'a [f64] {
        row
    }
}

impl Element for f16 {
    type Lane = f32;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn as_lanes<'a>(row: &'a [f16], scratch: &'a mut Vec<f32>) -> &'a [f32] {
        scratch.clear();
        scratch.extend(row.iter().map(|v| v.to_f32()));
        scratch
    }
}

impl Element for bf16 {
    type Lane = f32;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn as_lanes<'a>(row: &'a [bf16], scratch: &'a mut Vec<f32>) -> &'a [f32] {
        scratch.clear();
        scratch.extend(row.iter().map(|v| v.to_f32()));
        scratch
    }
}

/// Arithmetic the fused kernel needs from its lane type.
#[doc(hidden)]
pub trait Lane:
    Copy
    + Send
    + Sync
    + Default
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + 'static
{
    /// Negative infinity.
    const NEG_INFINITY: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// Zero.
    const ZERO: Self;
    /// Narrows from `f64`.
    fn from_f64(v: f64) -> Self;
    /// Widens to `f64`.
    fn widen(self) -> f64;
    /// The larger of two values, ignoring NaN.
    fn maximum(self, other: Self) -> Self;
    /// e^x for x ≤ 0 (or -inf, which gives 0); accurate to a few ulps.
    fn exp_nonpos(self) -> Self;
    /// ln x for x in (0, 1]; accurate to a few ulps.
    fn ln_unit(self) -> Self;
    /// true when the value is neither NaN nor +inf.
    fn below_inf(self) -> bool;
}

impl Lane for f64 {
    const NEG_INFINITY: f64 = f64::NEG_INFINITY;
    const INFINITY: f64 = f64::INFINITY;
    const ZERO: f64 = 0.0;
    #[inline(always)]
    fn from_f64(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn widen(self) -> f64 {
        self
    }
    #[inline(always)]
    fn maximum(self, other: f64) -> f64 {
        self.max(other)
    }
    #[inline(always)]
    fn exp_nonpos(self) -> f64 {
        self.exp()
    }
    #[inline(always)]
    fn ln_unit(self) -> f64 {
        self.ln()
    }
    #[inline(always)]
    fn below_inf(self) -> bool {
        self < f64::INFINITY
    }
}

impl Lane for f32 {
    const NEG_INFINITY: f32 = f32::NEG_INFINITY;
    const INFINITY: f32 = f32::INFINITY;
    const ZERO: f32 = 0.0;
    #[inline(always)]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn widen(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn maximum(self, other: f32) -> f32 {
        if other > self { other } else { self }
    }
    #[inline(always)]
    fn exp_nonpos(self) -> f32 {
        exp_f32(self)
    }
    #[inline(always)]
    fn ln_unit(self) -> f32 {
        ln_f32(self)
    }
    #[inline(always)]
    fn below_inf(self) -> bool {
        self < f32::INFINITY
    }
}

/// e^x in f32 by range reduction and a degree-6 polynomial (Cephes `expf` coefficients),
/// branch-free so that loops over it vectorise. Inputs below -87.3 flush to 0, which is
/// below f32's normal range and at most 1e-38 relative to the row's largest term (1).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23: adds and removes to round to nearest
    let under = x < -87.3;
    let xc = if under { -87.3 } else { x };
    let t = xc * LOG2E + MAGIC;
    let n = t - MAGIC;
    let r = xc - n * C1 - n * C2;
    let z = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let y = p * z + r + 1.0;
    let bits = ((t.to_bits() as i32 - MAGIC.to_bits() as i32 + 127) as u32) << 23;
    let v = y * f32::from_bits(bits);
    if under { 0.0 } else { v }
}

/// ln x in f32 for normal positive x (Cephes `logf` coefficients), branch-free.
#[inline(always)]
pub(crate) fn ln_f32(x: f32) -> f32 {
    const SQRTHF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000); // in [0.5, 1)
    let small = m < SQRTHF;
    e -= small as i32;
    m = if small { m + m - 1.0 } else { m - 1.0 };
    let z = m * m;
    let p = (((((((7.037_683_6e-2 * m - 1.151_461e-1) * m + 1.167_699_9e-1) * m
        - 1.242_014_1e-1)
        * m
        + 1.424_932_3e-1)
        * m
        - 1.666_805_8e-1)
        * m
        + 2.000_071_4e-1)
        * m
        - 2.499_999_4e-1)
        * m
        + 0.333_333_33;
    let ef = e as f32;
    let mut y = m * z * p;
    y += -2.121_944_4e-4 * ef;
    y += -0.5 * z;
    m + y + 0.693_359_4 * ef
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_matches_std_within_a_few_ulps() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x <= 0.0 {
            let got = exp_f32(x) as f64;
            let want = (x as f64).exp();
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-1e30), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn ln_f32_matches_std_within_a_few_ulps() {
        let mut worst = 0.0f64;
        let mut x = 1e-37f32;
        while x <= 1.0 {
            let got = ln_f32(x) as f64;
            let want = (x as f64).ln();
            worst = worst.max((got - want).abs() / want.abs().max(1.0));
            x *= 1.0137;
        }
        assert!(worst < 4e-7, "worst error {worst}");
        assert_eq!(ln_f32(1.0), 0.0);
    }
}
