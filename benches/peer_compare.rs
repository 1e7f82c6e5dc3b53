//! Times infometer on the peer harness's inputs (8×512×32000 logits; /tmp/peers-data KSG files) and prints JSON, for side-by-side ratios with ../shared/peers.

use std::time::Instant;

use infometer_benches::{labels, logits_f32};
use infometer_continuous::{KsgConfig, Samples, ksg_mi};
use infometer_core::{Analyze, Rows};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> f64 {
    f();
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn main() {
    let skip_logits = std::env::args().any(|a| a == "--ksg-only");
    if skip_logits {
        println!("{{");
    } else {
        let (b, t, v) = (8, 512, 32_000);
        let x = logits_f32(b * t * v, 0, 2.0);
        let y = logits_f32(b * t * v, 1, 2.0);
        let l = labels(b * t, v, 2);
        let fused = time(5, || {
            Analyze::new(Rows::new(&x, v).unwrap())
                .labels(&l)
                .with_js(false)
                .run()
                .unwrap();
        });
        let kl = time(5, || {
            Analyze::new(Rows::new(&x, v).unwrap())
                .reference(Rows::new(&y, v).unwrap())
                .with_js(false)
                .run()
                .unwrap();
        });
        let kl_js = time(5, || {
            Analyze::new(Rows::new(&x, v).unwrap())
                .reference(Rows::new(&y, v).unwrap())
                .run()
                .unwrap();
        });
        let base = time(5, || {
            use rayon::prelude::*;
            let s: f64 = x
                .par_chunks(v)
                .map(|r| r.iter().map(|&a| (a - 10.0).exp() as f64).sum::<f64>())
                .sum();
            std::hint::black_box(s);
        });
        println!(
            "{{\"logits\": {{\"shape\": [{b},{t},{v}], \"fused_entropy_nll_s\": {fused:.4}, \"kl_both_s\": {kl:.4}, \"kl_both_js_s\": {kl_js:.4}, \"read_exp_baseline_s\": {base:.4}}},"
        );
    }
    // KSG on the harness's own files when present
    let mut rows = Vec::new();
    for (d, n) in [
        (2usize, 1000usize),
        (2, 10_000),
        (2, 100_000),
        (8, 1000),
        (8, 10_000),
        (8, 100_000),
    ] {
        let path = format!("/tmp/peers-data/gauss_d{d}_n{n}_rho0.6_s0.f64");
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let vals: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let h = d / 2;
        let s = Samples::new(n, d, vals).unwrap();
        let x = Samples::new(n, h, (0..n).flat_map(|i| s.row(i)[..h].to_vec()).collect()).unwrap();
        let y = Samples::new(n, h, (0..n).flat_map(|i| s.row(i)[h..].to_vec()).collect()).unwrap();
        let cfg = KsgConfig {
            k: 3,
            ..Default::default()
        };
        let mut est = 0.0;
        let secs = time(3, || est = ksg_mi(&x, &y, &cfg).unwrap());
        rows.push(format!(
            "{{\"d\": {d}, \"n\": {n}, \"seconds\": {secs:.4}, \"mi\": {est:.6}}}"
        ));
    }
    println!("\"ksg\": [{}],", rows.join(", "));
    // the absolute targets: N = 1e6 in 1+1 dims, and 10 000 samples in 5+5 dims
    let mut extra = Vec::new();
    for (n, dim) in [(1_000_000usize, 1usize), (10_000, 5)] {
        let (x, y) = infometer_benches::gaussian_pairs(n, dim, 0.6, 11);
        let cfg = KsgConfig::default();
        let mut est = 0.0;
        let secs = time(1, || est = ksg_mi(&x, &y, &cfg).unwrap());
        extra.push(format!("{{\"n\": {n}, \"dims\": \"{dim}+{dim}\", \"k\": 4, \"seconds\": {secs:.3}, \"mi\": {est:.5}, \"truth\": {:.5}}}", -0.5 * dim as f64 * (1.0f64 - 0.36).ln()));
    }
    println!("\"ksg_targets\": [{}]}}", extra.join(", "));
}
