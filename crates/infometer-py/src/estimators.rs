//! The estimators of `infometer-continuous` through the one dispatcher (`ClassicalMi`): `Estimator(method, ...)` with `estimate`, `permutation_test`, `bootstrap_ci`; `transfer_entropy` and `kl_entropy`.

use infometer_continuous::{
    ClassicalMi, CmiEstimator, Metric, MiEstimate, MiEstimator, MiMethod, MiSettings, Samples,
    TeEmbedding, TeEstimator,
};
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays;
use crate::errors::{self, SettingError, no_panic};

/// An estimate: `nats`, `bits`, `n_samples`, `local` (a numpy array of local values whose
/// mean is the estimate, or None) and `warnings` (strings).
#[pyclass(frozen, module = "infometer._lib")]
pub(crate) struct Estimate {
    #[pyo3(get)]
    nats: f64,
    #[pyo3(get)]
    n_samples: usize,
    #[pyo3(get)]
    warnings: Vec<String>,
    local: Option<Py<PyArray1<f64>>>,
}

#[pymethods]
impl Estimate {
    /// The estimate in bits (nats / ln 2).
    #[getter]
    fn bits(&self) -> f64 {
        self.nats / std::f64::consts::LN_2
    }
    /// Local values (one per sample used), or None.
    #[getter]
    fn local<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.local.as_ref().map(|a| a.bind(py).clone())
    }
    fn __float__(&self) -> f64 {
        self.nats
    }
    fn __repr__(&self) -> String {
        format!(
            "Estimate(nats={}, n_samples={}, warnings={:?})",
            self.nats, self.n_samples, self.warnings
        )
    }
}

fn to_py(py: Python<'_>, e: MiEstimate) -> Estimate {
    Estimate {
        nats: e.nats,
        n_samples: e.n_samples,
        warnings: e.warnings.iter().map(ToString::to_string).collect(),
        local: e.local.map(|l| PyArray1::from_vec(py, l).unbind()),
    }
}

/// An MI / CMI estimator by name ("ksg1", "ksg2", "kde", "box", "gaussian", "gcmi", "mixed",
/// "gcmi-mixed"); a setting the estimator does not take is refused.
#[pyclass(frozen, module = "infometer._lib")]
pub(crate) struct Estimator {
    est: ClassicalMi,
    settings: MiSettings,
}

fn method(name: &str) -> PyResult<MiMethod> {
    let m: MiMethod = name.parse().map_err(errors::continuous)?;
    if m.is_neural() {
        return Err(SettingError::new_err(format!(
            "{name}: the neural bounds are not in this build of the Python package"
        )));
    }
    Ok(m)
}

#[pymethods]
impl Estimator {
    #[new]
    #[pyo3(signature = (method, k=None, noise=None, standardize=None, theiler=None, copula=false, seed=0))]
    fn new(
        method: &str,
        k: Option<usize>,
        noise: Option<f64>,
        standardize: Option<bool>,
        theiler: Option<usize>,
        copula: bool,
        seed: u64,
    ) -> PyResult<Self> {
        let settings = MiSettings {
            k,
            noise,
            standardize,
            theiler,
            copula,
            seed,
        };
        let est = ClassicalMi::new(self::method(method)?, &settings).map_err(errors::continuous)?;
        Ok(Estimator { est, settings })
    }

    /// The estimator's name.
    #[getter]
    fn name(&self) -> &'static str {
        self.est.method().name()
    }

    /// I(X; Y) in nats, or I(X; Y | Z) when `z` is given.
    #[pyo3(signature = (x, y, z=None))]
    fn estimate(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        z: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Estimate> {
        no_panic(|| {
            let (x, y, z) = inputs(x, y, z)?;
            let e = py
                .detach(|| match &z {
                    Some(z) => self.est.estimate_cmi(&x, &y, z),
                    None => self.est.estimate(&x, &y),
                })
                .map_err(errors::continuous)?;
            Ok(to_py(py, e))
        })
    }

    /// Permutation test: X's rows shuffled `n_surrogates` times (seeded; stream s for
    /// surrogate s, so the result does not depend on threads or on how surrogates are split).
    /// Runs in blocks of surrogates with the GIL released, checking for Ctrl-C between blocks.
    #[pyo3(signature = (x, y, n_surrogates, seed=0, z=None))]
    fn permutation_test<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        n_surrogates: usize,
        seed: u64,
        z: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        no_panic(|| {
            let (x, y, z) = inputs(x, y, z)?;
            let stat = |xs: &Samples| match &z {
                Some(z) => self.est.estimate_cmi(xs, &y, z).map(|e| e.nats),
                None => self.est.estimate(xs, &y).map(|e| e.nats),
            };
            if n_surrogates == 0 || n_surrogates > infometer_continuous::MAX_RESAMPLES {
                return Err(SettingError::new_err(format!(
                    "n_surrogates {n_surrogates}: must be between 1 and {}",
                    infometer_continuous::MAX_RESAMPLES
                )));
            }
            let observed = py.detach(|| stat(&x)).map_err(errors::continuous)?;
            let mut null = Vec::with_capacity(n_surrogates);
            let block = 2 * rayon_threads();
            let mut start = 0;
            while start < n_surrogates {
                let stop = (start + block).min(n_surrogates);
                let part = py
                    .detach(|| {
                        infometer_continuous::permutation_null(
                            x.n_samples(),
                            start..stop,
                            seed,
                            |p| stat(&x.take_rows(p)),
                            |_| {},
                        )
                    })
                    .map_err(errors::continuous)?;
                null.extend(part);
                py.check_signals()?;
                start = stop;
            }
            test_dict(
                py,
                infometer_continuous::PermutationTest::from_null(observed, null),
            )
        })
    }

    /// The null values of surrogates `start..stop` only (X's rows shuffled by the
    /// permutation of stream s of `seed` for surrogate s): split a test across workers by
    /// index ranges, concatenate in order, and the null equals one `permutation_test`'s.
    #[pyo3(signature = (x, y, start, stop, seed=0))]
    fn permutation_null<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        start: usize,
        stop: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        no_panic(|| {
            let (x, y, _) = inputs(x, y, None)?;
            let null = py
                .detach(|| {
                    infometer_continuous::permutation_null(
                        x.n_samples(),
                        start..stop,
                        seed,
                        |p| Ok(self.est.estimate(&x.take_rows(p), &y)?.nats),
                        |_| {},
                    )
                })
                .map_err(errors::continuous)?;
            Ok(PyArray1::from_vec(py, null))
        })
    }

    /// Percentile bootstrap over rows.
    #[pyo3(signature = (x, y, n_resamples, level=0.95, seed=0))]
    fn bootstrap_ci<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        n_resamples: usize,
        level: f64,
        seed: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        no_panic(|| {
            let (x, y, _) = inputs(x, y, None)?;
            let ci = py
                .detach(|| self.est.bootstrap_ci(&x, &y, n_resamples, level, seed))
                .map_err(errors::continuous)?;
            let d = PyDict::new(py);
            d.set_item("estimate", ci.estimate)?;
            d.set_item("lower", ci.lower)?;
            d.set_item("upper", ci.upper)?;
            d.set_item("level", ci.level)?;
            Ok(d)
        })
    }

    fn __repr__(&self) -> String {
        format!("Estimator({:?}, {:?})", self.name(), self.settings)
    }

    /// Pickles as the constructor call that built it.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, pyo3::types::PyType>,
        (
            &'static str,
            Option<usize>,
            Option<f64>,
            Option<bool>,
            Option<usize>,
            bool,
            u64,
        ),
    ) {
        let s = &self.settings;
        (
            py.get_type::<Estimator>(),
            (
                self.name(),
                s.k,
                s.noise,
                s.standardize,
                s.theiler,
                s.copula,
                s.seed,
            ),
        )
    }
}

/// A permutation test as a dict: observed, p_value, null_mean, null_sd, null.
fn test_dict(
    py: Python<'_>,
    t: infometer_continuous::PermutationTest,
) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("observed", t.observed)?;
    d.set_item("p_value", t.p_value)?;
    d.set_item("null_mean", t.null_mean)?;
    d.set_item("null_sd", t.null_sd)?;
    d.set_item("null", PyArray1::from_vec(py, t.null))?;
    Ok(d)
}

/// Threads of rayon's pool (surrogates per block are a small multiple of it).
fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

type Inputs = (Samples, Samples, Option<Samples>);

fn inputs(
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    z: Option<&Bound<'_, PyAny>>,
) -> PyResult<Inputs> {
    Ok((
        arrays::samples(x, "x")?,
        arrays::samples(y, "y")?,
        z.map(|z| arrays::samples(z, "z")).transpose()?,
    ))
}

/// Transfer entropy T(source → target) in nats, with a permutation test when
/// `permutations` is given (then a dict with the test's fields).
#[pyfunction]
#[pyo3(signature = (source, target, estimator="ksg1", target_history=1, source_history=1, target_spacing=1, source_spacing=1, lag=1, k=None, noise=None, theiler=None, copula=false, seed=0, permutations=None))]
pub(crate) fn transfer_entropy<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    estimator: &str,
    target_history: usize,
    source_history: usize,
    target_spacing: usize,
    source_spacing: usize,
    lag: usize,
    k: Option<usize>,
    noise: Option<f64>,
    theiler: Option<usize>,
    copula: bool,
    seed: u64,
    permutations: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    no_panic(|| {
        let settings = MiSettings {
            k,
            noise,
            standardize: None,
            theiler,
            copula,
            seed,
        };
        let est = TeEstimator::new(method(estimator)?, &settings).map_err(errors::continuous)?;
        let s = arrays::samples(source, "source")?;
        let t = arrays::samples(target, "target")?;
        if s.dim() != 1 || t.dim() != 1 {
            return Err(errors::ShapeError::new_err(
                "source and target: expected 1-D series",
            ));
        }
        let (s, t) = (s.column(0), t.column(0));
        let emb = TeEmbedding {
            target_history,
            target_spacing,
            source_history,
            source_spacing,
            delay: lag,
        };
        match permutations {
            None => {
                let v = py
                    .detach(|| infometer_continuous::transfer_entropy(&s, &t, &emb, &est))
                    .map_err(errors::continuous)?;
                Ok(v.into_pyobject(py)?.into_any())
            }
            Some(n) => {
                let r = py
                    .detach(|| {
                        infometer_continuous::transfer_entropy_test(&s, &t, &emb, &est, n, seed)
                    })
                    .map_err(errors::continuous)?;
                Ok(test_dict(py, r)?.into_any())
            }
        }
    })
}

/// Kozachenko–Leonenko differential entropy in nats ("max" or "euclidean" norm).
#[pyfunction]
#[pyo3(signature = (x, k=4, metric="max"))]
pub(crate) fn kl_entropy(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    k: usize,
    metric: &str,
) -> PyResult<f64> {
    no_panic(|| {
        let m = match metric {
            "max" => Metric::MaxNorm,
            "euclidean" => Metric::Euclidean,
            other => {
                return Err(SettingError::new_err(format!(
                    "metric {other:?}: expected \"max\" or \"euclidean\""
                )));
            }
        };
        let s = arrays::samples(x, "x")?;
        py.detach(|| infometer_continuous::kl_entropy(&s, k, m))
            .map_err(errors::continuous)
    })
}
