//! Fused logits pass against a plain read-and-exp pass, over vocabulary sizes 32k–256k.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use infometer_benches::{labels, logits_f32};
use infometer_core::{Analyze, Rows};
use rayon::prelude::*;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("logits");
    g.sample_size(10);
    for vocab in [32_000usize, 128_000, 256_000] {
        let rows = 4 * 1024 * 32_000 / vocab; // ~ 4×1024 tokens at 32k; same bytes for each V
        let x = logits_f32(rows * vocab, 1, 2.0);
        let y = logits_f32(rows * vocab, 2, 2.0);
        let l = labels(rows, vocab, 3);
        g.throughput(Throughput::Bytes((rows * vocab * 4) as u64));
        g.bench_with_input(BenchmarkId::new("entropy_nll", vocab), &vocab, |b, &v| {
            b.iter(|| {
                Analyze::new(Rows::new(&x, v).unwrap())
                    .labels(&l)
                    .run()
                    .unwrap()
            })
        });
        g.bench_with_input(BenchmarkId::new("kl_js_pair", vocab), &vocab, |b, &v| {
            b.iter(|| {
                Analyze::new(Rows::new(&x, v).unwrap())
                    .reference(Rows::new(&y, v).unwrap())
                    .run()
                    .unwrap()
            })
        });
        g.bench_with_input(BenchmarkId::new("kl_pair_no_js", vocab), &vocab, |b, &v| {
            b.iter(|| {
                Analyze::new(Rows::new(&x, v).unwrap())
                    .reference(Rows::new(&y, v).unwrap())
                    .with_js(false)
                    .run()
                    .unwrap()
            })
        });
        g.bench_with_input(
            BenchmarkId::new("read_and_exp_baseline", vocab),
            &vocab,
            |b, &v| {
                b.iter(|| {
                    x.par_chunks(v)
                        .map(|r| r.iter().map(|&a| (a - 10.0).exp() as f64).sum::<f64>())
                        .sum::<f64>()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
