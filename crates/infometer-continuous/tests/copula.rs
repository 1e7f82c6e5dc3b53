//! The copula transform and Gaussian-copula MI: invariance, closed forms, the bias correction against Monte Carlo, ties, and bad input.

mod common;
use common::*;
use infometer_continuous::*;
use statrs::function::gamma::digamma;

/// Applies `f` to column `j` of `s`.
fn map_col(s: &Samples, j: usize, f: impl Fn(f64) -> f64) -> Samples {
    let d = s.dim();
    let v: Vec<f64> = s
        .as_slice()
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % d == j { f(v) } else { v })
        .collect();
    Samples::new(s.n_samples(), d, v).unwrap()
}

fn normal_cdf(v: f64) -> f64 {
    0.5 * (1.0 + statrs::function::erf::erf(v / std::f64::consts::SQRT_2))
}

/// A named map of one coordinate.
type Map = (&'static str, fn(f64) -> f64);

/// The strictly increasing maps of the invariance checks (none creates ties on N(0,1) data).
fn monotone_maps() -> Vec<Map> {
    vec![
        ("exp", f64::exp),
        ("cube", |v| v * v * v),
        ("normal CDF", normal_cdf),
        ("affine", |v| 3.0 * v - 7.0),
    ]
}

/// One check for the invariance family: `est` gives the same bits on (x, y) and on every
/// monotone map of every coordinate of x and y.
fn check_invariant(name: &str, x: &Samples, y: &Samples, est: impl Fn(&Samples, &Samples) -> f64) {
    let base = est(x, y);
    assert!(base.is_finite());
    for (m, f) in monotone_maps() {
        for j in 0..x.dim() {
            assert_eq!(
                est(&map_col(x, j, f), y).to_bits(),
                base.to_bits(),
                "{name}: {m} of x{j}"
            );
        }
        for j in 0..y.dim() {
            assert_eq!(
                est(x, &map_col(y, j, f)).to_bits(),
                base.to_bits(),
                "{name}: {m} of y{j}"
            );
        }
    }
}

#[test]
fn copula_ksg_and_gcmi_are_bit_identical_under_monotone_maps() {
    let (x, y) = gauss(800, 2, 0.6, 11);
    for alg in [KsgAlgorithm::One, KsgAlgorithm::Two] {
        let cfg = KsgConfig {
            algorithm: alg,
            copula: true,
            ..Default::default()
        };
        check_invariant("ksg", &x, &y, |a, b| ksg_mi(a, b, &cfg).unwrap());
    }
    check_invariant("gcmi", &x, &y, |a, b| {
        gcmi_mi(a, b, &GcmiConfig::default()).unwrap()
    });
    // conditional forms and TE carry the same invariance
    let (z, _) = gauss(800, 1, 0.0, 12);
    let c = KsgConfig {
        copula: true,
        ..Default::default()
    };
    check_invariant("ksg cmi", &x, &y, |a, b| ksg_cmi(a, b, &z, &c).unwrap());
    check_invariant("gcmi cmi", &x, &y, |a, b| {
        gcmi_cmi(a, b, &z, &GcmiConfig::default()).unwrap()
    });
    // without the copula, KSG does change under the same maps (the check can fail)
    let plain = KsgConfig::default();
    assert_ne!(
        ksg_mi(&x, &y, &plain).unwrap(),
        ksg_mi(&map_col(&x, 0, f64::exp), &y, &plain).unwrap()
    );
}

#[test]
fn copula_transfer_entropy_is_invariant_under_monotone_maps_of_each_series() {
    let mut r = rng(5);
    let n = 1500;
    let mut x = vec![0.0; n];
    let mut y = vec![0.0; n];
    for t in 1..n {
        x[t] = 0.6 * x[t - 1] + normal(&mut r);
        y[t] = 0.5 * y[t - 1] + 0.7 * x[t - 1] + normal(&mut r);
    }
    let e = TeEmbedding::default();
    for est in [
        TeEstimator::Ksg(KsgConfig {
            copula: true,
            ..Default::default()
        }),
        TeEstimator::Gcmi(GcmiConfig::default()),
    ] {
        let base = transfer_entropy(&x, &y, &e, &est).unwrap();
        let xe: Vec<f64> = x.iter().map(|v| v.exp()).collect();
        let yc: Vec<f64> = y.iter().map(|v| v * v * v).collect();
        assert_eq!(
            transfer_entropy(&xe, &yc, &e, &est).unwrap().to_bits(),
            base.to_bits()
        );
        assert!(base > 0.1, "{est:?}: {base}");
    }
}

#[test]
fn copula_is_idempotent_and_rank_only() {
    let (x, _) = gauss(500, 3, 0.0, 3);
    let c = x.copula(9).unwrap();
    assert_eq!(c.copula(1).unwrap(), c);
    // every column holds the same n scores, with mean 0 up to rounding
    let mut first = c.column(0);
    first.sort_by(f64::total_cmp);
    for j in 1..3 {
        let mut col = c.column(j);
        col.sort_by(f64::total_cmp);
        assert_eq!(col, first);
    }
    assert!(mean(&first).abs() < 1e-12);
}

#[test]
fn gcmi_without_bias_correction_is_the_gaussian_mi_of_normal_scores() {
    let (x, y) = gauss(700, 2, 0.4, 21);
    let cfg = GcmiConfig {
        bias_correct: false,
        seed: 0,
    };
    let raw = gcmi_mi(&x, &y, &cfg).unwrap();
    // x uses seed 0, y seed 0x9E3779B9 (no ties, so the seeds play no part)
    let g = gaussian_mi(&x.copula(0).unwrap(), &y.copula(0x9E37_79B9).unwrap()).unwrap();
    assert!((raw - g).abs() < 1e-12, "{raw} vs {g}");
}

/// Ince's correction written out: b(n, d) = d/2 (ln 2 − ln(n − 1)) + ½ Σ_{i=1..d} ψ((n − i)/2).
fn ince_bias(n: usize, d: usize) -> f64 {
    let mut psi = 0.0;
    for i in 1..=d {
        psi += digamma((n - i) as f64 / 2.0);
    }
    d as f64 * (2f64.ln() - ((n - 1) as f64).ln()) / 2.0 + psi / 2.0
}

#[test]
fn bias_correction_is_ince_formula() {
    for (n, d) in [(5, 1), (12, 2), (100, 3), (5000, 10)] {
        assert!((gaussian_entropy_bias(n, d).unwrap() - ince_bias(n, d)).abs() < 1e-12);
    }
    let (x, y) = gauss(60, 2, 0.5, 4);
    let on = gcmi_mi(&x, &y, &GcmiConfig::default()).unwrap();
    let off = gcmi_mi(
        &x,
        &y,
        &GcmiConfig {
            bias_correct: false,
            seed: 0,
        },
    )
    .unwrap();
    let correction = ince_bias(60, 2) + ince_bias(60, 2) - ince_bias(60, 4);
    assert!((off - on - correction).abs() < 1e-12);
}

#[test]
fn bias_correction_matches_a_monte_carlo_mean_at_small_n() {
    // ½ ln det of the sample covariance of n Gaussian rows, averaged over many draws, exceeds
    // ½ ln det Σ by b(n, d); Σ = [[1, ρ], [ρ, 1]] so ½ ln det Σ = ½ ln(1 − ρ²)
    let (n, rho, reps) = (12usize, 0.6, 20_000);
    let mut r = rng(77);
    let mut vals = Vec::with_capacity(reps);
    for _ in 0..reps {
        let mut xs = Vec::with_capacity(n);
        for _ in 0..n {
            let a = normal(&mut r);
            xs.push([a, rho * a + (1.0 - rho * rho).sqrt() * normal(&mut r)]);
        }
        let m = [
            xs.iter().map(|v| v[0]).sum::<f64>() / n as f64,
            xs.iter().map(|v| v[1]).sum::<f64>() / n as f64,
        ];
        let (mut s00, mut s01, mut s11) = (0.0, 0.0, 0.0);
        for v in &xs {
            s00 += (v[0] - m[0]) * (v[0] - m[0]);
            s01 += (v[0] - m[0]) * (v[1] - m[1]);
            s11 += (v[1] - m[1]) * (v[1] - m[1]);
        }
        let k = (n - 1) as f64;
        vals.push(0.5 * ((s00 / k) * (s11 / k) - (s01 / k).powi(2)).ln());
    }
    let mc = mean(&vals) - 0.5 * (1.0 - rho * rho).ln();
    let sd =
        (vals.iter().map(|v| (v - mean(&vals)).powi(2)).sum::<f64>() / (reps - 1) as f64).sqrt();
    let se = sd / (reps as f64).sqrt();
    let b = gaussian_entropy_bias(n, 2).unwrap();
    assert!((mc - b).abs() < 4.0 * se, "MC {mc} vs b {b} (se {se})");
    assert!(b < -0.1, "the bias at n = 12 is not small: {b}");
}

#[test]
fn gcmi_recovers_gaussian_and_distorted_closed_forms() {
    let truth = -0.5 * (1.0 - 0.75f64 * 0.75).ln();
    let (x, y) = gauss(20_000, 1, 0.75, 31);
    let c = GcmiConfig::default();
    let plain = gcmi_mi(&x, &y, &c).unwrap();
    assert!((plain - truth).abs() < 0.01, "{plain} vs {truth}");
    // heavy distortions of a Gaussian copula: same value, bit for bit
    let cubed = map_col(&y, 0, |v| v * v * v);
    assert_eq!(gcmi_mi(&x, &cubed, &c).unwrap(), plain);
    // 3 pairs: I = −1.5 ln(1 − ρ²)
    let (x3, y3) = gauss(20_000, 3, 0.5, 32);
    let t3 = -1.5 * (1.0 - 0.25f64).ln();
    let v3 = gcmi_mi(&x3, &y3, &c).unwrap();
    assert!((v3 - t3).abs() < 0.015, "{v3} vs {t3}");
}

#[test]
fn gcmi_cmi_matches_the_closed_form_on_three_gaussians() {
    // Z ~ N(0,1); X = Z + E1; Y = 0.5 X + Z + E2 (unit-variance E): I(X;Y|Z) = ½ ln(1 + 0.25 Var(X|Z)) = ½ ln 1.25
    let n = 30_000;
    let mut r = rng(41);
    let (mut xs, mut ys, mut zs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let z = normal(&mut r);
        let x = z + normal(&mut r);
        let y = 0.5 * x + z + normal(&mut r);
        xs.push(x);
        ys.push(y);
        zs.push(z);
    }
    let truth = 0.5 * 1.25f64.ln();
    let v = gcmi_cmi(&col(&xs), &col(&ys), &col(&zs), &GcmiConfig::default()).unwrap();
    assert!((v - truth).abs() < 0.01, "{v} vs {truth}");
    // and the Gaussian closed form on the raw data agrees with it
    let g = gaussian_cmi(&col(&xs), &col(&ys), &col(&zs)).unwrap();
    assert!((v - g).abs() < 0.01, "{v} vs {g}");
}

#[test]
fn gcmi_mixed_matches_the_closed_form_of_two_gaussian_classes() {
    // L uniform on {0, 1}; X | L ~ N(±μ, 1): the Gaussian-mixture MI has no closed form, but
    // with equal class covariances the model's value is ½ ln(Var X / Var(X|L)) = ½ ln(1 + μ²)
    // up to the copula's reshaping of a bimodal marginal, small for μ = 0.5
    let n = 40_000;
    let mut r = rng(51);
    let l: Vec<i64> = (0..n).map(|i| (i % 2) as i64).collect();
    let x: Vec<f64> = l
        .iter()
        .map(|&c| if c == 1 { 0.5 } else { -0.5 } + normal(&mut r))
        .collect();
    let v = gcmi_mixed(&l, &col(&x), &GcmiConfig::default()).unwrap();
    let model = 0.5 * (1.0f64 + 0.25).ln();
    assert!((v - model).abs() < 0.01, "{v} vs {model}");
    // unrelated labels give ≈ 0
    let shuffled: Vec<i64> = (0..n).map(|i| ((i / 7) % 2) as i64).collect();
    let v0 = gcmi_mixed(&shuffled, &col(&x), &GcmiConfig::default()).unwrap();
    assert!(v0.abs() < 0.002, "{v0}");
}

#[test]
fn ties_are_broken_reproducibly_with_a_small_spread_across_seeds() {
    // a column with values 0..4 only (heavy ties) against a continuous one
    let mut r = rng(61);
    let n = 2000;
    let x: Vec<f64> = (0..n).map(|_| (uniform(&mut r) * 5.0).floor()).collect();
    let y: Vec<f64> = x.iter().map(|v| v + 2.0 * normal(&mut r)).collect();
    let run = |seed| {
        ksg_mi(
            &col(&x),
            &col(&y),
            &KsgConfig {
                copula: true,
                seed,
                ..Default::default()
            },
        )
        .unwrap()
    };
    assert_eq!(run(3).to_bits(), run(3).to_bits());
    let vals: Vec<f64> = (0..8).map(run).collect();
    let spread = vals.iter().cloned().fold(f64::MIN, f64::max)
        - vals.iter().cloned().fold(f64::MAX, f64::min);
    // documented in Samples::copula: different tie-breaks move KSG by a few hundredths here
    assert!(spread > 0.0 && spread < 0.05, "{vals:?}");
    let g = |seed| {
        gcmi_mi(
            &col(&x),
            &col(&y),
            &GcmiConfig {
                bias_correct: true,
                seed,
            },
        )
        .unwrap()
    };
    assert_eq!(g(1), g(1));
    let gv: Vec<f64> = (0..8).map(g).collect();
    let gs =
        gv.iter().cloned().fold(f64::MIN, f64::max) - gv.iter().cloned().fold(f64::MAX, f64::min);
    assert!(gs < 0.02, "{gv:?}");
}

#[test]
fn copula_refuses_constant_columns_and_too_few_rows() {
    let x = Samples::from_columns(&[&[1.0, 2.0, 3.0, 4.0], &[5.0, 5.0, 5.0, 5.0]]).unwrap();
    assert_eq!(x.copula(0), Err(ContinuousError::ConstantColumn { col: 1 }));
    let y = col(&[0.3, 0.1, 0.4, 0.2]);
    let wide = Samples::from_columns(&[
        &[1.0, 2.0, 3.0, 4.0],
        &[2.0, 1.0, 4.0, 3.0],
        &[4.0, 1.0, 3.0, 2.0],
    ])
    .unwrap();
    assert_eq!(
        gcmi_mi(&wide, &y, &GcmiConfig::default()),
        Err(ContinuousError::NotEnoughSamples {
            estimator: "gcmi",
            needed: 5,
            got: 4
        })
    );
    assert_eq!(
        gcmi_mi(&x, &y, &GcmiConfig::default()),
        Err(ContinuousError::ConstantColumn { col: 1 })
    );
    let cfg = KsgConfig {
        copula: true,
        k: 1,
        ..Default::default()
    };
    assert_eq!(
        ksg_mi(&x, &y, &cfg),
        Err(ContinuousError::ConstantColumn { col: 1 })
    );
    let labels = [0i64, 0, 0, 1];
    assert_eq!(
        gcmi_mixed(&labels, &y, &GcmiConfig::default()),
        Err(ContinuousError::ClassTooSmall {
            estimator: "gcmi",
            label: 1,
            count: 1,
            needed: 2
        })
    );
    assert!(matches!(
        gaussian_entropy_bias(3, 3),
        Err(ContinuousError::NotEnoughSamples {
            needed: 4,
            got: 3,
            ..
        })
    ));
}
