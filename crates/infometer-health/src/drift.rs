//! Drift monitoring: a deployed model's output distribution per time window against a reference window, with KL and JS, and an alarm with a data-derived threshold and persistence.

use infometer_core::{Base, Distribution, js_divergence, kl_divergence};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::{HealthError, Result};

/// One monitored window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowDrift {
    /// Window index.
    pub window: usize,
    /// KL(window ‖ reference) in bits (+inf if the window uses a class the reference never saw).
    pub kl_bits: f64,
    /// JS(window, reference) in bits, in [0, 1].
    pub js_bits: f64,
    /// JS above the threshold.
    pub exceeds: bool,
    /// The alarm: `persistence` consecutive windows above threshold.
    pub alarm: bool,
}

/// The drift report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    /// JS threshold in bits: mean + 4 sd of the in-control windows' JS.
    pub threshold_bits: f64,
    /// Consecutive exceedances needed to alarm.
    pub persistence: usize,
    /// Per-window values.
    pub windows: Vec<WindowDrift>,
    /// The first alarming window, if any.
    pub first_alarm: Option<usize>,
}

/// Monitors `windows` (class counts) against `reference`; the first `in_control` windows set
/// the threshold (their JS mean + 4 sd: a false-alarm rate per window well below 1% for
/// roughly normal noise, and persistence lowers it further).
///
/// # Errors
/// Shape mismatches, empty windows, fewer than 2 in-control windows.
pub fn monitor(
    reference: &[f64],
    windows: &[Vec<f64>],
    in_control: usize,
    persistence: usize,
) -> Result<DriftReport> {
    if in_control < 2 || in_control > windows.len() || persistence == 0 {
        return Err(HealthError::Invalid(
            "need at least 2 in-control windows and persistence ≥ 1".into(),
        ));
    }
    let r = Distribution::from_counts(reference)?;
    let mut kl = Vec::new();
    let mut js = Vec::new();
    for w in windows {
        let d = Distribution::from_counts(w)?;
        kl.push(Base::TWO.from_nats(kl_divergence(&d, &r)?));
        js.push(Base::TWO.from_nats(js_divergence(&d, &r)?));
    }
    let base = &js[..in_control];
    let mean = base.iter().sum::<f64>() / base.len() as f64;
    let sd =
        (base.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (base.len() - 1) as f64).sqrt();
    let threshold = mean + 4.0 * sd;
    let mut run = 0;
    let mut first = None;
    let out = (0..windows.len())
        .map(|i| {
            let exceeds = js[i] > threshold;
            run = if exceeds { run + 1 } else { 0 };
            let alarm = run >= persistence;
            if alarm && first.is_none() {
                first = Some(i);
            }
            WindowDrift {
                window: i,
                kl_bits: kl[i],
                js_bits: js[i],
                exceeds,
                alarm,
            }
        })
        .collect();
    Ok(DriftReport {
        threshold_bits: threshold,
        persistence,
        windows: out,
        first_alarm: first,
    })
}

/// Seeded simulation: a triage model's predicted-class counts over `n_windows` windows of
/// `per_window` predictions; from `shift_at` on, the population drifts toward sicker patients.
pub fn simulate(
    n_windows: usize,
    per_window: usize,
    shift_at: Option<usize>,
    seed: u64,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let base = [0.55, 0.25, 0.15, 0.05];
    let shifted = [0.40, 0.27, 0.21, 0.12];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |p: &[f64]| {
        let mut c = vec![0.0; p.len()];
        for _ in 0..per_window {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut k = p.len() - 1;
            for (i, pi) in p.iter().enumerate() {
                acc += pi;
                if u < acc {
                    k = i;
                    break;
                }
            }
            c[k] += 1.0;
        }
        c
    };
    let reference = draw(&base);
    let windows = (0..n_windows)
        .map(|t| {
            let a = match shift_at {
                Some(s) if t >= s => ((t - s + 1) as f64 / 3.0).min(1.0),
                _ => 0.0,
            };
            let p: Vec<f64> = base
                .iter()
                .zip(&shifted)
                .map(|(b, s)| (1.0 - a) * b + a * s)
                .collect();
            draw(&p)
        })
        .collect();
    (reference, windows)
}

impl std::fmt::Display for DriftReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "JS threshold {:.5} bits, persistence {}",
            self.threshold_bits, self.persistence
        )?;
        for w in &self.windows {
            writeln!(
                f,
                "window {:>3}: KL {:.5} bits, JS {:.5} bits{}",
                w.window,
                w.kl_bits,
                w.js_bits,
                if w.alarm {
                    " ALARM"
                } else if w.exceeds {
                    " above"
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}
