//! The neural bounds at the command line: the critic's memory checked before any work, the GPU backend probed in a child process, and training with a progress bar.

use anyhow::{Context, Result, bail};
use infometer_continuous::{MiSettings, Samples};
use infometer_neural::{AnyMi, BackendChoice, NeuralConfig, NeuralEstimate};
use serde_json::Value;

use super::NeuralArgs;

/// The backend named by `--backend`.
pub(super) fn backend(name: &str) -> Result<BackendChoice> {
    Ok(match name {
        "flex" => BackendChoice::Flex,
        "ndarray" => BackendChoice::NdArray,
        "wgpu" => BackendChoice::Wgpu,
        other => bail!("--backend {other}: expected flex, ndarray or wgpu"),
    })
}

/// The training settings of `--hidden`, `--batch`, `--lr`, `--steps`, `--backend` and
/// `--no-asinh`, with the critic's memory checked for `inputs` input columns.
pub(super) fn config(na: &NeuralArgs, inputs: usize) -> Result<NeuralConfig> {
    let hidden: Vec<usize> = na
        .hidden
        .split(',')
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--hidden {}: expected comma-separated widths", na.hidden))?;
    check_critic_memory(&hidden, inputs, na.batch, &na.hidden)?;
    let backend = backend(&na.backend)?;
    Ok(NeuralConfig {
        hidden,
        batch: na.batch,
        learning_rate: na.lr,
        max_steps: na.steps,
        asinh: !na.no_asinh,
        backend,
        ..Default::default()
    })
}

/// Trains the bound of `est` with a progress bar; the JSON fields of the training record.
pub(super) fn train(
    est: &infometer_neural::NeuralMi,
    na: &NeuralArgs,
    x: &Samples,
    y: &Samples,
) -> Result<(infometer_continuous::MiEstimate, NeuralEstimate), infometer_neural::NeuralError> {
    let bar = if na.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(est.config().max_steps as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} steps {msg}")
            .expect("static template"),
    );
    let r = est.estimate_with_progress(x, y, |step, e| {
        bar.set_position(step as u64);
        if let Some(e) = e {
            bar.set_message(format!("held-out {e:.4} nats"));
        }
    });
    bar.finish_and_clear();
    r
}

/// The fields a neural estimate adds to the JSON.
pub(super) fn fields(out: &mut Value, r: &NeuralEstimate, cfg: &NeuralConfig, na: &NeuralArgs) {
    let o = out.as_object_mut().expect("object");
    o.insert("best_step".into(), r.best_step.into());
    o.insert("steps_run".into(), r.steps_run.into());
    o.insert("backend".into(), na.backend.clone().into());
    // the copula already gives Gaussian tails: the library skips asinh then
    o.insert("asinh".into(), (cfg.asinh && !cfg.copula).into());
    if let Some(ceiling) = r.ceiling {
        o.insert("ceiling".into(), ceiling.into());
        o.insert("near_ceiling".into(), r.near_ceiling.into());
    }
}

/// The [`AnyMi`] for `--estimator` with the user's settings (the critic checked first).
pub(super) fn any_mi(
    method: infometer_continuous::MiMethod,
    settings: &MiSettings,
    na: &NeuralArgs,
    inputs: usize,
) -> Result<AnyMi, super::explain::Refusal> {
    let cfg = if method.is_neural() {
        let cfg = config(na, inputs).map_err(super::explain::Refusal::Cli)?;
        if cfg.backend == BackendChoice::Wgpu {
            // a crashing driver ends the child, not this process
            probe_in_child("wgpu").map_err(super::explain::Refusal::Cli)?;
        }
        cfg
    } else {
        NeuralConfig::default()
    };
    AnyMi::new(method, settings, &cfg).map_err(super::explain::Refusal::Neural)
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
pub(super) fn probe_in_child(name: &str) -> Result<()> {
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
    let choice = match backend(name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
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
