//! One streamed pass over every shard: chunks of rows through the fused kernel, with the weighted cross-entropy and the pair distances of each chunk.

use anyhow::{Result, anyhow};
use infometer_core::{
    Analyze, CoreError, CrossEntropyOptions, Element, Loss, Reduction, Rows, Target, TokenMeasures,
    cross_entropy, pair_distances,
};

use super::LogitsArgs;
use super::measures::{ChunkPos, WeightedCe};
use super::shards::{Shard, seq_len};
use crate::tensor_file::Floats;

/// An error of a chunk with its row and element indices made absolute.
fn offset_err(e: CoreError, row0: usize, vocab: usize) -> CoreError {
    e.shifted(row0, vocab)
}

/// Default rows per chunk: about 64 MiB of logits, at least 64 rows (the kernel spreads a
/// chunk's rows over the threads).
fn default_chunk_rows(vocab: usize, width: usize) -> usize {
    ((64 << 20) / (vocab * width).max(1)).max(64)
}

/// Settings of one streamed pass.
pub(super) struct PassOpts<'a> {
    pub(super) temperature: f64,
    pub(super) ignore_index: i64,
    /// Weighted and smoothed cross-entropy, when asked for.
    pub(super) ce: Option<&'a WeightedCe>,
    pub(super) with_js: bool,
    /// TV and Hellinger (and Rényi of this order) against the reference.
    pub(super) distances: Option<Option<f64>>,
}

/// What a chunk adds besides its measures: Σ loss and Σ w_y of the weighted cross-entropy,
/// Σ TV, Σ Hellinger and Σ Rényi over its valid tokens.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ChunkSums {
    pub(super) ce_loss: f64,
    pub(super) ce_weight: f64,
    pub(super) tv: f64,
    pub(super) hellinger: f64,
    pub(super) renyi: f64,
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

/// One streamed pass over every shard: `sink(measures, position, sums)` per chunk.
pub(super) fn pass(
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
