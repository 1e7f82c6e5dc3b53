//! numpy arrays in: C-contiguous only, borrowed read-only without a copy; the dtype decides the element type (bf16 arrives as the bits of an int16 view).

use half::{bf16, f16};
use numpy::{
    PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// A logits array borrowed from numpy, typed by its dtype.
pub(crate) enum Floats<'py> {
    /// float16.
    F16(PyReadonlyArrayDyn<'py, f16>),
    /// bfloat16, as the bits of an int16 array.
    Bf16(PyReadonlyArrayDyn<'py, i16>),
    /// float32.
    F32(PyReadonlyArrayDyn<'py, f32>),
    /// float64.
    F64(PyReadonlyArrayDyn<'py, f64>),
}

/// The numpy array `obj`, after checking that it is C-contiguous; an array whose data are
/// not aligned to their element size (one deserialised from a byte buffer, say) is copied
/// once into an aligned one, since Rust cannot read it in place.
pub(crate) fn c_contiguous<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    let arr = obj.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name}: expected a numpy array (or a CPU torch tensor), got {}",
            obj.get_type()
                .name()
                .map_or_else(|_| "?".to_string(), |n| n.to_string())
        ))
    })?;
    if !arr.is_c_contiguous() {
        return Err(PyTypeError::new_err(format!(
            "{name}: the array is not C-contiguous (Fortran order or a strided view); \
             pass np.ascontiguousarray({name}) (one copy), or slice whole rows only"
        )));
    }
    let aligned: bool = arr.getattr("flags")?.getattr("aligned")?.extract()?;
    if aligned {
        Ok(arr.clone())
    } else {
        Ok(arr.call_method0("copy")?.cast_into::<PyUntypedArray>()?)
    }
}

fn dtype_name(arr: &Bound<'_, PyUntypedArray>) -> String {
    arr.dtype().to_string()
}

/// The logits array `obj` without a copy; `bf16_bits` reads an int16 array as bfloat16.
pub(crate) fn floats<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    bf16_bits: bool,
) -> PyResult<Floats<'py>> {
    let arr = &c_contiguous(obj, name)?;
    let bad = || {
        PyTypeError::new_err(format!(
            "{name}: dtype {} is not supported; use float16, float32, float64, or bfloat16 \
             passed as tensor.view(torch.int16) (the Python layer does this for torch tensors)",
            dtype_name(arr)
        ))
    };
    if bf16_bits {
        return arr
            .cast::<PyArrayDyn<i16>>()
            .map(|a| Floats::Bf16(a.readonly()))
            .map_err(|_| bad());
    }
    if let Ok(a) = arr.cast::<PyArrayDyn<f32>>() {
        Ok(Floats::F32(a.readonly()))
    } else if let Ok(a) = arr.cast::<PyArrayDyn<f64>>() {
        Ok(Floats::F64(a.readonly()))
    } else if let Ok(a) = arr.cast::<PyArrayDyn<f16>>() {
        Ok(Floats::F16(a.readonly()))
    } else {
        Err(bad())
    }
}

impl Floats<'_> {
    /// The shape.
    pub(crate) fn shape(&self) -> Vec<usize> {
        match self {
            Floats::F16(a) => a.shape().to_vec(),
            Floats::Bf16(a) => a.shape().to_vec(),
            Floats::F32(a) => a.shape().to_vec(),
            Floats::F64(a) => a.shape().to_vec(),
        }
    }
    /// The dtype's name.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Floats::F16(_) => "float16",
            Floats::Bf16(_) => "bfloat16",
            Floats::F32(_) => "float32",
            Floats::F64(_) => "float64",
        }
    }
}

/// The borrowed values of a C-contiguous array (checked when it was borrowed).
fn slice<'a, T: numpy::Element>(a: &'a PyReadonlyArrayDyn<'_, T>) -> &'a [T] {
    a.as_slice()
        .expect("checked C-contiguous when borrowed, so the slice exists")
}

/// The element slices of logits and (optionally) a reference of the same dtype.
pub(crate) enum Slices<'a> {
    /// float16.
    F16(&'a [f16], Option<&'a [f16]>),
    /// bfloat16.
    Bf16(&'a [bf16], Option<&'a [bf16]>),
    /// float32.
    F32(&'a [f32], Option<&'a [f32]>),
    /// float64.
    F64(&'a [f64], Option<&'a [f64]>),
}

/// Pairs the logits with a reference of the same dtype.
pub(crate) fn slices<'a>(
    logits: &'a Floats<'_>,
    reference: Option<&'a Floats<'_>>,
) -> PyResult<Slices<'a>> {
    let mismatch = |r: &Floats<'_>| {
        PyTypeError::new_err(format!(
            "ref: dtype {} differs from the logits' {}; cast one of them",
            r.kind(),
            logits.kind()
        ))
    };
    Ok(match (logits, reference) {
        (Floats::F16(a), None) => Slices::F16(slice(a), None),
        (Floats::F16(a), Some(Floats::F16(b))) => Slices::F16(slice(a), Some(slice(b))),
        (Floats::Bf16(a), None) => Slices::Bf16(bytemuck::cast_slice(slice(a)), None),
        (Floats::Bf16(a), Some(Floats::Bf16(b))) => Slices::Bf16(
            bytemuck::cast_slice(slice(a)),
            Some(bytemuck::cast_slice(slice(b))),
        ),
        (Floats::F32(a), None) => Slices::F32(slice(a), None),
        (Floats::F32(a), Some(Floats::F32(b))) => Slices::F32(slice(a), Some(slice(b))),
        (Floats::F64(a), None) => Slices::F64(slice(a), None),
        (Floats::F64(a), Some(Floats::F64(b))) => Slices::F64(slice(a), Some(slice(b))),
        (_, Some(r)) => return Err(mismatch(r)),
    })
}

/// An int64 array (labels), borrowed.
pub(crate) fn int64s<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArrayDyn<'py, i64>> {
    let arr = &c_contiguous(obj, name)?;
    arr.cast::<PyArrayDyn<i64>>()
        .map(|a| a.readonly())
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{name}: dtype {} is not int64; pass {name}.astype(np.int64)",
                dtype_name(arr)
            ))
        })
}

/// A bool array (mask), borrowed.
pub(crate) fn bools<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArrayDyn<'py, bool>> {
    let arr = &c_contiguous(obj, name)?;
    arr.cast::<PyArrayDyn<bool>>()
        .map(|a| a.readonly())
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{name}: dtype {} is not bool; pass {name}.astype(bool)",
                dtype_name(arr)
            ))
        })
}

/// The values of a borrowed array.
pub(crate) fn values<'a, T: numpy::Element>(a: &'a PyReadonlyArrayDyn<'_, T>) -> &'a [T] {
    slice(a)
}

/// Samples for the estimators: a 1-D (one column) or 2-D (rows × columns) float array,
/// copied into f64 (the estimators standardise and add noise into their own buffers anyway).
pub(crate) fn samples(
    obj: &Bound<'_, PyAny>,
    name: &str,
) -> PyResult<infometer_continuous::Samples> {
    let f = floats(obj, name, false)?;
    let shape = f.shape();
    let (n, d) = match shape.as_slice() {
        [n] => (*n, 1),
        [n, d] => (*n, *d),
        _ => {
            return Err(crate::errors::ShapeError::new_err(format!(
                "{name}: expected a 1-D array (one variable) or a 2-D array (samples × dimensions), got shape {shape:?}"
            )));
        }
    };
    let data: Vec<f64> = match &f {
        Floats::F16(a) => slice(a).iter().map(|v| f64::from(*v)).collect(),
        Floats::Bf16(a) => bytemuck::cast_slice::<i16, bf16>(slice(a))
            .iter()
            .map(|&v| f64::from(v))
            .collect(),
        Floats::F32(a) => slice(a).iter().map(|&v| f64::from(v)).collect(),
        Floats::F64(a) => slice(a).to_vec(),
    };
    infometer_continuous::Samples::new(n, d, data).map_err(crate::errors::continuous)
}
