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
