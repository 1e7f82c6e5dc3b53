//! Per-token agreement with PyTorch float64 references (shared/peers/cases, written by discrete_bench.py).

use infometer_cli::npy::{Data, parse_npy};
use infometer_core::{Analyze, Rows};

fn load(name: &str) -> (Vec<usize>, Data) {
    let path = format!("{}/tests/data/{name}.npy", env!("CARGO_MANIFEST_DIR"));
    let t = parse_npy(&std::fs::read(&path).unwrap()).unwrap();
    (t.shape, t.data)
}

fn f64s(name: &str) -> Vec<f64> {
    load(name).1.to_f64()
}

/// Runs the fused pass on the f32 logits (and on their f64 widening) and compares every
/// per-token value with torch's float64 result: `F.log_softmax`, entropy, `F.cross_entropy(reduction='none')`,
/// `F.kl_div(logQ, logP, log_target=True).sum(-1)`.
fn check(case: &str) {
    let (shape, Data::F32(p)) = load(&format!("{case}_logits_p")) else {
        panic!("f32 logits")
    };
    let Data::F32(q) = load(&format!("{case}_logits_q")).1 else {
        panic!("f32 logits")
    };
    let Data::I64(labels) = load(&format!("{case}_labels")).1 else {
        panic!("int labels")
    };
    let v = *shape.last().unwrap();
    let want_h = f64s(&format!("{case}_entropy_p"));
    let want_nll = f64s(&format!("{case}_nll_p"));
    let want_kl = f64s(&format!("{case}_kl_p_q"));
    let want_lsm = f64s(&format!("{case}_log_softmax_p"));
    let p64: Vec<f64> = p.iter().map(|x| *x as f64).collect();
    let q64: Vec<f64> = q.iter().map(|x| *x as f64).collect();
    let m32 = Analyze::new(Rows::new(&p, v).unwrap())
        .labels(&labels)
        .reference(Rows::new(&q, v).unwrap())
        .run()
        .unwrap();
    let m64 = Analyze::new(Rows::new(&p64, v).unwrap())
        .labels(&labels)
        .reference(Rows::new(&q64, v).unwrap())
        .run()
        .unwrap();
    for (m, tol, what) in [(&m32, 1e-5, "f32"), (&m64, 1e-9, "f64")] {
        for i in 0..want_h.len() {
            let d_h = (m.entropy[i] - want_h[i]).abs();
            let d_n = (m.nll.as_ref().unwrap()[i] - want_nll[i]).abs();
            let d_k = (m.kl_pq.as_ref().unwrap()[i] - want_kl[i]).abs();
            assert!(
                d_h <= tol && d_n <= tol && d_k <= tol,
                "{case} {what} row {i}: dH {d_h:e} dNLL {d_n:e} dKL {d_k:e}"
            );
            // log_softmax = x − lse for every entry of the row
            let row = &p64[i * v..(i + 1) * v];
            let worst = row
                .iter()
                .zip(&want_lsm[i * v..(i + 1) * v])
                .map(|(x, w)| (x - m.log_partition[i] - w).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= tol.max(1e-9 * m.log_partition[i].abs()),
                "{case} {what} row {i}: log_softmax {worst:e}"
            );
        }
    }
    // perplexity = exp(mean NLL) over all tokens, as the meta file states
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/tests/data/{case}_meta.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let s = m64.summary().unwrap();
    let want_ppl = meta["perplexity"].as_f64().unwrap();
    assert!((s.perplexity.unwrap() - want_ppl).abs() <= 1e-9 * want_ppl);
}

#[test]
fn small_case_matches_torch() {
    check("small");
}

#[test]
fn edge_case_matches_torch() {
    check("edge");
}
