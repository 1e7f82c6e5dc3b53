//! The Python exceptions: `InfometerError(ValueError)` and one subclass per family of reasons, each error mapped by its variant (never by its message), and panics caught at the boundary.

use infometer_continuous::ContinuousError;
use infometer_core::CoreError;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

create_exception!(
    infometer,
    InfometerError,
    PyValueError,
    "A refused input or setting; the message is the same one line the command line prints."
);
create_exception!(
    infometer,
    ShapeError,
    InfometerError,
    "Shapes that disagree, or an empty input."
);
create_exception!(
    infometer,
    NonFiniteError,
    InfometerError,
    "NaN or infinity where a finite number is required, or a value outside its domain."
);
create_exception!(
    infometer,
    LabelError,
    InfometerError,
    "A label out of range, not an integer, or a class with too few samples."
);
create_exception!(
    infometer,
    SettingError,
    InfometerError,
    "A setting outside its domain, one the estimator does not take, or an unknown name."
);
create_exception!(
    infometer,
    DataError,
    InfometerError,
    "Data an estimator cannot use: constant columns, singular covariances, zero distances, too few samples."
);

/// The exception for an error of `infometer-core`.
pub(crate) fn core(e: CoreError) -> PyErr {
    use CoreError as E;
    let msg = e.to_string();
    if let E::InMember { error, .. } = e {
        // the family of the member's own error, with the member named in the message
        let inner = core(*error);
        return Python::attach(|py| {
            let ty = inner.get_type(py);
            PyErr::from_type(ty, msg)
        });
    }
    match e {
        E::Empty { .. } | E::ShapeMismatch { .. } => ShapeError::new_err(msg),
        E::NonFinite { .. } | E::OutOfDomain { .. } | E::InvalidProbability { .. } => {
            NonFiniteError::new_err(msg)
        }
        E::LabelOutOfRange { .. } => LabelError::new_err(msg),
        E::InvalidParameter { .. }
        | E::InvalidChoice { .. }
        | E::Incompatible { .. }
        | E::NeedsCounts { .. } => SettingError::new_err(msg),
        _ => DataError::new_err(msg),
    }
}

/// The exception for an error of `infometer-continuous`.
pub(crate) fn continuous(e: ContinuousError) -> PyErr {
    use ContinuousError as E;
    let msg = e.to_string();
    match e {
        E::Empty { .. } | E::ShapeMismatch { .. } => ShapeError::new_err(msg),
        E::NonFinite { .. } => NonFiniteError::new_err(msg),
        E::NotLabels { .. } | E::ClassTooSmall { .. } => LabelError::new_err(msg),
        E::InvalidParameter { .. }
        | E::InvalidChoice { .. }
        | E::NotApplicable { .. }
        | E::NoConditionalForm { .. } => SettingError::new_err(msg),
        E::Core(c) => core(c),
        _ => DataError::new_err(msg),
    }
}

/// Runs `f`, turning a panic into `InfometerError` instead of letting it cross into Python.
pub(crate) fn no_panic<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(InfometerError::new_err(format!(
                "internal error (please report it): {what}"
            )))
        }
    }
}

/// Panics inside the boundary's guard, for the test that no panic reaches Python (it must
/// raise `InfometerError`, not `PanicException`).
#[pyfunction]
pub(crate) fn _check_panic_guard() -> PyResult<()> {
    no_panic(|| panic!("a deliberate panic"))
}
