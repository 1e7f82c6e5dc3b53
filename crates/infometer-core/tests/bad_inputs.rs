//! Bad inputs: each gives a typed error or a documented value, never a panic.

use infometer_core::*;

fn check(res: Result<TokenMeasures>) -> String {
    match res {
        Ok(m) => format!("ok n_valid={}", m.n_valid()),
        Err(e) => format!("err {e}"),
    }
}

#[test]
fn shapes_and_empties() {
    assert!(matches!(
        Rows::<f32>::new(&[], 4),
        Err(CoreError::Empty { .. })
    ));
    assert!(matches!(
        Rows::new(&[1.0f32; 5], 0),
        Err(CoreError::Empty { .. })
    ));
    assert!(matches!(
        Rows::new(&[1.0f32; 5], 2),
        Err(CoreError::ShapeMismatch { .. })
    ));
    let x = [0.0f32; 6];
    let r = Rows::new(&x, 3).unwrap();
    assert!(check(Analyze::new(r).labels(&[0]).run()).contains("shape mismatch"));
    assert!(check(Analyze::new(r).mask(&[true]).run()).contains("shape mismatch"));
    let other = [0.0f32; 4];
    assert!(
        check(
            Analyze::new(r)
                .reference(Rows::new(&other, 2).unwrap())
                .run()
        )
        .contains("shape mismatch")
    );
    assert!(Distribution::from_probs::<f64>(&[]).is_err());
}

#[test]
fn vocabulary_of_one() {
    let x = [5.0f32, -3.0];
    let m = Analyze::new(Rows::new(&x, 1).unwrap())
        .labels(&[0, 0])
        .run()
        .unwrap();
    assert_eq!(m.entropy, vec![0.0, 0.0]);
    assert_eq!(m.nll.as_ref().unwrap(), &vec![0.0, 0.0]);
    let r = PredictionReport::new(&m, 0.7).unwrap();
    assert_eq!(r.normalized_entropy, 0.0);
}

#[test]
fn non_finite_logits() {
    for bad in [f32::NAN, f32::INFINITY] {
        let x = [0.0, 1.0, bad, 2.0];
        let e = Analyze::new(Rows::new(&x, 2).unwrap()).run().unwrap_err();
        assert!(matches!(e, CoreError::NonFinite { index: 2, .. }), "{e}");
    }
    // −inf is a zero probability, and an all −inf row has no mass
    let x = [
        0.0f32,
        f32::NEG_INFINITY,
        f32::NEG_INFINITY,
        f32::NEG_INFINITY,
    ];
    let m = Analyze::new(Rows::new(&x[..2], 2).unwrap()).run().unwrap();
    assert_eq!(m.entropy[0], 0.0);
    assert_eq!(
        Analyze::new(Rows::new(&x, 2).unwrap()).run().unwrap_err(),
        CoreError::NoMass { row: 1 }
    );
    // KL is +inf where Q has a −inf logit under P's mass, and JS stays ≤ ln 2
    let p = [0.0f32, 0.0];
    let q = [0.0f32, f32::NEG_INFINITY];
    let m = Analyze::new(Rows::new(&p, 2).unwrap())
        .reference(Rows::new(&q, 2).unwrap())
        .run()
        .unwrap();
    assert_eq!(m.kl_pq.as_ref().unwrap()[0], f64::INFINITY);
    assert!((m.kl_qp.as_ref().unwrap()[0] - 2f64.ln()).abs() < 1e-6);
    assert!(m.js.as_ref().unwrap()[0] <= 2f64.ln());
}

#[test]
fn extreme_logits() {
    let x = [1e30f32, -1e30, 0.0, -1e30, 1e30, 3e38];
    let m = Analyze::new(Rows::new(&x, 3).unwrap())
        .labels(&[1, 0])
        .run()
        .unwrap();
    assert_eq!(m.entropy[0], 0.0);
    assert!(m.nll.as_ref().unwrap()[0] > 1e29);
    assert!(m.entropy.iter().all(|h| h.is_finite()));
    // f16 subnormals and the largest f16
    let h: Vec<half::f16> = [6e-8f32, 1e-7, 65504.0, -65504.0]
        .iter()
        .map(|v| half::f16::from_f32(*v))
        .collect();
    let m = Analyze::new(Rows::new(&h, 2).unwrap()).run().unwrap();
    assert!((m.entropy[0] - 2f64.ln()).abs() < 1e-6);
    assert_eq!(m.entropy[1], 0.0);
    // f64 logits far apart
    let x = [700.0f64, -700.0];
    let m = Analyze::new(Rows::new(&x, 2).unwrap()).run().unwrap();
    assert_eq!(m.entropy[0], 0.0);
}

#[test]
fn labels_masks_and_all_masked() {
    let x = [0.0f32; 6];
    let r = Rows::new(&x, 3).unwrap();
    for bad in [3i64, -1, -101, i64::MAX, i64::MIN] {
        assert!(matches!(
            Analyze::new(r).labels(&[0, bad]).run(),
            Err(CoreError::LabelOutOfRange { row: 1, .. })
        ));
    }
    // a custom ignore index
    assert_eq!(
        Analyze::new(r)
            .labels(&[0, -1])
            .ignore_index(-1)
            .run()
            .unwrap()
            .n_valid(),
        1
    );
    // every token masked or ignored: per-token NaN, summary error, report error
    let m = Analyze::new(r)
        .labels(&[-100, 1])
        .mask(&[true, false])
        .run()
        .unwrap();
    assert_eq!(m.n_valid(), 0);
    assert!(m.entropy.iter().all(|v| v.is_nan()));
    assert_eq!(m.summary().unwrap_err(), CoreError::NoValidTokens);
    assert!(PredictionReport::new(&m, 0.7).is_err());
    let mut acc = PerplexityAccumulator::new();
    acc.add_measures(&m).unwrap();
    assert_eq!(acc.perplexity(), Err(CoreError::NoValidTokens));
    // masked rows are not read: NaN padding under the mask is fine
    let pad = [0.0f32, 1.0, 2.0, f32::NAN, f32::NAN, f32::NAN];
    assert_eq!(
        Analyze::new(Rows::new(&pad, 3).unwrap())
            .mask(&[true, false])
            .run()
            .unwrap()
            .n_valid(),
        1
    );
}

#[test]
fn bad_parameters() {
    let x = [0.0f32; 3];
    for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Analyze::new(Rows::new(&x, 3).unwrap()).temperature(t).run(),
            Err(CoreError::InvalidParameter { .. })
        ));
    }
    assert!(
        Base::new(1.0).is_err() && Base::new(f64::NAN).is_err() && "x".parse::<Base>().is_err()
    );
    assert!(Distribution::from_probs(&[0.5, 0.6]).is_err());
    assert!(Distribution::from_probs(&[-0.1, 1.1]).is_err());
    assert!(Distribution::from_counts(&[0.0, 0.0]).is_err());
    assert!(Distribution::from_log_probs(&[0.1, -1.0]).is_err());
    let p = Distribution::from_probs(&[0.5, 0.5]).unwrap();
    assert!(renyi_entropy(&p, -1.0).is_err());
    assert!(kl_divergence(&p, &Distribution::from_probs(&[1.0]).unwrap()).is_err());
    assert!(calibration(&[1.5], &[true], 15).is_err());
    assert!(calibration(&[], &[], 15).is_err());
    assert!(surprisal_flags(&[1.0], SurprisalThreshold::Probability(0.0)).is_err());
    assert!(PerplexityAccumulator::new().add(f64::NAN).is_err());
    assert!(
        cross_entropy(
            Rows::new(&x, 3).unwrap(),
            Target::Sparse(&[0]),
            &CrossEntropyOptions {
                label_smoothing: 1.5,
                ..Default::default()
            }
        )
        .is_err()
    );
    assert!(
        cross_entropy(
            Rows::new(&x, 3).unwrap(),
            Target::Sparse(&[0]),
            &CrossEntropyOptions {
                weights: Some(vec![1.0, -1.0, 1.0]),
                ..Default::default()
            }
        )
        .is_err()
    );
}

#[test]
fn error_messages_name_the_value() {
    let e = Analyze::new(Rows::new(&[0.0f32, 1.0], 2).unwrap())
        .labels(&[7])
        .run()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "label 7 at row 0 is out of range for vocabulary 2"
    );
    let e = Analyze::new(Rows::new(&[0.0f32, f32::NAN], 2).unwrap())
        .run()
        .unwrap_err();
    assert_eq!(e.to_string(), "non-finite value NaN in logits at index 1");
}

#[test]
fn tiny_temperatures_are_refused_and_large_scaled_logits_do_not_overflow() {
    let x = [1e300f64, 0.0, 0.0, 1e300];
    // 1/T overflows f32 (the lane type of f32 rows): refused, never 0·∞ = NaN
    for t in [1e-320, 1e-39, 0.0, -1.0, f64::NAN] {
        let r = Analyze::new(Rows::new(&x, 2).unwrap()).temperature(t).run();
        assert!(
            matches!(
                r,
                Err(CoreError::InvalidParameter {
                    name: "temperature",
                    ..
                })
            ),
            "{t}"
        );
    }
    // x·(1/T) overflows f64, x − max does not: the label on the maximum has NLL 0
    let m = Analyze::new(Rows::new(&x, 2).unwrap())
        .labels(&[0, 1])
        .temperature(1e-10)
        .run()
        .unwrap();
    assert_eq!(m.nll.as_ref().unwrap(), &vec![0.0, 0.0]);
    let y = [0.0f64, 1e300, 0.0, 1e300];
    let d = pair_distances(
        Rows::new(&x, 2).unwrap(),
        Rows::new(&y, 2).unwrap(),
        1e-10,
        Some(0.5),
        None,
    )
    .unwrap();
    assert_eq!(d.total_variation, vec![1.0, 0.0]);
}

#[test]
fn the_perplexity_profile_keeps_an_infinite_token_in_its_own_windows() {
    let nll = [1.0, f64::INFINITY, 2.0, 2.0, 3.0, 3.0];
    let valid = [true, true, true, true, false, false];
    let p = perplexity_profile(&nll, &valid, 2, 2).unwrap();
    assert_eq!(p[0].perplexity, f64::INFINITY);
    assert!((p[1].perplexity - 2f64.exp()).abs() < 1e-12);
    assert!(p[2].perplexity.is_nan() && p[2].n_tokens == 0);
    assert!(perplexity_profile(&nll, &valid, 0, 1).is_err());
    assert!(perplexity_profile(&nll, &valid[..5], 2, 1).is_err());
    assert!(perplexity_profile(&[], &[], 2, 1).is_err());
}

#[test]
fn each_reason_has_its_own_variant_with_the_value() {
    let mut acc = infometer_core::PerplexityAccumulator::new();
    assert_eq!(
        acc.add(-0.5).unwrap_err(),
        CoreError::OutOfDomain {
            what: "nll",
            index: 0,
            value: -0.5,
            domain: "an NLL is ≥ 0"
        }
    );
    assert!(matches!(
        acc.add(f64::NAN),
        Err(CoreError::NonFinite { .. })
    ));
    assert!(matches!(
        infometer_core::kl_estimators(&[-1.0, 0.25], &[-1.0, -1.0]),
        Err(CoreError::OutOfDomain { index: 1, .. })
    ));
    assert_eq!(
        "ten".parse::<infometer_core::Base>().unwrap_err(),
        CoreError::InvalidChoice {
            name: "base",
            got: "ten".into(),
            expected: "e, 2, 10 or a number greater than 1"
        }
    );
    assert_eq!(
        infometer_core::Distribution::from_counts(&[0.0, 0.0]).unwrap_err(),
        CoreError::ZeroTotal { what: "counts" }
    );
}
