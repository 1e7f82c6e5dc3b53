//! Reading sample matrices for the estimator commands: whitespace- or comma-separated text (with `%`/`#` comments and an optional header), CSV, or 2-D `.npy`; column and row selection.

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

/// Parses text: fields split on commas, semicolons, tabs or spaces; a first non-numeric line is a header.
///
/// # Errors
/// Ragged rows, non-numeric cells (naming the line), NaN/inf cells, no data.
pub fn parse_text(text: &str) -> Result<Table> {
    let mut names = Vec::new();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('%') || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split([',', ';', '\t', ' '])
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        let parsed: Result<Vec<f64>, _> = fields.iter().map(|f| f.parse::<f64>()).collect();
        match parsed {
            Ok(v) => {
                if let Some((j, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                    bail!(
                        "line {}: column {j} is {x} (NaN and infinity are not allowed)",
                        lineno + 1
                    );
                }
                if let Some(first) = rows.first() {
                    if first.len() != v.len() {
                        bail!(
                            "line {}: {} fields, expected {} (ragged rows)",
                            lineno + 1,
                            v.len(),
                            first.len()
                        );
                    }
                } else if !names.is_empty() && names.len() != v.len() {
                    bail!(
                        "line {}: {} fields, but the header names {}",
                        lineno + 1,
                        v.len(),
                        names.len()
                    );
                }
                rows.push(v);
            }
            Err(_) if rows.is_empty() && names.is_empty() => {
                names = fields
                    .iter()
                    .map(|s| s.trim_matches('"').to_string())
                    .collect()
            }
            Err(_) => bail!("line {}: non-numeric cell", lineno + 1),
        }
    }
    if rows.is_empty() {
        bail!("no numeric rows");
    }
    Ok(Table { names, rows })
}

/// Reads a table from a text/CSV file or a 2-D (or 1-D) `.npy`.
///
/// # Errors
/// A message naming the file and the problem.
pub fn read_table(path: &str) -> Result<Table> {
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
    parse_text(&text).map_err(|e| anyhow!("{path}: {e}"))
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
