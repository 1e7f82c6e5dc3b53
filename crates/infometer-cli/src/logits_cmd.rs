//! `infometer logits`: per-token measures of logits tensor files (memory-mapped, streamed in chunks of rows, several shards in order), as JSON, `.npy` arrays and a mergeable state.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use infometer_core::{
    Analyze, Base, CoreError, CrossEntropyOptions, Element, LogitsAccumulator, Loss, Reduction,
    Rows, Summary, Target, TokenMeasures, cross_entropy, pair_distances,
};
use serde_json::{Value, json};

use crate::logits_report::{
    ChunkPos, Flags, MAX_LISTED, Sequences, TokenWriter, Uncertainty, WeightedCe, listed,
};
use crate::logits_state::LogitsState;
use crate::npy::{self, Data, Tensor};
use crate::staged::{StagedFile, check_out_dir, write_out_dir};
use crate::tensor_file::{Floats, TensorFile};

/// Arguments of `infometer logits`.
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

/// One shard: its logits (mapped), reference, labels and mask.
struct Shard {
    logits: TensorFile,
    reference: Option<TensorFile>,
    labels: Option<(String, Vec<i64>)>,
    mask: Option<Vec<bool>>,
    lead: Vec<usize>,
    rows: usize,
}

/// The k-th file of a per-shard list, checking that the list has one file per shard.
fn per_shard<'a>(list: &'a [String], flag: &str, n: usize) -> Result<Vec<Option<&'a String>>> {
    match list.len() {
        0 => Ok(vec![None; n]),
        m if m == n => Ok(list.iter().map(Some).collect()),
        m => bail!(
            "{flag}: {m} file(s) for {n} logits shard(s); give one per shard, in the same order"
        ),
    }
}

fn open_shards(args: &LogitsArgs) -> Result<(Vec<Shard>, usize)> {
    let n = args.logits.len();
    let refs = per_shard(&args.ref_logits, "--ref-logits", n)?;
    let labs = per_shard(&args.labels, "--labels", n)?;
    let masks = per_shard(&args.mask, "--mask", n)?;
    if args.shift_labels && args.labels.is_empty() {
        bail!("--shift-labels: needs --labels");
    }
    let mut shards: Vec<Shard> = Vec::with_capacity(n);
    let mut vocab = 0;
    for k in 0..n {
        let logits = TensorFile::open(&args.logits[k])?;
        let Some((&v, lead)) = logits.shape.split_last() else {
            bail!(
                "{}: logits must have at least one axis (the vocabulary)",
                logits.name
            );
        };
        let lead = lead.to_vec();
        let rows: usize = lead.iter().product();
        if v == 0 || rows == 0 {
            bail!("{}: empty logits (shape {:?})", logits.name, logits.shape);
        }
        if let Some(first) = shards.first() {
            if v != vocab {
                bail!(
                    "{}: vocabulary {v} differs from {}'s {vocab}",
                    logits.name,
                    first.logits.name
                );
            }
            let (a, b) = (&first.logits.shape, &logits.shape);
            if a.len() != b.len() || a.get(1..a.len() - 1) != b.get(1..b.len() - 1) {
                bail!(
                    "{}: shape {b:?} does not continue {}'s {a:?} (shards may differ only in their first axis)",
                    logits.name,
                    first.logits.name
                );
            }
        }
        vocab = v;
        let reference = match refs[k] {
            Some(p) => {
                let r = TensorFile::open(p)?;
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
        let mut labels = match labs[k] {
            Some(p) => {
                let t = read_tensor(p)?;
                if t.shape != lead {
                    bail!(
                        "{p}: labels shape {:?} does not match the logits' leading shape {lead:?}",
                        t.shape
                    );
                }
                match t.data {
                    Data::I64(v) => Some((p.clone(), v)),
                    other => bail!("{p}: labels must be integers, found {}", other.dtype()),
                }
            }
            None => None,
        };
        let mut mask = match masks[k] {
            Some(p) => {
                let t = read_tensor(p)?;
                if t.shape != lead {
                    bail!(
                        "{p}: mask shape {:?} does not match the logits' leading shape {lead:?}",
                        t.shape
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
        if args.shift_labels {
            let (p, l) = labels
                .take()
                .ok_or_else(|| anyhow!("--shift-labels: needs --labels"))?;
            let (l, m) = shift(&l, mask.as_deref(), &lead, args.ignore_index)
                .map_err(|e| anyhow!("{p}: --shift-labels: {e}"))?;
            labels = Some((p, l));
            mask = Some(m);
        }
        shards.push(Shard {
            logits,
            reference,
            labels,
            mask,
            lead,
            rows,
        });
    }
    Ok((shards, vocab))
}

/// Causal-LM alignment: position t of each sequence takes the label (and the mask) of
/// position t + 1; the last position of every sequence is masked out.
///
/// # Errors
/// When there is no sequence axis or a sequence has fewer than 2 positions.
pub fn shift(
    labels: &[i64],
    mask: Option<&[bool]>,
    lead: &[usize],
    ignore_index: i64,
) -> Result<(Vec<i64>, Vec<bool>)> {
    let Some(&t) = lead.last() else {
        bail!("the logits have no sequence axis (shape [vocab] only)");
    };
    if t < 2 {
        bail!("sequences of length {t}: a shifted sequence needs at least 2 positions");
    }
    let mut l = vec![ignore_index; labels.len()];
    let mut m = vec![false; labels.len()];
    for s in 0..labels.len() / t {
        for i in 0..t - 1 {
            let (here, next) = (s * t + i, s * t + i + 1);
            l[here] = labels[next];
            m[here] = mask.is_none_or(|mk| mk[next]);
        }
    }
    Ok((l, m))
}

/// Per-token arrays kept for `--out`, in row order over all shards.
#[derive(Default)]
struct PerToken {
    entropy: Vec<f64>,
    nll: Vec<f64>,
    kl: Vec<f64>,
    js: Vec<f64>,
}

impl PerToken {
    fn add(&mut self, m: &TokenMeasures) {
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

/// An error of a chunk with its row and element indices made absolute.
fn offset_err(e: CoreError, row0: usize, vocab: usize) -> CoreError {
    match e {
        CoreError::NonFinite { what, index, value } => CoreError::NonFinite {
            what,
            index: index + row0 * vocab,
            value,
        },
        CoreError::NoMass { row } => CoreError::NoMass { row: row + row0 },
        CoreError::LabelOutOfRange { label, row, vocab } => CoreError::LabelOutOfRange {
            label,
            row: row + row0,
            vocab,
        },
        other => other,
    }
}

/// Default rows per chunk: about 64 MiB of logits, at least 64 rows (the kernel spreads a
/// chunk's rows over the threads).
fn default_chunk_rows(vocab: usize, width: usize) -> usize {
    ((64 << 20) / (vocab * width).max(1)).max(64)
}

/// Settings of one streamed pass.
struct PassOpts<'a> {
    temperature: f64,
    ignore_index: i64,
    /// Weighted and smoothed cross-entropy, when asked for.
    ce: Option<&'a WeightedCe>,
    with_js: bool,
    /// TV and Hellinger (and Rényi of this order) against the reference.
    distances: Option<Option<f64>>,
}

/// What a chunk adds besides its measures: Σ loss and Σ w_y of the weighted cross-entropy,
/// Σ TV, Σ Hellinger and Σ Rényi over its valid tokens.
#[derive(Debug, Clone, Copy, Default)]
struct ChunkSums {
    ce_loss: f64,
    ce_weight: f64,
    tv: f64,
    hellinger: f64,
    renyi: f64,
}

/// Σ loss and Σ w_y of PyTorch's cross-entropy over the valid tokens of a chunk.
fn chunk_ce<T: Element>(
    x: &[T],
    vocab: usize,
    m: &TokenMeasures,
    labels: &[i64],
    o: &PassOpts<'_>,
    ce: &WeightedCe,
) -> infometer_core::Result<(f64, f64)> {
    let eff: Vec<i64> = labels
        .iter()
        .zip(&m.valid)
        .map(|(&l, &v)| if v { l } else { o.ignore_index })
        .collect();
    let loss = cross_entropy(
        Rows::new(x, vocab)?,
        Target::Sparse(&eff),
        &CrossEntropyOptions {
            ignore_index: o.ignore_index,
            weights: ce.weights.clone(),
            label_smoothing: ce.smoothing,
            temperature: o.temperature,
            reduction: Reduction::None,
        },
    )?;
    let Loss::PerToken(v) = loss else {
        return Ok((0.0, 0.0));
    };
    let w = |c: i64| ce.weights.as_ref().map_or(1.0, |w| w[c as usize]);
    let sum_w = eff
        .iter()
        .filter(|&&l| l != o.ignore_index)
        .map(|&l| w(l))
        .sum();
    Ok((v.iter().sum(), sum_w))
}

fn analyze_chunk(
    o: &PassOpts<'_>,
    shard: &Shard,
    x: Floats<'_>,
    y: Option<Floats<'_>>,
    rows: std::ops::Range<usize>,
    vocab: usize,
) -> Result<(TokenMeasures, ChunkSums)> {
    fn go<T: Element>(
        o: &PassOpts<'_>,
        x: &[T],
        y: Option<&[T]>,
        labels: Option<&[i64]>,
        mask: Option<&[bool]>,
        vocab: usize,
    ) -> infometer_core::Result<(TokenMeasures, ChunkSums)> {
        let mut a = Analyze::new(Rows::new(x, vocab)?)
            .ignore_index(o.ignore_index)
            .temperature(o.temperature)
            .with_js(o.with_js);
        if let Some(y) = y {
            a = a.reference(Rows::new(y, vocab)?);
        }
        if let Some(l) = labels {
            a = a.labels(l);
        }
        if let Some(m) = mask {
            a = a.mask(m);
        }
        let m = a.run()?;
        let mut sums = ChunkSums::default();
        if let (Some(ce), Some(l)) = (o.ce, labels) {
            (sums.ce_loss, sums.ce_weight) = chunk_ce(x, vocab, &m, l, o, ce)?;
        }
        if let (Some(alpha), Some(y)) = (o.distances, y) {
            let d = pair_distances(
                Rows::new(x, vocab)?,
                Rows::new(y, vocab)?,
                o.temperature,
                alpha,
                Some(&m.valid),
            )?;
            let sum = |v: &[f64]| -> f64 {
                v.iter()
                    .zip(&m.valid)
                    .filter(|(_, ok)| **ok)
                    .map(|(x, _)| x)
                    .sum()
            };
            sums.tv = sum(&d.total_variation);
            sums.hellinger = sum(&d.hellinger);
            sums.renyi = d.renyi.as_deref().map_or(0.0, sum);
        }
        Ok((m, sums))
    }
    let (r0, r1) = (rows.start, rows.end);
    let e = (r0 * vocab)..(r1 * vocab);
    let labels = shard.labels.as_ref().map(|(_, l)| &l[r0..r1]);
    let mask = shard.mask.as_ref().map(|m| &m[r0..r1]);
    fn widen(f: Floats<'_>, e: std::ops::Range<usize>) -> Vec<f64> {
        match f {
            Floats::F16(v) => v[e].iter().map(|x| x.to_f64()).collect(),
            Floats::BF16(v) => v[e].iter().map(|x| x.to_f64()).collect(),
            Floats::F32(v) => v[e].iter().map(|&x| f64::from(x)).collect(),
            Floats::F64(v) => v[e].to_vec(),
        }
    }
    let res = match (x, y) {
        (Floats::F32(a), None) => go(o, &a[e], None, labels, mask, vocab),
        (Floats::F32(a), Some(Floats::F32(b))) => {
            go(o, &a[e.clone()], Some(&b[e]), labels, mask, vocab)
        }
        (Floats::F16(a), None) => go(o, &a[e], None, labels, mask, vocab),
        (Floats::F16(a), Some(Floats::F16(b))) => {
            go(o, &a[e.clone()], Some(&b[e]), labels, mask, vocab)
        }
        (Floats::BF16(a), None) => go(o, &a[e], None, labels, mask, vocab),
        (Floats::BF16(a), Some(Floats::BF16(b))) => {
            go(o, &a[e.clone()], Some(&b[e]), labels, mask, vocab)
        }
        (Floats::F64(a), None) => go(o, &a[e], None, labels, mask, vocab),
        (Floats::F64(a), Some(Floats::F64(b))) => {
            go(o, &a[e.clone()], Some(&b[e]), labels, mask, vocab)
        }
        // different element types: this chunk alone is widened to f64
        (a, Some(b)) => {
            let (a, b) = (widen(a, e.clone()), widen(b, e));
            go(o, &a, Some(&b), labels, mask, vocab)
        }
    };
    res.map_err(|err| {
        let err = offset_err(err, r0, vocab);
        let file = match &err {
            CoreError::LabelOutOfRange { .. } => shard
                .labels
                .as_ref()
                .map_or(shard.logits.name.clone(), |(p, _)| p.clone()),
            CoreError::NonFinite {
                what: "reference logits",
                ..
            } => shard
                .reference
                .as_ref()
                .map_or(shard.logits.name.clone(), |r| r.name.clone()),
            _ => shard.logits.name.clone(),
        };
        anyhow!("{file}: {err}")
    })
}

/// Positions per sequence of a shard: its last axis before the vocabulary (a shard of shape
/// [N, V] is one sequence of N, a single row one of 1).
fn seq_len(shard: &Shard) -> u64 {
    shard.lead.last().copied().unwrap_or(1).max(1) as u64
}

/// One streamed pass over every shard: `sink(measures, position, sums)` per chunk.
fn pass(
    args: &LogitsArgs,
    shards: &[Shard],
    vocab: usize,
    o: &PassOpts<'_>,
    sink: &mut dyn FnMut(&TokenMeasures, ChunkPos, ChunkSums) -> Result<()>,
) -> Result<()> {
    let (mut row_base, mut seq_base) = (0u64, 0u64);
    for shard in shards {
        let x = shard.logits.floats()?;
        let y = match &shard.reference {
            Some(r) => Some(r.floats()?),
            None => None,
        };
        let width = match x {
            Floats::F16(_) | Floats::BF16(_) => 2,
            Floats::F32(_) => 4,
            Floats::F64(_) => 8,
        };
        let step = args
            .chunk_rows
            .unwrap_or_else(|| default_chunk_rows(vocab, width));
        let mut r0 = 0;
        while r0 < shard.rows {
            let r1 = (r0 + step).min(shard.rows);
            let (m, sums) = analyze_chunk(o, shard, x, y, r0..r1, vocab)?;
            let pos = ChunkPos {
                row0: row_base + r0 as u64,
                seq0: seq_base,
                local0: r0 as u64,
                seq_len: seq_len(shard),
            };
            sink(&m, pos, sums)?;
            r0 = r1;
        }
        row_base += shard.rows as u64;
        seq_base += shard.rows as u64 / seq_len(shard);
    }
    Ok(())
}

/// Reads `--bytes`: a total, or a `.npy` of one count per sequence.
fn read_bytes(spec: &str, n_seq: usize) -> Result<Vec<u64>> {
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
    let t = args.temperature;
    if !(t.is_finite() && t > 0.0 && ((1.0 / t) as f32).is_finite()) {
        // {:?} keeps 1e-320 short where {} would print every zero
        let shown = if t != 0.0 && t.abs() < 1e-6 {
            format!("{t:?}")
        } else {
            t.to_string()
        };
        bail!(
            "--temperature {shown}: must be finite, positive and at least 1/f32::MAX (about 3e-39)"
        );
    }
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
    ];
    if let Some((_, flag)) = needs_labels
        .iter()
        .find(|(on, _)| *on && args.labels.is_empty())
    {
        bail!("{flag}: needs --labels");
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
                    let v = t.data.to_f64();
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
            out["mean_renyi"] = num(b_nats(base, totals.renyi / n));
        }
    }
    if let Some(f) = &flags {
        let (l, cut) = listed(&f.positions);
        out["surprisal_flags"] = json!({"threshold_bits": Base::TWO.from_nats(f.nats),
            "n_flagged": f.positions.len(), "positions": l, "positions_cut": cut});
    }
    if ce.is_some() {
        out["cross_entropy"] = num(b_nats(base, totals.ce_loss / totals.ce_weight));
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

fn b_nats(base: Base, x: f64) -> f64 {
    base.from_nats(x)
}

fn num_or_null(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// `--fit-temperature`: T* minimising the mean NLL over every shard (streamed passes), with
/// NLL and ECE at the given temperature and at T*.
fn fit(args: &LogitsArgs, shards: &[Shard], vocab: usize, before: &Summary) -> Result<Value> {
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
fn reliability_svg(c: &infometer_core::Calibration) -> String {
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

/// The leading shape of the per-token arrays over all shards (concatenated on the first axis).
fn out_shape(shards: &[Shard]) -> Vec<usize> {
    let lead0 = &shards[0].lead;
    if shards.len() == 1 {
        return lead0.clone();
    }
    if lead0.is_empty() {
        return vec![shards.len()];
    }
    let mut s = lead0.clone();
    s[0] = shards.iter().map(|sh| sh.lead[0]).sum();
    s
}

/// JSON has no infinity: +inf is written as the string "inf" (NLL, perplexity and KL alike).
fn num(x: f64) -> Value {
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
