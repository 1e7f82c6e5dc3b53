//! The fused row kernel: log-sum-exp, entropy, top-1, Σp² and, for a pair of rows, both KLs and JS in two or three sweeps over cache-resident data.

use crate::element::Lane;

/// Width of the accumulator arrays; the compiler maps them onto SIMD registers.
const W: usize = 8;

/// Elements per block whose partial sums stay in the lane type before widening to f64.
const BLOCK: usize = 64;

/// Why a row was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RowError {
    /// NaN or +inf at this index of the row.
    NonFinite(usize, f64),
    /// Every logit is -inf.
    NoMass,
}

/// The inverse of a softmax temperature, checked: T finite and positive, and 1/T finite even
/// in f32 (the lane type of f32 and f16 rows), so that no scaled difference is 0·∞.
pub(crate) fn inverse_temperature(t: f64) -> crate::Result<f64> {
    let inv = 1.0 / t;
    if t.is_finite() && t > 0.0 && (inv as f32).is_finite() {
        Ok(inv)
    } else {
        Err(crate::CoreError::InvalidParameter {
            name: "temperature",
            value: t,
            reason: "must be finite, positive and at least 1/f32::MAX (about 3e-39)",
        })
    }
}

/// What one sweep over a row of logits gives, in nats, after scaling by `inv_t`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowStats {
    /// Largest scaled logit.
    pub(crate) max: f64,
    /// Largest logit, unscaled.
    pub(crate) max_raw: f64,
    /// ln Σ exp(x_i·inv_t − max): so log-sum-exp = max + ln_sum.
    pub(crate) ln_sum: f64,
    /// Shannon entropy of softmax(x·inv_t).
    pub(crate) entropy: f64,
    /// Index of the first largest logit.
    pub(crate) top1: usize,
    /// Σ p_i².
    pub(crate) sum_p2: f64,
}

impl RowStats {
    pub(crate) fn lse(&self) -> f64 {
        self.max + self.ln_sum
    }
    /// log p_j for a logit x_j (unscaled), relative to the row maximum: (x_j − max)·inv_t −
    /// ln_sum. Forming max + ln_sum first would round away ln_sum for large logits (a row
    /// of 1e16s would lose its ln V); the difference x_j − max is exact near the top, and it
    /// cannot overflow when scaled, as x_j·inv_t can.
    pub(crate) fn log_prob(&self, x: f64, inv_t: f64) -> f64 {
        (x - self.max_raw) * inv_t - self.ln_sum
    }
}

/// Largest value, its first index, and the first NaN/+inf if any.
///
/// Each lane remembers the chunk in which its running maximum last grew strictly, so the first
/// index holding the maximum comes out of the same pass (no second scan of the row).
#[inline(always)]
fn max_pass<L: Lane>(x: &[L]) -> Result<(L, usize), RowError> {
    let mut lanes = [L::NEG_INFINITY; W];
    let mut first = [0u32; W];
    let mut ok = [true; W];
    let chunks = x.chunks_exact(W);
    let tail = chunks.remainder();
    // u32 chunk numbers: rows of up to 2^32 · W elements
    for (ci, c) in (0u32..).zip(chunks) {
        for j in 0..W {
            let grows = c[j] > lanes[j];
            first[j] = if grows { ci } else { first[j] };
            lanes[j] = lanes[j].maximum(c[j]);
            ok[j] &= c[j].below_inf();
        }
    }
    let mut m = L::NEG_INFINITY;
    let mut all_ok = ok.iter().all(|&b| b);
    for &v in tail {
        m = m.maximum(v);
        all_ok &= v.below_inf();
    }
    for l in lanes {
        m = m.maximum(l);
    }
    if !all_ok {
        let i = x.iter().position(|v| !v.below_inf()).unwrap_or(0);
        return Err(RowError::NonFinite(i, x[i].widen()));
    }
    if m.partial_cmp(&L::NEG_INFINITY) != Some(std::cmp::Ordering::Greater) {
        return Err(RowError::NoMass);
    }
    // the first index equal to m: the earliest lane hit, else the first in the tail
    let top1 = (0..W)
        .filter(|&j| lanes[j] == m)
        .map(|j| first[j] as usize * W + j)
        .min()
        .or_else(|| {
            let start = x.len() - tail.len();
            tail.iter().position(|&v| v == m).map(|p| start + p)
        })
        .unwrap_or(0);
    Ok((m, top1))
}

/// One row: max pass, then Σe, Σe·d, Σe² with e = exp(d), d = (x − max)·inv_t.
///
/// Dispatches at run time to a copy compiled for AVX2+FMA when the CPU has them (the same
/// code, so results differ only in the last bits that vector width changes).
pub(crate) fn single<L: Lane>(x: &[L], inv_t: f64) -> Result<RowStats, RowError> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: `single_avx2` only requires the AVX2 and FMA features, detected just above.
        #[allow(unsafe_code)]
        return unsafe { single_avx2(x, inv_t) };
    }
    single_impl(x, inv_t)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn single_avx2<L: Lane>(x: &[L], inv_t: f64) -> Result<RowStats, RowError> {
    single_impl(x, inv_t)
}

#[inline(always)]
fn single_impl<L: Lane>(x: &[L], inv_t: f64) -> Result<RowStats, RowError> {
    let (m, top1) = max_pass(x)?;
    let it = L::from_f64(inv_t);
    // lane-type partial sums over blocks of BLOCK elements, flushed into f64: the f32 path
    // never adds more than BLOCK / W terms in f32 before widening
    let mut s = [0.0f64; W];
    let mut t = [0.0f64; W];
    let mut q = [0.0f64; W];
    let blocks = x.chunks_exact(BLOCK);
    let rest = blocks.remainder();
    for block in blocks {
        let mut bs = [L::ZERO; W];
        let mut bt = [L::ZERO; W];
        let mut bq = [L::ZERO; W];
        for c in block.chunks_exact(W) {
            for j in 0..W {
                let d = (c[j] - m) * it;
                let e = d.exp_nonpos();
                bs[j] = bs[j] + e;
                bt[j] = bt[j] + if e > L::ZERO { e * d } else { L::ZERO };
                bq[j] = bq[j] + e * e;
            }
        }
        for j in 0..W {
            s[j] += bs[j].widen();
            t[j] += bt[j].widen();
            q[j] += bq[j].widen();
        }
    }
    let (mut ss, mut tt, mut qq) = (0.0, 0.0, 0.0);
    for &v in rest {
        let d = (v - m) * it;
        let e = d.exp_nonpos();
        let ew = e.widen();
        ss += ew;
        tt += if e > L::ZERO { ew * d.widen() } else { 0.0 };
        qq += ew * ew;
    }
    ss += s.iter().sum::<f64>();
    tt += t.iter().sum::<f64>();
    qq += q.iter().sum::<f64>();
    let ln_sum = ss.ln();
    Ok(RowStats {
        max: m.widen() * inv_t,
        max_raw: m.widen(),
        ln_sum,
        entropy: (ln_sum - tt / ss).max(0.0),
        top1,
        sum_p2: qq / (ss * ss),
    })
}

/// A pair of rows P (x) and Q (y) of the same length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PairStats {
    pub(crate) p: RowStats,
    pub(crate) q: RowStats,
    pub(crate) kl_pq: f64,
    pub(crate) kl_qp: f64,
    /// NaN when not requested.
    pub(crate) js: f64,
}

/// Both rows in one sweep; with `want_js` a third sweep over the stored shifted logits.
/// Dispatches to an AVX2+FMA copy as [`single`] does.
pub(crate) fn pair<L: Lane>(
    x: &[L],
    y: &[L],
    inv_t: f64,
    want_js: bool,
    dx_buf: &mut Vec<L>,
    dy_buf: &mut Vec<L>,
) -> Result<PairStats, (bool, RowError)> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: `pair_avx2` only requires the AVX2 and FMA features, detected just above.
        #[allow(unsafe_code)]
        return unsafe { pair_avx2(x, y, inv_t, want_js, dx_buf, dy_buf) };
    }
    pair_impl(x, y, inv_t, want_js, dx_buf, dy_buf)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn pair_avx2<L: Lane>(
    x: &[L],
    y: &[L],
    inv_t: f64,
    want_js: bool,
    dx_buf: &mut Vec<L>,
    dy_buf: &mut Vec<L>,
) -> Result<PairStats, (bool, RowError)> {
    pair_impl(x, y, inv_t, want_js, dx_buf, dy_buf)
}

#[inline(always)]
fn pair_impl<L: Lane>(
    x: &[L],
    y: &[L],
    inv_t: f64,
    want_js: bool,
    dx_buf: &mut Vec<L>,
    dy_buf: &mut Vec<L>,
) -> Result<PairStats, (bool, RowError)> {
    debug_assert_eq!(x.len(), y.len());
    let (mx, top_x) = max_pass(x).map_err(|e| (false, e))?;
    let (my, top_y) = max_pass(y).map_err(|e| (true, e))?;
    let it = L::from_f64(inv_t);
    let n = x.len();
    if want_js {
        dx_buf.clear();
        dx_buf.resize(n, L::ZERO);
        dy_buf.clear();
        dy_buf.resize(n, L::ZERO);
    }
    // accumulators: sx, sy, tx = Σex·dx, ty, qx, qy, cx = Σex(dx−dy), cy = Σey(dy−dx)
    let mut acc = [[0.0f64; W]; 8];
    let full = n / BLOCK * BLOCK;
    for (bi, (bx, by)) in x[..full]
        .chunks_exact(BLOCK)
        .zip(y[..full].chunks_exact(BLOCK))
        .enumerate()
    {
        let mut b = [[L::ZERO; W]; 8];
        for (ci, (cx, cy)) in bx.chunks_exact(W).zip(by.chunks_exact(W)).enumerate() {
            let mut ddx = [L::ZERO; W];
            let mut ddy = [L::ZERO; W];
            for j in 0..W {
                let dx = (cx[j] - mx) * it;
                let dy = (cy[j] - my) * it;
                let ex = dx.exp_nonpos();
                let ey = dy.exp_nonpos();
                b[0][j] = b[0][j] + ex;
                b[1][j] = b[1][j] + ey;
                b[2][j] = b[2][j] + if ex > L::ZERO { ex * dx } else { L::ZERO };
                b[3][j] = b[3][j] + if ey > L::ZERO { ey * dy } else { L::ZERO };
                b[4][j] = b[4][j] + ex * ex;
                b[5][j] = b[5][j] + ey * ey;
                b[6][j] = b[6][j]
                    + if ex > L::ZERO {
                        ex * (dx - dy)
                    } else {
                        L::ZERO
                    };
                b[7][j] = b[7][j]
                    + if ey > L::ZERO {
                        ey * (dy - dx)
                    } else {
                        L::ZERO
                    };
                ddx[j] = dx;
                ddy[j] = dy;
            }
            if want_js {
                let at = bi * BLOCK + ci * W;
                dx_buf[at..at + W].copy_from_slice(&ddx);
                dy_buf[at..at + W].copy_from_slice(&ddy);
            }
        }
        for k in 0..8 {
            for j in 0..W {
                acc[k][j] += b[k][j].widen();
            }
        }
    }
    let mut tail = [0.0f64; 8];
    for i in full..n {
        let dx = (x[i] - mx) * it;
        let dy = (y[i] - my) * it;
        let (ex, ey) = (dx.exp_nonpos(), dy.exp_nonpos());
        let (exw, eyw, dxw, dyw) = (ex.widen(), ey.widen(), dx.widen(), dy.widen());
        tail[0] += exw;
        tail[1] += eyw;
        tail[2] += if ex > L::ZERO { exw * dxw } else { 0.0 };
        tail[3] += if ey > L::ZERO { eyw * dyw } else { 0.0 };
        tail[4] += exw * exw;
        tail[5] += eyw * eyw;
        tail[6] += if ex > L::ZERO { exw * (dxw - dyw) } else { 0.0 };
        tail[7] += if ey > L::ZERO { eyw * (dyw - dxw) } else { 0.0 };
        if want_js {
            dx_buf[i] = dx;
            dy_buf[i] = dy;
        }
    }
    let tot: Vec<f64> = acc
        .iter()
        .zip(&tail)
        .map(|(a, t)| a.iter().sum::<f64>() + t)
        .collect();
    let (sx, sy, tx, ty, qx, qy, cx, cy) = (
        tot[0], tot[1], tot[2], tot[3], tot[4], tot[5], tot[6], tot[7],
    );
    let (lsx, lsy) = (sx.ln(), sy.ln());
    let p = RowStats {
        max: mx.widen() * inv_t,
        max_raw: mx.widen(),
        ln_sum: lsx,
        entropy: (lsx - tx / sx).max(0.0),
        top1: top_x,
        sum_p2: qx / (sx * sx),
    };
    let q = RowStats {
        max: my.widen() * inv_t,
        max_raw: my.widen(),
        ln_sum: lsy,
        entropy: (lsy - ty / sy).max(0.0),
        top1: top_y,
        sum_p2: qy / (sy * sy),
    };
    // KL(P‖Q) = Σ p (dx − dy) − ln sx + ln sy; +inf when some dy = −inf where p > 0.
    let kl_pq = (cx / sx - lsx + lsy).max(0.0);
    let kl_qp = (cy / sy - lsy + lsx).max(0.0);
    let js = if want_js {
        js_sweep(dx_buf, dy_buf, sx, sy)
    } else {
        f64::NAN
    };
    Ok(PairStats {
        p,
        q,
        kl_pq,
        kl_qp,
        js,
    })
}

struct JsConsts<L> {
    isx: L,
    isy: L,
    lsx: L,
    lsy: L,
    tiny: L,
    half: L,
}

/// One element's p (ln p − ln m) + q (ln q − ln m); a function, not a closure, so that it is
/// inlined into the vectorised loop (the closure was compiled as a call per element).
#[inline(always)]
fn js_term<L: Lane>(d1: L, d2: L, c: &JsConsts<L>) -> L {
    let p = d1.exp_nonpos() * c.isx;
    let q = d2.exp_nonpos() * c.isy;
    let m = (p + q) * c.half;
    let keep = m > c.tiny;
    let lm = if keep { m } else { c.half }.ln_unit();
    let tp = if p > L::ZERO && keep {
        p * (d1 - c.lsx - lm)
    } else {
        L::ZERO
    };
    let tq = if q > L::ZERO && keep {
        q * (d2 - c.lsy - lm)
    } else {
        L::ZERO
    };
    tp + tq
}

/// JS(P,Q) = ½ Σ p (ln p − ln m) + ½ Σ q (ln q − ln m), m = (p+q)/2, from the stored
/// scaled, shifted logits d: ln p = d_x − ln s_x, so only ln m costs a logarithm.
/// Terms with m ≤ 1e-37 are dropped: each is at most m·ln 2.
#[inline(always)]
fn js_sweep<L: Lane>(dx: &[L], dy: &[L], sx: f64, sy: f64) -> f64 {
    let (lsx, lsy) = (L::from_f64(sx.ln()), L::from_f64(sy.ln()));
    let (isx, isy) = (L::from_f64(1.0 / sx), L::from_f64(1.0 / sy));
    let tiny = L::from_f64(1e-37);
    let half = L::from_f64(0.5);
    let c = JsConsts {
        isx,
        isy,
        lsx,
        lsy,
        tiny,
        half,
    };
    let term = |d1: L, d2: L| js_term(d1, d2, &c);
    let mut a = [0.0f64; W];
    let n = dx.len();
    let full = n / BLOCK * BLOCK;
    for (b1, b2) in dx[..full]
        .chunks_exact(BLOCK)
        .zip(dy[..full].chunks_exact(BLOCK))
    {
        let mut b = [L::ZERO; W];
        for (c1, c2) in b1.chunks_exact(W).zip(b2.chunks_exact(W)) {
            for j in 0..W {
                b[j] = b[j] + term(c1[j], c2[j]);
            }
        }
        for j in 0..W {
            a[j] += b[j].widen();
        }
    }
    let mut rest = 0.0;
    for i in full..n {
        rest += term(dx[i], dy[i]).widen();
    }
    (0.5 * (a.iter().sum::<f64>() + rest)).clamp(0.0, std::f64::consts::LN_2)
}
