//! The estimator layer: the trait agrees with the kernels bit for bit, local values average to the estimate, the guards refuse or warn, and settings that do not apply are refused.

mod common;
use common::*;
use infometer_continuous::*;

/// Checks one estimate against the kernel's value (bit for bit) and its locals (their mean).
fn check(e: &MiEstimate, kernel: f64, what: &str) {
    assert_eq!(
        e.nats.to_bits(),
        kernel.to_bits(),
        "{what}: trait vs kernel"
    );
    if let Some(l) = &e.local {
        assert_eq!(l.len(), e.n_samples, "{what}: one local value per sample");
        let mean = l.iter().sum::<f64>() / l.len() as f64;
        assert!(
            (mean - e.nats).abs() < 1e-12 * (1.0 + e.nats.abs()),
            "{what}: mean of locals {mean} vs {}",
            e.nats
        );
    }
}

#[test]
fn estimators_equal_their_kernels_and_locals_average_to_the_estimate() {
    let (x, y) = gauss(500, 2, 0.6, 3);
    let (z, _) = gauss(500, 1, 0.0, 4);
    for alg in [KsgAlgorithm::One, KsgAlgorithm::Two] {
        let cfg = KsgConfig {
            algorithm: alg,
            theiler: 2,
            ..Default::default()
        };
        let est = Ksg::new(cfg.clone()).unwrap();
        check(
            &est.estimate(&x, &y).unwrap(),
            ksg_mi(&x, &y, &cfg).unwrap(),
            "ksg mi",
        );
        check(
            &est.estimate_cmi(&x, &y, &z).unwrap(),
            ksg_cmi(&x, &y, &z, &cfg).unwrap(),
            "ksg cmi",
        );
    }
    let kde = KdeConfig {
        leave_one_out: true,
        ..Default::default()
    };
    check(
        &Kde::new(kde).unwrap().estimate(&x, &y).unwrap(),
        kde_mi(&x, &y, &kde).unwrap(),
        "kde",
    );
    check(
        &BoxKernel::params()
            .check()
            .unwrap()
            .estimate(&x, &y)
            .unwrap(),
        box_kernel_mi(&x, &y, 0.25, true).unwrap(),
        "box",
    );
    check(
        &Gaussian.estimate(&x, &y).unwrap(),
        gaussian_mi(&x, &y).unwrap(),
        "gaussian",
    );
    check(
        &Gaussian.estimate_cmi(&x, &y, &z).unwrap(),
        gaussian_cmi(&x, &y, &z).unwrap(),
        "gaussian cmi",
    );
    let g = GcmiConfig::default();
    check(
        &Gcmi(g.clone()).estimate(&x, &y).unwrap(),
        gcmi_mi(&x, &y, &g).unwrap(),
        "gcmi",
    );
    let labels: Vec<i64> = (0..500).map(|i| (i % 3) as i64).collect();
    let lx = col(&labels.iter().map(|&l| l as f64).collect::<Vec<_>>());
    let ly = col(&(0..500)
        .map(|i| labels[i] as f64 + (i as f64 * 0.77).sin())
        .collect::<Vec<_>>());
    let m = Mixed {
        k: 4,
        copula: false,
        seed: 0,
    };
    check(
        &m.estimate(&lx, &ly).unwrap(),
        mixed_mi(&labels, &ly, 4).unwrap(),
        "mixed",
    );
}

#[test]
fn the_dispatcher_builds_each_classical_method_with_the_kernel_settings() {
    let (x, y) = gauss(300, 1, 0.5, 8);
    let s = MiSettings {
        k: Some(3),
        noise: Some(1e-6),
        theiler: Some(1),
        seed: 5,
        ..Default::default()
    };
    let cfg = KsgConfig {
        k: 3,
        noise: 1e-6,
        theiler: 1,
        seed: 5,
        algorithm: KsgAlgorithm::Two,
        ..Default::default()
    };
    let e = ClassicalMi::new(MiMethod::Ksg2, &s).unwrap();
    check(
        &e.estimate(&x, &y).unwrap(),
        ksg_mi(&x, &y, &cfg).unwrap(),
        "dispatch ksg2",
    );
    assert_eq!(e.to_string(), "ksg2");
    // names round-trip, and an unknown one lists the choices
    for m in MiMethod::ALL {
        assert_eq!(m.to_string().parse::<MiMethod>().unwrap(), m);
    }
    match "ksg3".parse::<MiMethod>() {
        Err(ContinuousError::InvalidChoice { got, expected, .. }) => {
            assert_eq!(got, "ksg3");
            assert_eq!(expected.len(), 12);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn settings_that_do_not_apply_are_refused() {
    let given = [
        (
            Setting::K,
            MiSettings {
                k: Some(4),
                ..Default::default()
            },
        ),
        (
            Setting::Noise,
            MiSettings {
                noise: Some(0.0),
                ..Default::default()
            },
        ),
        (
            Setting::Standardize,
            MiSettings {
                standardize: Some(false),
                ..Default::default()
            },
        ),
        (
            Setting::Theiler,
            MiSettings {
                theiler: Some(0),
                ..Default::default()
            },
        ),
        (
            Setting::Copula,
            MiSettings {
                copula: true,
                ..Default::default()
            },
        ),
    ];
    let mut refused = 0;
    for m in MiMethod::ALL.into_iter().filter(|m| !m.is_neural()) {
        for (setting, s) in &given {
            let r = ClassicalMi::new(m, s);
            if m.accepts(*setting) {
                assert!(r.is_ok(), "{m} should take {setting}: {r:?}");
            } else {
                refused += 1;
                assert_eq!(
                    r.unwrap_err(),
                    ContinuousError::NotApplicable {
                        setting: *setting,
                        estimator: m.name()
                    }
                );
            }
        }
    }
    // gaussian: k, noise, standardize, theiler, copula; kde: 4; gcmi: 4; box: 3; mixed: 3; ...
    assert!(refused >= 20, "{refused}");
    assert!(MiMethod::Gaussian.accepts(Setting::Permutations));
    assert!(!MiMethod::Mine.accepts(Setting::Permutations));
    assert!(matches!(
        ClassicalMi::new(MiMethod::Kde, &MiSettings::default())
            .unwrap()
            .estimate_cmi(
                &col(&[1.0, 2.0, 3.0]),
                &col(&[1.0, 2.0, 3.0]),
                &col(&[1.0, 2.0, 3.0])
            ),
        Err(ContinuousError::NoConditionalForm { estimator: "kde" })
    ));
    assert!(matches!(
        TeEstimator::new(
            MiMethod::Gaussian,
            &MiSettings {
                k: Some(4),
                ..Default::default()
            }
        ),
        Err(ContinuousError::NotApplicable {
            setting: Setting::K,
            ..
        })
    ));
}

/// Three levels per variable, no noise: every point has dozens of identical points.
fn tied(n: usize) -> (Samples, Samples) {
    let mut r = rng(11);
    let x: Vec<f64> = (0..n).map(|_| (uniform(&mut r) * 3.0).floor()).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|v| (v + (uniform(&mut r) * 2.0).floor()) % 3.0)
        .collect();
    (col(&x), col(&y))
}

#[test]
fn zero_distances_are_refused_for_every_knn_estimator_and_noise_fixes_them() {
    let (x, y) = tied(600);
    for alg in [KsgAlgorithm::One, KsgAlgorithm::Two] {
        let off = Ksg::params().algorithm(alg).noise(0.0).check().unwrap();
        assert!(matches!(
            off.estimate(&x, &y),
            Err(ContinuousError::ZeroDistance { .. })
        ));
        assert!(matches!(
            off.estimate_cmi(&x, &y, &x),
            Err(ContinuousError::ZeroDistance { .. })
        ));
        let te = TeEstimator::Ksg(off.config().clone());
        assert!(matches!(
            transfer_entropy(&x.column(0), &y.column(0), &TeEmbedding::default(), &te),
            Err(ContinuousError::ZeroDistance { .. })
        ));
        assert!(matches!(
            transfer_entropy_test(
                &x.column(0),
                &y.column(0),
                &TeEmbedding::default(),
                &te,
                9,
                1
            ),
            Err(ContinuousError::ZeroDistance { .. })
        ));
        // with the default noise the ties are broken and the estimate is below ln 3
        let on = Ksg::params().algorithm(alg).check().unwrap();
        let e = on.estimate(&x, &y).unwrap();
        assert!(e.nats < 3f64.ln(), "{alg:?}: {}", e.nats);
    }
    // the guard is exact: a point whose only twins lie inside the Theiler window passes
    let pairs: Vec<f64> = (0..200).map(|i| (i / 2) as f64).collect();
    let other: Vec<f64> = (0..200).map(|i| ((i * 7919) % 200) as f64).collect();
    let w1 = Ksg::params().k(1).noise(0.0).theiler(1).check().unwrap();
    assert!(w1.estimate(&col(&pairs), &col(&other)).is_ok());
    let w0 = Ksg::params().k(1).noise(0.0).check().unwrap();
    assert!(w0.estimate(&col(&pairs), &col(&pairs)).is_err());
}

#[test]
fn doubtful_results_come_with_warnings() {
    let (x, y) = gauss(200, 1, 0.0, 21);
    // overlapping variables
    let e = Ksg::params().check().unwrap().estimate(&x, &x).unwrap();
    assert!(e.warnings.iter().any(|w| matches!(
        w,
        Warning::Overlap {
            first: Variable::X,
            second: Variable::Y,
            ..
        }
    )));
    // independent data: some seeds give a negative KSG estimate, which must be flagged
    let negative = (0..20u64)
        .map(|s| {
            let (a, b) = gauss(200, 1, 0.0, 100 + s);
            Ksg::params().check().unwrap().estimate(&a, &b).unwrap()
        })
        .find(|e| e.nats < 0.0)
        .expect("a negative estimate among 20 independent draws");
    assert!(negative.warnings.contains(&Warning::Negative {
        nats: negative.nats
    }));
    // more dimensions than rows
    let (wide_x, wide_y) = gauss(6, 4, 0.0, 3);
    let e = Ksg::params()
        .k(1)
        .check()
        .unwrap()
        .estimate(&wide_x, &wide_y)
        .unwrap();
    assert!(
        e.warnings
            .contains(&Warning::DimsAtLeastRows { dims: 8, rows: 6 })
    );
    // ties with the noise off (but no zero joint distance) are named
    let steps: Vec<f64> = (0..200).map(|i| (i % 10) as f64).collect();
    let e = Ksg::params()
        .noise(0.0)
        .check()
        .unwrap()
        .estimate(&col(&steps), &y)
        .unwrap();
    assert!(e.warnings.contains(&Warning::Ties {
        variable: Variable::X,
        repeated_rows: 190
    }));
    // noise that swamps the data is named, in the data's own units without standardising
    let e = Ksg::params()
        .noise(0.5)
        .check()
        .unwrap()
        .estimate(&x, &y)
        .unwrap();
    assert!(e.warnings.contains(&Warning::LargeNoise {
        noise: 0.5,
        scale: 1.0
    }));
    let raw = Ksg::params()
        .standardize(false)
        .noise(0.05)
        .check()
        .unwrap()
        .estimate(
            &col(&x.column(0).iter().map(|v| v * 100.0).collect::<Vec<_>>()),
            &y,
        )
        .unwrap();
    assert!(
        raw.warnings
            .iter()
            .any(|w| matches!(w, Warning::LargeNoise { .. })),
        "{raw:?}"
    );
    let fine = Ksg::params()
        .standardize(false)
        .noise(1e-4)
        .check()
        .unwrap()
        .estimate(&x, &y)
        .unwrap();
    assert!(
        !fine
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::LargeNoise { .. }))
    );
    // and clean data has none
    let (a, b) = gauss(300, 1, 0.8, 2);
    assert!(Gaussian.estimate(&a, &b).unwrap().warnings.is_empty());
}

#[test]
fn label_estimators_refuse_non_labels() {
    let x = col(&[0.0, 1.0, 0.5, 1.0]);
    let y = col(&[0.1, 0.2, 0.3, 0.4]);
    let m = Mixed {
        k: 1,
        copula: false,
        seed: 0,
    };
    assert_eq!(
        m.estimate(&x, &y).unwrap_err(),
        ContinuousError::NotLabels {
            estimator: "mixed MI",
            row: 2,
            value: 0.5
        }
    );
    let two = Samples::from_columns(&[&[0.0, 1.0], &[1.0, 0.0]]).unwrap();
    assert!(matches!(
        GcmiMixed::default().estimate(&two, &col(&[0.1, 0.2])),
        Err(ContinuousError::ShapeMismatch { .. })
    ));
}

#[test]
fn trait_tests_equal_the_closure_forms() {
    let (x, y) = gauss(150, 1, 0.3, 6);
    let est = Ksg::params().check().unwrap();
    let via_trait = est.permutation_test(&x, &y, 19, 4).unwrap();
    let via_closure = permutation_test(150, 19, 4, |p| {
        ksg_mi(&x.take_rows(p), &y, &KsgConfig::default())
    })
    .unwrap();
    assert_eq!(via_trait, via_closure);
    let ci = Gaussian.bootstrap_ci(&x, &y, 50, 0.9, 2).unwrap();
    assert!(ci.lower <= ci.estimate && ci.estimate <= ci.upper);
}
