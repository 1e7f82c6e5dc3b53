//! Reading sample matrices for the estimator commands: CSV (the `csv` crate: one detected or given delimiter, quoting, a BOM, a documented header rule, errors with line, column and cell), JIDT's whitespace text, or 2-D `.npy`; column and row selection.

use anyhow::{Result, anyhow, bail};

use crate::npy;

/// A numeric table with optional column names.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names (empty when the file had no header).
    pub names: Vec<String>,
    /// Rows of equal length.
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.rows.first().map_or(self.names.len(), Vec::len)
    }
    /// Column j.
    pub fn column(&self, j: usize) -> Vec<f64> {
        self.rows.iter().map(|r| r[j]).collect()
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
    let records: Vec<(u64, Vec<String>)> = match delimiter {
        Delimiter::Whitespace => lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                (
                    i as u64 + 1,
                    l.split_whitespace().map(String::from).collect(),
                )
            })
            .collect(),
        Delimiter::Byte(d) => {
            let joined = lines.join("\n");
            let mut r = csv::ReaderBuilder::new()
                .delimiter(d)
                .has_headers(false)
                .flexible(true)
                .from_reader(joined.as_bytes());
            let mut out = Vec::new();
            for rec in r.records() {
                let rec = rec.map_err(|e| {
                    let line = e.position().map_or(0, |p| p.line());
                    anyhow!("line {line}: {e}")
                })?;
                let line = rec.position().map_or(0, |p| p.line());
                if rec.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if let Some(j) = rec.iter().position(|f| f.contains('\n')) {
                    bail!(
                        "line {line}, column {j}: a quoted field runs past its line (an unterminated quote?)"
                    );
                }
                out.push((line, rec.iter().map(String::from).collect()));
            }
            out
        }
    };
    let mut names: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (k, (line, fields)) in records.iter().enumerate() {
        if k == 0 {
            let numeric = fields
                .iter()
                .filter(|f| f.trim().parse::<f64>().is_ok())
                .count();
            if numeric == 0 {
                names = fields.iter().map(|f| f.trim().to_string()).collect();
                continue;
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
        let expected = rows.first().map_or(names.len(), Vec::len);
        if expected != 0 && fields.len() != expected {
            let what = if rows.is_empty() {
                "the header names"
            } else {
                "expected"
            };
            bail!(
                "line {line}: {} fields, {what} {expected} (ragged rows)",
                fields.len()
            );
        }
        let row = fields
            .iter()
            .enumerate()
            .map(|(j, f)| cell(f, *line, j, &names))
            .collect::<Result<Vec<f64>>>()?;
        rows.push(row);
    }
    if rows.is_empty() {
        bail!("no numeric rows");
    }
    Ok(Table { names, rows })
}

/// Reads a table from a text/CSV file (delimiter detected unless given) or a 2-D (or 1-D) `.npy`.
///
/// # Errors
/// A message naming the file and the problem.
pub fn read_table(path: &str, delimiter: Option<Delimiter>) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| anyhow!("{path}: cannot read ({e})"))?;
    if path.ends_with(".npy") {
        let t = npy::parse_npy(&bytes).map_err(|e| anyhow!("{path}: {e}"))?;
        let (n, d) = match t.shape.as_slice() {
            [n] => (*n, 1),
            [n, d] => (*n, *d),
            s => bail!("{path}: expected a 1-D or 2-D array, got shape {s:?}"),
        };
        let v = t.data.to_f64();
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
        return Ok(Table {
            names: vec![],
            rows: v.chunks(d).map(<[f64]>::to_vec).collect(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| anyhow!("{path}: not UTF-8 text"))?;
    parse_text_with(&text, delimiter).map_err(|e| anyhow!("{path}: {e}"))
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
pub fn select_rows(t: &Table, spec: Option<&str>) -> Result<Table> {
    let Some(spec) = spec else {
        return Ok(t.clone());
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
        t.rows.len()
    } else {
        b.parse().map_err(|_| anyhow!("--rows {spec}: bad end"))?
    };
    if a >= b || b > t.rows.len() {
        bail!(
            "--rows {spec}: empty or past the end (the file has {} rows)",
            t.rows.len()
        );
    }
    Ok(Table {
        names: t.names.clone(),
        rows: t.rows[a..b].to_vec(),
    })
}
