//! Reading sample matrices for the estimator commands: CSV (the `csv` crate: one detected or given delimiter, quoting, a BOM, a documented header rule, errors with line, column and cell), JIDT's whitespace text, or 2-D `.npy`; column and row selection.

use anyhow::{Result, anyhow, bail};

use crate::npy;

/// A numeric table with optional column names, stored row-major in one buffer (one
/// allocation however many rows: a million-row file costs one parse, not a million vectors).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names (empty when the file had no header).
    pub names: Vec<String>,
    n_cols: usize,
    data: Vec<f64>,
}

impl Table {
    /// A table of `n_cols` columns from row-major values.
    ///
    /// # Errors
    /// When the values do not fill whole rows, or there are none.
    pub fn new(names: Vec<String>, n_cols: usize, data: Vec<f64>) -> Result<Table> {
        if n_cols == 0 || data.is_empty() || !data.len().is_multiple_of(n_cols) {
            bail!("no numeric rows");
        }
        Ok(Table {
            names,
            n_cols,
            data,
        })
    }
    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.data.len() / self.n_cols
    }
    /// Row i.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }
    /// Column j.
    pub fn column(&self, j: usize) -> Vec<f64> {
        self.data
            .iter()
            .skip(j)
            .step_by(self.n_cols)
            .copied()
            .collect()
    }
    /// The values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.data
    }
}

/// Builds a table record by record, with the header rule and line/column/cell errors.
struct Builder {
    names: Vec<String>,
    n_cols: usize,
    data: Vec<f64>,
    records: usize,
}

impl Builder {
    fn push(&mut self, line: u64, fields: &[&str]) -> Result<()> {
        let first = self.records == 0;
        self.records += 1;
        if first {
            let numeric = fields
                .iter()
                .filter(|f| f.trim().parse::<f64>().is_ok())
                .count();
            if numeric == 0 {
                self.names = fields.iter().map(|f| f.trim().to_string()).collect();
                return Ok(());
            }
            if let Some((j, bad)) = fields
                .iter()
                .enumerate()
                .find(|(_, f)| f.trim().parse::<f64>().is_err())
            {
                bail!(
                    "line {line}: the first row mixes numbers and text (column {j}: {:?}); a header must name every column, and a data row must hold only numbers",
                    bad.trim()
                );
            }
        }
        let expected = if self.n_cols > 0 {
            self.n_cols
        } else {
            self.names.len()
        };
        if expected != 0 && fields.len() != expected {
            let what = if self.n_cols == 0 {
                "the header names"
            } else {
                "expected"
            };
            bail!(
                "line {line}: {} fields, {what} {expected} (ragged rows)",
                fields.len()
            );
        }
        self.n_cols = fields.len();
        for (j, f) in fields.iter().enumerate() {
            let v = cell(f, line, j, &self.names)?;
            self.data.push(v);
        }
        Ok(())
    }

    fn finish(self) -> Result<Table> {
        Table::new(self.names, self.n_cols, self.data)
    }
}

/// How the fields of a text table are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// Runs of spaces or tabs (JIDT's text files); no quoting.
    Whitespace,
    /// One byte (`,`, `;` or tab), with CSV quoting.
    Byte(u8),
}

impl std::str::FromStr for Delimiter {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "," | "comma" => Delimiter::Byte(b','),
            ";" | "semicolon" => Delimiter::Byte(b';'),
            "\t" | "tab" => Delimiter::Byte(b'\t'),
            " " | "space" | "whitespace" => Delimiter::Whitespace,
            other => bail!("{other:?}: expected comma, semicolon, tab or space"),
        })
    }
}

/// The delimiter of a text table, from its first five non-blank lines: of `;`, tab and `,`,
/// the one found on the most of those lines (ties go in that order: a file of decimal
/// commas separates its fields with `;`); whitespace when none occurs.
pub fn detect_delimiter(lines: &[&str]) -> Delimiter {
    let sample: Vec<&&str> = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .take(5)
        .collect();
    let mut best = (0, Delimiter::Whitespace);
    for d in [b';', b'\t', b','] {
        let n = sample.iter().filter(|l| l.as_bytes().contains(&d)).count();
        if n > best.0 {
            best = (n, Delimiter::Byte(d));
        }
    }
    best.1
}

/// A cell as a number, or why not, in the user's terms.
fn cell(text: &str, line: u64, col: usize, names: &[String]) -> Result<f64> {
    let at = || match names.get(col) {
        Some(n) => format!("line {line}, column {col} ({n})"),
        None => format!("line {line}, column {col}"),
    };
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => bail!("{}: {v} (NaN and infinity are not allowed)", at()),
        Err(_) => {
            let comma = t.replacen(',', ".", 1);
            if t.contains(',') && comma.parse::<f64>().is_ok() {
                bail!(
                    "{}: {t:?} has a decimal comma; this reader takes '.' decimals (convert the file first)",
                    at()
                )
            }
            bail!("{}: non-numeric cell {t:?}", at())
        }
    }
}

/// Parses a text table with the delimiter detected ([`detect_delimiter`]).
///
/// # Errors
/// See [`parse_text_with`].
pub fn parse_text(text: &str) -> Result<Table> {
    parse_text_with(text, None)
}

/// Parses a text table: one delimiter per file (given, or detected), CSV quoting for `,`, `;`
/// and tab, a UTF-8 BOM stripped, lines starting with `%` or `#` and blank lines skipped.
///
/// The header rule: the first record is a header when none of its cells is a number (names
/// are kept as written, spaces included); when all are numbers it is data; a first record
/// that mixes both is refused, since it is a header with a numeric name or a data row with a
/// typo, and either way a guess would drop or misname a column.
///
/// # Errors
/// One line with the line number, the column (and its name) and the cell: ragged rows,
/// non-numeric, NaN or infinite cells, decimal commas, a mixed first record, no data.
pub fn parse_text_with(text: &str, delimiter: Option<Delimiter>) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // comment lines become blank, so line numbers stay those of the file
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with('%') || t.starts_with('#') {
                ""
            } else {
                l
            }
        })
        .collect();
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&lines));
    let mut t = Builder {
        names: Vec::new(),
        n_cols: 0,
        data: Vec::new(),
        records: 0,
    };
    match delimiter {
        Delimiter::Whitespace => {
            let mut fields: Vec<&str> = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                fields.clear();
                fields.extend(l.split_whitespace());
                if !fields.is_empty() {
                    t.push(i as u64 + 1, &fields)?;
                }
            }
        }
        Delimiter::Byte(d) => {
            let joined = lines.join("\n");
            let mut r = csv::ReaderBuilder::new()
                .delimiter(d)
                .has_headers(false)
                .flexible(true)
                .from_reader(joined.as_bytes());
            let mut rec = csv::StringRecord::new();
            loop {
                let more = r.read_record(&mut rec).map_err(|e| {
                    let line = e.position().map_or(0, |p| p.line());
                    anyhow!("line {line}: {e}")
                })?;
                if !more {
                    break;
                }
                let line = rec.position().map_or(0, |p| p.line());
                if rec.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if let Some(j) = rec.iter().position(|f| f.contains('\n')) {
                    bail!(
                        "line {line}, column {j}: a quoted field runs past its line (an unterminated quote?)"
                    );
                }
                let fields: Vec<&str> = rec.iter().collect();
                t.push(line, &fields)?;
            }
        }
    }
    t.finish()
}

/// Reads a table from a text/CSV file (delimiter detected unless given) or a 2-D (or 1-D) `.npy`.
///
/// # Errors
/// A message naming the file and the problem.
pub fn read_table(path: &str, delimiter: Option<Delimiter>) -> Result<Table> {
    let cannot_read = |e: std::io::Error| anyhow!("{path}: cannot read ({e})");
    if path.ends_with(".npy") {
        let (shape, v) = match read_npy(path).map_err(cannot_read)? {
            NpyRead::F8(shape, v) => (shape, v),
            NpyRead::Whole(bytes) => {
                let t = npy::parse_npy(&bytes).map_err(|e| anyhow!("{path}: {e}"))?;
                (t.shape, t.data.into_f64())
            }
        };
        let (n, d) = match shape.as_slice() {
            [n] => (*n, 1),
            [n, d] => (*n, *d),
            s => bail!("{path}: expected a 1-D or 2-D array, got shape {s:?}"),
        };
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            bail!(
                "{path}: row {}, column {} is {} (NaN and infinity are not allowed)",
                i / d.max(1),
                i % d.max(1),
                v[i]
            );
        }
        if n == 0 || d == 0 {
            bail!("{path}: empty array");
        }
        return Table::new(vec![], d, v);
    }
    let bytes = std::fs::read(path).map_err(cannot_read)?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow!("{path}: not UTF-8 text"))?;
    parse_text_with(&text, delimiter).map_err(|e| anyhow!("{path}: {e}"))
}

/// A `.npy` file as [`read_npy`] reads it.
enum NpyRead {
    /// Little-endian f64 (`<f8`, what numpy writes for float64): the shape, and the values
    /// read from the file straight into their buffer.
    F8(Vec<usize>, Vec<f64>),
    /// Anything else (another dtype, a big-endian machine, a header over 4 KiB, a malformed
    /// header, data shorter than the shape): the whole file, for the decoding path and its
    /// checks and messages.
    Whole(Vec<u8>),
}

/// Reads a `.npy` file in one pass: its first 4 KiB, then, for `<f8` data, the values
/// straight into the values' buffer (no copy of the file in memory, which at 10 000 rows ×
/// 2 columns saved a 160 KB buffer's page faults and copy: 0.05 ms of a 3.4 ms run), or
/// otherwise the rest of the file after what was read.
///
/// # Errors
/// Only the file's IO errors.
fn read_npy(path: &str) -> std::io::Result<NpyRead> {
    use std::io::Read;
    /// numpy pads its headers to a multiple of 64 bytes; a 2-D array's takes 128
    const HEAD: u64 = 4096;
    // as `std::fs::read` does: a file larger than the memory available is an IO error
    let too_big = || std::io::Error::from(std::io::ErrorKind::OutOfMemory);
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    // room for all of it up front, so it is one read, not a doubling series of them
    let mut head = Vec::with_capacity(HEAD as usize);
    (&mut f).take(HEAD).read_to_end(&mut head)?;
    let direct = npy::parse_npy_header(&head).ok().filter(|h| {
        let need = h.count.checked_mul(8);
        let fits = need.is_some_and(|need| need as u64 <= len.saturating_sub(h.data_start as u64));
        h.descr == "<f8" && cfg!(target_endian = "little") && fits
    });
    let Some(h) = direct else {
        let rest = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .saturating_sub(head.len());
        head.try_reserve_exact(rest).map_err(|_| too_big())?;
        f.read_to_end(&mut head)?;
        return Ok(NpyRead::Whole(head));
    };
    let mut v = Vec::new();
    v.try_reserve_exact(h.count).map_err(|_| too_big())?;
    v.resize(h.count, 0.0f64);
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut v);
    // what the header's read took past the header, then the rest from the file
    let tail = head.get(h.data_start..).unwrap_or_default();
    let early = tail.len().min(bytes.len());
    bytes[..early].copy_from_slice(&tail[..early]);
    f.read_exact(&mut bytes[early..])?;
    Ok(NpyRead::F8(h.shape, v))
}

/// Resolves a column list: indices or names, comma-separated, with ranges `a-b` (inclusive).
///
/// # Errors
/// Unknown names, indices out of range, an empty list.
pub fn parse_cols(spec: &str, t: &Table) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(j) = t.names.iter().position(|n| n == part) {
            out.push(j);
            continue;
        }
        if let Some((Ok(a), Ok(b))) = part
            .split_once('-')
            .map(|(a, b)| (a.trim().parse::<usize>(), b.trim().parse::<usize>()))
        {
            if a > b {
                bail!("column range {part} is reversed");
            }
            out.extend(a..=b);
            continue;
        }
        match part.parse::<usize>() {
            Ok(j) => out.push(j),
            Err(_) => bail!("unknown column {part:?}"),
        }
    }
    if out.is_empty() {
        bail!("empty column selection {spec:?}");
    }
    if let Some(&j) = out.iter().find(|&&j| j >= t.n_cols()) {
        bail!(
            "column {j} out of range (the file has {} columns)",
            t.n_cols()
        );
    }
    Ok(out)
}

/// Applies `--rows A:B` (0-based, end exclusive; either side may be empty).
///
/// # Errors
/// Malformed ranges, ranges past the end, empty selections.
pub fn select_rows(t: Table, spec: Option<&str>) -> Result<Table> {
    let Some(spec) = spec else {
        return Ok(t);
    };
    let (a, b) = spec
        .split_once(':')
        .ok_or_else(|| anyhow!("--rows {spec}: expected A:B"))?;
    let a: usize = if a.is_empty() {
        0
    } else {
        a.parse().map_err(|_| anyhow!("--rows {spec}: bad start"))?
    };
    let b: usize = if b.is_empty() {
        t.n_rows()
    } else {
        b.parse().map_err(|_| anyhow!("--rows {spec}: bad end"))?
    };
    if a >= b || b > t.n_rows() {
        bail!(
            "--rows {spec}: empty or past the end (the file has {} rows)",
            t.n_rows()
        );
    }
    let n_cols = t.n_cols;
    let mut data = t.data;
    data.truncate(b * n_cols);
    data.drain(..a * n_cols);
    Table::new(t.names, n_cols, data)
}
