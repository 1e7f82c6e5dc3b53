//! KSG mutual information over N and dimension (1+1: the quantile grid finds the joint k-NN and sorted lines count; 4+4: the counting tree for both), default backend.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use infometer_benches::gaussian_pairs;
use infometer_continuous::{KsgConfig, ksg_mi};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ksg_mi");
    g.sample_size(10);
    for (dim, ns) in [
        (1usize, vec![1_000usize, 10_000, 100_000]),
        (4, vec![1_000, 10_000]),
    ] {
        for n in ns {
            let (x, y) = gaussian_pairs(n, dim, 0.6, 5);
            g.bench_with_input(BenchmarkId::new(format!("{dim}+{dim}"), n), &n, |b, _| {
                b.iter(|| {
                    ksg_mi(
                        &x,
                        &y,
                        &KsgConfig {
                            k: 3,
                            ..Default::default()
                        },
                    )
                    .unwrap()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
