//! `infometer table`: entropies and mutual information of a joint count or probability table in a CSV file.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use infometer_core::{Base, JointTable, TableEstimator};
use serde_json::json;

/// Entropies and mutual information of a joint table of counts.
#[derive(Debug, Clone, clap::Args)]
pub struct TableArgs {
    /// CSV of counts or probabilities: one line per X value, one column per Y value
    /// (`#` comments and a non-numeric header line are skipped).
    #[arg(long)]
    pub counts: PathBuf,
    /// Display base: e, 2, 10 or any number > 1.
    #[arg(long, default_value = "e")]
    pub base: String,
    /// Entropy estimator: plugin or miller-madow.
    #[arg(long, default_value = "plugin")]
    pub estimator: String,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Parses a CSV table into (rows, cols, cells), with the sample-file reader's rules
/// (comments, an optional header line, ragged rows and non-numeric cells refused).
///
/// # Errors
/// Ragged rows, non-numeric or non-finite cells, an empty table.
pub fn parse_table(text: &str) -> Result<(usize, usize, Vec<f64>)> {
    let t = crate::table_input::parse_text(text)?;
    let cols = t.n_cols();
    Ok((t.n_rows(), cols, t.values().to_vec()))
}

/// Runs the command and returns its JSON object.
///
/// # Errors
/// Unreadable file, malformed table, invalid values.
pub fn run(args: &TableArgs) -> Result<serde_json::Value> {
    let p = args.counts.display().to_string();
    let base: Base = args
        .base
        .parse()
        .map_err(|e| anyhow!("--base {}: {e}", args.base))?;
    let est = match args.estimator.as_str() {
        "plugin" | "plug-in" => TableEstimator::PlugIn,
        "miller-madow" | "mm" => TableEstimator::MillerMadow,
        other => bail!("--estimator {other}: expected plugin or miller-madow"),
    };
    let text =
        std::fs::read_to_string(&args.counts).with_context(|| format!("{p}: cannot read"))?;
    let (r, c, cells) = parse_table(&text).map_err(|e| anyhow!("{p}: {e}"))?;
    let t = JointTable::from_counts(r, c, &cells).map_err(|e| anyhow!("{p}: {e}"))?;
    let m = t.measures(est).map_err(|e| anyhow!("{p}: {e}"))?;
    let b = |x: f64| base.from_nats(x);
    Ok(json!({
        "base": base.to_string(),
        "unit": base.unit(),
        "estimator": args.estimator,
        "shape": [r, c],
        "mutual_information": b(m.mutual_information),
        "entropy_x": b(m.entropy_x),
        "entropy_y": b(m.entropy_y),
        "joint_entropy": b(m.joint_entropy),
        "conditional_entropy_x_given_y": b(m.conditional_entropy_x_given_y),
        "conditional_entropy_y_given_x": b(m.conditional_entropy_y_given_x),
        "nmi_arithmetic": m.nmi_arithmetic,
        "nmi_sqrt": m.nmi_sqrt,
        "nmi_min": m.nmi_min,
        "nmi_max": m.nmi_max,
        "nmi_joint": m.nmi_joint,
        "variation_of_information": b(m.variation_of_information),
    }))
}
