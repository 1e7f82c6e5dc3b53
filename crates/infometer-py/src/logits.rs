//! `analyze` (one fused pass over a logits array: a report with scalars and per-token arrays) and `LogitsAccumulator` (update / compute / reset / merge, picklable), both zero-copy on the logits.

use std::sync::Mutex;

use infometer_core::{Analyze, Base, CoreError, Element, Rows, TokenMeasures};
use numpy::{PyArray1, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::arrays::{self, Slices};
use crate::errors::{self, SettingError, ShapeError, no_panic};

/// Bytes of logits per chunk: Ctrl-C is checked between chunks, and each chunk runs with the
/// GIL released.
const CHUNK_BYTES: usize = 64 << 20;

/// Settings of one pass.
#[derive(Clone, Copy)]
struct Pass<'a> {
    vocab: usize,
    labels: Option<&'a [i64]>,
    mask: Option<&'a [bool]>,
    ignore_index: i64,
    temperature: f64,
}

/// The per-token measures of a pass, concatenated over chunks.
#[derive(Default)]
struct Tokens {
    valid: Vec<bool>,
    entropy: Vec<f64>,
    top1: Vec<i64>,
    confidence: Vec<f64>,
    nll: Vec<f64>,
    kl: Vec<f64>,
    kl_reverse: Vec<f64>,
    js: Vec<f64>,
}

impl Tokens {
    fn append(&mut self, m: TokenMeasures) {
        self.valid.extend(m.valid);
        self.entropy.extend(m.entropy);
        self.top1.extend(m.top1_index.iter().map(|&i| i64::from(i)));
        self.confidence.extend(m.top1_prob);
        self.nll.extend(m.nll.unwrap_or_default());
        self.kl.extend(m.kl_pq.unwrap_or_default());
        self.kl_reverse.extend(m.kl_qp.unwrap_or_default());
        self.js.extend(m.js.unwrap_or_default());
    }
}

/// Runs the fused pass chunk by chunk: the GIL released for each chunk, Ctrl-C checked
/// between them; every chunk's sums go into `acc`, and its per-token values into `tokens`.
fn run<T: Element>(
    py: Python<'_>,
    logits: &[T],
    reference: Option<&[T]>,
    p: Pass<'_>,
    acc: &mut infometer_core::LogitsAccumulator,
    mut tokens: Option<&mut Tokens>,
) -> PyResult<()> {
    let rows = Rows::new(logits, p.vocab).map_err(errors::core)?;
    let n = rows.n_rows();
    if let Some(r) = reference
        && r.len() != logits.len()
    {
        return Err(ShapeError::new_err(format!(
            "ref: {} values, the logits have {}",
            r.len(),
            logits.len()
        )));
    }
    for (what, len) in [
        ("labels", p.labels.map(<[i64]>::len)),
        ("mask", p.mask.map(<[bool]>::len)),
    ] {
        if let Some(len) = len.filter(|&l| l != n) {
            return Err(ShapeError::new_err(format!(
                "{what}: {len} values, one per row of the logits ({n}) expected"
            )));
        }
    }
    let per = (CHUNK_BYTES / (p.vocab * std::mem::size_of::<T>()).max(1)).max(1);
    let mut start = 0;
    while start < n {
        let end = (start + per).min(n);
        let (a, b) = (start * p.vocab, end * p.vocab);
        let m = py
            .detach(|| {
                let mut pass = Analyze::new(Rows::new(&logits[a..b], p.vocab)?)
                    .ignore_index(p.ignore_index)
                    .temperature(p.temperature);
                if let Some(l) = p.labels {
                    pass = pass.labels(&l[start..end]);
                }
                if let Some(mk) = p.mask {
                    pass = pass.mask(&mk[start..end]);
                }
                if let Some(r) = reference {
                    pass = pass.reference(Rows::new(&r[a..b], p.vocab)?);
                }
                pass.run()
            })
            .map_err(|e: CoreError| errors::core(e.shifted(start, p.vocab)))?;
        acc.add(&m).map_err(errors::core)?;
        if let Some(t) = tokens.as_deref_mut() {
            t.append(m);
        }
        py.check_signals()?;
        start = end;
    }
    Ok(())
}

/// Labels and mask after the optional causal-LM shift.
struct Aligned {
    labels: Option<Vec<i64>>,
    mask: Option<Vec<bool>>,
}

/// Borrows labels and mask, checks their shapes against the logits' leading shape, and
/// shifts them when asked.
fn align(
    lead: &[usize],
    labels: Option<&Bound<'_, PyAny>>,
    mask: Option<&Bound<'_, PyAny>>,
    ignore_index: i64,
    shift: bool,
) -> PyResult<Aligned> {
    let l = labels.map(|l| arrays::int64s(l, "labels")).transpose()?;
    let m = mask.map(|m| arrays::bools(m, "mask")).transpose()?;
    for (what, shape) in [
        ("labels", l.as_ref().map(|a| a.shape().to_vec())),
        ("mask", m.as_ref().map(|a| a.shape().to_vec())),
    ] {
        if let Some(s) = shape.filter(|s| s.as_slice() != lead) {
            return Err(ShapeError::new_err(format!(
                "{what}: shape {s:?}, but the logits' leading shape is {lead:?} (one per row)"
            )));
        }
    }
    let lv = l.as_ref().map(arrays::values);
    let mv = m.as_ref().map(arrays::values);
    if shift {
        let Some(lv) = lv else {
            return Err(SettingError::new_err("shift_labels: needs labels"));
        };
        let t = match lead.last() {
            Some(&t) if t >= 2 => t,
            _ => {
                return Err(ShapeError::new_err(format!(
                    "shift_labels: the logits need a sequence axis of at least 2 positions before the vocabulary, got leading shape {lead:?}"
                )));
            }
        };
        let (l2, m2) =
            infometer_core::shift_labels(lv, mv, t, ignore_index).map_err(errors::core)?;
        return Ok(Aligned {
            labels: Some(l2),
            mask: Some(m2),
        });
    }
    Ok(Aligned {
        labels: lv.map(<[i64]>::to_vec),
        mask: mv.map(<[bool]>::to_vec),
    })
}

/// A logits pass over whichever dtype the array has.
fn dispatch(
    py: Python<'_>,
    s: &Slices<'_>,
    p: Pass<'_>,
    acc: &mut infometer_core::LogitsAccumulator,
    tokens: Option<&mut Tokens>,
) -> PyResult<()> {
    match s {
        Slices::F16(a, r) => run(py, a, *r, p, acc, tokens),
        Slices::Bf16(a, r) => run(py, a, *r, p, acc, tokens),
        Slices::F32(a, r) => run(py, a, *r, p, acc, tokens),
        Slices::F64(a, r) => run(py, a, *r, p, acc, tokens),
    }
}

/// Borrows the logits and the reference (same dtype and shape) and returns the shape, which
/// has at least the vocabulary axis.
fn borrow<'py>(
    logits: &Bound<'py, PyAny>,
    reference: Option<&Bound<'py, PyAny>>,
    bf16: bool,
) -> PyResult<(arrays::Floats<'py>, Option<arrays::Floats<'py>>, Vec<usize>)> {
    let lf = arrays::floats(logits, "logits", bf16)?;
    let rf = reference
        .map(|r| arrays::floats(r, "ref", bf16))
        .transpose()?;
    let shape = lf.shape();
    if shape.is_empty() {
        return Err(ShapeError::new_err(
            "logits: a 0-d array has no vocabulary axis",
        ));
    }
    if let Some(r) = &rf
        && r.shape() != shape
    {
        return Err(ShapeError::new_err(format!(
            "ref: shape {:?} differs from the logits' {shape:?}",
            r.shape()
        )));
    }
    Ok((lf, rf, shape))
}

fn parse_base(base: &str) -> PyResult<Base> {
    base.parse::<Base>().map_err(errors::core)
}

fn check_temperature(t: f64) -> PyResult<()> {
    if t.is_finite() && t > 0.0 && (1.0 / t).is_finite() {
        Ok(())
    } else {
        // the shorter of the plain and exponent forms: 1e-320, not 320 zeros
        let (plain, sci) = (format!("{t}"), format!("{t:e}"));
        let shown = if sci.len() < plain.len() { sci } else { plain };
        Err(SettingError::new_err(format!(
            "temperature {shown}: must be finite and positive (and 1/T finite)"
        )))
    }
}

/// The summary as a dict, in `base` (perplexity is unitless).
fn summary_dict<'py>(
    py: Python<'py>,
    acc: &infometer_core::LogitsAccumulator,
    base: Base,
) -> PyResult<Bound<'py, PyDict>> {
    let s = acc.summary().map_err(errors::core)?;
    let u = |x: f64| base.from_nats(x);
    let d = PyDict::new(py);
    d.set_item("n_tokens", s.n_tokens)?;
    d.set_item("unit", base.to_string())?;
    d.set_item("mean_entropy", u(s.mean_entropy))?;
    d.set_item("mean_confidence", s.mean_confidence)?;
    d.set_item("mean_nll", s.mean_nll.map(u))?;
    d.set_item("perplexity", s.perplexity)?;
    d.set_item("accuracy", s.accuracy)?;
    d.set_item("brier", s.brier)?;
    d.set_item("ece", s.calibration.as_ref().map(|c| c.ece))?;
    d.set_item("mce", s.calibration.as_ref().map(|c| c.mce))?;
    d.set_item("mean_kl", s.mean_kl.map(u))?;
    d.set_item("mean_kl_reverse", s.mean_kl_reverse.map(u))?;
    d.set_item("mean_js", s.mean_js.map(u))?;
    d.set_item("mean_reference_entropy", s.mean_reference_entropy.map(u))?;
    Ok(d)
}

/// The result of [`analyze`]: summary values as attributes, per-token values as numpy
/// arrays shaped like the logits' leading axes (NaN at masked or ignored tokens).
#[pyclass(frozen, module = "infometer._lib")]
pub(crate) struct Report {
    summary: Py<PyDict>,
    arrays: Py<PyDict>,
}

impl Report {
    /// A summary value or per-token array; None where the input does not define it.
    fn field(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        for d in [&self.summary, &self.arrays] {
            if let Some(v) = d.bind(py).get_item(name)? {
                return Ok(v.unbind());
            }
        }
        Ok(py.None())
    }
}

#[pymethods]
impl Report {
    /// The summary: n_tokens, unit, mean_nll, perplexity, mean_entropy, mean_confidence,
    /// accuracy, brier, ece, mce, mean_kl, mean_kl_reverse, mean_js, mean_reference_entropy
    /// (None where the input does not define them).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> Bound<'py, PyDict> {
        self.summary.bind(py).clone()
    }
    /// The per-token arrays: valid, nll, entropy, top1, confidence, kl, kl_reverse, js
    /// (those the input defines).
    #[getter]
    fn tokens<'py>(&self, py: Python<'py>) -> Bound<'py, PyDict> {
        self.arrays.bind(py).clone()
    }
    /// Valid tokens.
    #[getter]
    fn n_tokens(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "n_tokens")
    }
    /// The unit of the summary and of the per-token information values.
    #[getter]
    fn unit(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "unit")
    }
    /// Mean NLL (cross-entropy), with labels.
    #[getter]
    fn mean_nll(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "mean_nll")
    }
    /// exp(Σ NLL / n), with labels (unitless).
    #[getter]
    fn perplexity(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "perplexity")
    }
    /// Mean entropy.
    #[getter]
    fn mean_entropy(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "mean_entropy")
    }
    /// Mean top-1 probability.
    #[getter]
    fn mean_confidence(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "mean_confidence")
    }
    /// Top-1 accuracy, with labels.
    #[getter]
    fn accuracy(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "accuracy")
    }
    /// Mean Brier score, with labels.
    #[getter]
    fn brier(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "brier")
    }
    /// Expected calibration error (15 bins), with labels.
    #[getter]
    fn ece(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "ece")
    }
    /// Maximum calibration error, with labels.
    #[getter]
    fn mce(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "mce")
    }
    /// Mean KL(P‖Q), with a reference.
    #[getter]
    fn mean_kl(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "mean_kl")
    }
    /// Mean KL(Q‖P), with a reference.
    #[getter]
    fn mean_kl_reverse(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "mean_kl_reverse")
    }
    /// Mean Jensen–Shannon divergence, with a reference.
    #[getter]
    fn mean_js(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "mean_js")
    }
    /// Per-token validity (mask and ignore_index applied).
    #[getter]
    fn valid(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "valid")
    }
    /// Per-token NLL, with labels.
    #[getter]
    fn nll(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "nll")
    }
    /// Per-token entropy.
    #[getter]
    fn entropy(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "entropy")
    }
    /// Per-token top-1 class.
    #[getter]
    fn top1(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "top1")
    }
    /// Per-token top-1 probability.
    #[getter]
    fn confidence(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "confidence")
    }
    /// Per-token KL(P‖Q), with a reference.
    #[getter]
    fn kl(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "kl")
    }
    /// Per-token KL(Q‖P), with a reference.
    #[getter]
    fn kl_reverse(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "kl_reverse")
    }
    /// Per-token JS, with a reference.
    #[getter]
    fn js(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field(py, "js")
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!("Report({})", self.summary.bind(py))
    }
}

/// One fused pass over `logits` (shape [..., vocab]): entropy, top-1, and with `labels` the
/// NLL, perplexity, accuracy, Brier and calibration, with `ref` KL both ways and JS.
#[pyfunction]
#[pyo3(signature = (logits, labels=None, r#ref=None, mask=None, ignore_index=-100, base="e", temperature=1.0, shift_labels=false, bf16=false))]
pub(crate) fn analyze(
    py: Python<'_>,
    logits: &Bound<'_, PyAny>,
    labels: Option<&Bound<'_, PyAny>>,
    r#ref: Option<&Bound<'_, PyAny>>,
    mask: Option<&Bound<'_, PyAny>>,
    ignore_index: i64,
    base: &str,
    temperature: f64,
    shift_labels: bool,
    bf16: bool,
) -> PyResult<Report> {
    no_panic(|| {
        let base = parse_base(base)?;
        check_temperature(temperature)?;
        let (lf, rf, shape) = borrow(logits, r#ref, bf16)?;
        let (vocab, lead) = (shape[shape.len() - 1], &shape[..shape.len() - 1]);
        let al = align(lead, labels, mask, ignore_index, shift_labels)?;
        let s = arrays::slices(&lf, rf.as_ref())?;
        let pass = Pass {
            vocab,
            labels: al.labels.as_deref(),
            mask: al.mask.as_deref(),
            ignore_index,
            temperature,
        };
        let mut acc = infometer_core::LogitsAccumulator::new(labels.is_some(), r#ref.is_some());
        let mut t = Tokens::default();
        dispatch(py, &s, pass, &mut acc, Some(&mut t))?;
        let summary = summary_dict(py, &acc, base)?;
        let arrays = PyDict::new(py);
        let lead = lead.to_vec();
        let put = |name: &str, v: Vec<f64>, scale: bool| -> PyResult<()> {
            if v.is_empty() && !lead.contains(&0) {
                return Ok(());
            }
            let v = if scale {
                v.into_iter().map(|x| base.from_nats(x)).collect()
            } else {
                v
            };
            let a = PyArray1::from_vec(py, v).reshape(lead.clone())?;
            arrays.set_item(name, a)
        };
        arrays.set_item(
            "valid",
            PyArray1::from_vec(py, t.valid).reshape(lead.clone())?,
        )?;
        arrays.set_item(
            "top1",
            PyArray1::from_vec(py, t.top1).reshape(lead.clone())?,
        )?;
        put("entropy", t.entropy, true)?;
        put("confidence", t.confidence, false)?;
        put("nll", t.nll, true)?;
        put("kl", t.kl, true)?;
        put("kl_reverse", t.kl_reverse, true)?;
        put("js", t.js, true)?;
        Ok(Report {
            summary: summary.unbind(),
            arrays: arrays.unbind(),
        })
    })
}

/// The part of an accumulator that must agree for a merge.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Config {
    labels: bool,
    reference: bool,
    temperature: f64,
    ignore_index: i64,
}

/// State behind the lock.
#[derive(Clone)]
struct State {
    acc: infometer_core::LogitsAccumulator,
    vocab: Option<usize>,
}

/// Exact, mergeable sums of fused passes, in torchmetrics' verbs: `update` adds a batch,
/// `compute` gives the summary, `reset` empties, `merge` adds another accumulator's state.
/// Thread-safe (an inner lock; the pass itself runs unlocked and with the GIL released).
#[pyclass(frozen, module = "infometer._lib")]
pub(crate) struct LogitsAccumulator {
    config: Config,
    state: Mutex<State>,
}

/// The magic and version of the pickled bytes.
const MAGIC: &[u8; 8] = b"IMACC\0\0\x01";

impl LogitsAccumulator {
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| {
            errors::InfometerError::new_err("accumulator lock poisoned by an earlier panic")
        })
    }

    fn snapshot(&self) -> PyResult<State> {
        Ok(self.lock()?.clone())
    }

    fn add_state(&self, other: &State) -> PyResult<()> {
        let mut me = self.lock()?;
        if let (Some(a), Some(b)) = (me.vocab, other.vocab)
            && a != b
        {
            return Err(SettingError::new_err(format!(
                "cannot merge: vocabulary {b} into an accumulator of vocabulary {a}"
            )));
        }
        me.acc.merge(&other.acc).map_err(errors::core)?;
        me.vocab = me.vocab.or(other.vocab);
        Ok(())
    }

    fn to_bytes(&self) -> PyResult<Vec<u8>> {
        let s = self.snapshot()?;
        let c = &self.config;
        let a = &s.acc;
        let mut b = MAGIC.to_vec();
        b.push(u8::from(c.labels) | (u8::from(c.reference) << 1));
        b.extend(c.temperature.to_le_bytes());
        b.extend(c.ignore_index.to_le_bytes());
        b.extend((s.vocab.map_or(0, |v| v as u64 + 1)).to_le_bytes());
        b.extend(a.n_tokens.to_le_bytes());
        b.extend(a.n_correct.to_le_bytes());
        for x in [
            a.sum_entropy,
            a.sum_confidence,
            a.sum_nll,
            a.sum_brier,
            a.sum_kl,
            a.sum_kl_reverse,
            a.sum_js,
            a.sum_reference_entropy,
        ] {
            b.extend(x.to_le_bytes());
        }
        b.extend((a.bin_count.len() as u64).to_le_bytes());
        for i in 0..a.bin_count.len() {
            b.extend(a.bin_count[i].to_le_bytes());
            b.extend(a.bin_confidence[i].to_le_bytes());
            b.extend(a.bin_correct[i].to_le_bytes());
        }
        Ok(b)
    }

    fn from_bytes(bytes: &[u8]) -> PyResult<LogitsAccumulator> {
        let bad = || {
            errors::InfometerError::new_err(
                "not an infometer accumulator state (or one from another version)",
            )
        };
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(bad)?;
        let (&flags, mut rest) = rest.split_first().ok_or_else(bad)?;
        let mut word = || -> PyResult<[u8; 8]> {
            let (w, r) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
            rest = r;
            Ok(*w)
        };
        let temperature = f64::from_le_bytes(word()?);
        let ignore_index = i64::from_le_bytes(word()?);
        let vocab = match u64::from_le_bytes(word()?) {
            0 => None,
            v => Some((v - 1) as usize),
        };
        let config = Config {
            labels: flags & 1 != 0,
            reference: flags & 2 != 0,
            temperature,
            ignore_index,
        };
        let mut a = infometer_core::LogitsAccumulator::new(config.labels, config.reference);
        a.n_tokens = u64::from_le_bytes(word()?);
        a.n_correct = u64::from_le_bytes(word()?);
        for x in [
            &mut a.sum_entropy,
            &mut a.sum_confidence,
            &mut a.sum_nll,
            &mut a.sum_brier,
            &mut a.sum_kl,
            &mut a.sum_kl_reverse,
            &mut a.sum_js,
            &mut a.sum_reference_entropy,
        ] {
            *x = f64::from_le_bytes(word()?);
        }
        let bins = u64::from_le_bytes(word()?) as usize;
        if bins != a.bin_count.len() {
            return Err(bad());
        }
        for i in 0..bins {
            a.bin_count[i] = u64::from_le_bytes(word()?);
            a.bin_confidence[i] = f64::from_le_bytes(word()?);
            a.bin_correct[i] = u64::from_le_bytes(word()?);
        }
        Ok(LogitsAccumulator {
            config,
            state: Mutex::new(State { acc: a, vocab }),
        })
    }
}

#[pymethods]
impl LogitsAccumulator {
    #[new]
    #[pyo3(signature = (labels=true, reference=false, temperature=1.0, ignore_index=-100))]
    fn new(labels: bool, reference: bool, temperature: f64, ignore_index: i64) -> PyResult<Self> {
        check_temperature(temperature)?;
        Ok(LogitsAccumulator {
            config: Config {
                labels,
                reference,
                temperature,
                ignore_index,
            },
            state: Mutex::new(State {
                acc: infometer_core::LogitsAccumulator::new(labels, reference),
                vocab: None,
            }),
        })
    }

    /// Adds one batch (the pass runs unlocked, with the GIL released; its sums are then added
    /// under the lock).
    #[pyo3(signature = (logits, labels=None, r#ref=None, mask=None, shift_labels=false, bf16=false))]
    fn update(
        &self,
        py: Python<'_>,
        logits: &Bound<'_, PyAny>,
        labels: Option<&Bound<'_, PyAny>>,
        r#ref: Option<&Bound<'_, PyAny>>,
        mask: Option<&Bound<'_, PyAny>>,
        shift_labels: bool,
        bf16: bool,
    ) -> PyResult<()> {
        no_panic(|| {
            let c = self.config;
            if labels.is_some() != c.labels || r#ref.is_some() != c.reference {
                return Err(SettingError::new_err(format!(
                    "this accumulator was made with labels={} and reference={}; update with the same",
                    if c.labels { "True" } else { "False" },
                    if c.reference { "True" } else { "False" }
                )));
            }
            let (lf, rf, shape) = borrow(logits, r#ref, bf16)?;
            let (vocab, lead) = (shape[shape.len() - 1], &shape[..shape.len() - 1]);
            if let Some(v) = self.lock()?.vocab.filter(|&v| v != vocab) {
                return Err(ShapeError::new_err(format!(
                    "logits: vocabulary {vocab}, but this accumulator has seen {v}"
                )));
            }
            let al = align(lead, labels, mask, c.ignore_index, shift_labels)?;
            let s = arrays::slices(&lf, rf.as_ref())?;
            let pass = Pass {
                vocab,
                labels: al.labels.as_deref(),
                mask: al.mask.as_deref(),
                ignore_index: c.ignore_index,
                temperature: c.temperature,
            };
            let mut batch = infometer_core::LogitsAccumulator::new(c.labels, c.reference);
            dispatch(py, &s, pass, &mut batch, None)?;
            self.add_state(&State {
                acc: batch,
                vocab: Some(vocab),
            })
        })
    }

    /// The summary of everything added, in `base` ("e", "2", "10" or a number > 1).
    #[pyo3(signature = (base="e"))]
    fn compute<'py>(&self, py: Python<'py>, base: &str) -> PyResult<Bound<'py, PyDict>> {
        let b = parse_base(base)?;
        let s = self.snapshot()?;
        summary_dict(py, &s.acc, b)
    }

    /// Calibration bins: (count, sum of confidence, correct) per equal-width bin of top-1
    /// confidence; exact to merge.
    fn bins<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.snapshot()?;
        let d = PyDict::new(py);
        d.set_item("count", PyArray1::from_vec(py, s.acc.bin_count.clone()))?;
        d.set_item(
            "sum_confidence",
            PyArray1::from_vec(py, s.acc.bin_confidence.clone()),
        )?;
        d.set_item("correct", PyArray1::from_vec(py, s.acc.bin_correct.clone()))?;
        Ok(d)
    }

    /// Empties the sums (the settings stay).
    fn reset(&self) -> PyResult<()> {
        let mut s = self.lock()?;
        s.acc = infometer_core::LogitsAccumulator::new(self.config.labels, self.config.reference);
        s.vocab = None;
        Ok(())
    }

    /// Adds another accumulator's state; its settings must match. `a.merge(a)` doubles `a`.
    fn merge(&self, other: &LogitsAccumulator) -> PyResult<()> {
        if other.config != self.config {
            return Err(SettingError::new_err(format!(
                "cannot merge accumulators with different settings: {:?} and {:?}",
                self.config, other.config
            )));
        }
        // the other's state is copied before this one is locked: merging an accumulator
        // into itself cannot deadlock
        let theirs = other.snapshot()?;
        self.add_state(&theirs)
    }

    /// Alias of `merge` (torchmetrics' name).
    fn merge_state(&self, other: &LogitsAccumulator) -> PyResult<()> {
        self.merge(other)
    }

    /// A new accumulator holding both states.
    fn __add__(&self, other: &LogitsAccumulator) -> PyResult<LogitsAccumulator> {
        let out = LogitsAccumulator::from_bytes(&self.to_bytes()?)?;
        out.merge(other)?;
        Ok(out)
    }

    /// Tokens added so far.
    #[getter]
    fn n_tokens(&self) -> PyResult<u64> {
        Ok(self.lock()?.acc.n_tokens)
    }

    /// The state as versioned bytes.
    fn to_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.to_bytes()?))
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let f = py
            .import("infometer._lib")?
            .getattr("_accumulator_from_bytes")?;
        Ok((f, (PyBytes::new(py, &self.to_bytes()?),)))
    }

    fn __repr__(&self) -> PyResult<String> {
        let s = self.lock()?;
        Ok(format!(
            "LogitsAccumulator(labels={}, reference={}, temperature={}, n_tokens={})",
            self.config.labels, self.config.reference, self.config.temperature, s.acc.n_tokens
        ))
    }
}

/// Rebuilds an accumulator from [`LogitsAccumulator::to_state`]'s bytes (pickle's path).
#[pyfunction]
pub(crate) fn _accumulator_from_bytes(state: &[u8]) -> PyResult<LogitsAccumulator> {
    LogitsAccumulator::from_bytes(state)
}
