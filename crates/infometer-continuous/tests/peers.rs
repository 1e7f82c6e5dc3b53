//! Agreement with independent tools on identical data, and the real SFI sleep-apnea recording.

mod common;
use common::*;
use infometer_continuous::*;

/// Values from scikit-learn 1.9.1 (numpy 2.4.6), KSG algorithm 1 with its noise step skipped:
/// `sklearn.feature_selection._mutual_info._compute_mi_cc(st(x), st(y), k)` with
/// `st = lambda v: (v - v.mean()) / v.std(ddof=1)` on the columns of `data/sklearn_pairs.csv`
/// (written by numpy `default_rng(0)`: x, y = 0.6x + 0.8e; x2, y2 = sin(3·x2) + 0.3e).
const SKLEARN: [(usize, f64, f64); 2] = [
    (3, 0.32075375797288075, 0.8425951781460714),
    (4, 0.308487903100918, 0.8280118112688775),
];

#[test]
fn ksg1_matches_scikit_learn() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/data/sklearn_pairs.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let c = |j: usize| col(&rows.iter().map(|r| r[j]).collect::<Vec<_>>());
    for (k, want1, want2) in SKLEARN {
        let cfg = KsgConfig {
            k,
            noise: 0.0,
            ..Default::default()
        };
        let got1 = ksg_mi(&c(0), &c(1), &cfg).unwrap();
        let got2 = ksg_mi(&c(2), &c(3), &cfg).unwrap();
        assert!(
            (got1 - want1).abs() < 1e-6,
            "k={k}: {got1} vs sklearn {want1}"
        );
        assert!(
            (got2 - want2).abs() < 1e-6,
            "k={k}: {got2} vs sklearn {want2}"
        );
    }
}

#[test]
fn sfi_heart_breath_classic_subset() {
    // rows 2350–3550 (1-based, inclusive) as Schreiber 2000: heart rate (col 0), chest volume (col 1), O2 (col 2)
    let d = sfi();
    assert_eq!(d.len(), 34000);
    let sub = &d[2349..3550];
    let heart: Vec<f64> = sub.iter().map(|r| r[0]).collect();
    let breath: Vec<f64> = sub.iter().map(|r| r[1]).collect();
    let o2: Vec<f64> = sub.iter().map(|r| r[2]).collect();
    let cfg = KsgConfig::default();
    let mi = ksg_mi(&col(&heart), &col(&breath), &cfg).unwrap();
    let cmi = ksg_cmi(&col(&heart), &col(&breath), &col(&o2), &cfg).unwrap();
    let te_bh = transfer_entropy(
        &breath,
        &heart,
        &TeEmbedding::default(),
        &TeEstimator::Ksg(cfg.clone()),
    )
    .unwrap();
    let te_hb = transfer_entropy(
        &heart,
        &breath,
        &TeEmbedding::default(),
        &TeEstimator::Ksg(cfg.clone()),
    )
    .unwrap();
    // heart rate and breathing are clearly coupled; the series are real, so only sanity bounds here
    assert!(mi > 0.05 && mi < 2.0, "MI {mi}");
    assert!(cmi.is_finite() && te_bh.is_finite() && te_hb.is_finite());
    // Schreiber's finding: more information flows breath → heart than heart → breath at these settings
    // is reported for his kernel estimator; we only check both are non-trivial and finite here.
    assert!(te_bh > 0.0 || te_hb > 0.0, "{te_bh} {te_hb}");
}

#[test]
fn noise_changes_ksg2_on_tied_clinical_data() {
    // the whole recording has many repeated values: KSG2 without noise depends on how ties fall;
    // the 1e-8 noise breaks them, and different seeds agree closely with each other
    let d = sfi();
    let heart: Vec<f64> = d[..6000].iter().map(|r| r[0]).collect();
    let breath: Vec<f64> = d[..6000].iter().map(|r| r[1]).collect();
    let ties = heart.len() - {
        let mut v = heart.clone();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v.len()
    };
    assert!(ties > 100, "the series has repeated values ({ties})");
    let k2 = |noise: f64, seed: u64| {
        ksg_mi(
            &col(&heart),
            &col(&breath),
            &KsgConfig {
                algorithm: KsgAlgorithm::Two,
                noise,
                seed,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let (a, b, none) = (k2(1e-8, 1), k2(1e-8, 2), k2(0.0, 0));
    assert!((a - b).abs() < 0.01, "seeds {a} {b}");
    assert!(
        (a - none).abs() > 1e-4,
        "noise must matter on tied data: {a} vs {none}"
    );
}
