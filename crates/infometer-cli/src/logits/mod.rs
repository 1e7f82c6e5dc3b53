//! `infometer logits` and `infometer merge`: per-token measures of logits tensor files (memory-mapped, streamed in chunks of rows, several shards in order), as JSON, `.npy` arrays and a mergeable state.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use infometer_core::{Base, LogitsAccumulator};
use serde_json::{Value, json};

use crate::npy::{self, Data, Tensor};
use crate::staged::{StagedFile, check_out_dir, write_out_dir};
use measures::{Flags, MAX_LISTED, Sequences, TokenWriter, Uncertainty, WeightedCe, listed};
use state::LogitsState;

pub mod compare;
pub mod measures;
mod pass;
mod report;
mod shards;
pub mod state;

use pass::{ChunkSums, PassOpts, pass};
pub use report::report_json;
use report::{PerToken, fit, num, num_or_null, reliability_svg};
pub(crate) use shards::read_mask;
pub use shards::shift;
use shards::{Shard, open_shards, out_shape, seq_len};

/// Per-token entropy, NLL, perplexity, calibration, KL and JS of logits tensors.
#[derive(Debug, Clone, clap::Args)]
pub struct LogitsArgs {
    /// Logits: `.npy` (f16/f32/f64, C order, vocabulary last) or `FILE.safetensors:TENSOR`;
    /// several files are shards, scored in order as if concatenated along their first axis.
    #[arg(long, required = true, num_args = 1..)]
    pub logits: Vec<String>,
    /// Integer labels of the leading shape (`.npy` or safetensors), one file per shard.
    #[arg(long, num_args = 1..)]
    pub labels: Vec<String>,
    /// Reference logits of the same shape, for KL and JS, one file per shard.
    #[arg(long = "ref-logits", num_args = 1..)]
    pub ref_logits: Vec<String>,
    /// Bool/u8 mask of the leading shape, one file per shard; 0 excludes a token from every measure.
    #[arg(long, num_args = 1..)]
    pub mask: Vec<String>,
    /// Label value that marks a token to ignore.
    #[arg(long = "ignore-index", default_value_t = -100, allow_hyphen_values = true)]
    pub ignore_index: i64,
    /// Causal-LM alignment (Hugging Face's `labels`): the logits at position t score the
    /// label at t + 1; each sequence's last position is dropped. The sequence axis is the
    /// last axis before the vocabulary.
    #[arg(long = "shift-labels")]
    pub shift_labels: bool,
    /// Display base of entropies and NLL: e, 2, 10 or any number > 1.
    #[arg(long, default_value = "e")]
    pub base: String,
    /// Softmax temperature applied to both logits tensors.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub temperature: f64,
    /// Directory for entropy.npy, nll.npy, kl.npy, js.npy (float64, nats, leading shape),
    /// written all or nothing: into a temporary folder beside it, then renamed into place.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the whole set of files of a --out folder that is not empty (otherwise refused).
    #[arg(long)]
    pub force: bool,
    /// Write the exact accumulator state (versioned JSON) here, for `infometer merge`.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Per-sequence perplexity (the sequence axis is the last axis before the vocabulary).
    #[arg(long = "per-sequence")]
    pub per_sequence: bool,
    /// UTF-8 bytes of the scored text, for bits per byte: a total, or a `.npy` of one count
    /// per sequence (all shards' sequences in order).
    #[arg(long)]
    pub bytes: Option<String>,
    /// Normalised entropy H / ln V above which a position counts as uncertain.
    #[arg(
        long = "uncertainty-threshold",
        default_value_t = 0.7,
        allow_hyphen_values = true
    )]
    pub uncertainty_threshold: f64,
    /// Flag tokens whose surprisal exceeds this many bits.
    #[arg(long = "surprisal-bits", allow_hyphen_values = true)]
    pub surprisal_bits: Option<f64>,
    /// Flag tokens whose label probability is below this.
    #[arg(long = "surprisal-prob", allow_hyphen_values = true)]
    pub surprisal_prob: Option<f64>,
    /// Per-class weights (`.npy` of vocabulary length) for a weighted cross-entropy, as PyTorch's.
    #[arg(long = "class-weights")]
    pub class_weights: Option<String>,
    /// Label smoothing ε in [0, 1] for the cross-entropy, as PyTorch's.
    #[arg(
        long = "label-smoothing",
        default_value_t = 0.0,
        allow_hyphen_values = true
    )]
    pub label_smoothing: f64,
    /// Fit the temperature T* that minimises the mean NLL; report ECE and NLL before and after.
    #[arg(long = "fit-temperature")]
    pub fit_temperature: bool,
    /// Mean per-token total variation and Hellinger distance between the two models (needs
    /// --ref-logits).
    #[arg(long)]
    pub distances: bool,
    /// Mean per-token Rényi divergence D_α(P‖Q) of this order (needs --ref-logits).
    #[arg(long = "renyi-alpha", allow_hyphen_values = true)]
    pub renyi_alpha: Option<f64>,
    /// Local perplexity profile: perplexity over windows of this many tokens within each
    /// sequence, to find the surprising stretches of a long text.
    #[arg(long = "profile-window")]
    pub profile_window: Option<usize>,
    /// Tokens between the starts of profile windows (default: the window, so they tile).
    #[arg(long = "profile-stride")]
    pub profile_stride: Option<usize>,
    /// One JSON line per scored token, written as the rows stream (all or nothing).
    #[arg(long = "tokens-out")]
    pub tokens_out: Option<PathBuf>,
    /// Rows per streamed chunk (default: about 64 MiB of logits).
    #[arg(long = "chunk-rows", hide = true)]
    pub chunk_rows: Option<usize>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Reads a whole (small) tensor — labels or a mask — from `PATH.npy` or `PATH.safetensors:NAME`.
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

/// Reads `--bytes`: a total, or a `.npy` of one count per sequence.
pub(super) fn read_bytes(spec: &str, n_seq: usize) -> Result<Vec<u64>> {
    if let Ok(total) = spec.parse::<u64>() {
        return Ok(vec![total]);
    }
    let t = read_tensor(spec).map_err(|e| anyhow!("--bytes {spec}: not a byte count, and {e}"))?;
    let Data::I64(v) = t.data else {
        bail!(
            "--bytes {spec}: expected integer byte counts, found {}",
            t.data.dtype()
        );
    };
    if v.len() != n_seq {
        bail!("--bytes {spec}: {} counts for {n_seq} sequences", v.len());
    }
    v.iter()
        .map(|&b| u64::try_from(b).map_err(|_| anyhow!("--bytes {spec}: negative count {b}")))
        .collect()
}

/// The local perplexity profile of every sequence (rows in stream order), with its peak.
fn profile(
    shards: &[Shard],
    nll: &[f64],
    valid: &[bool],
    window: usize,
    stride: usize,
) -> Result<Value> {
    let mut windows = Vec::new();
    let mut peak: Option<(u64, infometer_core::ProfileWindow)> = None;
    let (mut row, mut sequence) = (0usize, 0u64);
    for shard in shards {
        let len = seq_len(shard) as usize;
        for _ in 0..shard.rows / len {
            let p = infometer_core::perplexity_profile(
                &nll[row..row + len],
                &valid[row..row + len],
                window,
                stride,
            )
            .map_err(|e| anyhow!("--profile-window {window}: {e}"))?;
            for w in p {
                // NaN (a window without valid tokens) never wins; +inf does
                if !w.perplexity.is_nan() && peak.is_none_or(|(_, b)| w.perplexity > b.perplexity) {
                    peak = Some((sequence, w));
                }
                windows.push((sequence, w));
            }
            row += len;
            sequence += 1;
        }
    }
    let as_json = |(s, w): &(u64, infometer_core::ProfileWindow)| {
        json!({"sequence": s, "start": w.start, "end": w.end, "n_tokens": w.n_tokens,
               "perplexity": num(w.perplexity)})
    };
    Ok(json!({
        "window": window,
        "stride": stride,
        "n_windows": windows.len(),
        "windows": windows.iter().take(MAX_LISTED).map(as_json).collect::<Vec<_>>(),
        "windows_cut": windows.len() > MAX_LISTED,
        "peak": peak.as_ref().map(as_json),
    }))
}

/// Refuses a `--temperature` that is not finite and positive, or whose inverse overflows f32
/// (the lane type of f32 and f16 logits); `logits`, `compare` and `uncertainty` share it.
///
/// # Errors
/// One line naming `--temperature`.
pub(crate) fn check_temperature(t: f64) -> Result<()> {
    if t.is_finite() && t > 0.0 && ((1.0 / t) as f32).is_finite() {
        return Ok(());
    }
    // {:?} keeps 1e-320 short where {} would print every zero
    let shown = if t != 0.0 && t.abs() < 1e-6 {
        format!("{t:?}")
    } else {
        t.to_string()
    };
    bail!("--temperature {shown}: must be finite, positive and at least 1/f32::MAX (about 3e-39)")
}

/// Runs the command and returns the JSON object it prints.
///
/// # Errors
/// Bad files, shapes, labels or values, as one-line messages naming the file or the flag;
/// nothing is written then.
pub fn run(args: &LogitsArgs) -> Result<Value> {
    let base: Base = args
        .base
        .parse()
        .map_err(|e| anyhow!("--base {}: {e}", args.base))?;
    check_temperature(args.temperature)?;
    if args.chunk_rows == Some(0) {
        bail!("--chunk-rows 0: must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.uncertainty_threshold) {
        bail!(
            "--uncertainty-threshold {}: must lie in [0, 1] (a fraction of ln V)",
            args.uncertainty_threshold
        );
    }
    if !(0.0..=1.0).contains(&args.label_smoothing) {
        bail!(
            "--label-smoothing {}: must lie in [0, 1]",
            args.label_smoothing
        );
    }
    let mut flags = Flags::new(args.surprisal_bits, args.surprisal_prob)?;
    if let Some(a) = args.renyi_alpha.filter(|a| !(a.is_finite() && *a > 0.0)) {
        bail!("--renyi-alpha {a}: must be finite and positive");
    }
    if (args.distances || args.renyi_alpha.is_some()) && args.ref_logits.is_empty() {
        let flag = if args.distances {
            "--distances"
        } else {
            "--renyi-alpha"
        };
        bail!("{flag}: needs --ref-logits");
    }
    let needs_labels = [
        (args.per_sequence, "--per-sequence"),
        (args.bytes.is_some(), "--bytes"),
        (flags.is_some(), "--surprisal-bits/--surprisal-prob"),
        (args.class_weights.is_some(), "--class-weights"),
        (args.label_smoothing > 0.0, "--label-smoothing"),
        (args.fit_temperature, "--fit-temperature"),
        (args.profile_window.is_some(), "--profile-window"),
    ];
    if let Some((_, flag)) = needs_labels
        .iter()
        .find(|(on, _)| *on && args.labels.is_empty())
    {
        bail!("{flag}: needs --labels");
    }
    if args.profile_stride.is_some() && args.profile_window.is_none() {
        bail!("--profile-stride: needs --profile-window");
    }
    if args.profile_window == Some(0) || args.profile_stride == Some(0) {
        bail!("--profile-window/--profile-stride: must be at least 1");
    }
    // outputs are checked (and the files staged) before any work
    if let Some(dir) = &args.out {
        check_out_dir(dir, args.force)?;
    }
    let state_file = match &args.state {
        Some(p) => Some(StagedFile::create(p, "--state")?),
        None => None,
    };
    let (shards, vocab) = open_shards(args)?;
    let mut tokens = match &args.tokens_out {
        Some(p) => Some(TokenWriter::create(p)?),
        None => None,
    };
    let total_rows: u64 = shards.iter().map(|s| s.rows as u64).sum();
    let n_seq = shards
        .iter()
        .map(|s| s.rows as u64 / seq_len(s))
        .sum::<u64>() as usize;
    let bytes = match &args.bytes {
        Some(spec) => Some(read_bytes(spec, n_seq)?),
        None => None,
    };
    let ce = match (&args.class_weights, args.label_smoothing > 0.0) {
        (None, false) => None,
        (w, _) => {
            let weights = match w {
                Some(p) => {
                    let t = read_tensor(p)?;
                    let v = t.data.into_f64();
                    if v.len() != vocab {
                        bail!(
                            "--class-weights {p}: {} weights for vocabulary {vocab}",
                            v.len()
                        );
                    }
                    if let Some(bad) = v.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
                        bail!("--class-weights {p}: weight {bad} is not finite and ≥ 0");
                    }
                    Some(v)
                }
                None => None,
            };
            Some(WeightedCe {
                weights,
                smoothing: args.label_smoothing,
                sum_loss: 0.0,
                sum_weight: 0.0,
            })
        }
    };
    let first = &shards[0];
    let mut acc = LogitsAccumulator::new(first.labels.is_some(), first.reference.is_some());
    let mut per_token = args.out.as_ref().map(|_| PerToken::default());
    let mut seqs =
        (args.per_sequence || bytes.as_ref().is_some_and(|b| b.len() > 1)).then(Sequences::default);
    let mut unc = Uncertainty {
        threshold: args.uncertainty_threshold,
        sum_normalized: 0.0,
        positions: Vec::new(),
    };
    let mut totals = ChunkSums::default();
    // per-token NLL and validity, kept only for the profile
    let mut stream: Option<(Vec<f64>, Vec<bool>)> =
        args.profile_window.map(|_| (Vec::new(), Vec::new()));
    let opts = PassOpts {
        temperature: args.temperature,
        ignore_index: args.ignore_index,
        ce: ce.as_ref(),
        with_js: true,
        distances: (args.distances || args.renyi_alpha.is_some()).then_some(args.renyi_alpha),
    };
    let name = args.logits.join(", ");
    pass(args, &shards, vocab, &opts, &mut |m, pos, c| {
        acc.add(m).map_err(|e| anyhow!("{name}: {e}"))?;
        if let Some(p) = per_token.as_mut() {
            p.add(m);
        }
        if let Some(s) = seqs.as_mut() {
            s.add(m, pos);
        }
        unc.add(m, pos.row0, vocab);
        if let Some(f) = flags.as_mut() {
            f.add(m, pos.row0);
        }
        if let Some(t) = tokens.as_mut() {
            t.add(m, pos)?;
        }
        if let (Some((nll, valid)), Some(x)) = (stream.as_mut(), &m.nll) {
            nll.extend_from_slice(x);
            valid.extend_from_slice(&m.valid);
        }
        totals.ce_loss += c.ce_loss;
        totals.ce_weight += c.ce_weight;
        totals.tv += c.tv;
        totals.hellinger += c.hellinger;
        totals.renyi += c.renyi;
        Ok(())
    })?;
    let summary = acc.summary().map_err(|e| {
        let what = if args.shift_labels {
            " (after --shift-labels)"
        } else {
            ""
        };
        anyhow!("{name}: {e}{what}")
    })?;
    let mut out = report_json(&summary, base, vocab, total_rows);
    // the uncertainty report
    let n = summary.n_tokens as f64;
    let (listed_unc, cut_unc) = listed(&unc.positions);
    out["uncertainty"] = json!({
        "threshold": unc.threshold,
        "mean_normalized_entropy": unc.sum_normalized / n,
        "uncertainty_rate": unc.positions.len() as f64 / n,
        "n_uncertain": unc.positions.len(),
        "positions": listed_unc,
        "positions_cut": cut_unc,
    });
    if let Some(c) = &summary.calibration {
        out["reliability"] = json!(
            c.bins
                .iter()
                .map(
                    |b| json!({"lower": b.lower, "upper": b.upper, "count": b.count,
                            "mean_confidence": num_or_null(b.mean_confidence),
                            "accuracy": num_or_null(b.accuracy)})
                )
                .collect::<Vec<_>>()
        );
    }
    if opts.distances.is_some() {
        out["mean_total_variation"] = json!(totals.tv / n);
        out["mean_hellinger"] = json!(totals.hellinger / n);
        if let Some(a) = args.renyi_alpha {
            out["renyi_alpha"] = json!(a);
            out["mean_renyi"] = num(base.from_nats(totals.renyi / n));
        }
    }
    if let Some(f) = &flags {
        let (l, cut) = listed(&f.positions);
        out["surprisal_flags"] = json!({"threshold_bits": Base::TWO.from_nats(f.nats),
            "n_flagged": f.positions.len(), "positions": l, "positions_cut": cut});
    }
    if ce.is_some() {
        out["cross_entropy"] = num(base.from_nats(totals.ce_loss / totals.ce_weight));
        out["cross_entropy_options"] =
            json!({"class_weights": args.class_weights, "label_smoothing": args.label_smoothing});
    }
    let ppl_seq = seqs.as_ref().map(Sequences::perplexity);
    if let (true, Some(p)) = (args.per_sequence, &ppl_seq) {
        let nums: Vec<Value> = p.iter().take(MAX_LISTED).map(|&x| num_or_null(x)).collect();
        out["per_sequence_perplexity"] = json!(nums);
        out["per_sequence_cut"] = json!(p.len() > MAX_LISTED);
    }
    if let Some(b) = &bytes {
        let total: u64 = b.iter().sum();
        if total == 0 {
            bail!("--bytes: the byte count is 0");
        }
        out["bytes"] = json!(total);
        out["bits_per_byte"] = num(acc.sum_nll / std::f64::consts::LN_2 / total as f64);
        if let (true, Some(s)) = (b.len() > 1, &seqs) {
            let bpb: Vec<Value> = s
                .sum_nll
                .iter()
                .zip(b)
                .take(MAX_LISTED)
                .map(|(&x, &n)| num_or_null(x / std::f64::consts::LN_2 / n as f64))
                .collect();
            out["per_sequence_bits_per_byte"] = json!(bpb);
        }
    }
    if let (Some(w), Some((nll, valid))) = (args.profile_window, &stream) {
        out["perplexity_profile"] =
            profile(&shards, nll, valid, w, args.profile_stride.unwrap_or(w))?;
    }
    if args.fit_temperature {
        out["temperature_fit"] = fit(args, &shards, vocab, &summary)?;
    }
    if let (Some(dir), Some(p)) = (&args.out, &per_token) {
        let lead = out_shape(&shards);
        let mut files = vec![("entropy.npy", npy::npy_bytes_f64(&lead, &p.entropy))];
        if acc.has_labels {
            files.push(("nll.npy", npy::npy_bytes_f64(&lead, &p.nll)));
        }
        if acc.has_reference {
            files.push(("kl.npy", npy::npy_bytes_f64(&lead, &p.kl)));
            files.push(("js.npy", npy::npy_bytes_f64(&lead, &p.js)));
        }
        if let (true, Some(pp)) = (args.per_sequence, &ppl_seq) {
            files.push((
                "per_sequence_perplexity.npy",
                npy::npy_bytes_f64(&[pp.len()], pp),
            ));
        }
        if let Some(c) = &summary.calibration {
            files.push(("reliability.svg", reliability_svg(c).into_bytes()));
        }
        out["files"] = json!(write_out_dir(dir, &files)?);
    }
    if let Some(t) = tokens {
        t.commit()?;
        out["tokens_out"] = json!(args.tokens_out);
    }
    if let Some(mut f) = state_file {
        let state = LogitsState {
            acc,
            vocab,
            n_rows: total_rows,
            temperature: args.temperature,
            shift_labels: args.shift_labels,
        };
        f.write_all(state.to_json().to_string().as_bytes())?;
        f.commit()?;
    }
    if shards.len() > 1 {
        out["shards"] = json!(shards.len());
    }
    if shards
        .iter()
        .any(|s| !s.logits.in_place() || s.reference.as_ref().is_some_and(|r| !r.in_place()))
    {
        out["copied_input"] = json!(true);
    }
    Ok(out)
}
