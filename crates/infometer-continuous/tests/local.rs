//! Local (pointwise) values: the mean identity, masking of invalid time points, closed forms, the scikit-learn reference at k = 4, and windowed means.

mod common;
use common::*;
use infometer_continuous::*;

fn coupled(n: usize, a: f64, sigma: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = rng(seed);
    let x: Vec<f64> = (0..n).map(|_| normal(&mut r)).collect();
    let mut y = vec![0.0; n];
    for t in 1..n {
        y[t] = a * x[t - 1] + sigma * normal(&mut r);
    }
    (x, y)
}

/// One check per case: the valid locals' mean is the TE to 1e-12, the invalid points are
/// exactly the first `start` ones and hold NaN.
fn check(x: &[f64], y: &[f64], e: &TeEmbedding, cfg: KsgConfig, start: usize) -> LocalSeries {
    let est = TeEstimator::Ksg(cfg);
    let l = local_transfer_entropy(x, y, e, &est).unwrap();
    assert_eq!(l.values.len(), y.len());
    for t in 0..y.len() {
        assert_eq!(l.valid[t], t >= start, "t = {t}");
        assert_eq!(l.values[t].is_nan(), t < start);
    }
    let valid: Vec<f64> = l.values[start..].to_vec();
    let te = transfer_entropy(x, y, e, &est).unwrap();
    assert!(
        (mean(&valid) - te).abs() < 1e-12,
        "{} vs {te}",
        mean(&valid)
    );
    assert!((l.estimate - te).abs() < 1e-12);
    l
}

#[test]
fn local_te_mean_identity_and_mask() {
    let (x, y) = coupled(800, 0.8, 0.6, 1);
    for alg in [KsgAlgorithm::One, KsgAlgorithm::Two] {
        let cfg = KsgConfig {
            algorithm: alg,
            ..Default::default()
        };
        check(&x, &y, &TeEmbedding::default(), cfg.clone(), 1);
        let e = TeEmbedding {
            target_history: 2,
            target_spacing: 3,
            source_history: 2,
            source_spacing: 1,
            delay: 2,
        };
        // start = max((2−1)·3 + 1, (2−1)·1 + 2) = 4
        check(&x, &y, &e, KsgConfig { theiler: 5, ..cfg }, 4);
    }
}

#[test]
fn local_te_matches_linear_gaussian_closed_form() {
    // y_{t+1} = a x_t + σ e: TE = ½ ln(1 + a²/σ²) (y's own past carries nothing)
    let (a, sigma) = (0.8f64, 0.6f64);
    let want = 0.5 * (1.0 + a * a / (sigma * sigma)).ln();
    let (x, y) = coupled(4000, a, sigma, 7);
    let l = check(&x, &y, &TeEmbedding::default(), KsgConfig::default(), 1);
    assert!((l.estimate - want).abs() < 0.05, "{} vs {want}", l.estimate);
    // the Gaussian estimator has no local KSG form
    assert!(matches!(
        local_transfer_entropy(&x, &y, &TeEmbedding::default(), &TeEstimator::Gaussian),
        Err(ContinuousError::NotApplicable {
            setting: Setting::Local,
            ..
        })
    ));
}

#[test]
fn local_mi_mean_is_the_gaussian_closed_form_and_the_sklearn_value() {
    let (x, y) = gauss(4000, 1, 0.6, 3);
    let e = Ksg::new(KsgConfig::default())
        .unwrap()
        .estimate(&x, &y)
        .unwrap();
    let l = e.local.unwrap();
    assert!((mean(&l) - e.nats).abs() < 1e-12);
    let want = -0.5 * (1.0f64 - 0.36).ln();
    assert!((mean(&l) - want).abs() < 0.03, "{} vs {want}", mean(&l));
    // scikit-learn 1.9.1 `_compute_mi_cc(st(x), st(y), 4)` on data/sklearn_pairs.csv columns
    // 0 and 1 (see peers.rs): 0.308487903100918
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
    let cfg = KsgConfig {
        k: 4,
        noise: 0.0,
        ..Default::default()
    };
    let e = Ksg::new(cfg).unwrap().estimate(&c(0), &c(1)).unwrap();
    let m = mean(e.local.as_ref().unwrap());
    assert!((m - 0.308487903100918).abs() < 1e-6, "{m}");
}

#[test]
fn windows_have_direct_means_and_block_intervals() {
    let (x, y) = coupled(1200, 0.8, 0.6, 5);
    let l = local_transfer_entropy(
        &x,
        &y,
        &TeEmbedding::default(),
        &TeEstimator::Ksg(KsgConfig::default()),
    )
    .unwrap();
    let o = WindowOptions {
        window: 200,
        stride: 100,
        block: 20,
        resamples: 499,
        level: 0.95,
        seed: 9,
    };
    let w = local_windows(&l.values, &l.valid, &o).unwrap();
    assert_eq!(w.len(), 11);
    for win in &w {
        let v: Vec<f64> = (win.start..win.end)
            .filter(|&t| l.valid[t])
            .map(|t| l.values[t])
            .collect();
        assert_eq!(win.n_valid, v.len());
        assert!((win.mean - mean(&v)).abs() < 1e-12);
        let (lo, hi) = win.ci.unwrap();
        assert!(lo < win.mean && win.mean < hi, "{win:?}");
    }
    assert_eq!(w[0].n_valid, 199); // t = 0 is masked
    // seeded: the same intervals again
    assert_eq!(w, local_windows(&l.values, &l.valid, &o).unwrap());
    // bad settings are refused by name
    for (bad, name) in [
        (WindowOptions { window: 0, ..o }, "window"),
        (WindowOptions { window: 5000, ..o }, "window"),
        (WindowOptions { stride: 0, ..o }, "stride"),
        (WindowOptions { resamples: 0, ..o }, "resamples"),
        (WindowOptions { level: 1.5, ..o }, "level"),
    ] {
        assert!(matches!(
            local_windows(&l.values, &l.valid, &bad),
            Err(ContinuousError::InvalidParameter { name: n, .. }) if n == name
        ));
    }
    assert!(local_windows(&l.values, &l.valid[1..], &o).is_err());
}
