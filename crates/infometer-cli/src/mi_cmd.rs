//! `infometer mi`, `te`, `entropy` and `multi-info`: estimators from sample files, as JSON.

use anyhow::{Context, Result, anyhow, bail};
use infometer_continuous::{
    self as ic, KdeConfig, KsgAlgorithm, KsgConfig, Metric, Samples, TeEmbedding, TeEstimator,
};
use serde_json::{Value, json};

use crate::table_input::{Table, parse_cols, read_table, select_rows};

/// Options shared by the estimator commands.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Input: whitespace/comma-separated text (`%`/`#` comments, optional header), CSV, or 2-D `.npy`.
    #[arg(long)]
    pub input: String,
    /// Number of neighbours.
    #[arg(long, default_value_t = 4)]
    pub k: usize,
    /// Leave columns as they are (default: standardise to mean 0, sd 1).
    #[arg(long = "no-standardize")]
    pub no_standardize: bool,
    /// Standard deviation of the tie-breaking noise (0 turns it off).
    #[arg(long, default_value_t = 1e-8)]
    pub noise: f64,
    /// Seed of the noise and of the surrogates.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Rows A:B (0-based, end exclusive), applied before anything else.
    #[arg(long)]
    pub rows: Option<String>,
    /// Theiler window: exclude neighbours closer than W+1 rows in time.
    #[arg(long, default_value_t = 0)]
    pub theiler: usize,
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

/// Arguments of `infometer mi`.
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
    /// Surrogates for a permutation test (X rows shuffled).
    #[arg(long)]
    pub permutations: Option<usize>,
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
    #[arg(long, default_value_t = 0.1)]
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

/// Arguments of `infometer te`.
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
    /// Surrogates for a permutation test (source history shuffled, target history kept).
    #[arg(long)]
    pub permutations: Option<usize>,
}

/// Arguments of `infometer entropy`.
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

/// Arguments of `infometer multi-info`.
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

/// The estimators of `mi`, `te`, `entropy` and `multi-info`, for the check made before any
/// file is read.
const MI_ESTIMATORS: &[&str] = &[
    "ksg1",
    "ksg2",
    "kde",
    "box",
    "gaussian",
    "gcmi",
    "mixed",
    "gcmi-mixed",
    "mine",
    "dv",
    "nwj",
    "infonce",
];
const TE_ESTIMATORS: &[&str] = &["ksg1", "ksg2", "gaussian", "gcmi"];
const ENTROPY_ESTIMATORS: &[&str] = &["kl", "kl-euclidean"];
const MULTI_INFO_ESTIMATORS: &[&str] = &["ksg1", "ksg2"];

/// Most surrogates a permutation test may ask for: beyond this the p-value's resolution
/// (1/(S+1)) no longer matters and the run would take hours.
pub const MAX_PERMUTATIONS: usize = 100_000;

/// Refuses an unknown `--estimator` before any file is read, listing the choices.
fn check_estimator(name: &str, choices: &[&str]) -> Result<()> {
    if choices.contains(&name) {
        Ok(())
    } else {
        bail!("--estimator {name}: expected one of {}", choices.join(", "))
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

fn load(c: &CommonArgs) -> Result<Table> {
    let delimiter = match &c.delimiter {
        Some(d) => Some(d.parse().map_err(|e| anyhow!("--delimiter {e}"))?),
        None => None,
    };
    let t = read_table(&c.input, delimiter)?;
    select_rows(&t, c.rows.as_deref()).map_err(|e| anyhow!("{}: {e}", c.input))
}

fn samples(t: &Table, cols: &[usize], input: &str) -> Result<Samples> {
    let n = t.rows.len();
    let mut data = Vec::with_capacity(n * cols.len());
    for r in &t.rows {
        data.extend(cols.iter().map(|&j| r[j]));
    }
    Samples::new(n, cols.len(), data).map_err(|e| anyhow!("{input}: {e}"))
}

fn ksg_cfg(c: &CommonArgs, alg: KsgAlgorithm) -> KsgConfig {
    KsgConfig {
        k: c.k,
        algorithm: alg,
        copula: c.copula,
        standardize: !c.no_standardize,
        noise: c.noise,
        seed: c.seed,
        theiler: c.theiler,
        ..Default::default()
    }
}

fn base_json(estimate: f64, estimator: &str, c: &CommonArgs, n: usize) -> Value {
    json!({"estimate": estimate, "unit": "nats", "estimator": estimator, "k": c.k, "n_samples": n,
           "copula": c.copula, "standardize": !c.no_standardize, "noise": c.noise, "seed": c.seed,
           "theiler": c.theiler, "warnings": []})
}

/// Adds a warning to the output's `warnings` list.
fn warn(v: &mut Value, text: String) {
    if let Some(w) = v["warnings"].as_array_mut() {
        w.push(json!(text));
    }
}

/// Warns when an estimate of a non-negative quantity (MI, CMI, TE) came out negative.
fn warn_if_negative(v: &mut Value, estimate: f64, what: &str) {
    if estimate < 0.0 {
        warn(
            v,
            format!(
                "negative {what} estimate {estimate:.4} nats: {what} is ≥ 0, so this is estimator \
                 bias or noise; read it as no detectable dependence"
            ),
        );
    }
}

/// The copula transform of one variable of a sample file, seeded as the library seeds
/// variable `v` (seed + v·0x9E3779B9), so `--copula` equals the estimators' own option.
fn copula_of(s: Samples, c: &CommonArgs, v: u64, flag: &str) -> Result<Samples> {
    s.copula(c.seed.wrapping_add(v * 0x9E37_79B9))
        .map_err(|e| anyhow!("{}: {flag}: {e}", c.input))
}

fn gcmi_cfg(c: &CommonArgs) -> ic::GcmiConfig {
    ic::GcmiConfig {
        seed: c.seed,
        ..Default::default()
    }
}

fn add_test(v: &mut Value, t: &ic::PermutationTest, n: usize) {
    let o = v.as_object_mut().expect("object");
    o.insert("p_value".into(), json!(t.p_value));
    o.insert("permutations".into(), json!(n));
    o.insert("null_mean".into(), json!(t.null_mean));
    o.insert("null_sd".into(), json!(t.null_sd));
}

/// Runs `infometer mi`.
///
/// # Errors
/// Bad files, columns, settings or data, as one-line messages.
pub fn run_mi(a: &MiArgs) -> Result<Value> {
    let c = &a.common;
    check_estimator(&a.estimator, MI_ESTIMATORS)?;
    check_permutations(a.permutations)?;
    let t = load(c)?;
    let ctx = |e: ic::ContinuousError| anyhow!("{}: {e}", c.input);
    let x = samples(
        &t,
        &parse_cols(&a.x, &t).map_err(|e| anyhow!("--x: {e}"))?,
        &c.input,
    )?;
    let y = samples(
        &t,
        &parse_cols(&a.y, &t).map_err(|e| anyhow!("--y: {e}"))?,
        &c.input,
    )?;
    let z = match &a.z {
        Some(s) => Some(samples(
            &t,
            &parse_cols(s, &t).map_err(|e| anyhow!("--z: {e}"))?,
            &c.input,
        )?),
        None => None,
    };
    let n = x.n_samples();
    let est = a.estimator.as_str();
    if c.copula && est == "gaussian" {
        bail!(
            "--copula with --estimator gaussian is Gaussian-copula MI: use --estimator gcmi, \
             which also corrects the bias of the Gaussian entropies"
        );
    }
    // --copula transforms once here (then any permutation test permutes the scores); the
    // Gaussian-copula estimators transform by themselves, and mixed keeps X's labels
    let labels_in_x = matches!(est, "mixed" | "gcmi-mixed");
    let (x, y, z) = if c.copula && !matches!(est, "gcmi" | "gcmi-mixed") {
        let x = if labels_in_x {
            x
        } else {
            copula_of(x, c, 0, "--x")?
        };
        let y = copula_of(y, c, 1, "--y")?;
        let z = match z {
            Some(z) => Some(copula_of(z, c, 2, "--z")?),
            None => None,
        };
        (x, y, z)
    } else {
        (x, y, z)
    };
    if let Some(bound) = neural_bound(est) {
        if z.is_some() {
            bail!(
                "--estimator {est} has no conditional form; use ksg1, ksg2, gaussian or gcmi with --z"
            );
        }
        return run_neural(a, bound, &x, &y);
    }
    // the samples are already transformed when --copula is set
    let kcfg = |alg| KsgConfig {
        copula: false,
        ..ksg_cfg(c, alg)
    };
    let estimate = |xx: &Samples| -> ic::Result<f64> {
        match (est, &z) {
            ("ksg1", None) => ic::ksg_mi(xx, &y, &kcfg(KsgAlgorithm::One)),
            ("ksg2", None) => ic::ksg_mi(xx, &y, &kcfg(KsgAlgorithm::Two)),
            ("ksg1", Some(z)) => ic::ksg_cmi(xx, &y, z, &kcfg(KsgAlgorithm::One)),
            ("ksg2", Some(z)) => ic::ksg_cmi(xx, &y, z, &kcfg(KsgAlgorithm::Two)),
            ("gaussian", None) => ic::gaussian_mi(xx, &y),
            ("gaussian", Some(z)) => ic::gaussian_cmi(xx, &y, z),
            ("gcmi", None) => ic::gcmi_mi(xx, &y, &gcmi_cfg(c)),
            ("gcmi", Some(z)) => ic::gcmi_cmi(xx, &y, z, &gcmi_cfg(c)),
            ("gcmi-mixed", None) => {
                let labels: Vec<i64> = xx.as_slice().iter().map(|v| *v as i64).collect();
                ic::gcmi_mixed(&labels, &y, &gcmi_cfg(c))
            }
            ("kde", None) => ic::kde_mi(
                xx,
                &y,
                &KdeConfig {
                    leave_one_out: true,
                    ..Default::default()
                },
            ),
            ("box", None) => ic::box_kernel_mi(xx, &y, 0.25, !c.no_standardize),
            ("mixed", None) => {
                let labels: Vec<i64> = xx.as_slice().iter().map(|v| *v as i64).collect();
                ic::mixed_mi(&labels, &y, c.k)
            }
            _ => Err(ic::ContinuousError::InvalidParameter {
                name: "estimator",
                value: f64::NAN,
                reason: "unknown estimator, or one that has no conditional form (use ksg1, ksg2, gaussian or gcmi with --z)",
            }),
        }
    };
    if labels_in_x && (x.dim() != 1 || x.as_slice().iter().any(|v| v.fract() != 0.0)) {
        bail!(
            "{}: --estimator {est} needs one --x column of integer labels",
            c.input
        );
    }
    let value = estimate(&x).map_err(ctx)?;
    let mut out = base_json(value, est, c, n);
    out["conditional"] = json!(z.is_some());
    warn_if_negative(
        &mut out,
        value,
        if z.is_some() { "conditional MI" } else { "MI" },
    );
    if let Some(p) = a.permutations {
        let t =
            ic::permutation_test(n, p, c.seed, |perm| estimate(&x.take_rows(perm))).map_err(ctx)?;
        add_test(&mut out, &t, p);
    }
    Ok(out)
}

/// Runs `infometer te`.
///
/// # Errors
/// Bad files, columns, settings or data, as one-line messages.
pub fn run_te(a: &TeArgs) -> Result<Value> {
    let c = &a.common;
    check_estimator(&a.estimator, TE_ESTIMATORS)?;
    check_permutations(a.permutations)?;
    let t = load(c)?;
    let one = |spec: &str, flag: &str| -> Result<usize> {
        let v = parse_cols(spec, &t).map_err(|e| anyhow!("{flag}: {e}"))?;
        if v.len() != 1 {
            bail!("{flag}: expected one column, got {}", v.len());
        }
        Ok(v[0])
    };
    let source = t.column(one(&a.source, "--source")?);
    let target = t.column(one(&a.target, "--target")?);
    let emb = TeEmbedding {
        target_history: a.target_history,
        target_spacing: a.target_spacing,
        source_history: a.source_history,
        source_spacing: a.source_spacing,
        delay: a.lag,
    };
    let est = match a.estimator.as_str() {
        "ksg1" => TeEstimator::Ksg(ksg_cfg(c, KsgAlgorithm::One)),
        "ksg2" => TeEstimator::Ksg(ksg_cfg(c, KsgAlgorithm::Two)),
        "gaussian" if c.copula => bail!(
            "--copula with --estimator gaussian is Gaussian-copula transfer entropy: use \
             --estimator gcmi, which also corrects the bias of the Gaussian entropies"
        ),
        "gaussian" => TeEstimator::Gaussian,
        "gcmi" => TeEstimator::Gcmi(gcmi_cfg(c)),
        other => bail!("--estimator {other}: expected ksg1, ksg2, gaussian or gcmi"),
    };
    let ctx = |e: ic::ContinuousError| anyhow!("{}: {e}", c.input);
    let value = ic::transfer_entropy(&source, &target, &emb, &est).map_err(ctx)?;
    let n = ic::embed_te(&source, &target, &emb)
        .map_err(ctx)?
        .0
        .n_samples();
    let mut out = base_json(value, &a.estimator, c, n);
    warn_if_negative(&mut out, value, "transfer entropy");
    let o = out.as_object_mut().expect("object");
    o.insert("target_history".into(), json!(a.target_history));
    o.insert("source_history".into(), json!(a.source_history));
    o.insert("lag".into(), json!(a.lag));
    if let Some(p) = a.permutations {
        let t = ic::transfer_entropy_test(&source, &target, &emb, &est, p, c.seed).map_err(ctx)?;
        add_test(&mut out, &t, p);
    }
    Ok(out)
}

/// Runs `infometer entropy`.
///
/// # Errors
/// Bad files, columns, settings or data, as one-line messages.
pub fn run_entropy(a: &EntropyArgs) -> Result<Value> {
    let c = &a.common;
    check_estimator(&a.estimator, ENTROPY_ESTIMATORS)?;
    if c.copula {
        bail!(
            "--copula does not apply to entropy: differential entropy changes under monotone maps \
             (it applies to mi, te and multi-info)"
        );
    }
    let t = load(c)?;
    let x = samples(
        &t,
        &parse_cols(&a.cols, &t).map_err(|e| anyhow!("--cols: {e}"))?,
        &c.input,
    )?;
    let metric = match a.estimator.as_str() {
        "kl" => Metric::MaxNorm,
        "kl-euclidean" => Metric::Euclidean,
        other => bail!("--estimator {other}: expected kl or kl-euclidean"),
    };
    let h = ic::kl_entropy(&x, c.k, metric).map_err(|e| anyhow!("{}: {e}", c.input))?;
    let mut out = base_json(h, &a.estimator, c, x.n_samples());
    out["standardize"] = json!(false);
    out["noise"] = json!(0.0);
    Ok(out)
}

/// Runs `infometer multi-info`.
///
/// # Errors
/// Bad files, columns, settings or data, as one-line messages.
pub fn run_multi_info(a: &MultiInfoArgs) -> Result<Value> {
    let c = &a.common;
    check_estimator(&a.estimator, MULTI_INFO_ESTIMATORS)?;
    let t = load(c)?;
    let cols = parse_cols(&a.cols, &t).map_err(|e| anyhow!("--cols: {e}"))?;
    let vars: Vec<Samples> = cols
        .iter()
        .map(|&j| samples(&t, &[j], &c.input))
        .collect::<Result<_>>()?;
    let refs: Vec<&Samples> = vars.iter().collect();
    let alg = match a.estimator.as_str() {
        "ksg1" => KsgAlgorithm::One,
        "ksg2" => KsgAlgorithm::Two,
        other => bail!("--estimator {other}: expected ksg1 or ksg2"),
    };
    let v = ic::ksg_multi_info(&refs, &ksg_cfg(c, alg)).map_err(|e| anyhow!("{}: {e}", c.input))?;
    let mut out = base_json(v, &a.estimator, c, vars[0].n_samples());
    warn_if_negative(&mut out, v, "multi-information");
    Ok(out)
}

fn neural_bound(name: &str) -> Option<infometer_neural::Bound> {
    use infometer_neural::Bound;
    match name {
        "mine" => Some(Bound::Mine),
        "dv" => Some(Bound::DonskerVaradhan),
        "nwj" => Some(Bound::Nwj),
        "infonce" => Some(Bound::InfoNce),
        _ => None,
    }
}

fn run_neural(
    a: &MiArgs,
    bound: infometer_neural::Bound,
    x: &Samples,
    y: &Samples,
) -> Result<Value> {
    use infometer_neural::{BackendChoice, NeuralConfig, estimate_mi_with_progress};
    let c = &a.common;
    let na = &a.neural;
    let hidden: Vec<usize> = na
        .hidden
        .split(',')
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow!("--hidden {}: expected comma-separated widths", na.hidden))?;
    check_critic_memory(&hidden, x.dim() + y.dim(), na.batch, &na.hidden)?;
    let backend = match na.backend.as_str() {
        "flex" => BackendChoice::Flex,
        "ndarray" => BackendChoice::NdArray,
        "wgpu" => BackendChoice::Wgpu,
        other => bail!("--backend {other}: expected flex, ndarray or wgpu"),
    };
    if backend == BackendChoice::Wgpu {
        probe_in_child("wgpu")?;
    }
    let cfg = NeuralConfig {
        bound,
        hidden,
        batch: na.batch,
        learning_rate: na.lr,
        max_steps: na.steps,
        standardize: !c.no_standardize,
        asinh: !na.no_asinh,
        // the samples arrive transformed; the flag makes the library skip asinh (and its
        // own transform of normal scores returns them unchanged)
        copula: c.copula,
        seed: c.seed,
        backend,
        ..Default::default()
    };
    let bar = if na.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(cfg.max_steps as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} steps {msg}")
            .expect("static template"),
    );
    let r = estimate_mi_with_progress(x, y, &cfg, |step, est| {
        bar.set_position(step as u64);
        if let Some(e) = est {
            bar.set_message(format!("held-out {e:.4} nats"));
        }
    });
    bar.finish_and_clear();
    let e = r.map_err(|e| anyhow!("{}: {e}", c.input))?;
    let mut out = base_json(e.estimate, bound.name(), c, x.n_samples());
    warn_if_negative(&mut out, e.estimate, "MI");
    let o = out.as_object_mut().expect("object");
    o.insert("best_step".into(), json!(e.best_step));
    o.insert("steps_run".into(), json!(e.steps_run));
    o.insert("backend".into(), json!(na.backend));
    // the copula already gives Gaussian tails: the library skips asinh then
    o.insert("asinh".into(), json!(cfg.asinh && !c.copula));
    if let Some(ceiling) = e.ceiling {
        o.insert("ceiling".into(), json!(ceiling));
        o.insert("near_ceiling".into(), json!(e.near_ceiling));
    }
    Ok(out)
}

/// Bytes of memory available to this process, from /proc/meminfo (None where unknown).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuses, before any work, a critic whose parameters (with Adam's two moments and the
/// gradients) and activations (forward and backward, for the B² pairs a batch scores) would
/// not fit in the memory available; names `--hidden` and the size.
fn check_critic_memory(hidden: &[usize], inputs: usize, batch: usize, flag: &str) -> Result<()> {
    let widths: Vec<u128> = std::iter::once(inputs as u128)
        .chain(hidden.iter().map(|&h| h as u128))
        .chain(std::iter::once(1))
        .collect();
    let params: u128 = widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
    let pairs = (batch as u128).saturating_mul(batch as u128);
    let activations = pairs.saturating_mul(widths.iter().sum::<u128>());
    let bytes = 4u128
        .saturating_mul(params.saturating_mul(4))
        .saturating_add(4u128.saturating_mul(activations).saturating_mul(2));
    if let Some(avail) = available_memory().filter(|&a| bytes > u128::from(a)) {
        bail!(
            "--hidden {flag}: the critic needs about {:.1} GB ({params} parameters, activations for {pairs} pairs of --batch {batch}), more than the {:.1} GB available",
            bytes as f64 / 1e9,
            avail as f64 / 1e9
        );
    }
    Ok(())
}

/// Longest wait for the child's probe: a software Vulkan driver compiles its first kernels in
/// up to about a minute.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(180);

/// Runs `infometer probe-backend NAME` as a child process: a GPU driver that crashes (a
/// segmentation fault inside the Vulkan driver cannot be caught in-process) or hangs ends the
/// child, and the command reports a clear error instead.
///
/// # Errors
/// When the child cannot start, fails, is killed by a signal, or outlives [`PROBE_TIMEOUT`].
fn probe_in_child(name: &str) -> Result<()> {
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().context("locating the infometer binary")?;
    let mut child = Command::new(exe)
        .args(["probe-backend", name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the backend probe")?;
    // drained on its own thread, so a chatty child never blocks on a full pipe
    let mut pipe = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut err = String::new();
        if let Some(e) = pipe.as_mut() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        err
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().context("waiting for the backend probe")? {
            break st;
        }
        if started.elapsed() > PROBE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "--backend {name}: the backend probe did not finish in {} s",
                PROBE_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let err = reader.join().unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    let said = err
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_string());
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            bail!(
                "--backend {name}: the GPU driver crashed during a one-step probe (signal {sig}); \
                 use --backend flex"
            );
        }
    }
    bail!(
        "--backend {name}: {}",
        said.unwrap_or_else(|| format!("the backend probe failed ({status})"))
    )
}

/// The child side of the `--backend wgpu` probe: exit code 0 when one training step succeeds,
/// 2 with an `error:` line on stderr otherwise.
///
/// # Formula
/// None: one forward, backward and Adam step of a tiny critic ([`infometer_neural::probe_backend`]).
///
/// # Errors
/// None returned: failures become exit code 2 and one `error:` line.
///
/// # Examples
/// ```
/// assert_eq!(infometer_cli::mi_cmd::probe_backend_here("flex"), 0);
/// assert_eq!(infometer_cli::mi_cmd::probe_backend_here("tpu"), 2);
/// ```
///
/// # References
/// The `infometer` command runs it as `infometer probe-backend NAME` in a child process.
pub fn probe_backend_here(name: &str) -> i32 {
    use infometer_neural::BackendChoice;
    let choice = match name {
        "flex" => BackendChoice::Flex,
        "ndarray" => BackendChoice::NdArray,
        "wgpu" => BackendChoice::Wgpu,
        other => {
            eprintln!("error: unknown backend {other}");
            return 2;
        }
    };
    match infometer_neural::probe_backend(choice) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
