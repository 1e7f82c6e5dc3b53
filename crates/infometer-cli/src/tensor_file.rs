//! Logits files opened in place: `.npy` and safetensors memory-mapped and read where they lie, with a copy only for data that cannot be used in place (misaligned or big-endian).

use std::fs::File;
use std::ops::Range;

use anyhow::{Context, Result, anyhow, bail};
use half::{bf16, f16};
use memmap2::Mmap;

use crate::npy::{self, Data};

/// Floating-point elements, borrowed from the mapped file or from the fallback copy.
#[derive(Debug, Clone, Copy)]
pub enum Floats<'a> {
    /// IEEE half.
    F16(&'a [f16]),
    /// bfloat16.
    BF16(&'a [bf16]),
    /// f32.
    F32(&'a [f32]),
    /// f64.
    F64(&'a [f64]),
}

impl Floats<'_> {
    /// The element type's name.
    pub fn dtype(&self) -> &'static str {
        match self {
            Floats::F16(_) => "f16",
            Floats::BF16(_) => "bf16",
            Floats::F32(_) => "f32",
            Floats::F64(_) => "f64",
        }
    }
}

/// Where the elements are.
#[derive(Debug)]
enum Storage {
    /// Little-endian and aligned: used in place, in the map.
    Mapped(Range<usize>),
    /// Misaligned or big-endian: decoded into memory once.
    Copied(Data),
}

/// A floating-point tensor file, memory-mapped.
///
/// The map is read-only and private; the operating system pages it in as the kernel reads
/// rows and may evict those pages again, so a file larger than memory can be scored.
#[derive(Debug)]
pub struct TensorFile {
    /// The file as the user named it (with `:TENSOR` for safetensors).
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    map: Mmap,
    storage: Storage,
    descr: String,
}

/// Maps `file` read-only.
///
/// # Errors
/// Any IO error of the map.
#[allow(unsafe_code)]
fn map_file(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: memmap2 requires that the file not be modified or truncated while it is mapped,
    // which no code here does. Another process changing the file under us could only change
    // the numbers read (every byte is then validated as a float of the declared width, and
    // shapes were checked against the map's length at open), never memory safety of the
    // slices we hand out, which stay inside the map.
    unsafe { Mmap::map(file) }
}

impl TensorFile {
    /// Opens `PATH.npy` or `PATH.safetensors:TENSOR` holding f16, bf16, f32 or f64 values.
    ///
    /// # Errors
    /// One-line messages naming the file: unreadable, malformed, not floating point.
    pub fn open(spec: &str) -> Result<TensorFile> {
        let (path, tensor) = match spec.rsplit_once(':') {
            Some((p, n)) if p.ends_with(".safetensors") => (p, Some(n)),
            _ => (spec, None),
        };
        if tensor.is_none() && path.ends_with(".safetensors") {
            bail!("{path}: name the tensor as {path}:NAME");
        }
        let file = File::open(path).with_context(|| format!("{path}: cannot read"))?;
        let len = file
            .metadata()
            .with_context(|| format!("{path}: cannot read"))?
            .len();
        if len == 0 {
            bail!("{path}: invalid tensor file: the file is empty");
        }
        let map = map_file(&file).with_context(|| format!("{path}: cannot map the file"))?;
        let _ = map.advise(memmap2::Advice::Sequential);
        let (descr, shape, range) = match tensor {
            Some(name) => {
                let (descr, shape, raw) = npy::safetensors_view(&map, name)
                    .with_context(|| format!("{path}: invalid tensor file"))?;
                // the view is a slice of the map: its offset locates it
                let start = raw.as_ptr() as usize - map.as_ptr() as usize;
                (descr.to_string(), shape, start..start + raw.len())
            }
            None => {
                let h = npy::parse_npy_header(&map)
                    .with_context(|| format!("{path}: invalid tensor file"))?;
                let width = float_width(&h.descr).ok_or_else(|| {
                    anyhow!(
                        "{path}: logits must be floating point (f16, bf16, f32 or f64), found {}",
                        h.descr
                    )
                })?;
                let need = h
                    .count
                    .checked_mul(width)
                    .ok_or_else(|| anyhow!("{path}: invalid tensor file: size overflows"))?;
                if map.len() - h.data_start < need {
                    bail!(
                        "{path}: invalid tensor file: data holds {} bytes, shape needs {need}",
                        map.len() - h.data_start
                    );
                }
                (h.descr, h.shape, h.data_start..h.data_start + need)
            }
        };
        if float_width(&descr).is_none() {
            bail!("{path}: logits must be floating point (f16, bf16, f32 or f64), found {descr}");
        }
        let bytes = &map[range.clone()];
        let in_place = !descr.starts_with('>') && cfg!(target_endian = "little") && {
            let align = float_width(&descr).unwrap_or(1);
            (bytes.as_ptr() as usize).is_multiple_of(align)
        };
        let storage = if in_place {
            Storage::Mapped(range)
        } else {
            let count = bytes.len() / float_width(&descr).unwrap_or(1);
            Storage::Copied(
                npy::decode_public(&descr, bytes, count)
                    .with_context(|| format!("{path}: invalid tensor file"))?,
            )
        };
        Ok(TensorFile {
            name: spec.to_string(),
            shape,
            map,
            storage,
            descr,
        })
    }

    /// Whether the elements are read in place from the map (false: a decoded copy).
    pub fn in_place(&self) -> bool {
        matches!(self.storage, Storage::Mapped(_))
    }

    /// The elements.
    ///
    /// # Errors
    /// Never for a file that [`TensorFile::open`] accepted; kept as a `Result` so that a
    /// view that cannot be formed is an error, not a panic.
    pub fn floats(&self) -> Result<Floats<'_>> {
        let cast_err = |e: bytemuck::PodCastError| anyhow!("{}: {e:?}", self.name);
        Ok(match &self.storage {
            Storage::Mapped(r) => {
                let b = &self.map[r.clone()];
                match &self.descr[1..] {
                    "f2" => Floats::F16(bytemuck::try_cast_slice(b).map_err(cast_err)?),
                    "f4" => Floats::F32(bytemuck::try_cast_slice(b).map_err(cast_err)?),
                    "f8" => Floats::F64(bytemuck::try_cast_slice(b).map_err(cast_err)?),
                    _ => Floats::BF16(bytemuck::try_cast_slice(b).map_err(cast_err)?),
                }
            }
            Storage::Copied(Data::F16(v)) => Floats::F16(v),
            Storage::Copied(Data::BF16(v)) => Floats::BF16(v),
            Storage::Copied(Data::F32(v)) => Floats::F32(v),
            Storage::Copied(Data::F64(v)) => Floats::F64(v),
            Storage::Copied(other) => bail!(
                "{}: logits must be floating point, found {}",
                self.name,
                other.dtype()
            ),
        })
    }
}

/// Byte width of a floating-point dtype (`<f4`, `>f8`, `bf16`, …), None for any other.
fn float_width(descr: &str) -> Option<usize> {
    match descr {
        "bf16" => Some(2),
        d if d.len() == 3 && matches!(&d[..1], "<" | ">" | "=") => match &d[1..] {
            "f2" => Some(2),
            "f4" => Some(4),
            "f8" => Some(8),
            _ => None,
        },
        _ => None,
    }
}
