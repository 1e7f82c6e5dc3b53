//! `infometer logits`: per-token measures of a logits tensor file, as JSON and `.npy` arrays.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use infometer_core::{Analyze, Base, Element, Rows, TokenMeasures};
use serde_json::json;

use crate::npy::{self, Data, Tensor};

/// Arguments of `infometer logits`.
#[derive(Debug, Clone, clap::Args)]
pub struct LogitsArgs {
    /// Logits: `.npy` (f16/f32/f64, C order, vocabulary last) or `FILE.safetensors:TENSOR`.
    #[arg(long)]
    pub logits: String,
    /// Integer labels of the leading shape (`.npy` or safetensors).
    #[arg(long)]
    pub labels: Option<String>,
    /// Reference logits of the same shape, for KL and JS.
    #[arg(long = "ref-logits")]
    pub ref_logits: Option<String>,
    /// Bool/u8 mask of the leading shape; 0 excludes a token from every measure.
    #[arg(long)]
    pub mask: Option<String>,
    /// Label value that marks a token to ignore.
    #[arg(long = "ignore-index", default_value_t = -100, allow_hyphen_values = true)]
    pub ignore_index: i64,
    /// Display base of entropies and NLL: e, 2, 10 or any number > 1.
    #[arg(long, default_value = "e")]
    pub base: String,
    /// Softmax temperature applied to both logits tensors.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Directory for entropy.npy, nll.npy, kl.npy, js.npy (float64, nats, leading shape),
    /// written all or nothing: into a temporary folder beside it, then renamed into place.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the whole set of files of a --out folder that is not empty (otherwise refused).
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Reads a tensor from `PATH.npy` or `PATH.safetensors:NAME`.
///
/// # Errors
/// A one-line message naming the file and the problem.
pub fn read_tensor(spec: &str) -> Result<Tensor> {
    let (path, name) = match spec.rsplit_once(':') {
        Some((p, n)) if p.ends_with(".safetensors") => (p, Some(n)),
        _ => (spec, None),
    };
    let bytes = std::fs::read(path).with_context(|| format!("{path}: cannot read"))?;
    let t = match name {
        Some(n) => npy::parse_safetensors(&bytes, n),
        None if path.ends_with(".safetensors") => bail!("{path}: name the tensor as {path}:NAME"),
        None => npy::parse_npy(&bytes),
    };
    t.with_context(|| format!("{path}: invalid tensor file"))
}

fn leading(t: &Tensor) -> (Vec<usize>, usize) {
    match t.shape.split_last() {
        Some((v, lead)) => (lead.to_vec(), *v),
        None => (vec![], 1),
    }
}

/// Runs the command and returns the JSON object it prints.
///
/// # Errors
/// Bad files, shapes, labels or values, as one-line messages naming the file.
pub fn run(args: &LogitsArgs) -> Result<serde_json::Value> {
    let base: Base = args
        .base
        .parse()
        .map_err(|e| anyhow!("--base {}: {e}", args.base))?;
    if let Some(dir) = &args.out {
        check_out(dir, args.force)?;
    }
    let logits = read_tensor(&args.logits)?;
    if logits.shape.is_empty() {
        bail!(
            "{}: logits must have at least one axis (the vocabulary)",
            args.logits
        );
    }
    let (lead, vocab) = leading(&logits);
    let n_rows: usize = lead.iter().product();
    if vocab == 0 || n_rows == 0 {
        bail!("{}: empty logits (shape {:?})", args.logits, logits.shape);
    }
    let reference = match &args.ref_logits {
        Some(p) => {
            let r = read_tensor(p)?;
            if r.shape != logits.shape {
                bail!(
                    "{p}: shape {:?} does not match logits shape {:?}",
                    r.shape,
                    logits.shape
                );
            }
            Some(r)
        }
        None => None,
    };
    let labels = match &args.labels {
        Some(p) => {
            let t = read_tensor(p)?;
            if t.shape != lead {
                bail!(
                    "{p}: labels shape {:?} does not match the logits' leading shape {:?}",
                    t.shape,
                    lead
                );
            }
            match t.data {
                Data::I64(v) => Some(v),
                other => bail!("{p}: labels must be integers, found {}", other.dtype()),
            }
        }
        None => None,
    };
    let mask = match &args.mask {
        Some(p) => {
            let t = read_tensor(p)?;
            if t.shape != lead {
                bail!(
                    "{p}: mask shape {:?} does not match the logits' leading shape {:?}",
                    t.shape,
                    lead
                );
            }
            match t.data {
                Data::Bool(v) => Some(v),
                Data::I64(v) => Some(v.into_iter().map(|x| x != 0).collect()),
                other => bail!("{p}: mask must be bool or u8, found {}", other.dtype()),
            }
        }
        None => None,
    };
    let measures = analyze_tensor(
        args,
        &logits,
        reference.as_ref(),
        labels.as_deref(),
        mask.as_deref(),
        vocab,
    )?;
    let summary = measures
        .summary()
        .map_err(|e| anyhow!("{}: {e}", args.logits))?;
    let written = match &args.out {
        Some(dir) => write_outputs(dir, &lead, &measures)?,
        None => Vec::new(),
    };
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
    if args.out.is_some() {
        o.insert("files".into(), json!(written));
    }
    Ok(out)
}

/// JSON has no infinity: +inf is written as the string "inf".
fn num(x: f64) -> serde_json::Value {
    if x.is_finite() {
        json!(x)
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!(null)
    }
}

fn analyze_tensor(
    args: &LogitsArgs,
    logits: &Tensor,
    reference: Option<&Tensor>,
    labels: Option<&[i64]>,
    mask: Option<&[bool]>,
    vocab: usize,
) -> Result<TokenMeasures> {
    fn go<T: Element>(
        args: &LogitsArgs,
        x: &[T],
        y: Option<&[T]>,
        labels: Option<&[i64]>,
        mask: Option<&[bool]>,
        vocab: usize,
    ) -> Result<TokenMeasures> {
        let mut a = Analyze::new(Rows::new(x, vocab)?)
            .ignore_index(args.ignore_index)
            .temperature(args.temperature);
        if let Some(y) = y {
            a = a.reference(Rows::new(y, vocab)?);
        }
        if let Some(l) = labels {
            a = a.labels(l);
        }
        if let Some(m) = mask {
            a = a.mask(m);
        }
        a.run().map_err(|e| {
            let file = match e {
                infometer_core::CoreError::LabelOutOfRange { .. } => {
                    args.labels.clone().unwrap_or_default()
                }
                infometer_core::CoreError::NonFinite {
                    what: "reference logits",
                    ..
                } => args.ref_logits.clone().unwrap_or_default(),
                _ => args.logits.clone(),
            };
            anyhow!("{file}: {e}")
        })
    }
    let widen = |t: &Tensor| -> Result<Vec<f64>> {
        match &t.data {
            Data::I64(_) | Data::Bool(_) => {
                bail!("logits must be floating point, found {}", t.data.dtype())
            }
            d => Ok(d.to_f64()),
        }
    };
    match (&logits.data, reference.map(|r| &r.data)) {
        (Data::F32(x), None) => go(args, x, None, labels, mask, vocab),
        (Data::F32(x), Some(Data::F32(y))) => go(args, x, Some(y), labels, mask, vocab),
        (Data::F16(x), None) => go(args, x, None, labels, mask, vocab),
        (Data::F16(x), Some(Data::F16(y))) => go(args, x, Some(y), labels, mask, vocab),
        (Data::BF16(x), None) => go(args, x, None, labels, mask, vocab),
        (Data::BF16(x), Some(Data::BF16(y))) => go(args, x, Some(y), labels, mask, vocab),
        (Data::F64(x), None) => go(args, x, None, labels, mask, vocab),
        (Data::F64(x), Some(Data::F64(y))) => go(args, x, Some(y), labels, mask, vocab),
        _ => {
            let x = widen(logits).map_err(|e| anyhow!("{}: {e}", args.logits))?;
            let y = match reference {
                Some(r) => Some(widen(r).map_err(|e| {
                    anyhow!("{}: {e}", args.ref_logits.clone().unwrap_or_default())
                })?),
                None => None,
            };
            go(args, &x, y.as_deref(), labels, mask, vocab)
        }
    }
}

/// Refuses, before any work, a `--out` that is a file, or a folder that already holds files
/// (an earlier run's set would mix with this one's) unless `force`.
fn check_out(dir: &Path, force: bool) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        bail!("--out {}: exists and is not a folder", dir.display());
    }
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("--out {}: cannot read the folder", dir.display()))?;
    if entries.next().is_some() && !force {
        bail!(
            "--out {}: the folder already holds files (an earlier run's?); pass --force to replace the whole set",
            dir.display()
        );
    }
    Ok(())
}

/// Writes the arrays into a fresh folder beside `dir` and renames it into place, so a
/// failure leaves nothing and a success leaves exactly this run's files. Returns the paths.
fn write_outputs(dir: &Path, lead: &[usize], m: &TokenMeasures) -> Result<Vec<String>> {
    let mut files: Vec<(&str, &Vec<f64>)> = vec![("entropy.npy", &m.entropy)];
    if let Some(v) = &m.nll {
        files.push(("nll.npy", v));
    }
    if let Some(v) = &m.kl_pq {
        files.push(("kl.npy", v));
    }
    if let Some(v) = &m.js {
        files.push(("js.npy", v));
    }
    let shown = dir.display();
    let name = dir
        .file_name()
        .ok_or_else(|| anyhow!("--out {shown}: needs a folder name"))?
        .to_string_lossy()
        .to_string();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("--out {shown}: cannot create {}", parent.display()))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    let staged = (|| -> Result<()> {
        std::fs::create_dir(&tmp)
            .with_context(|| format!("--out {shown}: cannot create a folder beside it"))?;
        for (file, v) in &files {
            let path = tmp.join(file);
            npy::write_atomic(&path, &npy::npy_bytes_f64(lead, v))
                .with_context(|| format!("--out {shown}: cannot write {file}"))?;
        }
        Ok(())
    })();
    if let Err(e) = staged {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let swapped = if dir.exists() {
        // --force (checked before the work): the earlier set moves aside, then goes
        let old = parent.join(format!(".{name}.old-{pid}"));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old)
            .and_then(|()| {
                std::fs::rename(&tmp, dir).inspect_err(|_| {
                    let _ = std::fs::rename(&old, dir);
                })
            })
            .map(|()| {
                let _ = std::fs::remove_dir_all(&old);
            })
    } else {
        std::fs::rename(&tmp, dir)
    };
    if let Err(e) = swapped {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!("--out {shown}: cannot move the results into place: {e}");
    }
    Ok(files
        .iter()
        .map(|(f, _)| dir.join(f).display().to_string())
        .collect())
}
