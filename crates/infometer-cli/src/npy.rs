//! Reading and writing NumPy `.npy` files and reading tensors from `.safetensors`, without panics on any input.

use std::io::Write;
use std::path::Path;

use half::{bf16, f16};

/// Why a tensor file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum FormatError {
    /// The bytes are not a valid file of the expected format.
    #[error("not a valid {format} file: {reason}")]
    Malformed {
        /// The format expected.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The element type is not one this command accepts here.
    #[error("unsupported dtype {0}")]
    UnsupportedDtype(String),
    /// Fortran-ordered arrays are refused: the vocabulary must be the contiguous axis.
    #[error("fortran-ordered array; save it in C order")]
    FortranOrder,
    /// The named tensor is not in the safetensors file.
    #[error("no tensor named {0:?} in the safetensors file")]
    MissingTensor(String),
}

/// Element data of a tensor, in its stored type.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// IEEE half.
    F16(Vec<f16>),
    /// bfloat16.
    BF16(Vec<bf16>),
    /// f32.
    F32(Vec<f32>),
    /// f64.
    F64(Vec<f64>),
    /// Any integer type, widened.
    I64(Vec<i64>),
    /// bool or u8, as bool (non-zero is true).
    Bool(Vec<bool>),
}

impl Data {
    /// The stored type's name.
    pub fn dtype(&self) -> &'static str {
        match self {
            Data::F16(_) => "f16",
            Data::BF16(_) => "bf16",
            Data::F32(_) => "f32",
            Data::F64(_) => "f64",
            Data::I64(_) => "int",
            Data::Bool(_) => "bool",
        }
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Data::F16(v) => v.len(),
            Data::BF16(v) => v.len(),
            Data::F32(v) => v.len(),
            Data::F64(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::Bool(v) => v.len(),
        }
    }
    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// All elements as f64 (bools as 0/1).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Data::F16(v) => v.iter().map(|x| f64::from(*x)).collect(),
            Data::BF16(v) => v.iter().map(|x| f64::from(*x)).collect(),
            Data::F32(v) => v.iter().map(|x| *x as f64).collect(),
            Data::F64(v) => v.clone(),
            Data::I64(v) => v.iter().map(|x| *x as f64).collect(),
            Data::Bool(v) => v.iter().map(|x| *x as u8 as f64).collect(),
        }
    }
    /// As [`Data::to_f64`], but f64 data are moved, not copied.
    pub fn into_f64(self) -> Vec<f64> {
        match self {
            Data::F64(v) => v,
            other => other.to_f64(),
        }
    }
}

/// A tensor: its shape (C order) and data.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first; empty for a scalar.
    pub shape: Vec<usize>,
    /// The elements.
    pub data: Data,
}

fn bad(format: &'static str, reason: impl Into<String>) -> FormatError {
    FormatError::Malformed {
        format,
        reason: reason.into(),
    }
}

/// Parses the bytes of a `.npy` file (versions 1–3, little-endian or byte-order-free dtypes).
///
/// # Errors
/// [`FormatError`] for anything that is not a well-formed, C-ordered array of a supported dtype.
pub fn parse_npy(bytes: &[u8]) -> Result<Tensor, FormatError> {
    let h = parse_npy_header(bytes)?;
    let data = decode(&h.descr, &bytes[h.data_start..], h.count, "npy")?;
    Ok(Tensor {
        shape: h.shape,
        data,
    })
}

/// What the header of a `.npy` file says, and where its data begin.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// The dtype, as numpy writes it (`<f4`, `|b1`, …).
    pub descr: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Number of elements.
    pub count: usize,
    /// Byte offset of the first element (numpy pads the header so this is a multiple of 64).
    pub data_start: usize,
}

/// Parses the header of a `.npy` file (versions 1–3) without reading its data.
///
/// # Errors
/// [`FormatError`] for a malformed header or a Fortran-ordered array.
pub fn parse_npy_header(bytes: &[u8]) -> Result<NpyHeader, FormatError> {
    const F: &str = "npy";
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad(F, "missing magic string"));
    }
    let major = bytes[6];
    let (hlen, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad(F, "truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(bad(F, format!("unknown version {v}"))),
    };
    let end = start
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad(F, "header longer than file"))?;
    let header =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| bad(F, "header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad(F, "no descr"))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let fortran = dict_value(header, "fortran_order").ok_or_else(|| bad(F, "no fortran_order"))?;
    if fortran.trim().starts_with("True") {
        return Err(FormatError::FortranOrder);
    }
    let shape_txt = dict_value(header, "shape").ok_or_else(|| bad(F, "no shape"))?;
    let shape = parse_shape(shape_txt).ok_or_else(|| bad(F, format!("bad shape {shape_txt}")))?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(F, "shape overflows"))?;
    Ok(NpyHeader {
        descr: descr.to_string(),
        shape,
        count,
        data_start: end,
    })
}

/// Decodes `count` elements of numpy dtype `descr` (or `bf16`) from `body`, byte-swapping
/// big-endian data; always a copy.
///
/// # Errors
/// [`FormatError`] for an unsupported dtype or too few bytes.
pub fn decode_public(descr: &str, body: &[u8], count: usize) -> Result<Data, FormatError> {
    decode(descr, body, count, "npy")
}

fn decode(descr: &str, body: &[u8], count: usize, f: &'static str) -> Result<Data, FormatError> {
    // "bf16" is safetensors' bfloat16, which numpy has no code for
    let (order, code) = if descr == "bf16" {
        ("<", "bf2")
    } else {
        descr.split_at(descr.len().min(1))
    };
    let big = order == ">";
    let width = match code {
        "f2" | "i2" | "u2" | "bf2" => 2,
        "f4" | "i4" | "u4" => 4,
        "f8" | "i8" | "u8" => 8,
        "b1" | "u1" | "i1" => 1,
        _ => return Err(FormatError::UnsupportedDtype(descr.to_string())),
    };
    let need = count
        .checked_mul(width)
        .ok_or_else(|| bad(f, "size overflows"))?;
    if body.len() < need {
        return Err(bad(
            f,
            format!("data holds {} bytes, shape needs {need}", body.len()),
        ));
    }
    let b = &body[..need];
    // big-endian data ('>f4', …) are decoded byte-swapped, so they are always a copy
    macro_rules! le {
        ($t:ty, $n:expr) => {
            b.chunks_exact($n).map(|c| {
                let a = c.try_into().expect("chunk width");
                if big {
                    <$t>::from_be_bytes(a)
                } else {
                    <$t>::from_le_bytes(a)
                }
            })
        };
    }
    Ok(match code {
        "f2" => Data::F16(le!(u16, 2).map(f16::from_bits).collect()),
        "bf2" => Data::BF16(le!(u16, 2).map(bf16::from_bits).collect()),
        "f4" => Data::F32(le!(f32, 4).collect()),
        "f8" => Data::F64(le!(f64, 8).collect()),
        "i2" => Data::I64(le!(i16, 2).map(i64::from).collect()),
        "u2" => Data::I64(le!(u16, 2).map(i64::from).collect()),
        "i4" => Data::I64(le!(i32, 4).map(i64::from).collect()),
        "u4" => Data::I64(le!(u32, 4).map(i64::from).collect()),
        "i8" => Data::I64(le!(i64, 8).collect()),
        "u8" => {
            let v: Vec<u64> = le!(u64, 8).collect();
            if v.iter().any(|&x| x > i64::MAX as u64) {
                return Err(bad(f, "u64 value above i64::MAX"));
            }
            Data::I64(v.into_iter().map(|x| x as i64).collect())
        }
        "i1" => Data::I64(b.iter().map(|&x| x as i8 as i64).collect()),
        "b1" | "u1" => Data::Bool(b.iter().map(|&x| x != 0).collect()),
        _ => return Err(FormatError::UnsupportedDtype(descr.to_string())),
    })
}

/// The text after `'key':` up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat1 = format!("'{key}'");
    let pat2 = format!("\"{key}\"");
    let at = header
        .find(&pat1)
        .map(|i| i + pat1.len())
        .or_else(|| header.find(&pat2).map(|i| i + pat2.len()))?;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&rest[..=i]);
                }
            }
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

fn parse_shape(s: &str) -> Option<Vec<usize>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.trim_end_matches('L').parse().ok())
        .collect()
}

/// Finds tensor `tensor` in the bytes of a `.safetensors` file with Hugging Face's
/// `safetensors` crate, which validates the header, the dtypes, and that the tensors' byte
/// ranges are in bounds, match their shapes and neither overlap nor leave gaps. Returns the
/// numpy-style dtype, the shape and the tensor's bytes (a slice of `bytes`).
///
/// # Errors
/// [`FormatError`] for a malformed file, an unsupported dtype or a missing name.
pub fn safetensors_view<'a>(
    bytes: &'a [u8],
    tensor: &str,
) -> Result<(&'static str, Vec<usize>, &'a [u8]), FormatError> {
    use safetensors::{Dtype, SafeTensorError, SafeTensors};
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad("safetensors", e.to_string()))?;
    let view = st.tensor(tensor).map_err(|e| match e {
        SafeTensorError::TensorNotFound(_) => FormatError::MissingTensor(tensor.to_string()),
        other => bad("safetensors", other.to_string()),
    })?;
    let descr = match view.dtype() {
        Dtype::F16 => "<f2",
        Dtype::BF16 => "bf16",
        Dtype::F32 => "<f4",
        Dtype::F64 => "<f8",
        Dtype::I8 => "|i1",
        Dtype::U8 => "|u1",
        Dtype::BOOL => "|b1",
        Dtype::I16 => "<i2",
        Dtype::U16 => "<u2",
        Dtype::I32 => "<i4",
        Dtype::U32 => "<u4",
        Dtype::I64 => "<i8",
        Dtype::U64 => "<u8",
        other => return Err(FormatError::UnsupportedDtype(format!("{other:?}"))),
    };
    Ok((descr, view.shape().to_vec(), view.data()))
}

/// Reads a tensor named `tensor` from the bytes of a `.safetensors` file (F16, BF16, F32, F64,
/// integer and bool dtypes), through [`safetensors_view`].
///
/// # Errors
/// [`FormatError`] for a malformed file, an unknown dtype or a missing name.
pub fn parse_safetensors(bytes: &[u8], tensor: &str) -> Result<Tensor, FormatError> {
    let (descr, shape, raw) = safetensors_view(bytes, tensor)?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad("safetensors", "shape overflows"))?;
    let data = decode(descr, raw, count, "safetensors")?;
    Ok(Tensor { shape, data })
}

/// Serialises an f64 array as `.npy` version 1 bytes.
pub fn npy_bytes_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let dims = match shape.len() {
        0 => String::new(),
        1 => format!("{},", shape[0]),
        _ => shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({dims}), }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 8);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes bytes atomically: to a temporary file beside `path`, then renamed over it, so a
/// failure never leaves a partial file.
///
/// # Errors
/// Any IO error; the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_f64() {
        let bytes = npy_bytes_f64(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN]);
        let t = parse_npy(&bytes).unwrap();
        assert_eq!(t.shape, vec![2, 3]);
        let Data::F64(v) = t.data else {
            panic!("dtype")
        };
        assert_eq!(&v[..5], &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(v[5].is_nan());
        let one = parse_npy(&npy_bytes_f64(&[4], &[0.0; 4])).unwrap();
        assert_eq!(one.shape, vec![4]);
    }

    #[test]
    fn refuses_truncated_and_fortran() {
        let bytes = npy_bytes_f64(&[2, 3], &[0.0; 6]);
        assert!(matches!(
            parse_npy(&bytes[..bytes.len() - 1]),
            Err(FormatError::Malformed { .. })
        ));
        let mut f = bytes.clone();
        let at = f.windows(5).position(|w| w == b"False").unwrap();
        f[at..at + 5].copy_from_slice(b"True ");
        assert_eq!(parse_npy(&f), Err(FormatError::FortranOrder));
    }
}
