//! Bad inputs: typed errors, never panics (a proptest sweep over shapes, k and values).

mod common;
use common::*;
use infometer_continuous::*;
use proptest::prelude::*;

#[test]
fn typed_errors() {
    let (x, y) = gauss(10, 1, 0.5, 1);
    assert!(matches!(
        ksg_mi(
            &x,
            &y,
            &KsgConfig {
                k: 10,
                ..Default::default()
            }
        ),
        Err(ContinuousError::TooFewSamples { .. })
    ));
    assert!(matches!(
        ksg_mi(
            &x,
            &y,
            &KsgConfig {
                k: 0,
                ..Default::default()
            }
        ),
        Err(ContinuousError::InvalidParameter { .. })
    ));
    assert!(matches!(
        ksg_mi(
            &x,
            &y,
            &KsgConfig {
                k: 2,
                theiler: 4,
                ..Default::default()
            }
        ),
        Err(ContinuousError::TooFewSamples { .. })
    ));
    let (x2, _) = gauss(11, 1, 0.5, 1);
    assert!(matches!(
        ksg_mi(&x2, &y, &KsgConfig::default()),
        Err(ContinuousError::ShapeMismatch { .. })
    ));
    let c = col(&[1.0; 10]);
    assert_eq!(
        ksg_mi(&c, &y, &KsgConfig::default()),
        Err(ContinuousError::ConstantColumn { col: 0 })
    );
    // without standardisation, a constant column is a defined value: MI = 0 is what KSG gives with noise
    let m = ksg_mi(
        &c,
        &y,
        &KsgConfig {
            standardize: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(m.is_finite());
    assert!(matches!(
        Samples::from_column(&[1.0, f64::INFINITY]),
        Err(ContinuousError::NonFinite { row: 1, .. })
    ));
    assert!(matches!(
        Samples::from_column(&[]),
        Err(ContinuousError::Empty { .. })
    ));
    assert!(matches!(
        gaussian_mi(&c, &y),
        Err(ContinuousError::SingularCovariance { .. })
    ));
    assert!(matches!(
        kl_entropy(&col(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), 2, Metric::MaxNorm),
        Err(ContinuousError::ZeroDistance { .. })
    ));
    assert!(matches!(
        mixed_mi(&[0, 1, 2], &col(&[1.0, 2.0, 3.0]), 3),
        Err(ContinuousError::ClassTooSmall { needed: 2, .. })
    ));
    assert_eq!(
        embed_te(
            &[1.0; 3],
            &[1.0; 3],
            &TeEmbedding {
                target_history: 3,
                ..Default::default()
            }
        )
        .unwrap_err(),
        ContinuousError::SeriesTooShort {
            len: 3,
            needed: 5,
            history: 3
        }
    );
    assert!(
        embed_te(
            &[1.0; 5],
            &[1.0; 5],
            &TeEmbedding {
                delay: 0,
                ..Default::default()
            }
        )
        .is_err()
    );
    assert!(permutation_test(3, 0, 0, |_| Ok::<_, ContinuousError>(0.0)).is_err());
    assert!(permutation_test(3, MAX_RESAMPLES + 1, 0, |_| Ok::<_, ContinuousError>(0.0)).is_err());
    assert_eq!(
        ContinuousError::ConstantColumn { col: 2 }.to_string(),
        "column 2 is constant (zero variance); it carries no information and cannot be standardised"
    );
}

/// Columns whose squares overflow (10²⁰⁰) or vanish below f64's range (10⁻²⁰⁰, 10⁻³⁰⁰) are not
/// constant: they standardise to the values of the same column at magnitude 1, to rounding, and
/// KSG on them agrees with KSG at magnitude 1; a column that is constant still is refused.
#[test]
fn extreme_magnitudes_standardise_as_at_magnitude_one() {
    let (x, y) = gauss(400, 2, 0.6, 3);
    let scaled = |s: &Samples, by: f64| {
        Samples::new(400, 2, s.as_slice().iter().map(|v| v * by).collect()).unwrap()
    };
    let base = x.standardized().unwrap();
    let cfg = KsgConfig::default();
    let mi = ksg_mi(&x, &y, &cfg).unwrap();
    for by in [1e200, 1e-200, 1e-300] {
        let s = scaled(&x, by).standardized().unwrap();
        for (a, b) in s.as_slice().iter().zip(base.as_slice()) {
            assert!((a - b).abs() < 1e-12, "scale {by}: {a} against {b}");
        }
        let at_scale = ksg_mi(&scaled(&x, by), &scaled(&y, by), &cfg).unwrap();
        assert!(
            (at_scale - mi).abs() < 1e-3,
            "scale {by}: {at_scale} against {mi}"
        );
    }
    let constant = Samples::new(3, 1, vec![1e200; 3]).unwrap();
    assert!(matches!(
        constant.standardized(),
        Err(ContinuousError::ConstantColumn { col: 0 })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn estimators_never_panic(vals in prop::collection::vec(prop_oneof![Just(0.0), Just(1.0), -5.0..5.0f64], 2..40), k in 0usize..8, noise in prop_oneof![Just(0.0), Just(1e-8)], std in any::<bool>(), w in 0usize..3) {
        let n = vals.len() / 2;
        prop_assume!(n >= 1);
        let x = col(&vals[..n]);
        let y = col(&vals[n..2 * n]);
        for alg in [KsgAlgorithm::One, KsgAlgorithm::Two] {
            let cfg = KsgConfig { k, algorithm: alg, noise, standardize: std, theiler: w, ..Default::default() };
            if let Ok(v) = ksg_mi(&x, &y, &cfg) { prop_assert!(v.is_finite()); }
            let _ = ksg_cmi(&x, &y, &x, &cfg);
            let _ = transfer_entropy(&vals[..n], &vals[n..2 * n], &TeEmbedding::default(), &TeEstimator::Ksg(cfg));
        }
        let _ = kl_entropy(&x, k, Metric::Euclidean);
        let _ = knn_kl_divergence(&x, &y, k);
        let _ = mixed_mi(&(0..n as i64).map(|i| i % 2).collect::<Vec<_>>(), &x, k.max(1));
        let _ = kde_mi(&x, &y, &KdeConfig::default());
        let _ = box_kernel_mi(&x, &y, 0.25, std);
        let _ = gaussian_mi(&x, &y);
    }
}
