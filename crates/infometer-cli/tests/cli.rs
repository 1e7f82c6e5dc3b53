//! End-to-end runs of the `infometer` binary: JSON fields, `--out` arrays, and one-line errors.

mod common;
use common::tmpdir;

use std::path::Path;
use std::process::Command;

use infometer_cli::npy::{npy_bytes_f64, parse_npy};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_infometer"))
}

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary; returns (success, stdout, stderr).
fn check(args: &[&str]) -> (bool, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn write_npy_i64(path: &Path, shape: &[usize], v: &[i64]) {
    let mut b = npy_bytes_f64(shape, &vec![0.0; v.len()]);
    let hdr_end = b.iter().position(|&c| c == b'\n').unwrap() + 1;
    let header = String::from_utf8_lossy(&b[10..hdr_end]).replace("<f8", "<i8");
    b.truncate(0);
    b.extend_from_slice(b"\x93NUMPY\x01\x00");
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    for x in v {
        b.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn logits_json_and_out_arrays() {
    let dir = tmpdir("ok");
    let out = dir.join("out");
    let (ok, stdout, stderr) = check(&[
        "logits",
        "--logits",
        &data("small_logits_p.npy"),
        "--labels",
        &data("small_labels.npy"),
        "--ref-logits",
        &data("small_logits_q.npy"),
        "--base",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["n_tokens"], 32);
    assert_eq!(v["base"], "2");
    let ppl = v["perplexity"].as_f64().unwrap();
    assert!((ppl - 5711.806925503081).abs() < 1e-3, "{ppl}");
    // mean_nll is in bits, perplexity is base-invariant: 2^bits = ppl
    assert!((2f64.powf(v["mean_nll"].as_f64().unwrap()) - ppl).abs() < 1e-6 * ppl);
    for k in [
        "mean_entropy",
        "mean_kl",
        "mean_js",
        "mean_confidence",
        "ece",
        "mean_entropy_reference",
    ] {
        assert!(v[k].as_f64().is_some(), "{k}");
    }
    for f in ["entropy.npy", "nll.npy", "kl.npy", "js.npy"] {
        let t = parse_npy(&std::fs::read(out.join(f)).unwrap()).unwrap();
        assert_eq!(t.shape, vec![2, 16], "{f}");
    }
    let want = parse_npy(&std::fs::read(data("small_entropy_p.npy")).unwrap())
        .unwrap()
        .data
        .to_f64();
    let got = parse_npy(&std::fs::read(out.join("entropy.npy")).unwrap())
        .unwrap()
        .data
        .to_f64();
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5));
}

#[test]
fn logits_errors_are_one_line_and_name_the_file() {
    let dir = tmpdir("err");
    let labels = dir.join("bad_labels.npy");
    write_npy_i64(&labels, &[2, 16], &[5000; 32]);
    let short = dir.join("short_labels.npy");
    write_npy_i64(&short, &[2, 15], &[0; 30]);
    let garbage = dir.join("garbage.npy");
    std::fs::write(&garbage, b"\x93NUMPY\x01\x00\xff\xffnot a header").unwrap();
    let out = dir.join("never");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--labels".into(),
                labels.display().to_string(),
                "--out".into(),
                out.display().to_string(),
            ],
            "out of range",
        ),
        (
            vec!["--labels".into(), short.display().to_string()],
            "does not match",
        ),
        (
            vec!["--ref-logits".into(), data("edge_logits_q.npy")],
            "does not match",
        ),
        (
            vec!["--ref-logits".into(), garbage.display().to_string()],
            "garbage.npy",
        ),
        (
            vec![
                "--mask".into(),
                dir.join("missing.npy").display().to_string(),
            ],
            "missing.npy",
        ),
        (vec!["--base".into(), "1".into()], "base"),
    ];
    for (extra, needle) in cases {
        let mut args = vec![
            "logits".to_string(),
            "--logits".into(),
            data("small_logits_p.npy"),
            "--json".into(),
        ];
        args.extend(extra);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, stdout, stderr) = check(&argv);
        assert!(!ok, "{args:?} should fail");
        assert!(stdout.is_empty());
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{needle} not in {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    assert!(
        !out.exists(),
        "--out must not be created when the run fails"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".never"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn out_is_all_or_nothing_and_refuses_an_earlier_set() {
    let dir = tmpdir("outset");
    let out = dir.join("set");
    let run = |extra: &[&str]| {
        let mut a = vec![
            "logits",
            "--logits",
            "",
            "--labels",
            "",
            "--json",
            "--out",
            out.to_str().unwrap(),
        ];
        let (p, l) = (data("small_logits_p.npy"), data("small_labels.npy"));
        a[2] = &p;
        a[4] = &l;
        a.extend_from_slice(extra);
        let (ok, stdout, stderr) = check(&a);
        (
            ok,
            serde_json::from_str::<serde_json::Value>(&stdout).ok(),
            stderr,
        )
    };
    let q = data("small_logits_q.npy");
    let (ok, v, err) = run(&["--ref-logits", &q]);
    assert!(ok, "{err}");
    // entropy, nll, kl, js and the reliability diagram
    assert_eq!(v.unwrap()["files"].as_array().unwrap().len(), 5);
    // a second run into the same folder is refused before any work, and changes nothing
    let (ok, _, err) = run(&[]);
    assert!(!ok);
    assert!(err.contains("--out") && err.contains("--force"), "{err}");
    assert!(out.join("kl.npy").exists());
    // --force replaces the whole set: the first run's kl.npy and js.npy do not survive
    let (ok, v, err) = run(&["--force"]);
    assert!(ok, "{err}");
    let files = v.unwrap()["files"].clone();
    assert_eq!(files.as_array().unwrap().len(), 3, "{files}");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, vec!["entropy.npy", "nll.npy", "reliability.svg"]);
    // nothing is left beside the folder
    let beside: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(beside, vec!["set"]);
}

#[test]
fn infinite_nll_is_written_as_kl_writes_it() {
    let dir = tmpdir("inf");
    let p = dir.join("p.npy");
    std::fs::write(
        &p,
        npy_bytes_f64(&[2, 3], &[0.0, f64::NEG_INFINITY, 1.0, 0.0, 1.0, 2.0]),
    )
    .unwrap();
    let l = dir.join("l.npy");
    write_npy_i64(&l, &[2], &[1, 2]);
    let (ok, stdout, stderr) = check(&[
        "logits",
        "--logits",
        p.to_str().unwrap(),
        "--labels",
        l.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for k in ["mean_nll", "perplexity", "bits_per_token"] {
        assert_eq!(v[k], "inf", "{k}: {v}");
    }
}

#[test]
fn logits_with_nan_fails_cleanly() {
    let dir = tmpdir("nan");
    let p = dir.join("nan.npy");
    std::fs::write(
        &p,
        npy_bytes_f64(&[2, 3], &[0.0, 1.0, 2.0, 0.0, f64::NAN, 1.0]),
    )
    .unwrap();
    let (ok, _, stderr) = check(&["logits", "--logits", p.to_str().unwrap(), "--json"]);
    assert!(!ok);
    assert!(
        stderr.contains("nan.npy") && stderr.contains("non-finite"),
        "{stderr}"
    );
}

#[test]
fn table_json() {
    let dir = tmpdir("table");
    let p = dir.join("t.csv");
    std::fs::write(&p, "# joint probabilities\ny0,y1\n0.3,0.1\n0.2,0.4\n").unwrap();
    let (ok, stdout, stderr) = check(&[
        "table",
        "--counts",
        p.to_str().unwrap(),
        "--base",
        "2",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!((v["mutual_information"].as_f64().unwrap() - 0.124511).abs() < 1e-6);
    let hx = v["entropy_x"].as_f64().unwrap();
    let hxy = v["joint_entropy"].as_f64().unwrap();
    assert!((v["conditional_entropy_y_given_x"].as_f64().unwrap() - (hxy - hx)).abs() < 1e-12);
    std::fs::write(&p, "1,2\n3\n").unwrap();
    let (ok, _, stderr) = check(&["table", "--counts", p.to_str().unwrap(), "--json"]);
    assert!(!ok && stderr.contains("t.csv"), "{stderr}");
}
