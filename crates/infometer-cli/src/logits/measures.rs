//! The measures of `infometer logits` beyond the summary, gathered chunk by chunk: per-sequence perplexity and bits per byte, the uncertainty report, surprisal flags, weighted and smoothed cross-entropy, and the per-token JSONL export.

use anyhow::{Result, anyhow, bail};
use infometer_core::{Base, SurprisalThreshold, TokenMeasures};
use serde_json::{Value, json};

use crate::staged::StagedFile;

/// How many positions the JSON lists before it says the list is cut (all of them go to
/// `--tokens-out` or `--out`).
pub const MAX_LISTED: usize = 1000;

/// Where a chunk lies: its first row over all shards, and the sequences of its shard.
#[derive(Debug, Clone, Copy)]
pub struct ChunkPos {
    /// Global index of the chunk's first row (shards in order).
    pub row0: u64,
    /// Global index of the shard's first sequence.
    pub seq0: u64,
    /// Index of the chunk's first row within its shard.
    pub local0: u64,
    /// Positions per sequence in this shard (the last axis before the vocabulary; a shard of
    /// shape [N, V] is one sequence of N).
    pub seq_len: u64,
}

impl ChunkPos {
    /// (global sequence, position in it) of the chunk's row i.
    pub fn sequence(&self, i: usize) -> (u64, u64) {
        let r = self.local0 + i as u64;
        (self.seq0 + r / self.seq_len, r % self.seq_len)
    }
}

/// Per-sequence sums of NLL and token counts, sequences numbered over all shards.
#[derive(Debug, Default)]
pub struct Sequences {
    /// Σ NLL per sequence.
    pub sum_nll: Vec<f64>,
    /// Valid tokens per sequence.
    pub tokens: Vec<u64>,
}

impl Sequences {
    /// Adds a chunk.
    pub fn add(&mut self, m: &TokenMeasures, pos: ChunkPos) {
        let Some(nll) = &m.nll else { return };
        for (i, (&x, &ok)) in nll.iter().zip(&m.valid).enumerate() {
            let s = pos.sequence(i).0 as usize;
            if self.sum_nll.len() <= s {
                self.sum_nll.resize(s + 1, 0.0);
                self.tokens.resize(s + 1, 0);
            }
            if ok {
                self.sum_nll[s] += x;
                self.tokens[s] += 1;
            }
        }
    }

    /// exp(mean NLL) of each sequence; NaN where a sequence has no valid token.
    pub fn perplexity(&self) -> Vec<f64> {
        self.sum_nll
            .iter()
            .zip(&self.tokens)
            .map(|(&s, &n)| {
                if n == 0 {
                    f64::NAN
                } else {
                    (s / n as f64).exp()
                }
            })
            .collect()
    }
}

/// Normalised entropy H / ln V per token: the uncertainty report.
#[derive(Debug)]
pub struct Uncertainty {
    /// Threshold on H / ln V above which a position is uncertain.
    pub threshold: f64,
    /// Σ H / ln V over valid tokens.
    pub sum_normalized: f64,
    /// Uncertain positions (global row indices), all of them.
    pub positions: Vec<u64>,
}

impl Uncertainty {
    /// Adds a chunk starting at global row `row0`.
    pub fn add(&mut self, m: &TokenMeasures, row0: u64, vocab: usize) {
        let ln_v = (vocab as f64).ln();
        for (i, (&h, &ok)) in m.entropy.iter().zip(&m.valid).enumerate() {
            if !ok {
                continue;
            }
            // one class: no uncertainty is possible
            let u = if vocab > 1 { h / ln_v } else { 0.0 };
            self.sum_normalized += u;
            if u > self.threshold {
                self.positions.push(row0 + i as u64);
            }
        }
    }
}

/// Tokens whose surprisal (NLL) exceeds a threshold.
#[derive(Debug)]
pub struct Flags {
    /// The threshold, nats.
    pub nats: f64,
    /// Flagged positions (global row indices).
    pub positions: Vec<u64>,
}

impl Flags {
    /// A threshold in bits (`--surprisal-bits`) or as a probability (`--surprisal-prob`).
    ///
    /// # Errors
    /// Out-of-range thresholds, naming the flag.
    pub fn new(bits: Option<f64>, prob: Option<f64>) -> Result<Option<Flags>> {
        let t = match (bits, prob) {
            (Some(_), Some(_)) => bail!("--surprisal-bits and --surprisal-prob: give one"),
            (Some(b), None) => SurprisalThreshold::Information {
                value: b,
                base: Base::TWO,
            }
            .nats()
            .map_err(|e| anyhow!("--surprisal-bits {b}: {e}"))?,
            (None, Some(p)) => SurprisalThreshold::Probability(p)
                .nats()
                .map_err(|e| anyhow!("--surprisal-prob {p}: {e}"))?,
            (None, None) => return Ok(None),
        };
        Ok(Some(Flags {
            nats: t,
            positions: Vec::new(),
        }))
    }

    /// Adds a chunk starting at global row `row0`.
    pub fn add(&mut self, m: &TokenMeasures, row0: u64) {
        let Some(nll) = &m.nll else { return };
        for (i, (&x, &ok)) in nll.iter().zip(&m.valid).enumerate() {
            if ok && x > self.nats {
                self.positions.push(row0 + i as u64);
            }
        }
    }
}

/// Cross-entropy with class weights and label smoothing, PyTorch's `cross_entropy`
/// (reduction 'mean': Σ loss / Σ w_{y}), accumulated over chunks.
#[derive(Debug)]
pub struct WeightedCe {
    /// Class weights (vocabulary length), or None for 1.
    pub weights: Option<Vec<f64>>,
    /// Label smoothing ε.
    pub smoothing: f64,
    /// Σ loss.
    pub sum_loss: f64,
    /// Σ w_{y}.
    pub sum_weight: f64,
}

/// Writes one JSON line per valid token, as the chunks stream past.
pub struct TokenWriter {
    file: StagedFile,
    buf: Vec<u8>,
}

impl TokenWriter {
    /// Stages the file (an unwritable path fails here, before any work).
    ///
    /// # Errors
    /// One line naming `--tokens-out`.
    pub fn create(path: &std::path::Path) -> Result<TokenWriter> {
        Ok(TokenWriter {
            file: StagedFile::create(path, "--tokens-out")?,
            buf: Vec::with_capacity(1 << 20),
        })
    }

    /// Writes the valid tokens of a chunk, in nats.
    ///
    /// # Errors
    /// IO errors, naming `--tokens-out`.
    pub fn add(&mut self, m: &TokenMeasures, pos: ChunkPos) -> Result<()> {
        let f = super::report::num;
        for i in (0..m.valid.len()).filter(|&i| m.valid[i]) {
            let (sequence, position) = pos.sequence(i);
            let mut o = json!({
                "sequence": sequence,
                "position": position,
                "entropy": m.entropy[i],
                "top1": m.top1_index[i],
                "top1_prob": m.top1_prob[i],
            });
            if let (Some(l), Some(nll)) = (&m.labels, &m.nll) {
                o["label"] = json!(l[i]);
                o["surprisal"] = f(nll[i]);
            }
            if let (Some(kl), Some(js)) = (&m.kl_pq, &m.js) {
                o["kl"] = f(kl[i]);
                o["js"] = f(js[i]);
            }
            serde_json::to_writer(&mut self.buf, &o)?;
            self.buf.push(b'\n');
        }
        if self.buf.len() > (1 << 20) {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Flushes and renames the file into place.
    ///
    /// # Errors
    /// IO errors, naming `--tokens-out`.
    pub fn commit(mut self) -> Result<()> {
        self.file.write_all(&self.buf)?;
        self.file.commit()
    }
}

/// Positions as JSON: the first [`MAX_LISTED`], and whether the list was cut.
pub fn listed(positions: &[u64]) -> (Value, bool) {
    let cut = positions.len() > MAX_LISTED;
    (json!(positions[..positions.len().min(MAX_LISTED)]), cut)
}
