//! Streaming, shards, mergeable states and causal-LM alignment of `infometer logits`: each equals one whole pass.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use infometer_cli::npy::{Data, npy_bytes_f64, parse_npy};
use serde_json::Value;

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Writes an npy of `descr` ("<f4", "<i8") with the header layout of `npy_bytes_f64`.
fn write_npy(path: &Path, shape: &[usize], descr: &str, body: Vec<u8>) {
    let n: usize = shape.iter().product();
    let mut b = npy_bytes_f64(shape, &vec![0.0; n]);
    let hdr_end = b.iter().position(|&c| c == b'\n').unwrap() + 1;
    let header = String::from_utf8_lossy(&b[10..hdr_end]).replace("<f8", descr);
    b.truncate(0);
    b.extend_from_slice(b"\x93NUMPY\x01\x00");
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(&body);
    std::fs::write(path, b).unwrap();
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn load_f32(name: &str) -> (Vec<usize>, Vec<f32>) {
    let t = parse_npy(&std::fs::read(data(name)).unwrap()).unwrap();
    let Data::F32(v) = t.data else { panic!("f32") };
    (t.shape, v)
}

fn load_i64(name: &str) -> Vec<i64> {
    let t = parse_npy(&std::fs::read(data(name)).unwrap()).unwrap();
    let Data::I64(v) = t.data else { panic!("i64") };
    v
}

fn array(p: &Path) -> Vec<f64> {
    parse_npy(&std::fs::read(p).unwrap()).unwrap().data.to_f64()
}

/// One check for this family: the numeric fields of two reports agree to 1e-12 relative.
fn check_same_report(a: &Value, b: &Value, what: &str) {
    for k in [
        "n_tokens",
        "n_rows",
        "mean_entropy",
        "mean_confidence",
        "mean_nll",
        "perplexity",
        "accuracy",
        "brier",
        "ece",
        "mce",
        "mean_kl",
        "mean_kl_reverse",
        "mean_js",
        "mean_entropy_reference",
    ] {
        match (a[k].as_f64(), b[k].as_f64()) {
            (Some(x), Some(y)) => assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                "{what}: {k}: {x} vs {y}"
            ),
            _ => assert_eq!(a[k], b[k], "{what}: {k}"),
        }
    }
}

fn check_same_arrays(a: &Path, b: &Path, what: &str) {
    for f in ["entropy.npy", "nll.npy", "kl.npy", "js.npy"] {
        let (x, y) = (array(&a.join(f)), array(&b.join(f)));
        assert_eq!(x.len(), y.len(), "{what}: {f}");
        for (p, q) in x.iter().zip(&y) {
            assert!(
                p.to_bits() == q.to_bits() || (p - q).abs() <= 1e-12 * p.abs().max(q.abs()),
                "{what}: {f}: {p} vs {q}"
            );
        }
    }
}

#[test]
fn streamed_sharded_and_merged_equal_one_whole_pass() {
    let dir = tmpdir("whole");
    let (p, l, q) = (
        data("small_logits_p.npy"),
        data("small_labels.npy"),
        data("small_logits_q.npy"),
    );
    let whole_out = dir.join("whole");
    let whole = ok(&[
        "logits",
        "--logits",
        &p,
        "--labels",
        &l,
        "--ref-logits",
        &q,
        "--json",
        "--out",
        whole_out.to_str().unwrap(),
    ]);
    assert_eq!(whole["n_tokens"], 32);
    // streamed in chunks of 3 rows (chunks straddle the sequences)
    let chunk_out = dir.join("chunked");
    let chunked = ok(&[
        "logits",
        "--logits",
        &p,
        "--labels",
        &l,
        "--ref-logits",
        &q,
        "--json",
        "--chunk-rows",
        "3",
        "--out",
        chunk_out.to_str().unwrap(),
    ]);
    check_same_report(&whole, &chunked, "chunked");
    check_same_arrays(&whole_out, &chunk_out, "chunked");

    // two shards along the first axis ([2,16,1000] → two [1,16,1000])
    let (shape, pv) = load_f32("small_logits_p.npy");
    let (_, qv) = load_f32("small_logits_q.npy");
    let lv = load_i64("small_labels.npy");
    let half = pv.len() / 2;
    let sub = [1, shape[1], shape[2]];
    let files: Vec<[PathBuf; 3]> = (0..2)
        .map(|k| {
            let names = [
                dir.join(format!("p{k}.npy")),
                dir.join(format!("q{k}.npy")),
                dir.join(format!("l{k}.npy")),
            ];
            write_npy(&names[0], &sub, "<f4", f32s(&pv[k * half..(k + 1) * half]));
            write_npy(&names[1], &sub, "<f4", f32s(&qv[k * half..(k + 1) * half]));
            write_npy(&names[2], &sub[..2], "<i8", i64s(&lv[k * 16..(k + 1) * 16]));
            names
        })
        .collect();
    let s = |k: usize, j: usize| files[k][j].to_str().unwrap().to_string();
    let shard_out = dir.join("sharded");
    let sharded = ok(&[
        "logits",
        "--logits",
        &s(0, 0),
        &s(1, 0),
        "--ref-logits",
        &s(0, 1),
        &s(1, 1),
        "--labels",
        &s(0, 2),
        &s(1, 2),
        "--json",
        "--out",
        shard_out.to_str().unwrap(),
    ]);
    assert_eq!(sharded["shards"], 2);
    check_same_report(&whole, &sharded, "sharded");
    check_same_arrays(&whole_out, &shard_out, "sharded");

    // one state per shard, merged in the other order
    let states: Vec<String> = (0..2)
        .map(|k| {
            let st = dir.join(format!("state{k}.json"));
            ok(&[
                "logits",
                "--logits",
                &s(k, 0),
                "--ref-logits",
                &s(k, 1),
                "--labels",
                &s(k, 2),
                "--state",
                st.to_str().unwrap(),
                "--chunk-rows",
                "5",
                "--json",
            ]);
            st.to_str().unwrap().to_string()
        })
        .collect();
    let merged_state = dir.join("merged.json");
    let merged = ok(&[
        "merge",
        &states[1],
        &states[0],
        "--json",
        "--state",
        merged_state.to_str().unwrap(),
    ]);
    check_same_report(&whole, &merged, "merged");
    assert_eq!(merged["merged_states"], 2);
    // a merged state merges again to the same report
    let again = ok(&["merge", merged_state.to_str().unwrap(), "--json"]);
    check_same_report(&whole, &again, "re-merged");
}

#[test]
fn shift_labels_equals_slicing_by_hand() {
    let dir = tmpdir("shift");
    let (shape, pv) = load_f32("small_logits_p.npy");
    let lv = load_i64("small_labels.npy");
    let (b, t, v) = (shape[0], shape[1], shape[2]);
    // by hand: logits[:, :-1, :] against labels[:, 1:]
    let mut sliced = Vec::new();
    let mut later = Vec::new();
    for s in 0..b {
        sliced.extend_from_slice(&pv[s * t * v..(s * t + t - 1) * v]);
        later.extend_from_slice(&lv[s * t + 1..(s + 1) * t]);
    }
    let (hp, hl) = (dir.join("hp.npy"), dir.join("hl.npy"));
    write_npy(&hp, &[b, t - 1, v], "<f4", f32s(&sliced));
    write_npy(&hl, &[b, t - 1], "<i8", i64s(&later));
    let by_hand = ok(&[
        "logits",
        "--logits",
        hp.to_str().unwrap(),
        "--labels",
        hl.to_str().unwrap(),
        "--json",
    ]);
    let (p, l) = (data("small_logits_p.npy"), data("small_labels.npy"));
    let shifted = ok(&[
        "logits",
        "--logits",
        &p,
        "--labels",
        &l,
        "--shift-labels",
        "--json",
    ]);
    assert_eq!(shifted["n_tokens"], (b * (t - 1)) as u64);
    for k in ["mean_nll", "mean_entropy", "accuracy", "ece", "brier"] {
        let (x, y) = (by_hand[k].as_f64().unwrap(), shifted[k].as_f64().unwrap());
        assert!(
            (x - y).abs() <= 1e-12 * x.abs().max(1e-300),
            "{k}: {x} vs {y}"
        );
    }
    // and it is not the unshifted score (the check can fail)
    let plain = ok(&["logits", "--logits", &p, "--labels", &l, "--json"]);
    assert_ne!(plain["mean_nll"], shifted["mean_nll"]);
}

#[test]
fn stream_and_state_errors_are_one_line_and_write_nothing() {
    let dir = tmpdir("errs");
    let (p, l) = (data("small_logits_p.npy"), data("small_labels.npy"));
    // a shard with another vocabulary, and one with another sequence length
    let other_v = dir.join("other_vocab.npy");
    write_npy(&other_v, &[1, 16, 999], "<f4", f32s(&vec![0.0; 16 * 999]));
    let other_t = dir.join("other_len.npy");
    write_npy(&other_t, &[1, 15, 1000], "<f4", f32s(&vec![0.0; 15 * 1000]));
    // sequences of length 1 for --shift-labels
    let one = dir.join("one.npy");
    write_npy(&one, &[4, 1, 3], "<f4", f32s(&[0.0; 12]));
    let one_l = dir.join("one_l.npy");
    write_npy(&one_l, &[4, 1], "<i8", i64s(&[0; 4]));
    // states: another version, corrupt JSON, inconsistent counts
    let good_state = dir.join("good.json");
    ok(&[
        "logits",
        "--logits",
        &p,
        "--labels",
        &l,
        "--state",
        good_state.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&good_state).unwrap();
    let v2 = dir.join("v2.json");
    std::fs::write(&v2, text.replace("\"version\":1", "\"version\":2")).unwrap();
    let corrupt = dir.join("corrupt.json");
    std::fs::write(&corrupt, &text[..text.len() / 2]).unwrap();
    let bad_counts = dir.join("bad_counts.json");
    std::fs::write(
        &bad_counts,
        text.replace("\"n_tokens\":32", "\"n_tokens\":31"),
    )
    .unwrap();
    let no_labels_state = dir.join("nolabels.json");
    ok(&[
        "logits",
        "--logits",
        &p,
        "--state",
        no_labels_state.to_str().unwrap(),
    ]);
    let unwritable = dir.join("no/such/dir/state.json");
    let ps = |x: &PathBuf| x.to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["logits".into(), "--logits".into(), p.clone(), ps(&other_v)],
            "other_vocab.npy: vocabulary 999 differs",
        ),
        (
            vec!["logits".into(), "--logits".into(), p.clone(), ps(&other_t)],
            "other_len.npy: shape",
        ),
        (
            vec![
                "logits".into(),
                "--logits".into(),
                p.clone(),
                p.clone(),
                "--labels".into(),
                l.clone(),
            ],
            "--labels: 1 file(s) for 2 logits shard(s)",
        ),
        (
            vec![
                "logits".into(),
                "--logits".into(),
                ps(&one),
                "--labels".into(),
                ps(&one_l),
                "--shift-labels".into(),
            ],
            "sequences of length 1",
        ),
        (
            vec![
                "logits".into(),
                "--logits".into(),
                p.clone(),
                "--shift-labels".into(),
            ],
            "--shift-labels: needs --labels",
        ),
        (
            vec![
                "logits".into(),
                "--logits".into(),
                p.clone(),
                "--state".into(),
                ps(&unwritable),
            ],
            "--state",
        ),
        (vec!["merge".into(), ps(&v2)], "state version 2"),
        (vec!["merge".into(), ps(&corrupt)], "not a state file"),
        (vec!["merge".into(), ps(&bad_counts)], "inconsistent"),
        (
            vec!["merge".into(), ps(&good_state), ps(&no_labels_state)],
            "nolabels.json: cannot combine",
        ),
        (
            vec![
                "logits".into(),
                "--logits".into(),
                p.clone(),
                "--temperature".into(),
                "-1".into(),
            ],
            "--temperature -1",
        ),
    ];
    for (args, needle) in cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (good, _, err) = run(&argv);
        assert!(!good, "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    // nothing half-written beside the state or in the folder
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn misaligned_and_big_endian_inputs_are_copied_and_agree() {
    // numpy writes f4 data 64-byte aligned; a safetensors header of odd length leaves the
    // data misaligned, and '>f4' is big-endian: both are decoded into memory, same numbers
    let dir = tmpdir("copies");
    let (shape, pv) = load_f32("small_logits_p.npy");
    let p = data("small_logits_p.npy");
    let l = data("small_labels.npy");
    let base = ok(&["logits", "--logits", &p, "--labels", &l, "--json"]);
    assert!(base.get("copied_input").is_none());
    let be = dir.join("be.npy");
    write_npy(
        &be,
        &shape,
        ">f4",
        pv.iter().flat_map(|x| x.to_be_bytes()).collect(),
    );
    let big = ok(&[
        "logits",
        "--logits",
        be.to_str().unwrap(),
        "--labels",
        &l,
        "--json",
    ]);
    assert_eq!(big["copied_input"], true);
    check_same_report(&base, &big, "big-endian");
    let j = format!(
        r#"{{"logits":{{"dtype":"F32","shape":[{},{},{}],"data_offsets":[0,{}]}}}} "#,
        shape[0],
        shape[1],
        shape[2],
        pv.len() * 4
    );
    let j = if (8 + j.len()) % 4 == 0 {
        format!("{j} ")
    } else {
        j
    };
    let mut st = (j.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(j.as_bytes());
    st.extend_from_slice(&f32s(&pv));
    let sf = dir.join("m.safetensors");
    std::fs::write(&sf, st).unwrap();
    let spec = format!("{}:logits", sf.display());
    let mis = ok(&["logits", "--logits", &spec, "--labels", &l, "--json"]);
    assert_eq!(mis["copied_input"], true);
    check_same_report(&base, &mis, "misaligned safetensors");
}

#[test]
fn llm_measures_match_their_brute_force_twins() {
    let dir = tmpdir("measures");
    let (p, l) = (data("small_logits_p.npy"), data("small_labels.npy"));
    let out = dir.join("o");
    let toks = dir.join("tokens.jsonl");
    let (shape, pv) = load_f32("small_logits_p.npy");
    let lv = load_i64("small_labels.npy");
    let v = shape[2];
    // class weights: 1 + (c mod 3)
    let w: Vec<f64> = (0..v).map(|c| 1.0 + (c % 3) as f64).collect();
    let wf = dir.join("w.npy");
    std::fs::write(&wf, npy_bytes_f64(&[v], &w)).unwrap();
    let bytes = dir.join("bytes.npy");
    write_npy(&bytes, &[2], "<i8", i64s(&[40, 60]));
    let args = |chunk: &str, out_dir: &Path, tok: &Path| -> Vec<String> {
        [
            "logits",
            "--logits",
            &p,
            "--labels",
            &l,
            "--json",
            "--per-sequence",
            "--surprisal-bits",
            "13",
            "--uncertainty-threshold",
            "0.75",
            "--class-weights",
            wf.to_str().unwrap(),
            "--label-smoothing",
            "0.1",
            "--bytes",
            bytes.to_str().unwrap(),
            "--fit-temperature",
            "--chunk-rows",
            chunk,
            "--out",
            out_dir.to_str().unwrap(),
            "--tokens-out",
            tok.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let a = args("7", &out, &toks);
    let r = ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let nll = array(&out.join("nll.npy"));
    let ent = array(&out.join("entropy.npy"));
    // per-sequence perplexity and bits per byte from the per-token NLL
    for s in 0..2 {
        let m: f64 = nll[s * 16..(s + 1) * 16].iter().sum::<f64>() / 16.0;
        let got = r["per_sequence_perplexity"][s].as_f64().unwrap();
        assert!((got - m.exp()).abs() <= 1e-12 * got, "sequence {s}");
        let bpb = nll[s * 16..(s + 1) * 16].iter().sum::<f64>() / 2f64.ln() / [40.0, 60.0][s];
        let got = r["per_sequence_bits_per_byte"][s].as_f64().unwrap();
        assert!((got - bpb).abs() <= 1e-12 * bpb);
    }
    let total_bpb = nll.iter().sum::<f64>() / 2f64.ln() / 100.0;
    assert!((r["bits_per_byte"].as_f64().unwrap() - total_bpb).abs() <= 1e-12 * total_bpb);
    // uncertainty: H / ln V above the threshold; flags: NLL above 13 bits
    let unc: Vec<u64> = (0..32)
        .filter(|&i| ent[i] / (v as f64).ln() > 0.75)
        .map(|i| i as u64)
        .collect();
    let got: Vec<u64> = r["uncertainty"]["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(got, unc);
    let flagged: Vec<u64> = (0..32)
        .filter(|&i| nll[i] > 13.0 * 2f64.ln())
        .map(|i| i as u64)
        .collect();
    assert!(!flagged.is_empty() && flagged.len() < 32, "{flagged:?}");
    assert_eq!(r["surprisal_flags"]["n_flagged"], flagged.len());
    // weighted, smoothed cross-entropy: the library's PyTorch-semantics function on the whole array
    let want = infometer_core::cross_entropy(
        infometer_core::Rows::new(&pv, v).unwrap(),
        infometer_core::Target::Sparse(&lv),
        &infometer_core::CrossEntropyOptions {
            weights: Some(w.clone()),
            label_smoothing: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    let infometer_core::Loss::Scalar(want) = want else {
        panic!("scalar")
    };
    let got = r["cross_entropy"].as_f64().unwrap();
    assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
    // temperature: the library's fit on the whole array
    let fit =
        infometer_core::fit_temperature(infometer_core::Rows::new(&pv, v).unwrap(), &lv, None)
            .unwrap();
    let t = r["temperature_fit"]["temperature"].as_f64().unwrap();
    assert!(
        (t - fit.temperature).abs() <= 1e-9 * t,
        "{t} vs {}",
        fit.temperature
    );
    assert!(
        r["temperature_fit"]["nll_after"].as_f64() < r["temperature_fit"]["nll_before"].as_f64()
    );
    // the per-token JSONL: one line per token, same numbers as the arrays
    let text = std::fs::read_to_string(&toks).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|x| serde_json::from_str(x).unwrap())
        .collect();
    assert_eq!(lines.len(), 32);
    for (i, t) in lines.iter().enumerate() {
        assert_eq!(t["sequence"], i / 16);
        assert_eq!(t["position"], i % 16);
        assert_eq!(t["label"], lv[i]);
        assert_eq!(t["surprisal"].as_f64().unwrap(), nll[i]);
        assert_eq!(t["entropy"].as_f64().unwrap(), ent[i]);
    }
    assert!(out.join("reliability.svg").exists());
    assert!(out.join("per_sequence_perplexity.npy").exists());
    // the same run in one chunk gives the same report
    let (out2, toks2) = (dir.join("o2"), dir.join("t2.jsonl"));
    let a2 = args("1000", &out2, &toks2);
    let r2 = ok(&a2.iter().map(String::as_str).collect::<Vec<_>>());
    check_same_report(&r, &r2, "one chunk");
    assert_eq!(r["cross_entropy"], r2["cross_entropy"]);
    assert_eq!(std::fs::read_to_string(&toks2).unwrap(), text);
}

#[test]
fn measure_flags_are_checked_before_any_work() {
    let dir = tmpdir("flagerrs");
    let (p, l) = (data("small_logits_p.npy"), data("small_labels.npy"));
    let bad = dir.join("no/such/tokens.jsonl");
    let short_w = dir.join("w.npy");
    std::fs::write(&short_w, npy_bytes_f64(&[3], &[1.0; 3])).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--per-sequence"], "--per-sequence: needs --labels"),
        (
            vec!["--fit-temperature"],
            "--fit-temperature: needs --labels",
        ),
        (
            vec!["--labels", &l, "--tokens-out", bad.to_str().unwrap()],
            "--tokens-out",
        ),
        (
            vec!["--labels", &l, "--surprisal-prob", "1.5"],
            "--surprisal-prob 1.5",
        ),
        (
            vec!["--labels", &l, "--label-smoothing", "-0.1"],
            "--label-smoothing -0.1",
        ),
        (
            vec!["--labels", &l, "--uncertainty-threshold", "2"],
            "--uncertainty-threshold 2",
        ),
        (
            vec!["--labels", &l, "--class-weights", short_w.to_str().unwrap()],
            "3 weights for vocabulary 1000",
        ),
        (
            vec!["--labels", &l, "--bytes", "0"],
            "--bytes: the byte count is 0",
        ),
    ];
    for (extra, needle) in cases {
        let mut a = vec!["logits", "--logits", &p, "--json"];
        a.extend(extra);
        let (good, _, err) = run(&a);
        assert!(!good, "{a:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(
        std::fs::read_dir(&dir).unwrap().count() == 1,
        "only w.npy remains"
    );
}

#[test]
fn distances_between_two_models_match_the_library_on_the_whole_array() {
    let (p, q, l) = (
        data("small_logits_p.npy"),
        data("small_logits_q.npy"),
        data("small_labels.npy"),
    );
    let (shape, pv) = load_f32("small_logits_p.npy");
    let (_, qv) = load_f32("small_logits_q.npy");
    let v = shape[2];
    let d = infometer_core::pair_distances(
        infometer_core::Rows::new(&pv, v).unwrap(),
        infometer_core::Rows::new(&qv, v).unwrap(),
        1.0,
        Some(2.0),
        None,
    )
    .unwrap();
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    for chunk in ["5", "1000"] {
        let r = ok(&[
            "logits",
            "--logits",
            &p,
            "--ref-logits",
            &q,
            "--labels",
            &l,
            "--distances",
            "--renyi-alpha",
            "2",
            "--chunk-rows",
            chunk,
            "--json",
        ]);
        for (k, want) in [
            ("mean_total_variation", mean(&d.total_variation)),
            ("mean_hellinger", mean(&d.hellinger)),
            ("mean_renyi", mean(d.renyi.as_ref().unwrap())),
        ] {
            let got = r[k].as_f64().unwrap();
            assert!((got - want).abs() <= 1e-12 * want, "{k}: {got} vs {want}");
        }
    }
    let (good, _, err) = run(&["logits", "--logits", &p, "--distances", "--json"]);
    assert!(
        !good && err.contains("--distances: needs --ref-logits"),
        "{err}"
    );
    let (good, _, err) = run(&[
        "logits",
        "--logits",
        &p,
        "--ref-logits",
        &q,
        "--renyi-alpha",
        "-1",
        "--json",
    ]);
    assert!(!good && err.contains("--renyi-alpha -1"), "{err}");
}

#[test]
fn two_dimensional_shards_are_one_sequence_each() {
    // shards of shape [N, V] with different N: each is one sequence of its own length
    let dir = tmpdir("seq2d");
    let (_, pv) = load_f32("small_logits_p.npy");
    let lv = load_i64("small_labels.npy");
    let v = 1000;
    let (a, b) = (dir.join("a.npy"), dir.join("b.npy"));
    let (la, lb) = (dir.join("la.npy"), dir.join("lb.npy"));
    write_npy(&a, &[3, v], "<f4", f32s(&pv[..3 * v]));
    write_npy(&b, &[5, v], "<f4", f32s(&pv[3 * v..8 * v]));
    write_npy(&la, &[3], "<i8", i64s(&lv[..3]));
    write_npy(&lb, &[5], "<i8", i64s(&lv[3..8]));
    let toks = dir.join("t.jsonl");
    let out = dir.join("o");
    let (sa, sb, sla, slb) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        la.to_str().unwrap(),
        lb.to_str().unwrap(),
    );
    let r = ok(&[
        "logits",
        "--logits",
        sa,
        sb,
        "--labels",
        sla,
        slb,
        "--per-sequence",
        "--bytes",
        "10",
        "--json",
        "--chunk-rows",
        "2",
        "--tokens-out",
        toks.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let nll = array(&out.join("nll.npy"));
    let seqs = r["per_sequence_perplexity"].as_array().unwrap();
    assert_eq!(seqs.len(), 2);
    for (s, rows) in [(0usize, 0..3usize), (1, 3..8)] {
        let n = rows.len() as f64;
        let want = (nll[rows].iter().sum::<f64>() / n).exp();
        assert!((seqs[s].as_f64().unwrap() - want).abs() <= 1e-12 * want);
    }
    let lines: Vec<Value> = std::fs::read_to_string(&toks)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pos: Vec<(u64, u64)> = lines
        .iter()
        .map(|t| {
            (
                t["sequence"].as_u64().unwrap(),
                t["position"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pos,
        vec![
            (0, 0),
            (0, 1),
            (0, 2),
            (1, 0),
            (1, 1),
            (1, 2),
            (1, 3),
            (1, 4)
        ]
    );
}

#[test]
fn the_perplexity_profile_matches_windows_summed_by_hand() {
    let dir = tmpdir("profile");
    let (p, l) = (data("small_logits_p.npy"), data("small_labels.npy"));
    let out = dir.join("o");
    let r = ok(&[
        "logits",
        "--logits",
        &p,
        "--labels",
        &l,
        "--profile-window",
        "5",
        "--profile-stride",
        "3",
        "--chunk-rows",
        "7",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let nll = array(&out.join("nll.npy"));
    let prof = &r["perplexity_profile"];
    let windows = prof["windows"].as_array().unwrap();
    // two sequences of 16: windows start at 0, 3, 6, 9, 12 (the last, 12..16, reaches the end)
    assert_eq!(windows.len(), 10);
    let mut best = (0.0f64, 0u64, 0u64);
    for w in windows {
        let (s, a, b) = (
            w["sequence"].as_u64().unwrap() as usize,
            w["start"].as_u64().unwrap() as usize,
            w["end"].as_u64().unwrap() as usize,
        );
        let slice = &nll[s * 16 + a..s * 16 + b];
        let want = (slice.iter().sum::<f64>() / slice.len() as f64).exp();
        let got = w["perplexity"].as_f64().unwrap();
        assert!((got - want).abs() <= 1e-12 * want, "{w}");
        if got > best.0 {
            best = (got, s as u64, a as u64);
        }
    }
    assert_eq!(prof["peak"]["sequence"], best.1);
    assert_eq!(prof["peak"]["start"], best.2);
    let (good, _, err) = run(&["logits", "--logits", &p, "--profile-window", "4", "--json"]);
    assert!(
        !good && err.contains("--profile-window: needs --labels"),
        "{err}"
    );
    let (good, _, err) = run(&[
        "logits",
        "--logits",
        &p,
        "--labels",
        &l,
        "--profile-window",
        "0",
        "--json",
    ]);
    assert!(!good && err.contains("must be at least 1"), "{err}");
}
