//! infometer-py: the Python module `infometer._lib` (pyo3 + numpy), on which the pure-Python package `infometer` sits; the only crate that knows Python.
//!
//! - Arrays come in without a copy: C-contiguous numpy f16/f32/f64 (and bf16 as the bits of
//!   an int16 view), borrowed read-only; anything else is a `TypeError` that says how to fix it.
//! - Every computation runs with the GIL released (`Python::detach`), rayon only inside it;
//!   long passes check for Ctrl-C between chunks.
//! - Errors are `infometer.InfometerError` (a `ValueError`) or one of its subclasses, with the
//!   library's one-line message; no panic crosses the boundary (each entry point catches one
//!   and raises `InfometerError`).

mod arrays;
mod errors;
mod estimators;
mod evaluation;
mod logits;

use pyo3::prelude::*;

pub use errors::{DataError, InfometerError, LabelError, NonFiniteError, SettingError, ShapeError};

/// The extension module `infometer._lib`.
#[pymodule]
fn _lib(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("InfometerError", py.get_type::<InfometerError>())?;
    m.add("ShapeError", py.get_type::<ShapeError>())?;
    m.add("NonFiniteError", py.get_type::<NonFiniteError>())?;
    m.add("LabelError", py.get_type::<LabelError>())?;
    m.add("SettingError", py.get_type::<SettingError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add_function(wrap_pyfunction!(logits::analyze, m)?)?;
    m.add_class::<logits::Report>()?;
    m.add_class::<logits::LogitsAccumulator>()?;
    m.add_function(wrap_pyfunction!(logits::_accumulator_from_bytes, m)?)?;
    m.add_class::<estimators::Estimator>()?;
    m.add_class::<estimators::Estimate>()?;
    m.add_function(wrap_pyfunction!(estimators::transfer_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(estimators::kl_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(evaluation::uncertainty, m)?)?;
    m.add_function(wrap_pyfunction!(evaluation::compare_nll, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_check_panic_guard, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
