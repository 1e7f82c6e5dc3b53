//! Perplexity done right: exp of the token-weighted mean NLL in nats, a streaming accumulator, per-sequence values, sliding-window evaluation, bits per token and per byte.

use crate::{Base, CoreError, Result, TokenMeasures};

/// A streaming, token-weighted accumulator of negative log-likelihood.
///
/// Add per-token NLLs (nats) batch by batch; the perplexity is exp of the mean over all
/// tokens seen, never an average of per-batch perplexities. Sums use Neumaier
/// compensation, so the order of batches does not matter beyond the last bits.
///
/// # Formula
/// ```text
/// PPL = exp( Σ_t NLL_t / N ),   bits/token = Σ NLL / (N ln 2),   bits/byte = Σ NLL / (B ln 2)
/// ```
///
/// # Errors
/// [`CoreError::NoValidTokens`] when no token was added; [`CoreError::NonFinite`] for a NaN or
/// negative NLL passed to [`PerplexityAccumulator::add`] (+inf is accepted: PPL = +inf).
///
/// # Examples
/// ```
/// use infometer_core::PerplexityAccumulator;
/// let mut acc = PerplexityAccumulator::new();
/// acc.extend(&[1.0, 2.0]).unwrap();    // batch 1
/// acc.extend(&[3.0]).unwrap();         // batch 2
/// assert!((acc.perplexity().unwrap() - 2f64.exp()).abs() < 1e-12);
/// ```
///
/// # References
/// Jelinek et al., "Perplexity—a measure of the difficulty of speech recognition tasks", JASA 62, 1977.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PerplexityAccumulator {
    sum: f64,
    comp: f64,
    n_tokens: u64,
    n_bytes: u64,
}

impl PerplexityAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one token's NLL in nats.
    ///
    /// # Errors
    /// [`CoreError::NonFinite`] for NaN; [`CoreError::OutOfDomain`] for a negative value.
    pub fn add(&mut self, nll: f64) -> Result<()> {
        if nll.is_nan() {
            return Err(CoreError::NonFinite {
                what: "nll",
                index: self.n_tokens as usize,
                value: nll,
            });
        }
        if nll < 0.0 {
            return Err(CoreError::OutOfDomain {
                what: "nll",
                index: self.n_tokens as usize,
                value: nll,
                domain: "an NLL is ≥ 0",
            });
        }
        self.neumaier(nll);
        self.n_tokens += 1;
        Ok(())
    }

    /// Adds a batch of per-token NLLs (nats).
    ///
    /// # Errors
    /// As [`PerplexityAccumulator::add`]; on error nothing of the batch is kept.
    pub fn extend(&mut self, nll: &[f64]) -> Result<()> {
        let mut next = self.clone();
        for &v in nll {
            next.add(v)?;
        }
        *self = next;
        Ok(())
    }

    /// Adds the valid tokens' NLL of a fused pass (requires labels).
    ///
    /// # Errors
    /// [`CoreError::Empty`] when the pass had no labels.
    pub fn add_measures(&mut self, m: &TokenMeasures) -> Result<()> {
        let nll = m.nll.as_ref().ok_or(CoreError::Empty {
            what: "labels (the pass had none)",
        })?;
        let valid: Vec<f64> = nll
            .iter()
            .zip(&m.valid)
            .filter(|(_, v)| **v)
            .map(|(x, _)| *x)
            .collect();
        self.extend(&valid)
    }

    /// Adds a count of UTF-8 bytes covered by the tokens, for bits per byte.
    pub fn add_bytes(&mut self, n_bytes: u64) {
        self.n_bytes += n_bytes;
    }

    /// Merges another accumulator (e.g. from another thread or shard).
    pub fn merge(&mut self, other: &PerplexityAccumulator) {
        self.neumaier(other.sum);
        self.comp += other.comp;
        self.n_tokens += other.n_tokens;
        self.n_bytes += other.n_bytes;
    }

    fn neumaier(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// Number of tokens added.
    pub fn n_tokens(&self) -> u64 {
        self.n_tokens
    }

    /// Total NLL in nats.
    pub fn total_nll(&self) -> f64 {
        if self.sum.is_infinite() {
            return self.sum;
        }
        self.sum + self.comp
    }

    /// Mean NLL per token in nats.
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when empty.
    pub fn mean_nll(&self) -> Result<f64> {
        if self.n_tokens == 0 {
            return Err(CoreError::NoValidTokens);
        }
        Ok(self.total_nll() / self.n_tokens as f64)
    }

    /// Mean NLL in a base's units (bits per token with [`Base::TWO`]).
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when empty.
    pub fn mean_nll_in(&self, base: Base) -> Result<f64> {
        self.mean_nll().map(|x| base.from_nats(x))
    }

    /// exp(mean NLL in nats); the same number in every display base.
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when empty.
    pub fn perplexity(&self) -> Result<f64> {
        self.mean_nll().map(f64::exp)
    }

    /// Bits per token: mean NLL / ln 2.
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when empty.
    pub fn bits_per_token(&self) -> Result<f64> {
        self.mean_nll_in(Base::TWO)
    }

    /// Bits per byte: total NLL / (ln 2 · bytes).
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when empty; [`CoreError::Empty`] when no bytes were added.
    pub fn bits_per_byte(&self) -> Result<f64> {
        if self.n_tokens == 0 {
            return Err(CoreError::NoValidTokens);
        }
        if self.n_bytes == 0 {
            return Err(CoreError::Empty { what: "byte count" });
        }
        Ok(Base::TWO.from_nats(self.total_nll()) / self.n_bytes as f64)
    }
}

/// Perplexity from per-token NLLs (nats) of valid tokens: exp(mean).
///
/// # Formula
/// ```text
/// PPL = exp(Σ NLL_t / N)
/// ```
///
/// # Errors
/// [`CoreError::NoValidTokens`] for an empty slice; [`CoreError::NonFinite`] for NaN or negative.
///
/// # Examples
/// ```
/// assert!((infometer_core::perplexity(&[2f64.ln(); 3]).unwrap() - 2.0).abs() < 1e-12);
/// ```
///
/// # References
/// Jelinek et al., JASA 62, 1977.
pub fn perplexity(nll: &[f64]) -> Result<f64> {
    let mut acc = PerplexityAccumulator::new();
    acc.extend(nll)?;
    acc.perplexity()
}

/// Perplexity of each sequence of `seq_len` tokens, over its valid tokens; NaN for a
/// sequence with no valid token (documented value, not an error, so one padded row does
/// not hide the others).
///
/// # Formula
/// ```text
/// PPL_s = exp( Σ_{t valid in s} NLL_t / N_s )
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when lengths disagree or are not a multiple of `seq_len`;
/// [`CoreError::Empty`] when `seq_len` is 0.
///
/// # Examples
/// ```
/// let nll = [1.0, 3.0, 0.5, f64::NAN];
/// let valid = [true, true, true, false];
/// let ppl = infometer_core::per_sequence_perplexity(&nll, &valid, 2).unwrap();
/// assert!((ppl[0] - 2f64.exp()).abs() < 1e-12);
/// assert!((ppl[1] - 0.5f64.exp()).abs() < 1e-12);
/// ```
///
/// # References
/// Jelinek et al., JASA 62, 1977.
pub fn per_sequence_perplexity(nll: &[f64], valid: &[bool], seq_len: usize) -> Result<Vec<f64>> {
    if seq_len == 0 {
        return Err(CoreError::Empty {
            what: "sequence length",
        });
    }
    if nll.len() != valid.len() {
        return Err(CoreError::ShapeMismatch {
            what: "valid mask",
            expected: nll.len(),
            got: valid.len(),
        });
    }
    if !nll.len().is_multiple_of(seq_len) {
        return Err(CoreError::ShapeMismatch {
            what: "tokens per sequence",
            expected: seq_len,
            got: nll.len() % seq_len,
        });
    }
    Ok(nll
        .chunks(seq_len)
        .zip(valid.chunks(seq_len))
        .map(|(x, v)| {
            let (s, c) = x
                .iter()
                .zip(v)
                .filter(|(_, v)| **v)
                .fold((0.0, 0usize), |(s, c), (x, _)| (s + x, c + 1));
            if c == 0 {
                f64::NAN
            } else {
                (s / c as f64).exp()
            }
        })
        .collect())
}

/// One window of a sliding-window evaluation over a token stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First token of the model's input.
    pub begin: usize,
    /// One past the last token of the input.
    pub end: usize,
    /// First token whose NLL this window contributes; tokens `score_from..end` are scored,
    /// each predicted from the tokens before it inside the window.
    pub score_from: usize,
}

impl Window {
    /// Number of tokens scored in this window.
    pub fn n_scored(&self) -> usize {
        self.end - self.score_from
    }
}

/// Windows for strided sliding-window evaluation of a fixed-context model.
///
/// The standard procedure (Hugging Face, "Perplexity of fixed-length models"): windows of
/// `context` tokens start every `stride` tokens; each token is scored at most once, by the
/// first window that contains it as a new token, so with stride < context every token but
/// the first is scored exactly once, and after the first window with at least
/// `context − stride` tokens of history. A token is never scored at its window's first
/// position (it has no history there): so the stream's first token is never scored, and
/// with stride = context (disjoint windows) neither is the first token of each window.
///
/// # Errors
/// [`CoreError::InvalidParameter`] when `context` < 2, `stride` is 0 or `stride` > `context`;
/// [`CoreError::Empty`] when the stream has fewer than 2 tokens.
///
/// # Examples
/// ```
/// let w = infometer_core::sliding_windows(10, 4, 2).unwrap();
/// assert_eq!(w.iter().map(|w| w.n_scored()).sum::<usize>(), 9);
/// assert_eq!((w[1].begin, w[1].end, w[1].score_from), (2, 6, 4));
/// ```
///
/// # References
/// Hugging Face Transformers documentation, "Perplexity of fixed-length models".
pub fn sliding_windows(n_tokens: usize, context: usize, stride: usize) -> Result<Vec<Window>> {
    if context < 2 {
        return Err(CoreError::InvalidParameter {
            name: "context",
            value: context as f64,
            reason: "must be at least 2",
        });
    }
    if stride == 0 || stride > context {
        return Err(CoreError::InvalidParameter {
            name: "stride",
            value: stride as f64,
            reason: "must lie in 1..=context",
        });
    }
    if n_tokens < 2 {
        return Err(CoreError::Empty {
            what: "token stream (needs at least 2 tokens)",
        });
    }
    let mut out = Vec::new();
    let mut prev_end = 1; // token 0 is never scored
    let mut begin = 0;
    while prev_end < n_tokens {
        let end = (begin + context).min(n_tokens);
        let score_from = prev_end.max(begin + 1);
        if end > score_from {
            out.push(Window {
                begin,
                end,
                score_from,
            });
        }
        prev_end = prev_end.max(end);
        begin += stride;
    }
    Ok(out)
}

/// Sliding-window perplexity: `nll_of(window)` returns the NLL (nats) of tokens
/// `window.score_from..window.end`, each conditioned on the window's earlier tokens.
///
/// # Errors
/// As [`sliding_windows`]; [`CoreError::ShapeMismatch`] when `nll_of` returns the wrong
/// count; errors of `nll_of` are passed through.
///
/// # Examples
/// ```
/// use infometer_core::sliding_window_perplexity;
/// // a model that gives every token probability 1/4
/// let acc = sliding_window_perplexity(100, 16, 8, |w| Ok(vec![4f64.ln(); w.n_scored()])).unwrap();
/// assert_eq!(acc.n_tokens(), 99);
/// assert!((acc.perplexity().unwrap() - 4.0).abs() < 1e-12);
/// ```
///
/// # References
/// Hugging Face Transformers documentation, "Perplexity of fixed-length models".
pub fn sliding_window_perplexity<F>(
    n_tokens: usize,
    context: usize,
    stride: usize,
    mut nll_of: F,
) -> Result<PerplexityAccumulator>
where
    F: FnMut(Window) -> Result<Vec<f64>>,
{
    let mut acc = PerplexityAccumulator::new();
    for w in sliding_windows(n_tokens, context, stride)? {
        let nll = nll_of(w)?;
        if nll.len() != w.n_scored() {
            return Err(CoreError::ShapeMismatch {
                what: "window NLL count",
                expected: w.n_scored(),
                got: nll.len(),
            });
        }
        acc.extend(&nll)?;
    }
    Ok(acc)
}

/// One window of a local perplexity profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileWindow {
    /// First token of the window.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// Valid tokens in the window.
    pub n_tokens: usize,
    /// exp(mean NLL) over them; NaN when none is valid.
    pub perplexity: f64,
}

/// Local perplexity profile of one token stream: perplexity over windows of `window` tokens
/// starting every `stride` tokens (the last window may be shorter), to find the stretches of
/// a long note that a model finds surprising.
///
/// Each window is summed on its own: the cost is window / stride passes over the stream.
///
/// # Formula
/// ```text
/// PPL_[a, b) = exp( Σ_{t ∈ [a, b), valid} NLL_t / #{t ∈ [a, b) valid} ),  a = 0, s, 2s, …,  b = min(a + w, N)
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when `nll` and `valid` differ in length;
/// [`CoreError::InvalidParameter`] for a window or stride of 0;
/// [`CoreError::Empty`] for an empty stream.
///
/// # Examples
/// ```
/// let nll = [1.0, 1.0, 5.0, 5.0, 1.0];
/// let p = infometer_core::perplexity_profile(&nll, &[true; 5], 2, 2).unwrap();
/// assert_eq!(p.len(), 3);
/// assert!((p[1].perplexity - 5f64.exp()).abs() < 1e-9); // the spike at tokens 2–3
/// assert_eq!((p[2].start, p[2].end, p[2].n_tokens), (4, 5, 1));
/// ```
///
/// # References
/// Hugging Face Transformers documentation, "Perplexity of fixed-length models" (windowed
/// evaluation); Jelinek et al., JASA 62, 1977 (perplexity).
pub fn perplexity_profile(
    nll: &[f64],
    valid: &[bool],
    window: usize,
    stride: usize,
) -> Result<Vec<ProfileWindow>> {
    if nll.len() != valid.len() {
        return Err(CoreError::ShapeMismatch {
            what: "validity mask",
            expected: nll.len(),
            got: valid.len(),
        });
    }
    for (name, v) in [("window", window), ("stride", stride)] {
        if v == 0 {
            return Err(CoreError::InvalidParameter {
                name,
                value: 0.0,
                reason: "must be at least 1",
            });
        }
    }
    if nll.is_empty() {
        return Err(CoreError::Empty {
            what: "token stream",
        });
    }
    let n = nll.len();
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let end = (start + window).min(n);
        // summed window by window (not as a difference of prefix sums, which would lose
        // digits on long streams and turn a +inf token into NaN for every later window)
        let (s, k) = nll[start..end]
            .iter()
            .zip(&valid[start..end])
            .filter(|(_, ok)| **ok)
            .fold((0.0, 0usize), |(s, k), (x, _)| (s + x, k + 1));
        let perplexity = if k == 0 {
            f64::NAN
        } else {
            (s / k as f64).exp()
        };
        out.push(ProfileWindow {
            start,
            end,
            n_tokens: k,
            perplexity,
        });
        if end == n {
            break;
        }
        start += stride;
    }
    Ok(out)
}
