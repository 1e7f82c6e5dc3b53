//! Fast paths against the brute-force twin (to the last bit), thread-count independence, and Theiler windows.

mod common;
use common::*;
use infometer_continuous::*;

fn both(cfg: &KsgConfig) -> (KsgConfig, KsgConfig) {
    (
        KsgConfig {
            backend: Backend::Auto,
            ..cfg.clone()
        },
        KsgConfig {
            backend: Backend::BruteForce,
            ..cfg.clone()
        },
    )
}

#[test]
fn ksg_mi_equals_brute_force_bit_for_bit() {
    for (d, n, seed) in [(1usize, 400usize, 1u64), (2, 300, 2), (3, 200, 3)] {
        let (x, y) = gauss(n, d, 0.7, seed);
        for alg in [KsgAlgorithm::One, KsgAlgorithm::Two] {
            for theiler in [0usize, 3] {
                let cfg = KsgConfig {
                    algorithm: alg,
                    theiler,
                    ..Default::default()
                };
                let (a, b) = both(&cfg);
                assert_eq!(
                    ksg_mi(&x, &y, &a).unwrap().to_bits(),
                    ksg_mi(&x, &y, &b).unwrap().to_bits(),
                    "d={d} {alg:?} W={theiler}"
                );
                assert_eq!(
                    ksg_cmi(&x, &y, &y, &a).unwrap().to_bits(),
                    ksg_cmi(&x, &y, &y, &b).unwrap().to_bits(),
                    "cmi d={d} {alg:?}"
                );
            }
        }
    }
}

#[test]
fn ties_agree_with_brute_force_for_ksg1() {
    // integer-valued data with many ties, no noise: KSG1 depends on distances only
    let mut r = rng(5);
    let x: Vec<f64> = (0..500).map(|_| (uniform(&mut r) * 6.0).floor()).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|v| v + (uniform(&mut r) * 3.0).floor())
        .collect();
    // with and without a Theiler window (1+1 runs on the grid's own arrays)
    for theiler in [0usize, 2] {
        let cfg = KsgConfig {
            noise: 0.0,
            theiler,
            ..Default::default()
        };
        let (a, b) = both(&cfg);
        assert_eq!(
            ksg_mi(&col(&x), &col(&y), &a).unwrap().to_bits(),
            ksg_mi(&col(&x), &col(&y), &b).unwrap().to_bits(),
            "W={theiler}"
        );
        let (a2, b2) = both(&KsgConfig {
            algorithm: KsgAlgorithm::Two,
            ..cfg
        });
        assert_eq!(
            ksg_mi(&col(&x), &col(&y), &a2).unwrap().to_bits(),
            ksg_mi(&col(&x), &col(&y), &b2).unwrap().to_bits(),
            "KSG2 W={theiler}"
        );
    }
}

#[test]
fn one_and_two_threads_give_identical_results() {
    let (x, y) = gauss(3000, 2, 0.5, 9);
    let run = |t: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| {
                (
                    ksg_mi(&x, &y, &KsgConfig::default()).unwrap(),
                    ksg_mi(
                        &x,
                        &y,
                        &KsgConfig {
                            algorithm: KsgAlgorithm::Two,
                            ..Default::default()
                        },
                    )
                    .unwrap(),
                    kl_entropy(&x, 4, Metric::Euclidean).unwrap(),
                    permutation_test(3000, 8, 3, |p| {
                        ksg_mi(&x.take_rows(p), &y, &KsgConfig::default())
                    })
                    .unwrap()
                    .null,
                )
            })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn theiler_window_removes_autocorrelation_bias() {
    // two independent, strongly autocorrelated random walks: without a Theiler window KSG sees
    // spurious structure from temporal neighbours; with it the estimate shrinks toward 0
    let mut r = rng(77);
    let mut a = vec![0.0; 2000];
    let mut b = vec![0.0; 2000];
    for t in 1..2000 {
        a[t] = 0.99 * a[t - 1] + normal(&mut r);
        b[t] = 0.99 * b[t - 1] + normal(&mut r);
    }
    let cfg0 = KsgConfig::default();
    let cfgw = KsgConfig {
        theiler: 50,
        ..Default::default()
    };
    let m0 = ksg_mi(&col(&a), &col(&b), &cfg0).unwrap();
    let mw = ksg_mi(&col(&a), &col(&b), &cfgw).unwrap();
    assert!(mw < m0, "{mw} !< {m0}");
}

#[test]
fn seeds_are_reproducible_and_matter() {
    let (x, y) = gauss(500, 1, 0.5, 1);
    let c1 = KsgConfig {
        seed: 1,
        ..Default::default()
    };
    assert_eq!(ksg_mi(&x, &y, &c1).unwrap(), ksg_mi(&x, &y, &c1).unwrap());
    let p1 = permutation_test(500, 20, 4, |p| ksg_mi(&x.take_rows(p), &y, &c1)).unwrap();
    let p2 = permutation_test(500, 20, 4, |p| ksg_mi(&x.take_rows(p), &y, &c1)).unwrap();
    assert_eq!(p1, p2);
    assert!(p1.p_value <= 1.0 / 21.0 + 1e-12);
}
