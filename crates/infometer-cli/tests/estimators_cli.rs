//! The estimator commands (`mi`, `te`, `entropy`, `multi-info`) driven through the binary.

mod common;
use common::*;

/// One check for the refusal family: each command fails with one line holding its needle.
fn check_refusals(cases: &[(Vec<&str>, &str)]) {
    for (args, needle) in cases {
        let (ok, _, err) = run(args);
        assert!(!ok, "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
        assert!(!err.contains("panicked"));
    }
}

/// Writes a fixture; tests run in parallel and share names, so the file is written beside
/// its name and renamed into place (a reader never sees it half-written).
fn tmp(name: &str, text: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let p = std::env::temp_dir().join(format!("infometer-est-{}-{name}", std::process::id()));
    let part = p.with_extension(format!("part{}", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&part, text).unwrap();
    std::fs::rename(&part, &p).unwrap();
    p.display().to_string()
}

fn gaussian_file() -> String {
    // deterministic correlated pairs from an LCG + Box–Muller; header with names
    let mut s = 9u64;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut text = String::from("% correlated gaussians\nx,y,z\n");
    for _ in 0..2000 {
        let (a, b) = (u(), u());
        let g1 = (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos();
        let g2 = (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).sin();
        text.push_str(&format!("{g1},{},{}\n", 0.8 * g1 + 0.6 * g2, u()));
    }
    tmp("gauss.csv", &text)
}

#[test]
fn mi_names_ranges_and_estimators() {
    let f = gaussian_file();
    let truth = -0.5 * (1.0f64 - 0.64).ln();
    for est in ["ksg1", "ksg2", "gaussian", "kde"] {
        let (ok, v, err) = run(&[
            "mi",
            "--input",
            &f,
            "--x",
            "x",
            "--y",
            "1",
            "--estimator",
            est,
            "--json",
        ]);
        assert!(ok, "{est}: {err}");
        let e = v["estimate"].as_f64().unwrap();
        assert!((e - truth).abs() < 0.08, "{est}: {e} vs {truth}");
        assert_eq!(v["n_samples"], 2000);
        assert_eq!(v["estimator"], est);
    }
    let (ok, v, _) = run(&[
        "mi",
        "--input",
        &f,
        "--x",
        "0",
        "--y",
        "1",
        "--z",
        "z",
        "--json",
        "--permutations",
        "19",
        "--rows",
        "0:1000",
    ]);
    assert!(ok);
    assert_eq!(v["n_samples"], 1000);
    assert!(v["p_value"].as_f64().unwrap() <= 0.05 + 1e-12);
    let (ok, v, _) = run(&["multi-info", "--input", &f, "--cols", "0-2", "--json"]);
    assert!(ok && v["estimate"].as_f64().unwrap() > 0.3);
    let (ok, v, _) = run(&["entropy", "--input", &f, "--cols", "x", "--json"]);
    assert!(
        ok && (v["estimate"].as_f64().unwrap() - 1.4189).abs() < 0.06,
        "{v}"
    );
}

#[test]
fn te_direction_on_a_lagged_copy() {
    let mut s = 3u64;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<f64> = (0..1500).map(|_| u()).collect();
    let mut text = String::new();
    for t in 0..1500 {
        let y = if t > 0 { x[t - 1] + 0.1 * u() } else { 0.0 };
        text.push_str(&format!("{} {}\n", x[t], y));
    }
    let f = tmp("te.txt", &text);
    let (ok, fwd, e) = run(&[
        "te",
        "--input",
        &f,
        "--source",
        "0",
        "--target",
        "1",
        "--json",
        "--permutations",
        "19",
    ]);
    assert!(ok, "{e}");
    let (_, back, _) = run(&[
        "te", "--input", &f, "--source", "1", "--target", "0", "--json",
    ]);
    assert!(fwd["estimate"].as_f64().unwrap() > 1.0 && back["estimate"].as_f64().unwrap() < 0.1);
    assert!(fwd["p_value"].as_f64().unwrap() <= 0.05 + 1e-12);
}

#[test]
fn bad_inputs_exit_non_zero_with_one_line() {
    let f = gaussian_file();
    let ragged = tmp("ragged.txt", "1 2\n3\n");
    let text = tmp("text.txt", "1 2\n3 abc\n");
    let nan = tmp("nan.txt", "1 2\nnan 3\n4 5\n");
    let constant = tmp("const.txt", "1 2\n1 3\n1 4\n1 5\n1 6\n1 7\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["mi", "--input", "/no/such/file", "--x", "0", "--y", "1"],
            "cannot read",
        ),
        (
            vec!["mi", "--input", &ragged, "--x", "0", "--y", "1"],
            "ragged",
        ),
        (
            vec!["mi", "--input", &text, "--x", "0", "--y", "1"],
            "non-numeric",
        ),
        (vec!["mi", "--input", &nan, "--x", "0", "--y", "1"], "NaN"),
        (
            vec!["mi", "--input", &f, "--x", "0", "--y", "1", "--k", "5000"],
            "needs more samples",
        ),
        (
            vec!["mi", "--input", &f, "--x", "0", "--y", "9"],
            "out of range",
        ),
        (
            vec!["mi", "--input", &f, "--x", "nope", "--y", "1"],
            "unknown column",
        ),
        (
            vec!["mi", "--input", &f, "--x", "0", "--y", "1", "--rows", "5:5"],
            "empty",
        ),
        (
            vec!["mi", "--input", &constant, "--x", "0", "--y", "1"],
            "constant",
        ),
        (
            vec![
                "mi",
                "--input",
                &f,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "kde",
                "--z",
                "2",
            ],
            "conditional",
        ),
        (
            vec!["te", "--input", &f, "--source", "0-1", "--target", "1"],
            "one column",
        ),
    ];
    check_refusals(&cases);
}

#[test]
fn neural_estimator_through_the_cli() {
    let f = gaussian_file();
    let truth = -0.5 * (1.0f64 - 0.64).ln();
    let (ok, v, err) = run(&[
        "mi",
        "--input",
        &f,
        "--x",
        "0",
        "--y",
        "1",
        "--estimator",
        "infonce",
        "--batch",
        "64",
        "--steps",
        "300",
        "--quiet",
        "--json",
    ]);
    assert!(ok, "{err}");
    let e = v["estimate"].as_f64().unwrap();
    assert!(e > 0.2 && e < truth + 0.1, "{v}");
    assert!(v["best_step"].as_u64().unwrap() > 0);
    assert_eq!(v["estimator"], "infonce");
    // a backend that is not compiled in fails fast with one line
    let (ok, _, err) = run(&[
        "mi",
        "--input",
        &f,
        "--x",
        "0",
        "--y",
        "1",
        "--estimator",
        "mine",
        "--backend",
        "ndarray",
        "--quiet",
    ]);
    if !cfg!(feature = "ndarray") {
        assert!(
            !ok && err.contains("ndarray") && err.trim_end().lines().count() == 1,
            "{err}"
        );
    }
    // wgpu is probed in a child process first: without the feature, or with a GPU driver
    // that crashes or finds no device, the command ends with one clear line
    let (ok, v, err) = run(&[
        "mi",
        "--input",
        &f,
        "--x",
        "0",
        "--y",
        "1",
        "--estimator",
        "infonce",
        "--batch",
        "64",
        "--steps",
        "100",
        "--backend",
        "wgpu",
        "--quiet",
        "--json",
    ]);
    if ok {
        assert_eq!(v["backend"], "wgpu", "{v}");
    } else {
        assert!(
            err.contains("--backend wgpu") && err.trim_end().lines().count() == 1,
            "{err}"
        );
    }
    if !cfg!(feature = "wgpu") {
        assert!(!ok && err.contains("without the `wgpu` feature"), "{err}");
    }
    let (ok, _, err) = run(&[
        "mi",
        "--input",
        &f,
        "--x",
        "0",
        "--y",
        "1",
        "--estimator",
        "dv",
        "--batch",
        "5000",
        "--quiet",
    ]);
    assert!(!ok && err.contains("too few"), "{err}");
}

#[test]
fn copula_and_gcmi_through_the_cli() {
    let f = gaussian_file();
    let truth = -0.5 * (1.0f64 - 0.64).ln();
    let mi = |extra: &[&str]| {
        let mut a = vec!["mi", "--input", &f, "--x", "x", "--y", "y", "--json"];
        a.extend_from_slice(extra);
        let (ok, v, err) = run(&a);
        assert!(ok, "{extra:?}: {err}");
        v
    };
    let g = mi(&["--estimator", "gcmi"]);
    assert!(
        (g["estimate"].as_f64().unwrap() - truth).abs() < 0.05,
        "{g}"
    );
    assert_eq!(g["warnings"], serde_json::json!([]));
    // --copula is a no-op for GCMI, which always transforms
    assert_eq!(
        mi(&["--estimator", "gcmi", "--copula"])["estimate"],
        g["estimate"]
    );
    let k = mi(&["--copula"]);
    assert_eq!(k["copula"], true);
    assert!(
        (k["estimate"].as_f64().unwrap() - truth).abs() < 0.08,
        "{k}"
    );
    // the CLI's --copula equals the library's KsgConfig { copula: true } (same seeds per variable)
    let text = std::fs::read_to_string(&f).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(2)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let c = |j: usize| {
        infometer_continuous::Samples::from_column(&rows.iter().map(|r| r[j]).collect::<Vec<_>>())
            .unwrap()
    };
    let lib = infometer_continuous::ksg_mi(
        &c(0),
        &c(1),
        &infometer_continuous::KsgConfig {
            copula: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(k["estimate"].as_f64().unwrap(), lib);
    // conditional GCMI, and the permutation test on the transformed data
    let cz = mi(&["--estimator", "gcmi", "--z", "z", "--permutations", "19"]);
    assert_eq!(cz["conditional"], true);
    assert!(cz["p_value"].as_f64().unwrap() <= 0.05 + 1e-12);
    // independent columns: GCMI may dip below 0, and then says why
    let (ok, ind, err) = run(&[
        "mi",
        "--input",
        &f,
        "--x",
        "z",
        "--y",
        "x",
        "--estimator",
        "gcmi",
        "--json",
    ]);
    assert!(ok, "{err}");
    let e = ind["estimate"].as_f64().unwrap();
    assert!(e.abs() < 0.01, "{ind}");
    assert_eq!(
        ind["warnings"].as_array().unwrap().len(),
        usize::from(e < 0.0),
        "{ind}"
    );
    // transfer entropy with GCMI and with the copula
    for extra in [&["--estimator", "gcmi"][..], &["--copula"][..]] {
        let mut a = vec![
            "te", "--input", &f, "--source", "x", "--target", "y", "--json",
        ];
        a.extend_from_slice(extra);
        let (ok, v, err) = run(&a);
        assert!(ok, "{err}");
        assert!(v["estimate"].as_f64().unwrap().abs() < 0.05, "{v}");
    }
}

#[test]
fn copula_refusals_name_the_flag() {
    let f = gaussian_file();
    let labels = tmp("few-labels.txt", "0 0.1\n0 0.2\n1 0.3\n0 0.4\n0 0.5\n");
    let constant = tmp("const-copula.txt", "1 2\n1 3\n1 4\n1 5\n1 6\n1 7\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "mi",
                "--input",
                &f,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "gaussian",
                "--copula",
            ],
            "--estimator gcmi",
        ),
        (
            vec![
                "te",
                "--input",
                &f,
                "--source",
                "0",
                "--target",
                "1",
                "--estimator",
                "gaussian",
                "--copula",
            ],
            "--estimator gcmi",
        ),
        (
            vec!["entropy", "--input", &f, "--cols", "0", "--copula"],
            "--copula does not apply to entropy",
        ),
        (
            vec![
                "mi", "--input", &constant, "--x", "0", "--y", "1", "--copula",
            ],
            "constant",
        ),
        (
            vec![
                "mi",
                "--input",
                &constant,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "gcmi",
            ],
            "constant",
        ),
        (
            vec![
                "mi",
                "--input",
                &labels,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "gcmi-mixed",
            ],
            "label 1 occurs 1 times",
        ),
        (
            vec![
                "mi",
                "--input",
                &f,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "gcmi-mixed",
            ],
            "integer labels",
        ),
    ];
    check_refusals(&cases);
}

#[test]
fn the_table_reader_keeps_names_quotes_and_bom_and_refuses_what_it_cannot_read() {
    // names with spaces, quoted numbers, a BOM, `;` with '.' decimals, tabs, and JIDT's
    // whitespace text: the same two columns every time
    let mut s = 5u64;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let pairs: Vec<(f64, f64)> = (0..300)
        .map(|_| {
            let a = u();
            (a, a + 0.3 * u())
        })
        .collect();
    let body = |sep: &str, quote: bool| -> String {
        pairs
            .iter()
            .map(|(a, b)| {
                if quote {
                    format!("\"{a}\"{sep}\"{b}\"\n")
                } else {
                    format!("{a}{sep}{b}\n")
                }
            })
            .collect()
    };
    let files = [
        tmp(
            "names.csv",
            &format!("heart rate,breath volume\n{}", body(",", false)),
        ),
        tmp(
            "quoted.csv",
            &format!("\"heart rate\",\"breath volume\"\n{}", body(",", true)),
        ),
        tmp(
            "bom.csv",
            &format!("\u{feff}heart rate,breath volume\n{}", body(",", false)),
        ),
        tmp(
            "semi.csv",
            &format!("heart rate;breath volume\n{}", body(";", false)),
        ),
        tmp(
            "tabs.tsv",
            &format!("heart rate\tbreath volume\n{}", body("\t", false)),
        ),
        tmp("jidt.txt", &format!("% JIDT text\n{}", body("   ", false))),
    ];
    let mut estimates = Vec::new();
    for f in &files {
        let (x, y) = if f.ends_with("jidt.txt") {
            ("0", "1")
        } else {
            ("heart rate", "breath volume")
        };
        let (ok, v, err) = run(&["mi", "--input", f, "--x", x, "--y", y, "--json"]);
        assert!(ok, "{f}: {err}");
        assert_eq!(v["n_samples"], 300, "{f}");
        estimates.push(v["estimate"].as_f64().unwrap());
    }
    assert!(
        estimates.iter().all(|e| *e == estimates[0]),
        "{estimates:?}"
    );
    let decimal_commas = tmp("commas.csv", "a;b\n-0,205;-0,749\n0,5;1,25\n");
    let typo_first = tmp("typo.csv", "1.5,2o\n3,4\n5,6\n");
    let typo_later = tmp("typo2.csv", "a,b\n1.5,2\n3,x4\n");
    let ragged = tmp("ragged.csv", "a,b\n1,2\n3\n");
    let quote = tmp("quote.csv", "a,b\n1,\"2\n3,4\n5,6\n");
    check_refusals(&[
        (
            vec!["mi", "--input", &decimal_commas, "--x", "a", "--y", "b"],
            "line 2, column 0 (a): \"-0,205\" has a decimal comma",
        ),
        (
            vec!["mi", "--input", &typo_first, "--x", "0", "--y", "1"],
            "line 1: the first row mixes numbers and text (column 1: \"2o\")",
        ),
        (
            vec!["mi", "--input", &typo_later, "--x", "a", "--y", "b"],
            "line 3, column 1 (b): non-numeric cell \"x4\"",
        ),
        (
            vec!["mi", "--input", &ragged, "--x", "a", "--y", "b"],
            "line 3: 1 fields, expected 2",
        ),
        (
            vec!["mi", "--input", &quote, "--x", "a", "--y", "b"],
            "line 2, column 1: a quoted field runs past its line",
        ),
        (
            vec![
                "mi",
                "--input",
                &files[0],
                "--x",
                "0",
                "--y",
                "1",
                "--delimiter",
                "pipe",
            ],
            "--delimiter \"pipe\"",
        ),
    ]);
    // an explicit delimiter overrides the detection
    let (ok, v, err) = run(&[
        "mi",
        "--input",
        &files[3],
        "--x",
        "heart rate",
        "--y",
        "breath volume",
        "--delimiter",
        "semicolon",
        "--json",
    ]);
    assert!(ok, "{err}");
    assert_eq!(v["estimate"].as_f64().unwrap(), estimates[0]);
}

#[test]
fn settings_are_checked_before_any_file_is_read_or_work_starts() {
    let f = gaussian_file();
    check_refusals(&[
        // the file does not exist: the estimator is refused first, with the choices
        (
            vec![
                "mi",
                "--input",
                "/no/such/file",
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "foo",
            ],
            "--estimator foo: expected one of ksg1, ksg2, kde, box, gaussian, gcmi",
        ),
        (
            vec![
                "te",
                "--input",
                "/no/such/file",
                "--source",
                "0",
                "--target",
                "1",
                "--estimator",
                "kde",
            ],
            "--estimator kde: expected one of ksg1, ksg2, gaussian, gcmi",
        ),
        (
            vec![
                "entropy",
                "--input",
                "/no/such/file",
                "--cols",
                "0",
                "--estimator",
                "ksg1",
            ],
            "--estimator ksg1: expected one of kl, kl-euclidean",
        ),
        (
            vec![
                "multi-info",
                "--input",
                "/no/such/file",
                "--cols",
                "0-1",
                "--estimator",
                "gcmi",
            ],
            "--estimator gcmi: expected one of ksg1, ksg2",
        ),
        (
            vec![
                "mi",
                "--input",
                "/no/such/file",
                "--x",
                "0",
                "--y",
                "1",
                "--permutations",
                "1000000000",
            ],
            "--permutations 1000000000: at most 100000",
        ),
        (
            vec![
                "mi",
                "--input",
                &f,
                "--x",
                "0",
                "--y",
                "1",
                "--permutations",
                "0",
            ],
            "--permutations 0: must be at least 1",
        ),
        // a critic that cannot fit is refused at once, not after allocating
        (
            vec![
                "mi",
                "--input",
                &f,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "mine",
                "--hidden",
                "100000000",
            ],
            "--hidden 100000000: the critic needs about",
        ),
    ]);
}

/// Three-level data (values 0–2) with a continuous third column.
fn tied_file() -> String {
    let mut s = 3u64;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut text = String::from("a,b,c\n");
    for _ in 0..600 {
        let a = (u() * 3.0).floor();
        let b = (a + (u() * 2.0).floor()) % 3.0;
        text.push_str(&format!("{a},{b},{}\n", u()));
    }
    tmp("tied.csv", &text)
}

#[test]
fn guards_refuse_tied_data_and_flags_that_do_not_apply() {
    let f = tied_file();
    let g = gaussian_file();
    let constant = tmp("named-constant.csv", "a,b\n1,2\n2,2\n3,2\n4,2\n5,2\n6,2\n");
    fn mi<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["mi", "--input"];
        v.extend_from_slice(extra);
        v
    }
    check_refusals(&[
        // zero distances: the flag to change is named, for MI, CMI and TE
        (
            mi(&[&f, "--x", "a", "--y", "b", "--noise", "0"]),
            "--noise 0:",
        ),
        (
            mi(&[
                &f,
                "--x",
                "a",
                "--y",
                "b",
                "--noise",
                "0",
                "--estimator",
                "ksg2",
            ]),
            "--noise 0:",
        ),
        (
            mi(&[&f, "--x", "a", "--y", "b", "--z", "a", "--noise", "0"]),
            "--noise 0:",
        ),
        (
            vec![
                "te", "--input", &f, "--source", "a", "--target", "b", "--noise", "0",
            ],
            "--noise 0:",
        ),
        (
            vec!["multi-info", "--input", &f, "--cols", "a,b", "--noise", "0"],
            "--noise 0:",
        ),
        // flags that the estimator does not take are refused, not echoed as if applied
        (
            mi(&[
                &g,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "gaussian",
                "--k",
                "3",
            ]),
            "--k: does not apply to --estimator gaussian",
        ),
        (
            mi(&[
                &g,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "gaussian",
                "--theiler",
                "2",
            ]),
            "--theiler: does not apply",
        ),
        (
            mi(&[
                &g,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "mixed",
                "--noise",
                "0.1",
            ]),
            "--noise: does not apply to --estimator mixed",
        ),
        (
            mi(&[
                &g,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "kde",
                "--no-standardize",
            ]),
            "--no-standardize: does not apply",
        ),
        (
            mi(&[
                &g,
                "--x",
                "0",
                "--y",
                "1",
                "--estimator",
                "infonce",
                "--permutations",
                "9",
            ]),
            "--permutations: does not apply to --estimator infonce",
        ),
        (
            mi(&[&g, "--x", "0", "--y", "1", "--estimator", "nwj", "--k", "3"]),
            "--k: does not apply to --estimator nwj",
        ),
        (
            vec![
                "te",
                "--input",
                &g,
                "--source",
                "0",
                "--target",
                "1",
                "--estimator",
                "gcmi",
                "--k",
                "3",
            ],
            "--k: does not apply to --estimator gcmi",
        ),
        (
            vec!["entropy", "--input", &g, "--cols", "0", "--noise", "0"],
            "--noise: does not apply to entropy",
        ),
        // negative values reach the validator and are named
        (
            mi(&[&g, "--x", "0", "--y", "1", "--noise", "-1"]),
            "--noise -1: must be finite",
        ),
        (
            mi(&[&g, "--x", "0", "--y", "1", "--noise", "1e308"]),
            "--noise 1e308: so large that the noisy values overflow",
        ),
        // values the flag's type cannot hold: the parser's one line, naming the flag
        (
            mi(&[&g, "--x", "0", "--y", "1", "--theiler", "-3"]),
            "'--theiler <THEILER>'",
        ),
        (
            mi(&[&g, "--x", "0", "--y", "1", "--k", "99999999999999999999"]),
            "'--k <K>'",
        ),
        // the user's words: the history flags, the column name
        (
            vec![
                "te",
                "--input",
                &g,
                "--source",
                "0",
                "--target",
                "1",
                "--target-history",
                "3000",
            ],
            "--target-history",
        ),
        (
            mi(&[&f, "--x", "c", "--y", "a", "--estimator", "mixed"]),
            "--x column 'c', data row 1",
        ),
        (
            mi(&[&constant, "--x", "a", "--y", "b"]),
            "--y column 'b' is constant",
        ),
        (
            vec!["te", "--input", &constant, "--source", "a", "--target", "b"],
            "--target column 'b' is constant",
        ),
        (
            mi(&[&constant, "--x", "a", "--y", "a", "--estimator", "gaussian"]),
            "linearly dependent",
        ),
    ]);
}

#[test]
fn doubtful_results_warn_in_the_json_and_on_stderr() {
    let g = gaussian_file();
    let (ok, v, err) = run(&["mi", "--input", &g, "--x", "x", "--y", "x", "--json"]);
    assert!(ok, "{err}");
    let w = v["warnings"].as_array().unwrap();
    assert!(
        w.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("--x column 'x' and --y column 'x'")),
        "{v}"
    );
    // the settings an estimator does not take are reported as null, not as if applied
    let (ok, v, _) = run(&[
        "mi",
        "--input",
        &g,
        "--x",
        "x",
        "--y",
        "y",
        "--estimator",
        "gaussian",
        "--json",
    ]);
    assert!(ok);
    assert!(
        v["k"].is_null() && v["noise"].is_null() && v["theiler"].is_null(),
        "{v}"
    );
    assert_eq!(v["warnings"], serde_json::json!([]));
    // text mode: warnings go to stderr, one line each
    let (ok, _, err) = run(&["mi", "--input", &g, "--x", "x", "--y", "x"]);
    assert!(ok);
    assert!(err.starts_with("warning: --x column 'x'"), "{err}");
    // more dimensions than rows
    let (ok, v, err) = run(&[
        "mi", "--input", &g, "--x", "x,z", "--y", "y", "--rows", "0:3", "--k", "1", "--json",
    ]);
    assert!(ok, "{err}");
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("3 dimensions for 3 samples")),
        "{v}"
    );
}

#[test]
fn local_values_are_written_and_average_to_the_estimate() {
    let g = gaussian_file();
    let dir = std::env::temp_dir().join(format!("infometer-local-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (est, ext) in [
        ("ksg1", "txt"),
        ("ksg2", "npy"),
        ("kde", "txt"),
        ("box", "txt"),
    ] {
        let path = dir.join(format!("{est}.{ext}"));
        let p = path.display().to_string();
        let (ok, v, err) = run(&[
            "mi",
            "--input",
            &g,
            "--x",
            "x",
            "--y",
            "y",
            "--estimator",
            est,
            "--local-out",
            &p,
            "--json",
        ]);
        assert!(ok, "{est}: {err}");
        let bytes = std::fs::read(&path).unwrap();
        let locals: Vec<f64> = if ext == "npy" {
            // header length at bytes 8..10 (version 1), then little-endian f64
            let hl = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            bytes[10 + hl..]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect()
        } else {
            let text = String::from_utf8(bytes).unwrap();
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some("local_nats"));
            lines.map(|l| l.parse().unwrap()).collect()
        };
        assert_eq!(locals.len() as u64, v["n_samples"].as_u64().unwrap());
        let mean = locals.iter().sum::<f64>() / locals.len() as f64;
        assert!(
            (mean - v["estimate"].as_f64().unwrap()).abs() < 1e-10,
            "{est}"
        );
    }
    // an estimator without local values is refused before any work, and nothing is written
    let path = dir.join("gauss.txt");
    let p = path.display().to_string();
    check_refusals(&[(
        vec![
            "mi",
            "--input",
            &g,
            "--x",
            "x",
            "--y",
            "y",
            "--estimator",
            "gaussian",
            "--local-out",
            &p,
        ],
        "--local-out: --estimator gaussian has no local values",
    )]);
    assert!(!path.exists());
}
