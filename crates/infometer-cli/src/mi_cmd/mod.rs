//! `infometer mi`, `te`, `entropy` and `multi-info`: estimators from sample files, as JSON. Every estimator is built through the one dispatcher (`infometer_neural::AnyMi`), with the settings the user gave checked against the estimator before any file is read.

mod explain;
mod neural;

use anyhow::{Result, anyhow, bail};
use infometer_continuous::{
    self as ic, CmiEstimator, KsgAlgorithm, Metric, MiEstimate, MiEstimator, MiMethod, MiSettings,
    Samples, Setting, TeEmbedding, TeEstimator, Variable,
};
use infometer_neural::AnyMi;
use serde_json::{Value, json};

use crate::table_input::{Table, parse_cols, read_table, select_rows};
use explain::{Ctx, Refusal, explain};
pub use neural::probe_backend_here;

/// Options shared by the estimator commands.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Input: whitespace/comma-separated text (`%`/`#` comments, optional header), CSV, or 2-D `.npy`.
    #[arg(long)]
    pub input: String,
    /// Number of neighbours (default 4; k-NN estimators only).
    #[arg(long, allow_hyphen_values = true)]
    pub k: Option<usize>,
    /// Leave columns as they are (default: standardise to mean 0, sd 1).
    #[arg(long = "no-standardize")]
    pub no_standardize: bool,
    /// Standard deviation of the tie-breaking noise (default 1e-8; 0 turns it off; KSG only).
    #[arg(long, allow_hyphen_values = true)]
    pub noise: Option<f64>,
    /// Seed of the noise and of the surrogates.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub seed: u64,
    /// Rows A:B (0-based, end exclusive), applied before anything else.
    #[arg(long)]
    pub rows: Option<String>,
    /// Theiler window: exclude neighbours closer than W+1 rows in time (default 0; KSG only).
    #[arg(long, allow_hyphen_values = true)]
    pub theiler: Option<usize>,
    /// Copula transform first: each variable's columns to the normal scores of their ranks
    /// (ties broken by a permutation seeded with --seed), so the estimate depends on ranks alone.
    #[arg(long)]
    pub copula: bool,
    /// Field delimiter of a text input: comma, semicolon, tab or space (default: detected
    /// from the first lines; `;`, tab and `,` win over whitespace when on every line).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Mutual information (or conditional MI with --z) between columns of a sample file.
#[derive(Debug, Clone, clap::Args)]
pub struct MiArgs {
    #[command(flatten)]
    /// Shared options.
    pub common: CommonArgs,
    /// Columns of X (indices or names, ranges a-b).
    #[arg(long)]
    pub x: String,
    /// Columns of Y.
    #[arg(long)]
    pub y: String,
    /// Columns of Z: computes I(X; Y | Z).
    #[arg(long)]
    pub z: Option<String>,
    /// ksg1, ksg2, kde, box, gaussian, gcmi (Gaussian-copula MI), mixed or gcmi-mixed (X holds
    /// integer labels), or a neural bound: mine, dv, nwj, infonce.
    #[arg(long, default_value = "ksg1")]
    pub estimator: String,
    /// Surrogates for a permutation test (X rows shuffled; at most 100000).
    #[arg(long, allow_hyphen_values = true)]
    pub permutations: Option<usize>,
    /// Write the local (pointwise) values, one per sample used, whose mean is the estimate:
    /// a `.npy` vector of f64, or text with a `local_nats` header (ksg1, ksg2, kde, box, mixed).
    #[arg(long = "local-out")]
    pub local_out: Option<std::path::PathBuf>,
    #[command(flatten)]
    /// Neural-estimator options.
    pub neural: NeuralArgs,
}

/// Options of the neural estimators (`--estimator mine|dv|nwj|infonce`).
#[derive(Debug, Clone, clap::Args)]
pub struct NeuralArgs {
    /// Hidden layer widths of the critic.
    #[arg(long, default_value = "16,8")]
    pub hidden: String,
    /// Batch size.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.1, allow_hyphen_values = true)]
    pub lr: f64,
    /// Maximum training steps.
    #[arg(long, default_value_t = 10_000)]
    pub steps: usize,
    /// flex (CPU, default), ndarray (CPU, needs the ndarray feature) or wgpu (GPU, needs the wgpu feature).
    #[arg(long, default_value = "flex")]
    pub backend: String,
    /// Turn off the asinh transform applied after standardising.
    #[arg(long = "no-asinh")]
    pub no_asinh: bool,
    /// No progress bar on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Transfer entropy from a source column to a target column.
#[derive(Debug, Clone, clap::Args)]
pub struct TeArgs {
    #[command(flatten)]
    /// Shared options.
    pub common: CommonArgs,
    /// Source column.
    #[arg(long)]
    pub source: String,
    /// Target column.
    #[arg(long)]
    pub target: String,
    /// Target history length k.
    #[arg(long = "target-history", default_value_t = 1)]
    pub target_history: usize,
    /// Source history length l.
    #[arg(long = "source-history", default_value_t = 1)]
    pub source_history: usize,
    /// Target history spacing.
    #[arg(long = "target-spacing", default_value_t = 1)]
    pub target_spacing: usize,
    /// Source history spacing.
    #[arg(long = "source-spacing", default_value_t = 1)]
    pub source_spacing: usize,
    /// Source–target lag u.
    #[arg(long, default_value_t = 1)]
    pub lag: usize,
    /// ksg1, ksg2, gaussian or gcmi.
    #[arg(long, default_value = "ksg1")]
    pub estimator: String,
    /// Surrogates for a permutation test (source history shuffled, target history kept; at
    /// most 100000).
    #[arg(long, allow_hyphen_values = true)]
    pub permutations: Option<usize>,
    /// Write the local transfer entropy at every time point (ksg1, ksg2): a `.npy` vector of
    /// the series' length with NaN where the history reaches before the series, or text
    /// `t,local_nats` with only the valid time points.
    #[arg(long = "local-out", visible_alias = "local")]
    pub local_out: Option<std::path::PathBuf>,
    /// Windowed means of the local values over this many time points, each with a
    /// moving-block bootstrap interval (ksg1, ksg2).
    #[arg(long = "local-window", allow_hyphen_values = true)]
    pub local_window: Option<usize>,
    /// Time points between window starts (default: the window).
    #[arg(long = "local-stride", allow_hyphen_values = true)]
    pub local_stride: Option<usize>,
    /// Values per bootstrap block of the window intervals (default: the square root of the
    /// window, at least 1).
    #[arg(long = "local-block", allow_hyphen_values = true)]
    pub local_block: Option<usize>,
}

/// Differential entropy (Kozachenko–Leonenko) of columns.
#[derive(Debug, Clone, clap::Args)]
pub struct EntropyArgs {
    #[command(flatten)]
    /// Shared options (standardisation and noise are not applied: entropy is not scale-invariant).
    pub common: CommonArgs,
    /// Columns of the variable.
    #[arg(long)]
    pub cols: String,
    /// kl (Kozachenko–Leonenko, max-norm) or kl-euclidean.
    #[arg(long, default_value = "kl")]
    pub estimator: String,
}

/// Multi-information (total correlation) of several columns.
#[derive(Debug, Clone, clap::Args)]
pub struct MultiInfoArgs {
    #[command(flatten)]
    /// Shared options.
    pub common: CommonArgs,
    /// Columns; each column is one variable.
    #[arg(long)]
    pub cols: String,
    /// ksg1 or ksg2.
    #[arg(long, default_value = "ksg2")]
    pub estimator: String,
}

/// Most surrogates a permutation test may ask for ([`ic::MAX_RESAMPLES`]).
pub const MAX_PERMUTATIONS: usize = ic::MAX_RESAMPLES;

/// Refuses an unknown `--estimator` before any file is read, listing the choices.
fn parse_method(name: &str, choices: &[&str]) -> Result<MiMethod> {
    match name.parse::<MiMethod>() {
        Ok(m) if choices.contains(&name) => Ok(m),
        _ => bail!("--estimator {name}: expected one of {}", choices.join(", ")),
    }
}

/// Refuses a `--permutations` count of 0 or above [`MAX_PERMUTATIONS`] before any work.
fn check_permutations(p: Option<usize>) -> Result<()> {
    match p {
        Some(0) => bail!("--permutations 0: must be at least 1"),
        Some(n) if n > MAX_PERMUTATIONS => bail!(
            "--permutations {n}: at most {MAX_PERMUTATIONS} (the p-value's resolution is already 1e-5)"
        ),
        _ => Ok(()),
    }
}

/// The settings the user gave (flags left out stay `None`).
fn settings(c: &CommonArgs) -> MiSettings {
    MiSettings {
        k: c.k,
        noise: c.noise,
        standardize: c.no_standardize.then_some(false),
        theiler: c.theiler,
        copula: c.copula,
        seed: c.seed,
    }
}

/// A context for messages before the file is read.
fn bare_ctx<'a>(c: &'a CommonArgs, estimator: &'a str) -> Ctx<'a> {
    Ctx {
        input: &c.input,
        estimator,
        vars: Vec::new(),
        noise: c.noise.unwrap_or(1e-8),
        theiler: c.theiler.unwrap_or(0),
        constant: None,
    }
}

/// Refuses, before any file is read, the settings `method` does not take, a permutation test
/// it cannot run and a conditional form it does not have.
fn check_settings(
    method: MiMethod,
    c: &CommonArgs,
    permutations: bool,
    conditional: bool,
) -> Result<()> {
    let ctx = bare_ctx(c, method.name());
    let r = settings(c).check_for(method).and_then(|()| {
        if permutations {
            method.require(Setting::Permutations)?;
        }
        if conditional {
            method.require_conditional()?;
        }
        Ok(())
    });
    r.map_err(|e| explain(Refusal::Continuous(e), &ctx))
}

fn load(c: &CommonArgs) -> Result<Table> {
    let delimiter = match &c.delimiter {
        Some(d) => Some(d.parse().map_err(|e| anyhow!("--delimiter {e}"))?),
        None => None,
    };
    let t = read_table(&c.input, delimiter)?;
    select_rows(t, c.rows.as_deref()).map_err(|e| anyhow!("{}: {e}", c.input))
}

/// The columns `spec` of `--flag`, with their names.
fn columns(t: &Table, spec: &str, flag: &str) -> Result<(Vec<usize>, Vec<String>)> {
    let cols = parse_cols(spec, t).map_err(|e| anyhow!("{flag}: {e}"))?;
    let names = cols
        .iter()
        .map(|&j| t.names.get(j).cloned().unwrap_or_else(|| j.to_string()))
        .collect();
    Ok((cols, names))
}

fn samples(t: &Table, cols: &[usize], input: &str) -> Result<Samples> {
    let n = t.n_rows();
    let mut data = Vec::with_capacity(n * cols.len());
    for i in 0..n {
        let r = t.row(i);
        data.extend(cols.iter().map(|&j| r[j]));
    }
    Samples::new(n, cols.len(), data).map_err(|e| anyhow!("{input}: {e}"))
}

/// The first constant column among the variables (for the message that names it).
fn first_constant(vars: &[&Samples]) -> Option<(Variable, usize)> {
    let names = [Variable::X, Variable::Y, Variable::Z];
    vars.iter().zip(names).find_map(|(s, v)| {
        (0..s.dim())
            .find(|&j| {
                let first = s.row(0)[j];
                (0..s.n_samples()).all(|i| s.row(i)[j] == first)
            })
            .map(|j| (v, j))
    })
}

/// The output's settings: each one the estimator takes, at its effective value; `null` for
/// the ones it does not take.
fn base_json(e: &MiEstimate, method: MiMethod, c: &CommonArgs) -> Value {
    let s = settings(c);
    let on = |x: Setting| method.accepts(x);
    json!({
        "estimate": e.nats, "unit": "nats", "estimator": method.name(), "n_samples": e.n_samples,
        "k": on(Setting::K).then(|| s.k.unwrap_or(4)),
        "noise": on(Setting::Noise).then(|| s.noise.unwrap_or(1e-8)),
        "standardize": on(Setting::Standardize).then(|| s.standardize.unwrap_or(true)),
        "theiler": on(Setting::Theiler).then(|| s.theiler.unwrap_or(0)),
        "copula": c.copula, "seed": c.seed, "warnings": [],
    })
}

/// Adds the estimate's warnings, in the user's words, to the output.
fn add_warnings(out: &mut Value, e: &MiEstimate, ctx: &Ctx, quantity: &str) {
    if let Some(list) = out["warnings"].as_array_mut() {
        list.extend(
            e.warnings
                .iter()
                .map(|w| json!(explain::warning(w, ctx, quantity))),
        );
    }
}

fn add_test(v: &mut Value, t: &ic::PermutationTest, n: usize) {
    let o = v.as_object_mut().expect("object");
    o.insert("p_value".into(), json!(t.p_value));
    o.insert("permutations".into(), json!(n));
    o.insert("null_mean".into(), json!(t.null_mean));
    o.insert("null_sd".into(), json!(t.null_sd));
}

/// A progress bar for `n` surrogates on stderr (drawn only on a terminal).
fn surrogate_bar(n: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(n as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} surrogates {eta}")
            .expect("static template"),
    );
    bar
}

/// Runs `infometer mi`.
///
/// # Errors
/// Bad files, columns, settings or data, as one-line messages.
pub fn run_mi(a: &MiArgs) -> Result<Value> {
    let c = &a.common;
    let method = parse_method(&a.estimator, MiMethod::NAMES)?;
    check_permutations(a.permutations)?;
    check_settings(method, c, a.permutations.is_some(), a.z.is_some())?;
    if a.local_out.is_some() && !method.has_locals() {
        bail!(
            "--local-out: --estimator {method} has no local values (ksg1, ksg2, kde, box and mixed have)"
        );
    }
    // created before the work (an unwritable path fails first), renamed into place after it
    let local_file = match &a.local_out {
        Some(p) => Some(crate::staged::StagedFile::create(p, "--local-out")?),
        None => None,
    };
    let t = load(c)?;
    let (xc, xn) = columns(&t, &a.x, "--x")?;
    let (yc, yn) = columns(&t, &a.y, "--y")?;
    let x = samples(&t, &xc, &c.input)?;
    let y = samples(&t, &yc, &c.input)?;
    let mut vars = vec![("--x", xn), ("--y", yn)];
    let z = match &a.z {
        Some(s) => {
            let (zc, zn) = columns(&t, s, "--z")?;
            vars.push(("--z", zn));
            Some(samples(&t, &zc, &c.input)?)
        }
        None => None,
    };
    // the table is copied into the variables: freed now, its memory serves the estimator's
    // buffers instead of fresh pages
    drop(t);
    let mut refs = vec![&x, &y];
    refs.extend(z.as_ref());
    let ctx = Ctx {
        vars,
        constant: first_constant(&refs),
        ..bare_ctx(c, &a.estimator)
    };
    let fail = |r: Refusal| explain(r, &ctx);
    let est = neural::any_mi(method, &settings(c), &a.neural, x.dim() + y.dim()).map_err(fail)?;
    let mut training = None;
    let e = match (&est, &z) {
        (AnyMi::Neural(n), _) => {
            let (e, r) = neural::train(n, &a.neural, &x, &y).map_err(|e| fail(e.into()))?;
            training = Some((r, n.config().clone()));
            e
        }
        (AnyMi::Classical(cl), Some(z)) => {
            cl.estimate_cmi(&x, &y, z).map_err(|e| fail(e.into()))?
        }
        (AnyMi::Classical(cl), None) => cl.estimate(&x, &y).map_err(|e| fail(e.into()))?,
    };
    let mut out = base_json(&e, method, c);
    out["conditional"] = json!(z.is_some());
    let quantity = if z.is_some() { "conditional MI" } else { "MI" };
    add_warnings(&mut out, &e, &ctx, quantity);
    if let Some((r, cfg)) = &training {
        neural::fields(&mut out, r, cfg, &a.neural);
    }
    if let (Some(p), AnyMi::Classical(cl)) = (a.permutations, &est) {
        let bar = surrogate_bar(p);
        let tick = |d: usize| bar.set_position(d as u64);
        let t = match &z {
            Some(z) => cl.cmi_permutation_test(&x, &y, z, p, c.seed, &tick),
            None => cl.permutation_test_with_progress(&x, &y, p, c.seed, &tick),
        };
        bar.finish_and_clear();
        add_test(&mut out, &t.map_err(|e| fail(e.into()))?, p);
    }
    if let (Some(mut f), Some(local), Some(path)) = (local_file, &e.local, &a.local_out) {
        let bytes = if path.extension().is_some_and(|x| x == "npy") {
            crate::npy::npy_bytes_f64(&[local.len()], local)
        } else {
            let mut text = String::from("local_nats\n");
            for v in local {
                text.push_str(&format!("{v}\n"));
            }
            text.into_bytes()
        };
        f.write_all(&bytes)?;
        f.commit()?;
        out["local_out"] = json!(path);
    }
    Ok(out)
}

/// The estimators with a conditional form: those of `te`.
fn te_names() -> Vec<&'static str> {
    MiMethod::ALL
        .into_iter()
        .filter(|m| m.has_conditional())
        .map(MiMethod::name)
        .collect()
}

/// Runs `infometer te`.
///
/// # Errors
/// Bad files, columns, settings or data, as one-line messages.
pub fn run_te(a: &TeArgs) -> Result<Value> {
    let c = &a.common;
    let method = parse_method(&a.estimator, &te_names())?;
    check_permutations(a.permutations)?;
    check_settings(method, c, a.permutations.is_some(), false)?;
    let wants_local = a.local_out.is_some() || a.local_window.is_some();
    if wants_local && !method.accepts(ic::Setting::Local) {
        let flag = if a.local_out.is_some() {
            "--local-out"
        } else {
            "--local-window"
        };
        bail!("{flag}: --estimator {method} has no local transfer entropy (ksg1 and ksg2 have)");
    }
    if (a.local_stride.is_some() || a.local_block.is_some()) && a.local_window.is_none() {
        bail!("--local-stride/--local-block: need --local-window");
    }
    for (flag, v) in [
        ("--local-window", a.local_window),
        ("--local-stride", a.local_stride),
        ("--local-block", a.local_block),
    ] {
        if v == Some(0) {
            bail!("{flag} 0: must be at least 1");
        }
    }
    let local_file = match &a.local_out {
        Some(p) => Some(crate::staged::StagedFile::create(p, "--local-out")?),
        None => None,
    };
    let t = load(c)?;
    if let Some(w) = a.local_window.filter(|&w| w > t.n_rows()) {
        bail!(
            "--local-window {w}: longer than the series ({} rows)",
            t.n_rows()
        );
    }
    let one = |spec: &str, flag: &str| -> Result<(usize, String)> {
        let (v, names) = columns(&t, spec, flag)?;
        if v.len() != 1 {
            bail!("{flag}: expected one column, got {}", v.len());
        }
        Ok((v[0], names[0].clone()))
    };
    let (sc, sn) = one(&a.source, "--source")?;
    let (tc, tn) = one(&a.target, "--target")?;
    let source = t.column(sc);
    let target = t.column(tc);
    let emb = TeEmbedding {
        target_history: a.target_history,
        target_spacing: a.target_spacing,
        source_history: a.source_history,
        source_spacing: a.source_spacing,
        delay: a.lag,
    };
    let s_samples = samples(&t, &[sc], &c.input)?;
    let t_samples = samples(&t, &[tc], &c.input)?;
    // the table is copied into the variables: freed now, its memory serves the estimator's
    // buffers instead of fresh pages
    drop(t);
    let ctx = Ctx {
        vars: vec![("--source", vec![sn]), ("--target", vec![tn])],
        constant: first_constant(&[&s_samples, &t_samples]),
        ..bare_ctx(c, &a.estimator)
    };
    let fail = |e: ic::ContinuousError| explain(Refusal::Continuous(e), &ctx);
    let est = TeEstimator::new(method, &settings(c)).map_err(fail)?;
    let value = ic::transfer_entropy(&source, &target, &emb, &est).map_err(fail)?;
    let n = ic::embed_te(&source, &target, &emb)
        .map_err(fail)?
        .0
        .n_samples();
    let e = MiEstimate {
        nats: value,
        n_samples: n,
        local: None,
        warnings: Vec::new(),
    };
    let mut out = base_json(&e, method, c);
    if value < 0.0 {
        let w = ic::Warning::Negative { nats: value };
        out["warnings"] = json!([explain::warning(&w, &ctx, "transfer entropy")]);
    }
    if let (true, Some(list)) = (sc == tc, out["warnings"].as_array_mut()) {
        list.push(json!(
            "--source and --target are the same column: transfer entropy from a series to itself is 0 by construction"
        ));
    }
    let o = out.as_object_mut().expect("object");
    o.insert("target_history".into(), json!(a.target_history));
    o.insert("source_history".into(), json!(a.source_history));
    o.insert("lag".into(), json!(a.lag));
    if let Some(p) = a.permutations {
        let bar = surrogate_bar(p);
        let r = ic::transfer_entropy_test_with_progress(
            &source,
            &target,
            &emb,
            &est,
            p,
            c.seed,
            &|d| bar.set_position(d as u64),
        );
        bar.finish_and_clear();
        add_test(&mut out, &r.map_err(fail)?, p);
    }
    if wants_local {
        let l = ic::local_transfer_entropy(&source, &target, &emb, &est).map_err(fail)?;
        if let Some(w) = a.local_window {
            let o = ic::WindowOptions {
                window: w,
                stride: a.local_stride.unwrap_or(w),
                block: a
                    .local_block
                    .unwrap_or(((w as f64).sqrt().round() as usize).max(1)),
                resamples: 999,
                level: 0.95,
                seed: c.seed,
            };
            let windows = ic::local_windows(&l.values, &l.valid, &o).map_err(fail)?;
            let list: Vec<Value> = windows
                .iter()
                .map(|w| {
                    json!({"start": w.start, "end": w.end, "n_valid": w.n_valid,
                           "mean": if w.mean.is_finite() { json!(w.mean) } else { Value::Null },
                           "ci": w.ci.map(|(lo, hi)| vec![lo, hi])})
                })
                .collect();
            out["local_windows"] = json!({"window": o.window, "stride": o.stride,
                "block": o.block, "resamples": o.resamples, "level": o.level, "windows": list});
        }
        if let (Some(mut f), Some(path)) = (local_file, &a.local_out) {
            let bytes = if path.extension().is_some_and(|x| x == "npy") {
                crate::npy::npy_bytes_f64(&[l.values.len()], &l.values)
            } else {
                let mut text = String::from("t,local_nats\n");
                for (t, v) in l.values.iter().enumerate().filter(|(t, _)| l.valid[*t]) {
                    text.push_str(&format!("{t},{v}\n"));
                }
                text.into_bytes()
            };
            f.write_all(&bytes)?;
            f.commit()?;
            out["local_out"] = json!(path);
        }
        out["n_invalid_time_points"] = json!(l.valid.iter().filter(|v| !**v).count());
    }
    Ok(out)
}

/// Runs `infometer entropy`.
///
/// # Errors
/// Bad files, columns, settings or data, as one-line messages.
pub fn run_entropy(a: &EntropyArgs) -> Result<Value> {
    let c = &a.common;
    let metric = match a.estimator.as_str() {
        "kl" => Metric::MaxNorm,
        "kl-euclidean" => Metric::Euclidean,
        other => bail!("--estimator {other}: expected one of kl, kl-euclidean"),
    };
    if c.copula {
        bail!(
            "--copula does not apply to entropy: differential entropy changes under monotone maps \
             (it applies to mi, te and multi-info)"
        );
    }
    for (given, flag) in [
        (c.noise.is_some(), "--noise"),
        (c.no_standardize, "--no-standardize"),
        (c.theiler.is_some(), "--theiler"),
    ] {
        if given {
            bail!(
                "{flag}: does not apply to entropy (it is computed on the data as given: no \
                 standardising, noise or Theiler window)"
            );
        }
    }
    let t = load(c)?;
    let (cols, names) = columns(&t, &a.cols, "--cols")?;
    let x = samples(&t, &cols, &c.input)?;
    // the table is copied into the variables: freed now, its memory serves the estimator's
    // buffers instead of fresh pages
    drop(t);
    let k = c.k.unwrap_or(4);
    let h = ic::kl_entropy(&x, k, metric).map_err(|e| {
        let ctx = Ctx {
            vars: vec![("--cols", names.clone())],
            ..bare_ctx(c, &a.estimator)
        };
        explain(Refusal::Continuous(e), &ctx)
    })?;
    Ok(json!({
        "estimate": h, "unit": "nats", "estimator": a.estimator, "k": k,
        "n_samples": x.n_samples(), "copula": false, "standardize": false, "noise": 0.0,
        "theiler": 0, "seed": c.seed, "warnings": [],
    }))
}

/// Runs `infometer multi-info`.
///
/// # Errors
/// Bad files, columns, settings or data, as one-line messages.
pub fn run_multi_info(a: &MultiInfoArgs) -> Result<Value> {
    let c = &a.common;
    let method = parse_method(&a.estimator, &["ksg1", "ksg2"])?;
    check_settings(method, c, false, false)?;
    let t = load(c)?;
    let (cols, names) = columns(&t, &a.cols, "--cols")?;
    let vars: Vec<Samples> = cols
        .iter()
        .map(|&j| samples(&t, &[j], &c.input))
        .collect::<Result<_>>()?;
    // the table is copied into the variables: freed now, its memory serves the estimator's
    // buffers instead of fresh pages
    drop(t);
    let refs: Vec<&Samples> = vars.iter().collect();
    let ctx = Ctx {
        vars: vec![("--cols", names)],
        ..bare_ctx(c, &a.estimator)
    };
    let fail = |e: ic::ContinuousError| explain(Refusal::Continuous(e), &ctx);
    let alg = if method == MiMethod::Ksg1 {
        KsgAlgorithm::One
    } else {
        KsgAlgorithm::Two
    };
    let est = settings(c).ksg(alg).map_err(fail)?;
    let e = est.multi_information(&refs).map_err(fail)?;
    let mut out = base_json(&e, method, c);
    add_warnings(&mut out, &e, &ctx, "multi-information");
    Ok(out)
}
