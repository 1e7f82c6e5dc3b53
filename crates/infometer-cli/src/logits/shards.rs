//! The shards of a `logits` run: each logits file mapped, with its reference, labels and mask checked against it, and the causal-LM shift of the labels.

use anyhow::{Result, anyhow, bail};

use super::{LogitsArgs, read_tensor};
use crate::npy::Data;
use crate::tensor_file::TensorFile;

/// One shard: its logits (mapped), reference, labels and mask.
pub(super) struct Shard {
    pub(super) logits: TensorFile,
    pub(super) reference: Option<TensorFile>,
    pub(super) labels: Option<(String, Vec<i64>)>,
    pub(super) mask: Option<Vec<bool>>,
    pub(super) lead: Vec<usize>,
    pub(super) rows: usize,
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

/// Reads a labels or mask file, whose shape must be the logits' leading shape.
fn read_leading(p: &str, what: &str, lead: &[usize]) -> Result<Data> {
    let t = read_tensor(p)?;
    if t.shape != lead {
        bail!(
            "{p}: {what} shape {:?} does not match the logits' leading shape {lead:?}",
            t.shape
        );
    }
    Ok(t.data)
}

/// Reads a mask file of the leading shape `lead`: bool, or integers where non-zero is true.
///
/// # Errors
/// One line naming the file: unreadable, another shape, or another dtype.
pub(crate) fn read_mask(p: &str, lead: &[usize]) -> Result<Vec<bool>> {
    match read_leading(p, "mask", lead)? {
        Data::Bool(v) => Ok(v),
        Data::I64(v) => Ok(v.into_iter().map(|x| x != 0).collect()),
        other => bail!("{p}: mask must be bool or u8, found {}", other.dtype()),
    }
}

pub(super) fn open_shards(args: &LogitsArgs) -> Result<(Vec<Shard>, usize)> {
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
            Some(p) => match read_leading(p, "labels", &lead)? {
                Data::I64(v) => Some((p.clone(), v)),
                other => bail!("{p}: labels must be integers, found {}", other.dtype()),
            },
            None => None,
        };
        let mut mask = match masks[k] {
            Some(p) => Some(read_mask(p, &lead)?),
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

/// Causal-LM alignment ([`infometer_core::shift_labels`]) over the shard's last axis before
/// the vocabulary.
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
    Ok(infometer_core::shift_labels(labels, mask, t, ignore_index)?)
}

/// Positions per sequence of a shard: its last axis before the vocabulary (a shard of shape
/// [N, V] is one sequence of N, a single row one of 1).
pub(super) fn seq_len(shard: &Shard) -> u64 {
    shard.lead.last().copied().unwrap_or(1).max(1) as u64
}

/// The leading shape of the per-token arrays over all shards (concatenated on the first axis).
pub(super) fn out_shape(shards: &[Shard]) -> Vec<usize> {
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
