//! `infometer uncertainty`: equal to a linear-space twin, the same stacked or in files and in any chunking, and one line for each bad input with nothing written.

mod common;
use common::*;

use std::path::Path;

use infometer_cli::npy::{npy_bytes_f64, parse_npy};
use serde_json::Value;

const M: usize = 4;
const SHAPE: [usize; 3] = [3, 7, 6];

/// M members of SHAPE (as files m0..m3 and one stacked file); returns (paths, logits).
fn members(dir: &Path) -> (Vec<String>, String, Vec<Vec<f64>>) {
    let mut s = 5u64;
    let n: usize = SHAPE.iter().product();
    let base: Vec<f64> = (0..n).map(|_| 3.0 * lcg(&mut s)).collect();
    let logits: Vec<Vec<f64>> = (0..M)
        .map(|_| base.iter().map(|b| b + 1.5 * lcg(&mut s)).collect())
        .collect();
    let paths = logits
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let p = dir.join(format!("m{k}.npy"));
            std::fs::write(&p, npy_bytes_f64(&SHAPE, x)).unwrap();
            p.to_string_lossy().into_owned()
        })
        .collect();
    let stacked = dir.join("stacked.npy");
    let all: Vec<f64> = logits.iter().flatten().copied().collect();
    std::fs::write(&stacked, npy_bytes_f64(&[M, 3, 7, 6], &all)).unwrap();
    (paths, stacked.to_string_lossy().into_owned(), logits)
}

/// The twin: mean over tokens of H[p̄], E_m H[p_m] and their difference, in linear space.
fn twin(logits: &[Vec<f64>]) -> (f64, f64, f64) {
    let v = SHAPE[2];
    let rows = logits[0].len() / v;
    let (mut tot, mut alea) = (0.0, 0.0);
    for r in 0..rows {
        let ps: Vec<Vec<f64>> = logits
            .iter()
            .map(|x| {
                let row = &x[r * v..(r + 1) * v];
                let z: f64 = row.iter().map(|a| a.exp()).sum();
                row.iter().map(|a| a.exp() / z).collect()
            })
            .collect();
        let pbar: Vec<f64> = (0..v)
            .map(|c| ps.iter().map(|p| p[c]).sum::<f64>() / M as f64)
            .collect();
        tot -= pbar.iter().map(|p| p * p.ln()).sum::<f64>();
        alea -= ps.iter().flatten().map(|p| p * p.ln()).sum::<f64>() / M as f64;
    }
    let n = rows as f64;
    (tot / n, alea / n, (tot - alea) / n)
}

#[test]
fn equals_twin_stacked_files_and_chunks() {
    let d = tmpdir("unc-twin");
    let (paths, stacked, logits) = members(&d);
    let mut a = vec!["uncertainty", "--json", "--members"];
    a.extend(paths.iter().map(String::as_str));
    let files = ok(&a);
    let (t, al, mi) = twin(&logits);
    let close = |x: &Value, y: f64| (x.as_f64().unwrap() - y).abs() < 1e-12;
    assert!(
        close(&files["total"], t)
            && close(&files["aleatoric"], al)
            && close(&files["mutual_information"], mi)
    );
    let st = ok(&["uncertainty", "--json", "--stacked", "--members", &stacked]);
    let chunked = ok(&[
        "uncertainty",
        "--json",
        "--stacked",
        "--members",
        &stacked,
        "--chunk-rows",
        "5",
    ]);
    for k in infometer_core::EnsembleMeasures::COLUMNS {
        assert_eq!(files[k], st[k], "{k}");
        assert!(
            (files[k].as_f64().unwrap() - chunked[k].as_f64().unwrap()).abs() < 1e-12,
            "{k}"
        );
    }
    // EPKL = MI + RMI
    let s = |k: &str| files[k].as_f64().unwrap();
    assert!((s("epkl") - s("mutual_information") - s("rmi")).abs() < 1e-12);
    // the jackknife is the same in one chunk or many
    let j1 = ok(&[
        "uncertainty",
        "--json",
        "--stacked",
        "--members",
        &stacked,
        "--jackknife",
    ]);
    let j2 = ok(&[
        "uncertainty",
        "--json",
        "--stacked",
        "--members",
        &stacked,
        "--jackknife",
        "--chunk-rows",
        "4",
    ]);
    let g = |v: &Value| v["jackknife"]["mutual_information_se"].as_f64().unwrap();
    assert!(g(&j1) > 0.0 && (g(&j1) - g(&j2)).abs() < 1e-12);
    assert!(
        j1["warnings"][0]
            .as_str()
            .unwrap()
            .contains("only 4 members")
    );
}

#[test]
fn out_folder_and_mask() {
    let d = tmpdir("unc-out");
    let (paths, _, _) = members(&d);
    let mask: Vec<f64> = (0..21).map(|i| f64::from(i % 3 != 0)).collect();
    let mut b = npy_bytes_f64(&[3, 7], &mask);
    // as u1: rewrite the header's type and the body
    let hdr_end = b.iter().position(|&c| c == b'\n').unwrap() + 1;
    let header = String::from_utf8_lossy(&b[10..hdr_end]).replace("<f8", "|u1");
    b.truncate(0);
    b.extend_from_slice(b"\x93NUMPY\x01\x00");
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    b.extend(mask.iter().map(|&m| m as u8));
    let mp = d.join("mask.npy");
    std::fs::write(&mp, b).unwrap();
    let out = d.join("per_token");
    let mut a = vec![
        "uncertainty",
        "--json",
        "--mask",
        mp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--members",
    ];
    a.extend(paths.iter().map(String::as_str));
    let v = ok(&a);
    assert_eq!(v["n_tokens"], 14);
    let mi = parse_npy(&std::fs::read(out.join("mutual_information.npy")).unwrap()).unwrap();
    assert_eq!(mi.shape, vec![3, 7]);
    let vals = mi.data.to_f64();
    for (i, x) in vals.iter().enumerate() {
        assert_eq!(x.is_nan(), i % 3 == 0);
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 8);
    // the folder is now not empty: refused before any work, files untouched
    refused(&a, "already holds files");
}

#[test]
fn bad_input_gets_one_line() {
    let d = tmpdir("unc-bad");
    let (paths, stacked, logits) = members(&d);
    refused(
        &["uncertainty", "--members", &paths[0]],
        "at least 2 members",
    );
    refused(
        &[
            "uncertainty",
            "--members",
            &paths[0],
            &paths[1],
            "--jackknife",
        ],
        "--jackknife",
    );
    refused(
        &["uncertainty", "--stacked", "--members", &stacked, &paths[0]],
        "--stacked",
    );
    let narrow = d.join("narrow.npy");
    std::fs::write(&narrow, npy_bytes_f64(&[3, 7, 5], &logits[0][..105])).unwrap();
    refused(
        &[
            "uncertainty",
            "--members",
            &paths[0],
            narrow.to_str().unwrap(),
        ],
        "differs from",
    );
    let mut bad = logits[2].clone();
    bad[50] = f64::NAN;
    let nan = d.join("nan.npy");
    std::fs::write(&nan, npy_bytes_f64(&SHAPE, &bad)).unwrap();
    refused(
        &["uncertainty", "--members", &paths[0], nan.to_str().unwrap()],
        "nan.npy: non-finite value NaN in logits at index 50",
    );
    refused(
        &[
            "uncertainty",
            "--members",
            &paths[0],
            nan.to_str().unwrap(),
            "--chunk-rows",
            "4",
        ],
        "at index 50",
    );
    refused(
        &[
            "uncertainty",
            "--members",
            &paths[0],
            &paths[1],
            "--renyi-alpha",
            "0",
        ],
        "--renyi-alpha 0",
    );
    let out = d.join("never");
    refused(
        &[
            "uncertainty",
            "--members",
            &paths[0],
            nan.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "NaN",
    );
    assert!(!out.exists());
}
