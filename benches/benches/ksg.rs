//! KSG over N, dimension and setting, one group per search path: 1+1 (the quantile grid built from the marginals' radix-sorted lines, the pass on the grid's own arrays keeping only the k-th distance, two-level counts), 4+4 and 5+5 (the counting tree's batched walks: k-th distances, then counts), KSG2 (the neighbour lists) and a Theiler window on the 1+1 pass, conditional MI with a 1-D Z (k-th distances by the tree, then the z-sorted slab) and a 2-D Z (then a listing in Z), and Kozachenko–Leonenko entropy (k-th distances on the grid in 2-D, the tree in 4-D).

#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use infometer_benches::gaussian_pairs;
use infometer_continuous::{KsgAlgorithm, KsgConfig, Metric, kl_entropy, ksg_cmi, ksg_mi};

fn k3() -> KsgConfig {
    KsgConfig {
        k: 3,
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ksg_mi");
    g.sample_size(10);
    for (dim, ns) in [
        (1usize, vec![1_000usize, 10_000, 100_000]),
        (4, vec![1_000, 10_000]),
        (5, vec![10_000]),
    ] {
        for n in ns {
            let (x, y) = gaussian_pairs(n, dim, 0.6, 5);
            g.bench_with_input(BenchmarkId::new(format!("{dim}+{dim}"), n), &n, |b, _| {
                b.iter(|| ksg_mi(&x, &y, &k3()).unwrap())
            });
        }
    }
    g.finish();

    // the 1+1 pass with the settings that take its other branches
    let mut g = c.benchmark_group("ksg_mi_1+1_settings");
    g.sample_size(10);
    let (x, y) = gaussian_pairs(100_000, 1, 0.6, 5);
    let settings = [
        (
            "ksg2",
            KsgConfig {
                algorithm: KsgAlgorithm::Two,
                ..k3()
            },
        ),
        ("theiler5", KsgConfig { theiler: 5, ..k3() }),
    ];
    for (name, cfg) in settings {
        g.bench_function(name, |b| b.iter(|| ksg_mi(&x, &y, &cfg).unwrap()));
    }
    g.finish();

    let mut g = c.benchmark_group("ksg_cmi");
    g.sample_size(10);
    let (x, y) = gaussian_pairs(10_000, 1, 0.6, 5);
    let (z, _) = gaussian_pairs(10_000, 1, 0.6, 6);
    g.bench_function("1+1|1 10000", |b| {
        b.iter(|| ksg_cmi(&x, &y, &z, &k3()).unwrap())
    });
    let (z2, _) = gaussian_pairs(10_000, 2, 0.6, 7);
    g.bench_function("1+1|2 10000", |b| {
        b.iter(|| ksg_cmi(&x, &y, &z2, &k3()).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("kl_entropy");
    g.sample_size(10);
    for dim in [2usize, 4] {
        let (x, _) = gaussian_pairs(10_000, dim, 0.6, 8);
        g.bench_function(format!("{dim}-D 10000"), |b| {
            b.iter(|| kl_entropy(&x, 3, Metric::MaxNorm).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
