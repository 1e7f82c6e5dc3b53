//! Model evaluation from Python: `uncertainty` (the ensemble decomposition, chunk by chunk with the GIL released) and `compare_nll` (two models' per-token NLLs compared by document, with the document bootstrap, the delta method and the sign-flip test).

use infometer_core::{
    CiMethod, CompareMetric, CompareOptions, Element, Ensemble, EnsembleAccumulator,
    EnsembleMeasures, EnsembleSummary, MemberJackknife, PairedUnits, Resampling, Rows, TokenPair,
};
use numpy::{PyArray1, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::{self, Floats};
use crate::errors::{self, SettingError, ShapeError, no_panic};

/// Bytes of logits (over all members) per chunk.
const CHUNK_BYTES: usize = 64 << 20;

struct Settings<'a> {
    mask: Option<&'a [bool]>,
    temperature: f64,
    alpha: f64,
    jackknife: bool,
}

/// Every chunk through the ensemble: per-token columns, the full sums and (with the
/// jackknife) each leave-one-out pass's sums.
fn run<T: Element>(
    py: Python<'_>,
    members: &[&[T]],
    vocab: usize,
    s: &Settings<'_>,
) -> PyResult<(Vec<Vec<f64>>, EnsembleAccumulator, Vec<EnsembleAccumulator>)> {
    let m = members.len();
    let n = members[0].len() / vocab;
    let per = (CHUNK_BYTES / (m * vocab * std::mem::size_of::<T>()).max(1)).max(1);
    let mut cols: Vec<Vec<f64>> = (0..8).map(|_| Vec::with_capacity(n)).collect();
    let mut full = EnsembleAccumulator::default();
    let mut loo = vec![EnsembleAccumulator::default(); if s.jackknife { m } else { 0 }];
    let mut start = 0;
    while start < n {
        let end = (start + per).min(n);
        let (a, b) = (start * vocab, end * vocab);
        let (f, left) = py
            .detach(|| -> infometer_core::Result<_> {
                let rows = members
                    .iter()
                    .map(|x| Rows::new(&x[a..b], vocab))
                    .collect::<infometer_core::Result<Vec<_>>>()?;
                let mut e = Ensemble::new(rows)?
                    .temperature(s.temperature)
                    .renyi_alpha(s.alpha);
                if let Some(mk) = s.mask {
                    e = e.mask(&mk[start..end]);
                }
                let f = e.run()?;
                let left = if s.jackknife {
                    (0..m)
                        .map(|j| e.run_without(j))
                        .collect::<infometer_core::Result<Vec<_>>>()?
                } else {
                    Vec::new()
                };
                Ok((f, left))
            })
            .map_err(|e| errors::core(e.shifted(start, vocab)))?;
        full.add(&f);
        for (acc, l) in loo.iter_mut().zip(&left) {
            acc.add(l);
        }
        for (c, v) in cols.iter_mut().zip(f.columns()) {
            c.extend_from_slice(v);
        }
        py.check_signals()?;
        start = end;
    }
    Ok((cols, full, loo))
}

/// bfloat16 values from the bits of an int16 view.
fn bf16_of(x: &[i16]) -> &[half::bf16] {
    bytemuck::cast_slice(x)
}

/// Total, aleatoric and epistemic uncertainty of an ensemble, per token and averaged.
#[pyfunction]
#[pyo3(signature = (members, mask=None, temperature=1.0, renyi_alpha=0.5, jackknife=false, bf16=false))]
pub(crate) fn uncertainty<'py>(
    py: Python<'py>,
    members: Vec<Bound<'py, PyAny>>,
    mask: Option<Bound<'py, PyAny>>,
    temperature: f64,
    renyi_alpha: f64,
    jackknife: bool,
    bf16: bool,
) -> PyResult<Bound<'py, PyDict>> {
    no_panic(|| {
        if members.len() < 2 {
            return Err(SettingError::new_err(format!(
                "members: a decomposition needs at least 2 members, got {}",
                members.len()
            )));
        }
        if jackknife && members.len() < 3 {
            return Err(SettingError::new_err(format!(
                "jackknife: needs at least 3 members, got {}",
                members.len()
            )));
        }
        let arrs = members
            .iter()
            .enumerate()
            .map(|(k, a)| arrays::floats(a, &format!("members[{k}]"), bf16))
            .collect::<PyResult<Vec<_>>>()?;
        let shape = arrs[0].shape();
        let Some((&vocab, lead)) = shape.split_last() else {
            return Err(ShapeError::new_err(
                "members[0]: a 0-d array has no vocabulary axis",
            ));
        };
        if vocab == 0 || lead.iter().product::<usize>() == 0 {
            return Err(ShapeError::new_err(format!(
                "members[0]: empty logits (shape {shape:?})"
            )));
        }
        for (k, a) in arrs.iter().enumerate().skip(1) {
            if a.shape() != shape {
                return Err(ShapeError::new_err(format!(
                    "members[{k}]: shape {:?} differs from members[0]'s {shape:?}",
                    a.shape()
                )));
            }
            if a.kind() != arrs[0].kind() {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "members[{k}]: dtype {} differs from members[0]'s {}; cast them to one",
                    a.kind(),
                    arrs[0].kind()
                )));
            }
        }
        let mk = mask.map(|m| arrays::bools(&m, "mask")).transpose()?;
        if let Some(s) = mk
            .as_ref()
            .map(|a| a.shape().to_vec())
            .filter(|s| s != lead)
        {
            return Err(ShapeError::new_err(format!(
                "mask: shape {s:?}, but the members' leading shape is {lead:?}"
            )));
        }
        let s = Settings {
            mask: mk.as_ref().map(arrays::values),
            temperature,
            alpha: renyi_alpha,
            jackknife,
        };
        macro_rules! go {
            ($variant:ident, $conv:expr) => {{
                let sl: Vec<_> = arrs
                    .iter()
                    .map(|a| match a {
                        Floats::$variant(x) => $conv(arrays::values(x)),
                        _ => unreachable!("one dtype, checked above"),
                    })
                    .collect();
                run(py, &sl, vocab, &s)
            }};
        }
        let (cols, full, loo) = match &arrs[0] {
            Floats::F16(_) => go!(F16, |x| x),
            Floats::Bf16(_) => go!(Bf16, bf16_of),
            Floats::F32(_) => go!(F32, |x| x),
            Floats::F64(_) => go!(F64, |x| x),
        }?;
        let sm = full.summary().map_err(errors::core)?;
        let d = PyDict::new(py);
        d.set_item("members", members.len())?;
        d.set_item("vocab", vocab)?;
        d.set_item("n_tokens", sm.n_tokens)?;
        let means = PyDict::new(py);
        for (name, v) in EnsembleMeasures::COLUMNS.iter().zip([
            sm.total,
            sm.aleatoric,
            sm.mutual_information,
            sm.rmi,
            sm.epkl,
            sm.max_prob,
            sm.renyi_to_uniform,
            sm.fisher_rao_to_uniform,
        ]) {
            means.set_item(name, v)?;
        }
        d.set_item("mean", means)?;
        d.set_item("infinite_epkl", sm.infinite_epkl)?;
        for (name, c) in EnsembleMeasures::COLUMNS.iter().zip(cols) {
            d.set_item(name, PyArray1::from_vec(py, c).reshape(lead.to_vec())?)?;
        }
        if jackknife {
            let sums = loo
                .iter()
                .map(EnsembleAccumulator::summary)
                .collect::<infometer_core::Result<Vec<EnsembleSummary>>>()
                .map_err(errors::core)?;
            let j = MemberJackknife::from_summaries(&sm, &sums);
            let jd = PyDict::new(py);
            jd.set_item("mutual_information_se", j.mi_se)?;
            jd.set_item("mutual_information_bias_corrected", j.mi_bias_corrected)?;
            jd.set_item("total_se", j.total_se)?;
            jd.set_item("epkl_se", j.epkl_se)?;
            d.set_item("jackknife", jd)?;
        }
        let mut warnings = Vec::new();
        if members.len() < 5 {
            warnings.push(format!(
                "only {} members: the mutual information of a few members is biased low; jackknife=True gives a bias-corrected value (3 or more members)",
                members.len()
            ));
        }
        if sm.infinite_epkl > 0 {
            warnings.push(format!(
                "{} token(s) have EPKL = RMI = inf: a member gives probability 0 where another gives mass",
                sm.infinite_epkl
            ));
        }
        d.set_item("warnings", warnings)?;
        Ok(d)
    })
}

/// Two models' per-token NLLs compared by document: ΔNLL, the perplexity ratio and (with
/// byte counts) Δ bits per byte, with bootstrap intervals, the delta method, the sign-flip
/// test and the design effect.
#[pyfunction]
#[pyo3(signature = (nll_a, nll_b, doc, bytes=None, resamples=9999, seed=0, level=0.95, interval="bca", resample="documents", block_len=None))]
pub(crate) fn compare_nll<'py>(
    py: Python<'py>,
    nll_a: Bound<'py, PyAny>,
    nll_b: Bound<'py, PyAny>,
    doc: Bound<'py, PyAny>,
    bytes: Option<Bound<'py, PyAny>>,
    resamples: usize,
    seed: u64,
    level: f64,
    interval: &str,
    resample: &str,
    block_len: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    no_panic(|| {
        let fa = arrays::floats(&nll_a, "nll_a", false)?;
        let fb = arrays::floats(&nll_b, "nll_b", false)?;
        let (Floats::F64(a), Floats::F64(b)) = (&fa, &fb) else {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "nll_a, nll_b: float64 arrays expected (the Python layer casts)",
            ));
        };
        let (a, b) = (arrays::values(a), arrays::values(b));
        let di = arrays::int64s(&doc, "doc")?;
        let d = arrays::values(&di);
        if a.len() != b.len() || a.len() != d.len() {
            return Err(ShapeError::new_err(format!(
                "nll_a, nll_b, doc: {}, {} and {} values; one per token each",
                a.len(),
                b.len(),
                d.len()
            )));
        }
        let method: CiMethod = interval.parse().map_err(errors::core)?;
        let (resampling, tokens) = match (resample, block_len) {
            ("documents", None) => (Resampling::Units, false),
            ("tokens", None) => (Resampling::Units, true),
            ("blocks", Some(len)) => (Resampling::MovingBlocks { len }, true),
            ("blocks", None) => {
                return Err(SettingError::new_err("resample='blocks': needs block_len"));
            }
            ("documents" | "tokens", Some(_)) => {
                return Err(SettingError::new_err(
                    "block_len: applies only to resample='blocks'",
                ));
            }
            (other, _) => {
                return Err(SettingError::new_err(format!(
                    "resample {other:?}: must be 'documents', 'tokens' or 'blocks'"
                )));
            }
        };
        let bi = bytes.map(|x| arrays::int64s(&x, "bytes")).transpose()?;
        let by = bi.as_ref().map(arrays::values);
        if tokens && by.is_some() {
            return Err(SettingError::new_err(
                "bytes: bits per byte needs document units (resample='documents')",
            ));
        }
        let mut units = if tokens {
            PairedUnits::tokens()
        } else {
            PairedUnits::documents(1).map_err(errors::core)?
        };
        let mut seen = std::collections::HashSet::new();
        let mut docs = 0usize;
        for i in 0..a.len() {
            if !tokens && (i == 0 || d[i] != d[i - 1]) {
                if !seen.insert(d[i]) {
                    return Err(ShapeError::new_err(format!(
                        "doc: document {} appears again at token {i}; the tokens of a document must be contiguous",
                        d[i]
                    )));
                }
                units.start_unit();
                if let Some(by) = by {
                    let Some(&n) = by.get(docs) else {
                        return Err(ShapeError::new_err(format!(
                            "bytes: {} counts, but the tokens hold more documents",
                            by.len()
                        )));
                    };
                    let n = u64::try_from(n).map_err(|_| {
                        SettingError::new_err(format!("bytes[{docs}]: negative count {n}"))
                    })?;
                    units.set_bytes(n).map_err(errors::core)?;
                }
                docs += 1;
            }
            units
                .add_token(&TokenPair {
                    nll_a: a[i],
                    nll_b: b[i],
                    brier_a: 0.0,
                    brier_b: 0.0,
                    conf_a: 0.0,
                    conf_b: 0.0,
                    correct_a: false,
                    correct_b: false,
                })
                .map_err(errors::core)?;
        }
        if let Some(by) = by.filter(|by| by.len() != docs) {
            return Err(ShapeError::new_err(format!(
                "bytes: {} counts for {docs} documents",
                by.len()
            )));
        }
        let opts = CompareOptions {
            resamples,
            seed,
            level,
            method,
            resampling,
        };
        let c = py
            .detach(|| infometer_core::compare(&units, &opts))
            .map_err(errors::core)?;
        let out = PyDict::new(py);
        out.set_item("n_units", c.n_units)?;
        out.set_item("n_clusters", c.n_clusters)?;
        out.set_item("n_tokens", c.n_tokens)?;
        for m in [
            CompareMetric::DeltaNll,
            CompareMetric::PerplexityRatio,
            CompareMetric::DeltaBitsPerByte,
        ] {
            match c.metric(m) {
                Some(e) => {
                    let md = PyDict::new(py);
                    md.set_item("estimate", e.estimate)?;
                    md.set_item("ci", (e.ci.0, e.ci.1))?;
                    md.set_item("se", e.se)?;
                    out.set_item(m.name(), md)?;
                }
                None => out.set_item(m.name(), py.None())?,
            }
        }
        let dm = PyDict::new(py);
        let dl = &c.delta_method;
        dm.set_item("se", dl.se)?;
        dm.set_item("ci", dl.ci)?;
        dm.set_item("perplexity_ratio_ci", dl.ratio_ci)?;
        dm.set_item("se_iid", dl.se_iid)?;
        dm.set_item("design_effect", dl.design_effect)?;
        dm.set_item("effective_tokens", dl.effective_tokens)?;
        out.set_item("delta_method", dm)?;
        let sf = PyDict::new(py);
        sf.set_item("statistic", c.sign_flip.statistic)?;
        sf.set_item("p_value", c.sign_flip.p_value)?;
        sf.set_item("exact", c.sign_flip.exact)?;
        sf.set_item("draws", c.sign_flip.draws)?;
        out.set_item("sign_flip", sf)?;
        out.set_item(
            "warnings",
            c.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        )?;
        Ok(out)
    })
}
