//! KSG over N, dimension and setting, one group per search path: 1+1 (the quantile grid built from the marginals' sorted lines, the pass on the grid's own arrays, galloping counts), 4+4 and 5+5 (the counting tree for the k-NN and the counts), KSG2 and a Theiler window on the 1+1 pass, and conditional MI (the tree, then a listing in Z).

#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use infometer_benches::gaussian_pairs;
use infometer_continuous::{KsgAlgorithm, KsgConfig, ksg_cmi, ksg_mi};

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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
