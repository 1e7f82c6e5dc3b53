//! `infometer compare`: two models on the same labelled tokens, with document-level intervals, the delta method, a sign-flip test, and the models' per-token divergence and top-1 agreement.

use anyhow::{Context, Result, anyhow, bail};
use infometer_core::{
    Base, CiMethod, CompareMetric, CompareOptions, Comparison, MAX_RESAMPLES, PairedUnits,
    Resampling, TokenPair, calibration,
};
use serde_json::{Value, json};

use super::pass::{PassOpts, pass};
use super::report::{num, num_or_null};
use super::shards::open_shards;
use super::{LogitsArgs, read_bytes};

/// Two models on the same labelled tokens: Δ NLL, perplexity ratio, Δ ECE, Δ Brier with
/// document-level intervals, the delta method and a paired sign-flip test.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Logits of model A (`.npy` or `FILE.safetensors:TENSOR`); several files are shards.
    #[arg(long = "a", required = true, num_args = 1..)]
    pub a: Vec<String>,
    /// Logits of model B, same shape as A, one file per shard of A.
    #[arg(long = "b", required = true, num_args = 1..)]
    pub b: Vec<String>,
    /// Integer labels of the leading shape, one file per shard.
    #[arg(long, required = true, num_args = 1..)]
    pub labels: Vec<String>,
    /// Bool/u8 mask of the leading shape, one file per shard; 0 excludes a token.
    #[arg(long, num_args = 1..)]
    pub mask: Vec<String>,
    /// Label value that marks a token to ignore.
    #[arg(long = "ignore-index", default_value_t = -100, allow_hyphen_values = true)]
    pub ignore_index: i64,
    /// Causal-LM alignment: the logits at t score the label at t + 1 (as `logits`).
    #[arg(long = "shift-labels")]
    pub shift_labels: bool,
    /// Softmax temperature applied to both models.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub temperature: f64,
    /// UTF-8 bytes of each sequence (`.npy` of one count per sequence), for Δ bits per byte.
    #[arg(long)]
    pub bytes: Option<String>,
    /// What a bootstrap replicate draws: documents (each sequence; the default and the
    /// honest unit), tokens (as if independent; warned), or blocks (moving blocks of
    /// --block-len tokens, for one long text).
    #[arg(long, default_value = "documents")]
    pub resample: String,
    /// Tokens per block with --resample blocks.
    #[arg(long = "block-len", allow_hyphen_values = true)]
    pub block_len: Option<usize>,
    /// Bootstrap replicates (also the sign-flip draws above 20 documents), 1..=100000.
    #[arg(long, default_value_t = 9999, allow_hyphen_values = true)]
    pub resamples: usize,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub seed: u64,
    /// Confidence level of every interval.
    #[arg(long, default_value_t = 0.95, allow_hyphen_values = true)]
    pub level: f64,
    /// Bootstrap interval: bca or percentile.
    #[arg(long, default_value = "bca")]
    pub interval: String,
    /// Equal-width confidence bins of ECE.
    #[arg(long, default_value_t = infometer_core::DEFAULT_BINS, allow_hyphen_values = true)]
    pub bins: usize,
    /// Display base of NLL differences: e, 2, 10 or any number > 1.
    #[arg(long, default_value = "e")]
    pub base: String,
    /// Directory for nll_a.npy, nll_b.npy, kl_a_b.npy, kl_b_a.npy and js.npy (float64,
    /// nats, the leading shape, NaN where masked), written all or nothing.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Replace the files of an --out folder that is not empty.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The largest table of per-document sums `compare` builds (4 GiB).
const MAX_TABLE_BYTES: f64 = (4u64 << 30) as f64;

/// The `logits` arguments of one model's pass.
fn pass_args(logits: &[String], reference: &[String], a: &CompareArgs) -> LogitsArgs {
    LogitsArgs {
        logits: logits.to_vec(),
        labels: a.labels.clone(),
        ref_logits: reference.to_vec(),
        mask: a.mask.clone(),
        ignore_index: a.ignore_index,
        shift_labels: a.shift_labels,
        base: a.base.clone(),
        temperature: a.temperature,
        out: None,
        force: false,
        state: None,
        per_sequence: false,
        bytes: None,
        uncertainty_threshold: 0.7,
        surprisal_bits: None,
        surprisal_prob: None,
        class_weights: None,
        label_smoothing: 0.0,
        fit_temperature: false,
        distances: false,
        renyi_alpha: None,
        profile_window: None,
        profile_stride: None,
        tokens_out: None,
        chunk_rows: None,
        json: false,
    }
}

/// What pass A keeps per valid token for pass B to pair with.
struct SideA {
    nll: f64,
    brier: f64,
    conf: f64,
    top1: u32,
    label: i64,
}

/// Checks the flags before any file is read.
fn options(args: &CompareArgs) -> Result<(CompareOptions, Base, bool)> {
    let base: Base = args
        .base
        .parse()
        .map_err(|e| anyhow!("--base {}: {e}", args.base))?;
    if args.resamples == 0 || args.resamples > MAX_RESAMPLES {
        bail!(
            "--resamples {}: must lie in 1..={MAX_RESAMPLES}",
            args.resamples
        );
    }
    if !(args.level > 0.0 && args.level < 1.0) {
        bail!("--level {}: must lie strictly between 0 and 1", args.level);
    }
    super::check_temperature(args.temperature)?;
    if args.bins == 0 || args.bins > infometer_core::MAX_BINS {
        bail!(
            "--bins {}: must lie in 1..={}",
            args.bins,
            infometer_core::MAX_BINS
        );
    }
    let method: CiMethod = args
        .interval
        .parse()
        .map_err(|_| anyhow!("--interval {}: must be bca or percentile", args.interval))?;
    let (resampling, tokens) = match (args.resample.as_str(), args.block_len) {
        ("documents", None) => (Resampling::Units, false),
        ("tokens", None) => (Resampling::Units, true),
        ("blocks", Some(0)) => bail!("--block-len 0: must be at least 1"),
        ("blocks", Some(len)) => (Resampling::MovingBlocks { len }, true),
        ("blocks", None) => bail!("--resample blocks: needs --block-len"),
        ("documents" | "tokens", Some(_)) => {
            bail!("--block-len: applies only to --resample blocks")
        }
        (other, _) => bail!("--resample {other}: must be documents, tokens or blocks"),
    };
    if tokens && args.bytes.is_some() {
        bail!("--bytes: bits per byte needs document units; drop it or use --resample documents");
    }
    if args.b.len() != args.a.len() {
        bail!(
            "--b: {} file(s) for {} --a shard(s); give one per shard, in the same order",
            args.b.len(),
            args.a.len()
        );
    }
    Ok((
        CompareOptions {
            resamples: args.resamples,
            seed: args.seed,
            level: args.level,
            method,
            resampling,
        },
        base,
        tokens,
    ))
}

/// Runs the command and returns the JSON object it prints.
///
/// # Errors
/// Bad flags, files, shapes, labels or values, as one-line messages naming the flag or the
/// file; the command writes no file.
pub fn run(args: &CompareArgs) -> Result<Value> {
    let (opts, base, token_units) = options(args)?;
    if let Some(dir) = &args.out {
        crate::staged::check_out_dir(dir, args.force)?;
    }
    let a_args = pass_args(&args.a, &args.b, args);
    let b_args = pass_args(&args.b, &[], args);
    let (shards_a, vocab) = open_shards(&a_args)?;
    let (shards_b, _) = open_shards(&b_args)?;
    let n_seq: usize = shards_a
        .iter()
        .map(|s| s.rows / super::seq_len(s) as usize)
        .sum();
    // the per-document sums are held for the resampling: checked before any work
    let table = n_seq as f64 * PairedUnits::row_bytes(args.bins) as f64;
    if !token_units && table > MAX_TABLE_BYTES {
        bail!(
            "--bins {}: {n_seq} sequences would need {:.1} GiB of per-document sums (at most {:.0} GiB); use fewer --bins",
            args.bins,
            table / f64::from(1u32 << 30),
            MAX_TABLE_BYTES / f64::from(1u32 << 30)
        );
    }
    let bytes = match &args.bytes {
        Some(spec) => {
            let b = read_bytes(spec, n_seq)?;
            if b.len() != n_seq {
                bail!("--bytes {spec}: give one count per sequence (a .npy of {n_seq})");
            }
            Some(b)
        }
        None => None,
    };
    let po = PassOpts {
        temperature: args.temperature,
        ignore_index: args.ignore_index,
        ce: None,
        with_js: true,
        distances: None,
    };
    // pass A (with B as the reference): A's side of each token, and the divergences
    let mut side_a: Vec<SideA> = Vec::new();
    let (mut kl_ab, mut kl_ba, mut js) = (0.0, 0.0, 0.0);
    // per position, with --out: NLL of A, KL(A‖B), KL(B‖A), JS, then NLL of B
    let mut arrays: Option<[Vec<f64>; 5]> = args.out.as_ref().map(|_| Default::default());
    pass(&a_args, &shards_a, vocab, &po, &mut |m, _, _| {
        let (Some(nll), Some(brier), Some(labels)) = (&m.nll, &m.brier, &m.labels) else {
            return Ok(());
        };
        if let Some(a) = arrays.as_mut() {
            let empty = Vec::new();
            for (dst, src) in a.iter_mut().zip([
                nll,
                m.kl_pq.as_ref().unwrap_or(&empty),
                m.kl_qp.as_ref().unwrap_or(&empty),
                m.js.as_ref().unwrap_or(&empty),
            ]) {
                dst.extend_from_slice(src);
            }
        }
        for i in (0..m.valid.len()).filter(|&i| m.valid[i]) {
            side_a.push(SideA {
                nll: nll[i],
                brier: brier[i],
                conf: m.top1_prob[i],
                top1: m.top1_index[i],
                label: labels[i],
            });
            kl_ab += m.kl_pq.as_ref().map_or(0.0, |v| v[i]);
            kl_ba += m.kl_qp.as_ref().map_or(0.0, |v| v[i]);
            js += m.js.as_ref().map_or(0.0, |v| v[i]);
        }
        Ok(())
    })?;
    if side_a.is_empty() {
        bail!(
            "{}: no valid token: every position is masked or ignored{}",
            args.labels.join(", "),
            if args.shift_labels {
                " (after --shift-labels)"
            } else {
                ""
            }
        );
    }
    // pass B: pair each token with A's, document by document
    let mut units = if token_units {
        PairedUnits::tokens()
    } else {
        PairedUnits::documents(args.bins)?
    };
    let (mut k, mut agree) = (0usize, 0u64);
    let (mut nll_b, mut brier_b) = (0.0f64, 0.0f64);
    let mut next_doc = 0u64;
    let (mut conf_a, mut ok_a, mut conf_b, mut ok_b) = (vec![], vec![], vec![], vec![]);
    let b_name = args.b.join(", ");
    pass(&b_args, &shards_b, vocab, &po, &mut |m, pos, _| {
        let (Some(nll), Some(brier)) = (&m.nll, &m.brier) else {
            return Ok(());
        };
        if let Some(a) = arrays.as_mut() {
            a[4].extend_from_slice(nll);
        }
        for i in 0..m.valid.len() {
            let (doc, _) = pos.sequence(i);
            while !token_units && next_doc <= doc {
                units.start_unit();
                if let Some(b) = &bytes {
                    units.set_bytes(b[next_doc as usize])?;
                }
                next_doc += 1;
            }
            if !m.valid[i] {
                continue;
            }
            let a = side_a
                .get(k)
                .ok_or_else(|| anyhow!("{b_name}: more valid tokens than in --a"))?;
            k += 1;
            let t = TokenPair {
                nll_a: a.nll,
                nll_b: nll[i],
                brier_a: a.brier,
                brier_b: brier[i],
                conf_a: a.conf,
                conf_b: m.top1_prob[i],
                correct_a: i64::from(a.top1) == a.label,
                correct_b: i64::from(m.top1_index[i]) == a.label,
            };
            agree += u64::from(a.top1 == m.top1_index[i]);
            nll_b += t.nll_b;
            brier_b += t.brier_b;
            conf_a.push(t.conf_a);
            ok_a.push(t.correct_a);
            conf_b.push(t.conf_b);
            ok_b.push(t.correct_b);
            units
                .add_token(&t)
                .with_context(|| format!("token {}", k - 1))?;
        }
        Ok(())
    })?;
    let n = side_a.len() as f64;
    let c = infometer_core::compare(&units, &opts).map_err(|e| match e {
        infometer_core::CoreError::TooFewUnits { got, .. } => anyhow!(
            "{}: {got} scored document(s); a paired comparison needs at least 2 (for one long text use --resample blocks --block-len L)",
            args.labels.join(", ")
        ),
        infometer_core::CoreError::InvalidParameter {
            name: "block length",
            value,
            ..
        } => anyhow!(
            "--block-len {value}: must be at most half the {} scored tokens (at least two blocks)",
            side_a.len()
        ),
        e => anyhow!("{e}"),
    })?;
    let mut out = report(&c, base, &opts, args);
    let model = |nll: f64, brier: f64, conf: &[f64], ok: &[bool]| -> Result<Value> {
        let ece = calibration(conf, ok, args.bins)?.ece;
        Ok(json!({
            "mean_nll": num(base.from_nats(nll / n)),
            "perplexity": num((nll / n).exp()),
            "ece": ece,
            "brier": brier / n,
        }))
    };
    let sum = |f: &dyn Fn(&SideA) -> f64| side_a.iter().map(f).sum::<f64>();
    let (nll_a, brier_a) = (sum(&|s| s.nll), sum(&|s| s.brier));
    out["model_a"] = model(nll_a, brier_a, &conf_a, &ok_a)?;
    out["model_b"] = model(nll_b, brier_b, &conf_b, &ok_b)?;
    out["agreement"] = json!({
        "mean_kl_a_b": num(base.from_nats(kl_ab / n)),
        "mean_kl_b_a": num(base.from_nats(kl_ba / n)),
        "mean_js": num(base.from_nats(js / n)),
        "top1_agreement": agree as f64 / n,
    });
    out["vocab"] = json!(vocab);
    if let (Some(dir), Some(a)) = (&args.out, &arrays) {
        let lead = super::shards::out_shape(&shards_a);
        let names = [
            "nll_a.npy",
            "kl_a_b.npy",
            "kl_b_a.npy",
            "js.npy",
            "nll_b.npy",
        ];
        let files: Vec<(&str, Vec<u8>)> = names
            .iter()
            .zip(a)
            .map(|(n, v)| (*n, crate::npy::npy_bytes_f64(&lead, v)))
            .collect();
        out["files"] = json!(crate::staged::write_out_dir(dir, &files)?);
    }
    Ok(out)
}

/// The JSON of a comparison: settings, each metric with its interval, the delta method, the
/// sign-flip test and the warnings.
fn report(c: &Comparison, base: Base, opts: &CompareOptions, args: &CompareArgs) -> Value {
    let mut out = json!({
        "unit": match args.resample.as_str() { "documents" => "document", _ => "token" },
        "resample": args.resample,
        "block_len": args.block_len,
        "n_units": c.n_units,
        "n_clusters": c.n_clusters,
        "n_tokens": c.n_tokens,
        "resamples": opts.resamples,
        "seed": opts.seed,
        "level": opts.level,
        "interval": opts.method.to_string(),
        "base": args.base,
    });
    for m in CompareMetric::ALL {
        // NLL differences in the display base; the ratio, ECE and Brier have no unit
        let scale = |x: f64| match m {
            CompareMetric::DeltaNll => base.from_nats(x),
            _ => x,
        };
        out[m.name()] = match c.metric(m) {
            Some(e) => json!({
                "estimate": num(scale(e.estimate)),
                "ci": [num(scale(e.ci.0)), num(scale(e.ci.1))],
                "se": num_or_null(scale(e.se)),
            }),
            None => Value::Null,
        };
    }
    let d = &c.delta_method;
    out["delta_method"] = json!({
        "se": num(base.from_nats(d.se)),
        "ci": [num(base.from_nats(d.ci.0)), num(base.from_nats(d.ci.1))],
        "perplexity_ratio_ci": [num(d.ratio_ci.0), num(d.ratio_ci.1)],
        "se_iid": num(base.from_nats(d.se_iid)),
        "design_effect": d.design_effect,
        "effective_tokens": d.effective_tokens,
    });
    out["sign_flip"] = json!({
        "statistic": num(base.from_nats(c.sign_flip.statistic)),
        "p_value": c.sign_flip.p_value,
        "exact": c.sign_flip.exact,
        "draws": c.sign_flip.draws,
    });
    out["warnings"] = json!(c.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>());
    out
}
