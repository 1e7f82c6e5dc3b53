//! What `logits` prints: the report of a summary, the temperature fit, the reliability diagram, and the per-token arrays kept for `--out`.

use anyhow::{Result, anyhow};
use infometer_core::{Base, LogitsAccumulator, Summary, TokenMeasures};
use serde_json::{Value, json};

use super::LogitsArgs;
use super::measures::ChunkPos;
use super::pass::{ChunkSums, PassOpts, pass};
use super::shards::Shard;

/// Per-token arrays kept for `--out`, in row order over all shards.
#[derive(Default)]
pub(super) struct PerToken {
    pub(super) entropy: Vec<f64>,
    pub(super) nll: Vec<f64>,
    pub(super) kl: Vec<f64>,
    pub(super) js: Vec<f64>,
}

impl PerToken {
    pub(super) fn add(&mut self, m: &TokenMeasures) {
        self.entropy.extend_from_slice(&m.entropy);
        if let Some(v) = &m.nll {
            self.nll.extend_from_slice(v);
        }
        if let Some(v) = &m.kl_pq {
            self.kl.extend_from_slice(v);
        }
        if let Some(v) = &m.js {
            self.js.extend_from_slice(v);
        }
    }
}

pub(super) fn num_or_null(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// `--fit-temperature`: T* minimising the mean NLL over every shard (streamed passes), with
/// NLL and ECE at the given temperature and at T*.
pub(super) fn fit(
    args: &LogitsArgs,
    shards: &[Shard],
    vocab: usize,
    before: &Summary,
) -> Result<Value> {
    let stats_at = |t: f64| -> Result<Summary> {
        let o = PassOpts {
            temperature: t,
            ignore_index: args.ignore_index,
            ce: None,
            with_js: false,
            distances: None,
        };
        let mut acc = LogitsAccumulator::new(true, false);
        let mut only_p = |m: &TokenMeasures, _: ChunkPos, _: ChunkSums| -> Result<()> {
            // the reference plays no part in the fit
            let mut m = m.clone();
            m.kl_pq = None;
            m.kl_qp = None;
            m.js = None;
            m.reference_entropy = None;
            acc.add(&m).map_err(|e| anyhow!("{e}"))
        };
        pass(args, shards, vocab, &o, &mut only_p)?;
        acc.summary().map_err(|e| anyhow!("{e}"))
    };
    let fitted = infometer_core::fit_temperature_by(|beta| {
        stats_at(1.0 / beta).map(|s| s.mean_nll.unwrap_or(f64::NAN))
    })?;
    let after = stats_at(fitted.temperature)?;
    Ok(json!({
        "temperature": fitted.temperature,
        "nll_before": num(before.mean_nll.unwrap_or(f64::NAN)),
        "nll_after": num(after.mean_nll.unwrap_or(f64::NAN)),
        "ece_before": before.calibration.as_ref().map(|c| c.ece),
        "ece_after": after.calibration.as_ref().map(|c| c.ece),
        "unit": "nats",
    }))
}

/// The reliability diagram: accuracy against mean confidence per non-empty bin, with the
/// diagonal of perfect calibration.
pub(super) fn reliability_svg(c: &infometer_core::Calibration) -> String {
    let pts: Vec<(f64, f64)> = c
        .bins
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| (b.mean_confidence, b.accuracy))
        .collect();
    infometer_experiments::svg::line_chart(
        &format!("Reliability (ECE {:.4})", c.ece),
        "mean confidence",
        "accuracy",
        &[
            ("model".to_string(), pts),
            ("perfect".to_string(), vec![(0.0, 0.0), (1.0, 1.0)]),
        ],
        false,
    )
}

/// JSON has no infinity: +inf is written as the string "inf" (NLL, perplexity and KL alike),
/// NaN and −inf as null.
pub(super) fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!(null)
    }
}

/// The report of a summary, as `logits` and `merge` print it.
pub fn report_json(summary: &Summary, base: Base, vocab: usize, n_rows: u64) -> Value {
    let b = |x: f64| base.from_nats(x);
    let mut out = json!({
        "n_tokens": summary.n_tokens,
        "n_rows": n_rows,
        "vocab": vocab,
        "base": base.to_string(),
        "unit": base.unit(),
        "mean_entropy": b(summary.mean_entropy),
        "mean_confidence": summary.mean_confidence,
    });
    let o = out.as_object_mut().expect("object");
    if let Some(nll) = summary.mean_nll {
        // +inf (a label on a −inf logit) is written "inf", as KL is
        o.insert("mean_nll".into(), num(b(nll)));
        o.insert(
            "perplexity".into(),
            num(summary.perplexity.unwrap_or(f64::NAN)),
        );
        o.insert("bits_per_token".into(), num(Base::TWO.from_nats(nll)));
        o.insert("accuracy".into(), json!(summary.accuracy));
        o.insert("brier".into(), json!(summary.brier));
        if let Some(c) = &summary.calibration {
            o.insert("ece".into(), json!(c.ece));
            o.insert("mce".into(), json!(c.mce));
        }
    }
    if let Some(kl) = summary.mean_kl {
        o.insert("mean_kl".into(), num(b(kl)));
        o.insert(
            "mean_kl_reverse".into(),
            num(b(summary.mean_kl_reverse.unwrap_or(f64::NAN))),
        );
        o.insert(
            "mean_js".into(),
            json!(b(summary.mean_js.unwrap_or(f64::NAN))),
        );
        if let Some(h) = summary.mean_reference_entropy {
            o.insert("mean_entropy_reference".into(), json!(b(h)));
        }
    }
    out
}
