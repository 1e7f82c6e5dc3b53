//! The accumulator state of `infometer logits` as versioned JSON (`--state`), and `infometer merge`, which combines states into one report.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use infometer_core::{Base, LogitsAccumulator};
use serde_json::{Value, json};

use super::report_json;

/// The `format` field of a state file.
pub const STATE_FORMAT: &str = "infometer-logits-state";
/// The version this build writes and reads.
pub const STATE_VERSION: u64 = 1;

/// What a state holds besides the sums: the settings that must agree for a merge.
#[derive(Debug, Clone, PartialEq)]
pub struct LogitsState {
    /// The sums and counts.
    pub acc: LogitsAccumulator,
    /// Vocabulary size.
    pub vocab: usize,
    /// Rows scored (valid or not).
    pub n_rows: u64,
    /// Softmax temperature.
    pub temperature: f64,
    /// Whether labels were shifted (causal-LM alignment).
    pub shift_labels: bool,
}

/// An f64 as JSON: a number when finite, else "inf", "-inf" or "nan" (JSON has none of them).
fn f(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("nan")
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

fn get_f(v: &Value, key: &str) -> Option<f64> {
    match &v[key] {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s == "inf" => Some(f64::INFINITY),
        Value::String(s) if s == "-inf" => Some(f64::NEG_INFINITY),
        Value::String(s) if s == "nan" => Some(f64::NAN),
        _ => None,
    }
}

impl LogitsState {
    /// The versioned JSON document (exact: f64 values are written in their shortest form
    /// that reads back to the same bits).
    pub fn to_json(&self) -> Value {
        let a = &self.acc;
        json!({
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "vocab": self.vocab,
            "n_rows": self.n_rows,
            "temperature": self.temperature,
            "shift_labels": self.shift_labels,
            "has_labels": a.has_labels,
            "has_reference": a.has_reference,
            "n_tokens": a.n_tokens,
            "sum_entropy": f(a.sum_entropy),
            "sum_confidence": f(a.sum_confidence),
            "sum_nll": f(a.sum_nll),
            "sum_brier": f(a.sum_brier),
            "n_correct": a.n_correct,
            "sum_kl": f(a.sum_kl),
            "sum_kl_reverse": f(a.sum_kl_reverse),
            "sum_js": f(a.sum_js),
            "sum_reference_entropy": f(a.sum_reference_entropy),
            "bin_count": a.bin_count,
            "bin_confidence": a.bin_confidence,
            "bin_correct": a.bin_correct,
        })
    }

    /// Reads a state document; `name` is the file, for messages.
    ///
    /// # Errors
    /// One line naming the file: not JSON, another format or version, a missing or
    /// malformed field.
    pub fn from_json(text: &str, name: &str) -> Result<LogitsState> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| anyhow!("{name}: not a state file (invalid JSON: {e})"))?;
        if v["format"] != STATE_FORMAT {
            bail!(
                "{name}: not an infometer logits state (format {})",
                v["format"]
            );
        }
        match v["version"].as_u64() {
            Some(STATE_VERSION) => {}
            Some(other) => {
                bail!("{name}: state version {other}; this build reads version {STATE_VERSION}")
            }
            None => bail!("{name}: state without a version"),
        }
        let missing = |k: &str| anyhow!("{name}: state field {k} is missing or malformed");
        let u = |k: &str| v[k].as_u64().ok_or_else(|| missing(k));
        let b = |k: &str| v[k].as_bool().ok_or_else(|| missing(k));
        let x = |k: &str| get_f(&v, k).ok_or_else(|| missing(k));
        let uv = |k: &str| -> Result<Vec<u64>> {
            v[k].as_array()
                .ok_or_else(|| missing(k))?
                .iter()
                .map(|e| e.as_u64().ok_or_else(|| missing(k)))
                .collect()
        };
        let fv = |k: &str| -> Result<Vec<f64>> {
            v[k].as_array()
                .ok_or_else(|| missing(k))?
                .iter()
                .map(|e| e.as_f64().ok_or_else(|| missing(k)))
                .collect()
        };
        let mut acc = LogitsAccumulator::new(b("has_labels")?, b("has_reference")?);
        acc.n_tokens = u("n_tokens")?;
        acc.sum_entropy = x("sum_entropy")?;
        acc.sum_confidence = x("sum_confidence")?;
        acc.sum_nll = x("sum_nll")?;
        acc.sum_brier = x("sum_brier")?;
        acc.n_correct = u("n_correct")?;
        acc.sum_kl = x("sum_kl")?;
        acc.sum_kl_reverse = x("sum_kl_reverse")?;
        acc.sum_js = x("sum_js")?;
        acc.sum_reference_entropy = x("sum_reference_entropy")?;
        acc.bin_count = uv("bin_count")?;
        acc.bin_confidence = fv("bin_confidence")?;
        acc.bin_correct = uv("bin_correct")?;
        let bins = acc.bin_count.len();
        if bins == 0 || acc.bin_confidence.len() != bins || acc.bin_correct.len() != bins {
            bail!("{name}: state calibration bins disagree in length");
        }
        if acc.bin_count.iter().sum::<u64>() != if acc.has_labels { acc.n_tokens } else { 0 }
            || acc.n_correct > acc.n_tokens
        {
            bail!("{name}: state counts are inconsistent (a corrupt file?)");
        }
        let vocab = usize::try_from(u("vocab")?).map_err(|_| missing("vocab"))?;
        let temperature = x("temperature")?;
        if vocab == 0 || !(temperature.is_finite() && temperature > 0.0) {
            bail!("{name}: state vocab or temperature is invalid");
        }
        Ok(LogitsState {
            acc,
            vocab,
            n_rows: u("n_rows")?,
            temperature,
            shift_labels: b("shift_labels")?,
        })
    }

    /// Adds `other` (read from `name`) to this state.
    ///
    /// # Errors
    /// One line naming the file when the settings disagree.
    pub fn merge(&mut self, other: &LogitsState, name: &str) -> Result<()> {
        if other.vocab != self.vocab {
            bail!(
                "{name}: vocabulary {} differs from the first state's {}",
                other.vocab,
                self.vocab
            );
        }
        if other.temperature != self.temperature {
            bail!(
                "{name}: temperature {} differs from the first state's {}",
                other.temperature,
                self.temperature
            );
        }
        if other.shift_labels != self.shift_labels {
            bail!("{name}: --shift-labels differs from the first state's");
        }
        self.acc
            .merge(&other.acc)
            .map_err(|e| anyhow!("{name}: {e}"))?;
        self.n_rows += other.n_rows;
        Ok(())
    }
}

/// Combines state files of `logits --state` (shards, batches, workers) into one report.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// State files written by `infometer logits --state`, in any order.
    #[arg(required = true, num_args = 1..)]
    pub states: Vec<PathBuf>,
    /// Display base of entropies and NLL: e, 2, 10 or any number > 1.
    #[arg(long, default_value = "e")]
    pub base: String,
    /// Write the merged state here too (to merge again later).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `infometer merge`: the report of all the states' tokens, as one `logits` run over
/// them would print it.
///
/// # Errors
/// Unreadable, corrupt or mismatched state files, as one line naming the file.
pub fn run_merge(a: &MergeArgs) -> Result<Value> {
    let base: Base = a
        .base
        .parse()
        .map_err(|e| anyhow!("--base {}: {e}", a.base))?;
    let out = match &a.state {
        Some(p) => Some(crate::staged::StagedFile::create(p, "--state")?),
        None => None,
    };
    let mut merged: Option<LogitsState> = None;
    for p in &a.states {
        let name = p.display().to_string();
        let text = std::fs::read_to_string(p).map_err(|e| anyhow!("{name}: cannot read ({e})"))?;
        let s = LogitsState::from_json(&text, &name)?;
        match merged.as_mut() {
            None => merged = Some(s),
            Some(m) => m.merge(&s, &name)?,
        }
    }
    let m = merged.ok_or_else(|| anyhow!("merge: no state files"))?;
    let summary = m
        .acc
        .summary()
        .map_err(|e| anyhow!("{}: {e}", a.states[0].display()))?;
    let mut v = report_json(&summary, base, m.vocab, m.n_rows);
    v["merged_states"] = json!(a.states.len());
    if let Some(mut f) = out {
        f.write_all(m.to_json().to_string().as_bytes())?;
        f.commit()?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_back_bit_for_bit() {
        let mut acc = LogitsAccumulator::new(true, true);
        acc.n_tokens = 3;
        acc.sum_entropy = 0.1 + 0.2;
        acc.sum_confidence = std::f64::consts::PI * 1e-300;
        acc.sum_nll = f64::INFINITY;
        acc.sum_brier = 9.938531101503365;
        acc.n_correct = 2;
        acc.sum_kl = 1.0 / 3.0;
        acc.sum_kl_reverse = 5e-324;
        acc.sum_js = 2f64.sqrt();
        acc.sum_reference_entropy = 1e308;
        acc.bin_count[3] = 3;
        acc.bin_confidence[3] = 0.7 + 1e-17;
        acc.bin_correct[3] = 2;
        let s = LogitsState {
            acc,
            vocab: 7,
            n_rows: 4,
            temperature: 0.3,
            shift_labels: true,
        };
        let back = LogitsState::from_json(&s.to_json().to_string(), "x").unwrap();
        assert_eq!(back, s);
        assert_eq!(back.acc.sum_brier.to_bits(), s.acc.sum_brier.to_bits());
    }
}
