//! `cargo xtask`: project automation (ci, bench, slow tests, peer comparison); run with no argument for the list.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

const TASKS: &[(&str, &str)] = &[
    (
        "demo",
        "runs the eight healthcare scenarios in release mode and prints the report (--quick: skip the whole-series physiology)",
    ),
    (
        "ci",
        "fmt --check, clippy -D warnings, tests, docs with -D warnings (what CI should pass)",
    ),
    (
        "experiments",
        "E1–E4 research experiments to target/experiments/ (markdown, JSON, SVG); --quick for the small versions, --only e2 for one",
    ),
    (
        "docs",
        "builds the user guide in docs/ with mdbook (if installed)",
    ),
    (
        "test",
        "the README's test command: the Rust suite, then the Python package (a venv under target/py-venv with maturin, numpy, pytest, dask, mypy, scipy; maturin develop; pytest; mypy.stubtest)",
    ),
    (
        "python",
        "the Python half of `test` alone (venv, build, pytest, stubtest)",
    ),
    (
        "lints",
        "fmt --check, clippy -D warnings and rustdoc -D warnings (what .ci/run runs after the tests)",
    ),
    (
        "slow",
        "the long runs kept out of the default suite (#[ignore]: benchmark gates, heavy tails), then the neural suite on burn-ndarray",
    ),
    (
        "bench",
        "criterion benches in benches/ (pass extra args after --)",
    ),
    (
        "compare",
        "side-by-side timing inputs for ../shared/peers (prints JSON; see docs/benchmarks.md)",
    ),
    (
        "wgpu",
        "the neural suite on burn's wgpu backend (Vulkan: a GPU, or lavapipe from mesa-vulkan-drivers); builds ~400 crates",
    ),
    (
        "compare-mine",
        "MINE against the Beyond Normal package's JAX MINE, same samples and settings (needs /tmp/peers-venv-bmi from ../shared/peers/setup.sh; prints JSON)",
    ),
    (
        "compare-python",
        "the Python package against PyTorch (analyze vs cross_entropy + entropy) and scikit-learn (Ksg vs mutual_info_regression); PEERS_PYTHON names an interpreter with torch and scikit-learn (default /tmp/torch-venv/bin/python); prints JSON",
    ),
    (
        "coverage",
        "coverage simulation of `compare`'s intervals (AR(1) tokens in documents; about a minute)",
    ),
    (
        "dist",
        "the release `infometer` binary in target/dist/ (on Linux with glibc, linked statically: it starts in about 0.4 ms less; see docs/benchmarks.md)",
    ),
    (
        "compare-copula",
        "--copula and GCMI on the Beyond Normal package's tasks, N = 5000, seeds 1-3 (needs /tmp/peers-venv-bmi; prints JSON, table on stderr)",
    ),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    eprintln!("$ cargo {}", args.join(" "));
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(args).current_dir(root());
    for (k, v) in env {
        c.env(k, v);
    }
    let status = c.status().context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed with {status}", args.join(" "));
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match args.first().map(String::as_str) {
        Some("ci") => {
            lints()?;
            cargo(&["test", "--workspace"], &[("INSTA_UPDATE", "no")])
        }
        Some("lints") => lints(),
        Some("demo") => {
            let mut a = vec![
                "run",
                "--release",
                "--quiet",
                "-p",
                "infometer-health",
                "--bin",
                "infometer-demo",
                "--",
            ];
            a.extend(rest);
            cargo(&a, &[])
        }
        Some("experiments") => {
            let mut a = vec![
                "run",
                "--release",
                "--quiet",
                "-p",
                "infometer-experiments",
                "--bin",
                "infometer-experiments",
                "--",
            ];
            a.extend(rest);
            cargo(&a, &[])
        }
        Some("docs") => {
            eprintln!("$ mdbook build docs");
            match Command::new("mdbook")
                .arg("build")
                .arg(root().join("docs"))
                .status()
            {
                Ok(s) if s.success() => Ok(()),
                Ok(s) => bail!("mdbook failed with {s}"),
                Err(_) => bail!(
                    "mdbook is not installed (cargo install mdbook); the guide's sources are in docs/src"
                ),
            }
        }
        Some("test") => {
            cargo(&["test", "--workspace"], &[("INSTA_UPDATE", "no")])?;
            python_tests()
        }
        Some("python") => python_tests(),
        Some("compare-python") => compare_python(&rest),
        Some("coverage") => cargo(
            &[
                "test",
                "--release",
                "-p",
                "infometer-core",
                "--test",
                "coverage",
                "--",
                "--ignored",
                "--nocapture",
            ],
            &[],
        ),
        Some("slow") => {
            cargo(
                &["test", "--workspace", "--release", "--", "--ignored"],
                &[],
            )?;
            // the neural suite again on burn-ndarray (one code path, two CPU backends)
            cargo(
                &[
                    "test",
                    "--release",
                    "-p",
                    "infometer-neural",
                    "--features",
                    "ndarray",
                ],
                &[],
            )
        }
        Some("wgpu") => {
            // a software Vulkan driver needs a runtime directory; a GPU driver ignores it
            let xdg = std::env::var("XDG_RUNTIME_DIR").unwrap_or_else(|_| {
                let d = std::env::temp_dir().join("infometer-xdg");
                let _ = std::fs::create_dir_all(&d);
                d.display().to_string()
            });
            cargo(
                &[
                    "test",
                    "-p",
                    "infometer-neural",
                    "--features",
                    "wgpu",
                    "--test",
                    "gates",
                    "--",
                    "--nocapture",
                ],
                &[("XDG_RUNTIME_DIR", &xdg)],
            )
        }
        Some("bench") => {
            let mut a = vec!["bench", "-p", "infometer-benches"];
            a.extend(rest);
            cargo(&a, &[])
        }
        Some("compare") => {
            let mut a = vec![
                "run",
                "--release",
                "-p",
                "infometer-benches",
                "--bin",
                "peer-compare",
                "--",
            ];
            a.extend(rest);
            cargo(&a, &[])
        }
        Some("dist") => dist(),
        Some("compare-mine") => bmi_script("benches/peers/mine_vs_bmi.py", &rest),
        Some("compare-copula") => bmi_script("benches/peers/copula_bmi.py", &rest),
        Some(other) => {
            print_help();
            bail!("unknown task {other}")
        }
        None => {
            print_help();
            Ok(())
        }
    }
}

/// fmt --check, clippy with warnings denied, and rustdoc with warnings denied.
fn lints() -> Result<()> {
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    cargo(
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )
}

/// Runs `program args` in `dir`, echoing it; fails on a non-zero exit.
fn run(program: &str, args: &[&str], dir: &std::path::Path, env: &[(&str, &str)]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let mut c = Command::new(program);
    c.args(args).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    let status = c.status().with_context(|| format!("running {program}"))?;
    if !status.success() {
        bail!("{program} {} failed with {status}", args.join(" "));
    }
    Ok(())
}

/// The Python package's tests: a venv under `target/py-venv` (made once, from the registry),
/// the extension built into it with `maturin develop --release`, then pytest and
/// `mypy.stubtest` on the hand-written stubs. `INFOMETER_PYTHON` picks the interpreter that
/// makes the venv (default `python3`).
fn python_tests() -> Result<()> {
    let root = root();
    let venv = root.join("target/py-venv");
    let py_crate = root.join("crates/infometer-py");
    let bin = venv.join("bin");
    let python = bin.join("python");
    let python = python.to_str().context("venv path is not UTF-8")?;
    // the requirement set's stamp: a venv from before a new requirement gets it installed
    let stamp = venv.join(".requirements-2");
    if !stamp.exists() {
        let base = std::env::var("INFOMETER_PYTHON").unwrap_or_else(|_| "python3".into());
        let v = venv.to_str().context("venv path is not UTF-8")?;
        if run(&base, &["-m", "venv", v], &root, &[]).is_err() {
            // a machine without Python's venv module: Debian's packages bring it
            eprintln!("python3 -m venv failed; installing python3-venv with apt-get");
            let apt = [
                "install",
                "-y",
                "-q",
                "python3",
                "python3-venv",
                "python3-pip",
            ];
            if run("apt-get", &apt, &root, &[]).is_err() {
                run("apt-get", &["update", "-q"], &root, &[])?;
                run("apt-get", &apt, &root, &[])?;
            }
            run(&base, &["-m", "venv", v], &root, &[])?;
        }
        run(
            python,
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "maturin>=1.16,<2",
                "numpy",
                "pytest",
                "dask[distributed]",
                "mypy",
                "typing_extensions",
                // scipy's bootstrap and permutation_test are the independent check of compare_nll
                "scipy",
            ],
            &root,
            &[],
        )?;
        std::fs::write(
            &stamp,
            "maturin numpy pytest dask mypy typing_extensions scipy\n",
        )?;
    }
    // the CLI binary the parity tests call
    cargo(&["build", "-p", "infometer-cli"], &[])?;
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let venv_s = venv.to_str().context("venv path is not UTF-8")?;
    let env = [("VIRTUAL_ENV", venv_s), ("PATH", path.as_str())];
    run(
        bin.join("maturin").to_str().context("path")?,
        &["develop", "--release", "--quiet"],
        &py_crate,
        &env,
    )?;
    run(python, &["-m", "pytest", "-q", "tests"], &py_crate, &env)?;
    run(
        python,
        &["-m", "mypy.stubtest", "infometer._lib"],
        &py_crate.join("python"),
        &env,
    )
}

/// Builds the wheel, installs it into the peers' interpreter, and runs
/// `benches/peers/python_bench.py` there.
fn compare_python(rest: &[&str]) -> Result<()> {
    let root = root();
    let maturin = root.join("target/py-venv/bin/maturin");
    if !maturin.exists() {
        python_tests()?; // makes the venv with maturin
    }
    let wheels = root.join("target/wheels");
    let w = wheels.to_str().context("path is not UTF-8")?;
    run(
        maturin.to_str().context("path")?,
        &["build", "--release", "--quiet", "-o", w],
        &root.join("crates/infometer-py"),
        &[],
    )?;
    let wheel = std::fs::read_dir(&wheels)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .context("no wheel was built")?;
    let python =
        std::env::var("PEERS_PYTHON").unwrap_or_else(|_| "/tmp/torch-venv/bin/python".into());
    let wheel_s = wheel.to_str().context("path")?;
    run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--force-reinstall",
            "--no-deps",
            wheel_s,
        ],
        &root,
        &[],
    )?;
    let script = root.join("benches/peers/python_bench.py");
    let mut args = vec![script.to_str().context("path")?];
    args.extend(rest);
    run(&python, &args, &root, &[])
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("running {rustc} -vV"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("`rustc -vV` names no host")
}

/// Builds the release `infometer` binary (default features) into `target/dist/`. On Linux
/// with glibc it is linked statically (`crt-static`), so a run maps no shared library and
/// resolves no symbol before `main`; it is built for the host triple explicitly, so the
/// flag reaches the binary and not the build scripts or proc-macros (which cannot be
/// static). Elsewhere it is the plain release build. The binary is run once (`--version`)
/// before the task reports success.
fn dist() -> Result<()> {
    let host = host_triple()?;
    let exe = format!("infometer{}", std::env::consts::EXE_SUFFIX);
    let built = if host.ends_with("-linux-gnu") {
        let flags = std::env::var("RUSTFLAGS").unwrap_or_default() + STATIC_FLAGS;
        cargo(
            &[
                "build",
                "--release",
                "-p",
                "infometer-cli",
                "--target",
                &host,
            ],
            &[("RUSTFLAGS", flags.trim())],
        )?;
        root().join("target").join(&host).join("release").join(&exe)
    } else {
        cargo(&["build", "--release", "-p", "infometer-cli"], &[])?;
        root().join("target/release").join(&exe)
    };
    let dir = root().join("target/dist");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dest = dir.join(&exe);
    std::fs::copy(&built, &dest)
        .with_context(|| format!("copying {} to {}", built.display(), dest.display()))?;
    run(dest.to_str().context("path")?, &["--version"], &root(), &[])?;
    eprintln!("{}", dest.display());
    Ok(())
}

/// The flags of `dist`'s static build on Linux with glibc: the C runtime linked in
/// (`crt-static`) and no relocation at start (`relocation-model=static`: a non-PIE binary,
/// which gives up address randomisation of its own code for 0.1 ms a run).
const STATIC_FLAGS: &str = " -C target-feature=+crt-static -C relocation-model=static";

/// Runs a script of `benches/peers/` with the Beyond Normal venv's Python against the release
/// binary (`BMI_PYTHON` overrides the interpreter).
fn bmi_script(script: &str, rest: &[&str]) -> Result<()> {
    cargo(&["build", "--release", "-p", "infometer-cli"], &[])?;
    let python =
        std::env::var("BMI_PYTHON").unwrap_or_else(|_| "/tmp/peers-venv-bmi/bin/python".into());
    let bin = root().join("target/release/infometer");
    let script = root().join(script);
    eprintln!("$ {python} {} --bin {}", script.display(), bin.display());
    let status = Command::new(&python)
        .arg(&script)
        .arg("--bin")
        .arg(&bin)
        .args(rest)
        .current_dir(root())
        .status()
        .with_context(|| format!("running {python} (set BMI_PYTHON)"))?;
    if !status.success() {
        bail!("{} failed with {status}", script.display());
    }
    Ok(())
}

fn print_help() {
    println!("cargo xtask <task>\n");
    for (name, what) in TASKS {
        println!("  {name:<10} {what}");
    }
}
