//! `infometer uncertainty`: total, aleatoric and epistemic uncertainty of an ensemble (or MC-dropout samples) per token, streamed in chunks of rows over memory-mapped member files.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use infometer_core::{
    Base, Element, Ensemble, EnsembleAccumulator, EnsembleMeasures, EnsembleSummary,
    MemberJackknife, Rows,
};
use serde_json::{Value, json};

use crate::logits::read_mask;
use crate::npy;
use crate::staged::{check_out_dir, write_out_dir};
use crate::tensor_file::{Floats, TensorFile};

/// Total, aleatoric and epistemic (mutual information) uncertainty of an ensemble or
/// MC-dropout samples, per token and averaged.
#[derive(Debug, Clone, clap::Args)]
pub struct UncertaintyArgs {
    /// Logits of each member (`.npy` or `FILE.safetensors:TENSOR`, vocabulary last), all of
    /// one shape; with --stacked, one file of shape [M, …, V].
    #[arg(long, required = true, num_args = 1..)]
    pub members: Vec<String>,
    /// The one --members file holds every member on its first axis: [M, …, V].
    #[arg(long)]
    pub stacked: bool,
    /// Bool/u8 mask of the leading shape (without the member axis); 0 leaves a token out.
    #[arg(long)]
    pub mask: Option<String>,
    /// Softmax temperature applied to every member.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub temperature: f64,
    /// Order α of the Rényi divergence from the predictive distribution to uniform.
    #[arg(
        long = "renyi-alpha",
        default_value_t = 0.5,
        allow_hyphen_values = true
    )]
    pub renyi_alpha: f64,
    /// Standard errors and a bias-corrected mutual information from a jackknife over members
    /// (M more passes; needs M ≥ 3).
    #[arg(long)]
    pub jackknife: bool,
    /// Display base: e, 2, 10 or any number > 1.
    #[arg(long, default_value = "e")]
    pub base: String,
    /// Directory for total.npy, aleatoric.npy, mutual_information.npy, rmi.npy, epkl.npy,
    /// max_prob.npy, renyi_to_uniform.npy, fisher_rao_to_uniform.npy (float64, nats, the
    /// leading shape; NaN where masked), written all or nothing.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the files of a --out folder that is not empty.
    #[arg(long)]
    pub force: bool,
    /// Rows per streamed chunk (default: about 64 MiB of logits over all members).
    #[arg(long = "chunk-rows", hide = true)]
    pub chunk_rows: Option<usize>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Below this many members the plug-in mutual information is noticeably biased low.
const FEW_MEMBERS: usize = 5;

/// The members: their files, and where member k's elements start in its file.
struct Members {
    files: Vec<TensorFile>,
    /// (file index, element offset) per member.
    at: Vec<(usize, usize)>,
    lead: Vec<usize>,
    rows: usize,
    vocab: usize,
}

fn open(args: &UncertaintyArgs) -> Result<Members> {
    let files = args
        .members
        .iter()
        .map(|m| TensorFile::open(m))
        .collect::<Result<Vec<_>>>()?;
    let first = &files[0];
    if args.stacked && files.len() != 1 {
        bail!(
            "--stacked: give one --members file of shape [M, …, V]; got {}",
            files.len()
        );
    }
    let (shape, at) = if args.stacked {
        let Some((&m, rest)) = first.shape.split_first() else {
            bail!("{}: a scalar is not logits", first.name);
        };
        if rest.is_empty() {
            bail!(
                "{}: one file is read as [M, …, V]; shape {:?} has no vocabulary axis",
                first.name,
                first.shape
            );
        }
        let per: usize = rest.iter().product();
        (
            rest.to_vec(),
            (0..m).map(|k| (0, k * per)).collect::<Vec<_>>(),
        )
    } else {
        for f in &files[1..] {
            if f.shape != first.shape {
                bail!(
                    "{}: shape {:?} differs from {}'s {:?} (members must have one shape and vocabulary)",
                    f.name,
                    f.shape,
                    first.name,
                    first.shape
                );
            }
        }
        (
            first.shape.clone(),
            (0..files.len()).map(|k| (k, 0)).collect(),
        )
    };
    if at.len() < 2 {
        bail!(
            "--members: a decomposition needs at least 2 members; got {} ({})",
            at.len(),
            if args.stacked {
                format!("{} has M = {} on its first axis", first.name, at.len())
            } else {
                "one file; give more, or --stacked for one [M, …, V] file".into()
            }
        );
    }
    let Some((&vocab, lead)) = shape.split_last() else {
        bail!("{}: logits need a vocabulary axis", first.name);
    };
    let rows: usize = lead.iter().product();
    if vocab == 0 || rows == 0 {
        bail!("{}: empty logits (shape {:?})", first.name, first.shape);
    }
    Ok(Members {
        lead: lead.to_vec(),
        rows,
        vocab,
        at,
        files,
    })
}

/// One chunk of rows through the ensemble: the full pass, then (with `loo`) each
/// leave-one-out pass.
fn chunk<T: Element>(
    slices: &[&[T]],
    vocab: usize,
    mask: Option<&[bool]>,
    args: &UncertaintyArgs,
    loo: bool,
) -> infometer_core::Result<(EnsembleMeasures, Vec<EnsembleMeasures>)> {
    let rows = slices
        .iter()
        .map(|s| Rows::new(s, vocab))
        .collect::<infometer_core::Result<Vec<_>>>()?;
    let mut e = Ensemble::new(rows)?
        .temperature(args.temperature)
        .renyi_alpha(args.renyi_alpha);
    if let Some(m) = mask {
        e = e.mask(m);
    }
    let full = e.run()?;
    let left = if loo {
        (0..slices.len())
            .map(|j| e.run_without(j))
            .collect::<infometer_core::Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    Ok((full, left))
}

/// Runs the command and returns the JSON object it prints.
///
/// # Errors
/// Bad flags, files, shapes or values, as one-line messages naming the flag or the file;
/// nothing is written then.
pub fn run(args: &UncertaintyArgs) -> Result<Value> {
    let base: Base = args
        .base
        .parse()
        .map_err(|e| anyhow!("--base {}: {e}", args.base))?;
    crate::logits::check_temperature(args.temperature)?;
    let a = args.renyi_alpha;
    if !(a.is_finite() && a > 0.0) {
        bail!("--renyi-alpha {a}: must be finite and positive");
    }
    if args.chunk_rows == Some(0) {
        bail!("--chunk-rows 0: must be at least 1");
    }
    if let Some(dir) = &args.out {
        check_out_dir(dir, args.force)?;
    }
    let mem = open(args)?;
    let m = mem.at.len();
    if args.jackknife && m < 3 {
        bail!("--jackknife: needs at least 3 members; got {m}");
    }
    let mask = match &args.mask {
        Some(p) => Some(read_mask(p, &mem.lead)?),
        None => None,
    };
    let floats = mem
        .files
        .iter()
        .map(|f| f.floats())
        .collect::<Result<Vec<_>>>()?;
    let same_type = floats.iter().all(|f| f.dtype() == floats[0].dtype());
    let width = match floats[0] {
        Floats::F16(_) | Floats::BF16(_) => 2,
        Floats::F32(_) => 4,
        Floats::F64(_) => 8,
    };
    let v = mem.vocab;
    let step = args
        .chunk_rows
        .unwrap_or(((64 << 20) / (m * v * width)).max(64));
    let mut full = EnsembleAccumulator::default();
    let mut loo = vec![EnsembleAccumulator::default(); if args.jackknife { m } else { 0 }];
    let mut per_token: Option<Vec<Vec<f64>>> = args.out.as_ref().map(|_| vec![Vec::new(); 8]);
    let mut r0 = 0;
    while r0 < mem.rows {
        let r1 = (r0 + step).min(mem.rows);
        let range = |k: usize| {
            let (_, off) = mem.at[k];
            off + r0 * v..off + r1 * v
        };
        let cm = mask.as_ref().map(|mk| &mk[r0..r1]);
        macro_rules! go {
            ($variant:ident) => {{
                let slices: Vec<_> = (0..m)
                    .map(|k| match floats[mem.at[k].0] {
                        Floats::$variant(x) => &x[range(k)],
                        _ => unreachable!("one element type"),
                    })
                    .collect();
                chunk(&slices, v, cm, args, args.jackknife)
            }};
        }
        let res = if !same_type {
            let wide: Vec<Vec<f64>> = (0..m)
                .map(|k| {
                    let e = range(k);
                    match floats[mem.at[k].0] {
                        Floats::F16(x) => x[e].iter().map(|a| a.to_f64()).collect(),
                        Floats::BF16(x) => x[e].iter().map(|a| a.to_f64()).collect(),
                        Floats::F32(x) => x[e].iter().map(|&a| f64::from(a)).collect(),
                        Floats::F64(x) => x[e].to_vec(),
                    }
                })
                .collect();
            let slices: Vec<&[f64]> = wide.iter().map(|w| w.as_slice()).collect();
            chunk(&slices, v, cm, args, args.jackknife)
        } else {
            match floats[0] {
                Floats::F16(_) => go!(F16),
                Floats::BF16(_) => go!(BF16),
                Floats::F32(_) => go!(F32),
                Floats::F64(_) => go!(F64),
            }
        };
        let (f, left) = res.map_err(|e| {
            let e = match e {
                infometer_core::CoreError::InMember { member, error } => {
                    let shifted = error.shifted(r0, v);
                    let name = if args.stacked {
                        format!("{} (member {member})", mem.files[0].name)
                    } else {
                        mem.files[member].name.clone()
                    };
                    return anyhow!("{name}: {shifted}");
                }
                other => other.shifted(r0, v),
            };
            anyhow!("{}: {e}", args.members.join(", "))
        })?;
        full.add(&f);
        for (s, l) in loo.iter_mut().zip(&left) {
            s.add(l);
        }
        if let Some(p) = per_token.as_mut() {
            for (k, col) in f.columns().into_iter().enumerate() {
                p[k].extend_from_slice(col);
            }
        }
        r0 = r1;
    }
    let Ok(s) = full.summary() else {
        bail!(
            "{}: no valid token: every position is masked",
            args.mask.as_deref().unwrap_or("--mask")
        );
    };
    let b = |x: f64| {
        if x.is_finite() {
            json!(base.from_nats(x))
        } else {
            json!("inf")
        }
    };
    let mut warnings = Vec::new();
    if m < FEW_MEMBERS {
        warnings.push(format!(
            "only {m} members: the mutual information (and EPKL, RMI) of a few members is biased low; --jackknife gives a bias-corrected value{}",
            if m < 3 { " with 3 or more" } else { "" }
        ));
    }
    if s.infinite_epkl > 0 {
        warnings.push(format!(
            "{} token(s) have EPKL = RMI = +inf: a member gives probability 0 to an outcome another member gives mass; the mutual information stays finite",
            s.infinite_epkl
        ));
    }
    let mut out = json!({
        "members": m,
        "vocab": v,
        "n_tokens": s.n_tokens,
        "base": args.base,
        "temperature": args.temperature,
        "total": b(s.total),
        "aleatoric": b(s.aleatoric),
        "mutual_information": b(s.mutual_information),
        "epistemic_share": s.mutual_information / s.total,
        "rmi": b(s.rmi),
        "epkl": b(s.epkl),
        "infinite_epkl": s.infinite_epkl,
        "max_prob": s.max_prob,
        "renyi_alpha": args.renyi_alpha,
        "renyi_to_uniform": b(s.renyi_to_uniform),
        "fisher_rao_to_uniform": s.fisher_rao_to_uniform,
    });
    if args.jackknife {
        let sums = loo
            .iter()
            .map(EnsembleAccumulator::summary)
            .collect::<infometer_core::Result<Vec<EnsembleSummary>>>()?;
        let j = MemberJackknife::from_summaries(&s, &sums);
        out["jackknife"] = json!({
            "mutual_information_se": base.from_nats(j.mi_se),
            "mutual_information_bias_corrected": base.from_nats(j.mi_bias_corrected),
            "total_se": base.from_nats(j.total_se),
            "epkl_se": if j.epkl_se.is_finite() { json!(base.from_nats(j.epkl_se)) } else { Value::Null },
        });
    }
    if let (Some(dir), Some(p)) = (&args.out, &per_token) {
        let names: Vec<String> = EnsembleMeasures::COLUMNS
            .iter()
            .map(|c| format!("{c}.npy"))
            .collect();
        let files: Vec<(&str, Vec<u8>)> = names
            .iter()
            .zip(p)
            .map(|(n, col)| (n.as_str(), npy::npy_bytes_f64(&mem.lead, col)))
            .collect();
        out["files"] = json!(write_out_dir(dir, &files)?);
    }
    out["warnings"] = json!(warnings);
    Ok(out)
}
