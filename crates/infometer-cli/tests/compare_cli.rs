//! `infometer compare`: its point estimates equal two `logits` runs, swapping the models flips every sign, shards change nothing, and bad input gets one line and a non-zero exit.

mod common;
use common::*;

use std::path::Path;

use infometer_cli::npy::npy_bytes_f64;
use serde_json::Value;

/// Writes logits of models A and B ([docs, len, vocab]) and labels; B is A sharpened on the
/// label plus noise. Returns the paths.
fn corpus(dir: &Path, docs: usize, len: usize, vocab: usize, seed: u64) -> [String; 3] {
    let mut s = seed;
    let n = docs * len;
    let labels: Vec<f64> = (0..n)
        .map(|_| (lcg(&mut s) * vocab as f64).floor())
        .collect();
    let mut a = vec![0.0; n * vocab];
    let mut b = vec![0.0; n * vocab];
    for t in 0..n {
        for v in 0..vocab {
            let x = 2.0 * lcg(&mut s);
            a[t * vocab + v] = x;
            b[t * vocab + v] = x + 0.5 * lcg(&mut s);
        }
        let l = labels[t] as usize;
        a[t * vocab + l] += 1.0;
        b[t * vocab + l] += 1.0 + 0.3 * (t / len) as f64 / docs as f64;
    }
    let shape = [docs, len, vocab];
    let pa = dir.join("a.npy");
    let pb = dir.join("b.npy");
    let pl = dir.join("labels.npy");
    std::fs::write(&pa, npy_bytes_f64(&shape, &a)).unwrap();
    std::fs::write(&pb, npy_bytes_f64(&shape, &b)).unwrap();
    std::fs::write(&pl, labels_npy(&[docs, len], &labels)).unwrap();
    [pa, pb, pl].map(|p| p.to_string_lossy().into_owned())
}

/// An int64 npy, built from the f64 writer's header.
fn labels_npy(shape: &[usize], v: &[f64]) -> Vec<u8> {
    let mut b = npy_bytes_f64(shape, v);
    let hdr_end = b.iter().position(|&c| c == b'\n').unwrap() + 1;
    let header = String::from_utf8_lossy(&b[10..hdr_end]).replace("<f8", "<i8");
    b.truncate(0);
    b.extend_from_slice(b"\x93NUMPY\x01\x00");
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    for x in v {
        b.extend_from_slice(&(*x as i64).to_le_bytes());
    }
    b
}

/// `infometer compare --a A --b B --labels L --json` with `extra` flags; its JSON.
fn compare_json(a: &str, b: &str, l: &str, extra: &[&str]) -> Value {
    ok(&[
        &["compare", "--a", a, "--b", b, "--labels", l, "--json"][..],
        extra,
    ]
    .concat())
}

fn est(v: &Value, m: &str) -> f64 {
    v[m]["estimate"].as_f64().unwrap()
}

#[test]
fn estimates_equal_two_logits_runs() {
    let d = tmpdir("compare-twin");
    let [a, b, l] = corpus(&d, 12, 9, 7, 1);
    let c = compare_json(&a, &b, &l, &["--resamples", "999"]);
    let la = ok(&["logits", "--logits", &a, "--labels", &l, "--json"]);
    let lb = ok(&["logits", "--logits", &b, "--labels", &l, "--json"]);
    let (na, nb) = (
        la["mean_nll"].as_f64().unwrap(),
        lb["mean_nll"].as_f64().unwrap(),
    );
    assert!((est(&c, "delta_nll") - (na - nb)).abs() < 1e-12);
    assert!((est(&c, "perplexity_ratio") - (na - nb).exp()).abs() < 1e-12);
    assert!(
        (c["model_a"]["perplexity"].as_f64().unwrap() - la["perplexity"].as_f64().unwrap()).abs()
            < 1e-9
    );
    assert!(
        (c["model_b"]["perplexity"].as_f64().unwrap() - lb["perplexity"].as_f64().unwrap()).abs()
            < 1e-9
    );
    assert!(
        (c["model_b"]["brier"].as_f64().unwrap() - lb["brier"].as_f64().unwrap()).abs() < 1e-12
    );
    assert_eq!(c["n_units"], 12);
    assert_eq!(c["n_tokens"], 108);
    assert!(c["sign_flip"]["exact"].as_bool().unwrap());
    // the divergences agree with `logits --ref-logits`
    let r = ok(&[
        "logits",
        "--logits",
        &a,
        "--ref-logits",
        &b,
        "--labels",
        &l,
        "--json",
    ]);
    let kl = c["agreement"]["mean_kl_a_b"].as_f64().unwrap();
    assert!(
        (kl - r["mean_kl"].as_f64().unwrap()).abs() < 1e-12,
        "{kl} vs {}",
        r["mean_kl"]
    );
    let ci = &c["delta_nll"]["ci"];
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(lo <= est(&c, "delta_nll") && est(&c, "delta_nll") <= hi);
}

#[test]
fn swapping_flips_signs_and_identical_models_give_p_one() {
    let d = tmpdir("compare-swap");
    let [a, b, l] = corpus(&d, 10, 6, 5, 2);
    let ab = compare_json(&a, &b, &l, &["--resamples", "499"]);
    let ba = compare_json(&b, &a, &l, &["--resamples", "499"]);
    for m in ["delta_nll", "delta_brier", "delta_ece"] {
        assert_eq!(est(&ab, m), -est(&ba, m), "{m}");
    }
    assert_eq!(ab["sign_flip"]["p_value"], ba["sign_flip"]["p_value"]);
    let same = compare_json(&a, &a, &l, &[]);
    assert_eq!(est(&same, "delta_nll"), 0.0);
    assert_eq!(est(&same, "perplexity_ratio"), 1.0);
    assert_eq!(same["sign_flip"]["p_value"], 1.0);
    assert_eq!(same["agreement"]["top1_agreement"], 1.0);
}

#[test]
fn shards_change_nothing() {
    let d = tmpdir("compare-shards");
    let [a, b, l] = corpus(&d, 8, 5, 4, 3);
    let whole = compare_json(&a, &b, &l, &["--resamples", "299"]);
    // split each file into docs 0..3 and 3..8
    let read = |p: &str| {
        infometer_cli::npy::parse_npy(&std::fs::read(p).unwrap())
            .unwrap()
            .data
            .to_f64()
    };
    let (va, vb, vl) = (read(&a), read(&b), read(&l));
    let mut files = Vec::new();
    for (k, (r0, r1)) in [(0usize, 3usize), (3, 8)].into_iter().enumerate() {
        let e = |v: &[f64], w: usize| v[r0 * 5 * w..r1 * 5 * w].to_vec();
        let pa = d.join(format!("a{k}.npy"));
        let pb = d.join(format!("b{k}.npy"));
        let pl = d.join(format!("l{k}.npy"));
        std::fs::write(&pa, npy_bytes_f64(&[r1 - r0, 5, 4], &e(&va, 4))).unwrap();
        std::fs::write(&pb, npy_bytes_f64(&[r1 - r0, 5, 4], &e(&vb, 4))).unwrap();
        std::fs::write(&pl, labels_npy(&[r1 - r0, 5], &e(&vl, 1))).unwrap();
        files.push([pa, pb, pl].map(|p| p.to_string_lossy().into_owned()));
    }
    let split = ok(&[
        "compare",
        "--a",
        &files[0][0],
        &files[1][0],
        "--b",
        &files[0][1],
        &files[1][1],
        "--labels",
        &files[0][2],
        &files[1][2],
        "--json",
        "--resamples",
        "299",
    ]);
    for m in [
        "delta_nll",
        "perplexity_ratio",
        "delta_ece",
        "delta_brier",
        "delta_method",
        "sign_flip",
    ] {
        assert_eq!(whole[m], split[m], "{m}");
    }
}

#[test]
fn one_long_text_with_blocks() {
    let d = tmpdir("compare-blocks");
    let [a, b, l] = corpus(&d, 1, 400, 5, 4);
    refused(
        &["compare", "--a", &a, "--b", &b, "--labels", &l],
        "--resample blocks",
    );
    let v = compare_json(
        &a,
        &b,
        &l,
        &[
            "--resample",
            "blocks",
            "--block-len",
            "20",
            "--resamples",
            "299",
        ],
    );
    assert_eq!(v["n_clusters"], 20);
    assert_eq!(v["delta_ece"], Value::Null);
    let t = compare_json(&a, &b, &l, &["--resample", "tokens", "--resamples", "299"]);
    assert!(
        t["warnings"][0]
            .as_str()
            .unwrap()
            .contains("as if independent")
    );
}

#[test]
fn bad_input_gets_one_line() {
    let d = tmpdir("compare-bad");
    let [a, b, l] = corpus(&d, 4, 5, 6, 5);
    let [a7, _, _] = corpus(&tmpdir("compare-bad7"), 4, 5, 7, 5);
    refused(
        &["compare", "--a", &a, "--b", &a7, "--labels", &l],
        "does not match",
    );
    refused(
        &["compare", "--a", &a, "--b", &b, &b, "--labels", &l],
        "--b: 2 file(s) for 1",
    );
    // each bad flag value after the same three inputs
    let base = ["compare", "--a", &a, "--b", &b, "--labels", &l];
    for (flags, want) in [
        (&["--resamples", "0"][..], "--resamples 0"),
        (&["--resamples", "100001"], "--resamples 100001"),
        (&["--interval", "normal"], "--interval normal"),
        (&["--block-len", "3"], "--block-len"),
        (&["--bins", "1001"], "--bins 1001: must lie in 1..=1000"),
        (&["--bins", "0"], "--bins 0"),
        (&["--seed", "-1"], "--seed"),
        (&["--resamples", "-5"], "--resamples"),
        // a block longer than half the scored tokens names --block-len
        (
            &["--resample", "blocks", "--block-len", "11"],
            "--block-len 11: must be at most half the 20 scored tokens",
        ),
    ] {
        refused(&[&base[..], flags].concat(), want);
    }
    // every token ignored
    let all_ignored = d.join("ignored.npy");
    std::fs::write(&all_ignored, labels_npy(&[4, 5], &[-100.0; 20])).unwrap();
    refused(
        &[
            "compare",
            "--a",
            &a,
            "--b",
            &b,
            "--labels",
            all_ignored.to_str().unwrap(),
        ],
        "no valid token",
    );
    // one document
    let [a1, b1, l1] = corpus(&tmpdir("compare-bad1"), 1, 5, 6, 5);
    refused(
        &["compare", "--a", &a1, "--b", &b1, "--labels", &l1],
        "at least 2",
    );
}

#[test]
fn out_folder_holds_the_per_token_arrays() {
    let d = tmpdir("compare-out");
    let [a, b, l] = corpus(&d, 4, 6, 5, 8);
    let out = d.join("tokens");
    let o = out.to_str().unwrap();
    let v = compare_json(&a, &b, &l, &["--resamples", "99", "--out", o]);
    assert_eq!(v["files"].as_array().unwrap().len(), 5);
    let read = |p: std::path::PathBuf| {
        let t = infometer_cli::npy::parse_npy(&std::fs::read(p).unwrap()).unwrap();
        assert_eq!(t.shape, vec![4, 6]);
        t.data.to_f64()
    };
    // the twin: `logits` with the reference, and on B
    let ref_dir = d.join("ref");
    ok(&[
        "logits",
        "--logits",
        &a,
        "--ref-logits",
        &b,
        "--labels",
        &l,
        "--out",
        ref_dir.to_str().unwrap(),
    ]);
    let b_dir = d.join("b");
    ok(&[
        "logits",
        "--logits",
        &b,
        "--labels",
        &l,
        "--out",
        b_dir.to_str().unwrap(),
    ]);
    assert_eq!(read(out.join("kl_a_b.npy")), read(ref_dir.join("kl.npy")));
    assert_eq!(read(out.join("js.npy")), read(ref_dir.join("js.npy")));
    assert_eq!(read(out.join("nll_a.npy")), read(ref_dir.join("nll.npy")));
    assert_eq!(read(out.join("nll_b.npy")), read(b_dir.join("nll.npy")));
    // a second run into the same folder is refused before any work
    refused(
        &["compare", "--a", &a, "--b", &b, "--labels", &l, "--out", o],
        "already holds files",
    );
    // a failing run writes nothing
    let [a7, _, _] = corpus(&tmpdir("compare-out7"), 4, 6, 7, 8);
    let never = d.join("never");
    refused(
        &[
            "compare",
            "--a",
            &a,
            "--b",
            &a7,
            "--labels",
            &l,
            "--out",
            never.to_str().unwrap(),
        ],
        "does not match",
    );
    assert!(!never.exists());
}
