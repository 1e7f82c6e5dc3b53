//! `Rows`: a validated view of a flat buffer as rows with the vocabulary as the last, contiguous axis.

use crate::{CoreError, Element, Result};

/// A flat, C-ordered buffer seen as `n_rows` rows of `vocab` elements.
///
/// Any leading shape ([batch, seq, vocab] is the common case) flattens to rows; the
/// constructor checks the length once, so functions taking `Rows` need not.
///
/// # Errors
/// [`CoreError::Empty`] when `vocab` is 0 or the buffer is empty;
/// [`CoreError::ShapeMismatch`] when the length is not a multiple of `vocab`.
///
/// # Examples
/// ```
/// use infometer_core::Rows;
/// let data = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
/// let rows = Rows::new(&data, 3).unwrap();
/// assert_eq!(rows.n_rows(), 2);
/// assert_eq!(rows.row(1), &[3.0, 4.0, 5.0]);
/// assert!(Rows::new(&data, 4).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a, T> {
    data: &'a [T],
    vocab: usize,
}

impl<'a, T: Element> Rows<'a, T> {
    /// Views `data` as rows of `vocab` elements.
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn new(data: &'a [T], vocab: usize) -> Result<Self> {
        if vocab == 0 {
            return Err(CoreError::Empty { what: "vocabulary" });
        }
        if data.is_empty() {
            return Err(CoreError::Empty { what: "rows" });
        }
        if !data.len().is_multiple_of(vocab) {
            return Err(CoreError::ShapeMismatch {
                what: "flat length is not a multiple of the vocabulary size",
                expected: data.len().div_ceil(vocab) * vocab,
                got: data.len(),
            });
        }
        Ok(Rows { data, vocab })
    }

    /// Number of rows (tokens).
    pub fn n_rows(&self) -> usize {
        self.data.len() / self.vocab
    }

    /// Size of the last axis.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// The flat buffer.
    pub fn as_slice(&self) -> &'a [T] {
        self.data
    }

    /// Row `i`.
    ///
    /// # Panics
    /// When `i >= n_rows()`.
    pub fn row(&self, i: usize) -> &'a [T] {
        &self.data[i * self.vocab..(i + 1) * self.vocab]
    }
}

/// Causal-LM alignment of labels: position t of each sequence of `seq_len` positions takes
/// the label (and the mask) of position t + 1, and the last position of every sequence is
/// masked out, so logits at t score the token that follows them (what Hugging Face's
/// `shift_labels` does), without moving any logits.
///
/// # Formula
/// ```text
/// label'[s, t] = label[s, t + 1],  mask'[s, t] = mask[s, t + 1]   (t < T − 1);   mask'[s, T − 1] = false
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when `seq_len` < 2 or does not divide the number of labels,
/// or the mask's length differs from the labels'.
///
/// # Examples
/// ```
/// let (l, m) = infometer_core::shift_labels(&[1, 2, 3, 4, 5, 6], None, 3, -100).unwrap();
/// assert_eq!(l, vec![2, 3, -100, 5, 6, -100]);
/// assert_eq!(m, vec![true, true, false, true, true, false]);
/// ```
///
/// # References
/// Hugging Face transformers, `ForCausalLMLoss` (labels shifted left by one position).
pub fn shift_labels(
    labels: &[i64],
    mask: Option<&[bool]>,
    seq_len: usize,
    ignore_index: i64,
) -> Result<(Vec<i64>, Vec<bool>)> {
    if seq_len < 2 || !labels.len().is_multiple_of(seq_len) {
        return Err(CoreError::ShapeMismatch {
            what: "positions per sequence for shifted labels (at least 2, dividing the labels)",
            expected: seq_len.max(2),
            got: seq_len,
        });
    }
    if let Some(m) = mask
        && m.len() != labels.len()
    {
        return Err(CoreError::ShapeMismatch {
            what: "mask length",
            expected: labels.len(),
            got: m.len(),
        });
    }
    let t = seq_len;
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
