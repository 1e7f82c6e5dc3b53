//! The Beyond Normal benchmark's acceptance gates on our implementation (long: ignored by default,
//! run by `cargo xtask slow`), one short training test that runs by default, and bad inputs.

use infometer_continuous::Samples;
use infometer_neural::{BackendChoice, Bound, CriticKind, NeuralConfig, NeuralError, estimate_mi};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Samples of N(0, Σ) split into X (first dx coordinates) and Y, via the Cholesky factor of Σ.
fn gaussian(n: usize, cov: &[Vec<f64>], dx: usize, seed: u64) -> (Samples, Samples) {
    let d = cov.len();
    let mut l = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            l[i][j] = if i == j {
                (cov[i][i] - s).sqrt()
            } else {
                (cov[i][j] - s) / l[j][j]
            };
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let z: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
        for i in 0..d {
            let v: f64 = (0..=i).map(|k| l[i][k] * z[k]).sum();
            if i < dx { x.push(v) } else { y.push(v) }
        }
    }
    (
        Samples::new(n, dx, x).unwrap(),
        Samples::new(n, d - dx, y).unwrap(),
    )
}

/// The benchmark's gate: |estimate − truth| ≤ max(0.05, 10% of truth), for every bound;
/// all four run before the assertion so one failure does not hide the others.
fn check(cov: &[Vec<f64>], dx: usize, truth: f64) {
    let (x, y) = gaussian(8000, cov, dx, 1);
    let tol = (0.1 * truth).max(0.05);
    let mut failures = Vec::new();
    for bound in [
        Bound::Mine,
        Bound::DonskerVaradhan,
        Bound::Nwj,
        Bound::InfoNce,
    ] {
        // the benchmark's own protocol: no asinh (its default), hidden (10, 5)
        let cfg = NeuralConfig {
            bound,
            hidden: vec![10, 5],
            asinh: false,
            seed: 3,
            ..Default::default()
        };
        let e = estimate_mi(&x, &y, &cfg).unwrap();
        eprintln!(
            "{bound:?}: {:.4} vs {truth} (best step {})",
            e.estimate, e.best_step
        );
        if (e.estimate - truth).abs() > tol {
            failures.push(format!("{bound:?}: {} vs {truth}", e.estimate));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
#[ignore = "trains four estimators to convergence on 8000 samples (minutes); run by cargo xtask slow"]
fn benchmark_gates_2d_gaussian() {
    // ρ = 0.7: I = −½ ln(1 − 0.49) = 0.336672
    let cov = vec![vec![1.0, 0.7], vec![0.7, 1.0]];
    check(&cov, 1, 0.336672);
}

#[test]
#[ignore = "trains four estimators to convergence on 8000 samples (minutes); run by cargo xtask slow"]
fn benchmark_gates_3d_gaussian() {
    // dim_x = 2, dim_y = 1: I = ½ ln(det Σ_X det Σ_Y / det Σ) = 0.433750
    let cov = vec![
        vec![1.0, 0.0, 0.7],
        vec![0.0, 1.0, 0.3],
        vec![0.7, 0.3, 1.0],
    ];
    check(&cov, 2, 0.433750);
}

/// The short runs of the default suite: 2048 samples of a bivariate normal with ρ = 0.8
/// (I = 0.5108), batch 128, 300 steps, evaluated every 100.
fn short_run(bound: Bound) -> (Samples, Samples, NeuralConfig) {
    let cov = vec![vec![1.0, 0.8], vec![0.8, 1.0]];
    let (x, y) = gaussian(2048, &cov, 1, 5);
    let cfg = NeuralConfig {
        bound,
        batch: 128,
        max_steps: 300,
        eval_every: 100,
        patience: 3,
        seed: 1,
        ..Default::default()
    };
    (x, y, cfg)
}

#[test]
fn short_training_moves_toward_the_truth() {
    // after a few hundred steps the held-out bound is well above 0 and does not exceed the
    // truth by more than the estimator's noise
    let (x, y, cfg) = short_run(Bound::InfoNce);
    let e = estimate_mi(&x, &y, &cfg).unwrap();
    assert!(e.estimate > 0.25 && e.estimate < 0.65, "{e:?}");
    assert_eq!(e.curve.len(), 3);
    assert_eq!(e.ceiling, Some(128f64.ln()));
    // same seed, same result on the same backend
    assert_eq!(estimate_mi(&x, &y, &cfg).unwrap().estimate, e.estimate);
}

#[test]
fn bad_inputs() {
    let cov = vec![vec![1.0, 0.5], vec![0.5, 1.0]];
    let (x, y) = gaussian(300, &cov, 1, 5);
    assert!(matches!(
        estimate_mi(&x, &y, &NeuralConfig::default()),
        Err(NeuralError::TooFewSamples { .. })
    ));
    assert!(matches!(
        estimate_mi(
            &x,
            &y,
            &NeuralConfig {
                learning_rate: -1.0,
                ..Default::default()
            }
        ),
        Err(NeuralError::InvalidParameter { .. })
    ));
    assert!(matches!(
        estimate_mi(
            &x,
            &y,
            &NeuralConfig {
                bound: Bound::Mine,
                critic: CriticKind::Separable,
                ..Default::default()
            }
        ),
        Err(NeuralError::CriticNotForBound {
            critic: "separable",
            bound: "mine"
        })
    ));
    assert!(matches!(
        estimate_mi(
            &x,
            &y,
            &NeuralConfig {
                hidden: vec![16, 0],
                ..Default::default()
            }
        ),
        Err(NeuralError::EmptyLayer { layer: 1 })
    ));
    let c = Samples::from_column(&[1.0; 300]).unwrap();
    assert!(
        estimate_mi(
            &c,
            &y,
            &NeuralConfig {
                batch: 64,
                ..Default::default()
            }
        )
        .is_err()
    );
    #[cfg(not(feature = "wgpu"))]
    assert!(matches!(
        estimate_mi(
            &x,
            &y,
            &NeuralConfig {
                batch: 64,
                backend: BackendChoice::Wgpu,
                ..Default::default()
            }
        ),
        Err(NeuralError::BackendUnavailable { .. })
    ));
    // a learning rate that blows the critic up is reported as divergence with its step, not a panic
    let r = estimate_mi(
        &x,
        &y,
        &NeuralConfig {
            bound: Bound::Nwj,
            batch: 64,
            learning_rate: 1e6,
            max_steps: 200,
            eval_every: 10,
            ..Default::default()
        },
    );
    if let Err(e) = r {
        assert!(matches!(e, NeuralError::Diverged { .. }), "{e}");
    }
}

/// Bivariate Student-t with ν = 1 and identity dispersion: (x, y) = z / sqrt(w/ν), z ~ N(0, I₂),
/// w ~ χ²_ν. MI = 0.224171 nats (Czyż et al. 2023, their Student-t task with ν = 1).
fn student_t(n: usize, seed: u64) -> (Samples, Samples) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let a: f64 = StandardNormal.sample(&mut rng);
        let b: f64 = StandardNormal.sample(&mut rng);
        let c: f64 = StandardNormal.sample(&mut rng);
        let s = (c * c).sqrt(); // sqrt(χ²₁ / 1)
        x.push(a / s);
        y.push(b / s);
    }
    (
        Samples::new(n, 1, x).unwrap(),
        Samples::new(n, 1, y).unwrap(),
    )
}

#[test]
#[ignore = "trains eight estimators on 8000 samples; run by cargo xtask slow"]
fn heavy_tails_with_and_without_asinh() {
    // What each bound does on Cauchy-tailed data, with the benchmark's raw inputs and with the
    // asinh transform (invertible, so MI is unchanged). Measured here (seed 4): raw MINE 0.000,
    // DV 0.047, NWJ −0.543, InfoNCE 0.183; with asinh 0.074, 0.138, 0.000, 0.180 — the
    // exponential-moment bounds collapse (NWJ goes negative, as Czyż et al. report: −0.38),
    // InfoNCE survives either way.
    // The defaults (InfoNCE, asinh on) must be the best of the eight and never fail.
    let truth = 0.224171;
    let (x, y) = student_t(8000, 2);
    let mut errors = Vec::new();
    for asinh in [false, true] {
        for bound in [
            Bound::Mine,
            Bound::DonskerVaradhan,
            Bound::Nwj,
            Bound::InfoNce,
        ] {
            let cfg = NeuralConfig {
                bound,
                asinh,
                seed: 4,
                ..Default::default()
            };
            match estimate_mi(&x, &y, &cfg) {
                Ok(e) => {
                    eprintln!(
                        "asinh={asinh} {bound:?}: {:.4} (truth {truth}, best step {})",
                        e.estimate, e.best_step
                    );
                    errors.push(((e.estimate - truth).abs(), asinh, bound));
                }
                Err(err) => eprintln!("asinh={asinh} {bound:?}: {err}"),
            }
        }
    }
    let default = estimate_mi(
        &x,
        &y,
        &NeuralConfig {
            seed: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let best = errors.iter().map(|e| e.0).fold(f64::INFINITY, f64::min);
    assert!(
        (default.estimate - truth).abs() <= best + 0.01,
        "default {} vs best error {best}",
        default.estimate
    );
    assert!(default.estimate > 0.1);
}

#[test]
#[ignore = "trains twenty-four estimators on 5000 samples; run by cargo xtask slow"]
fn copula_keeps_the_exponential_bounds_from_collapsing_on_heavy_tails() {
    // Student-t ν = 1 (truth 0.224), N = 5000, three data and training seeds. Raw, MINE and
    // NWJ collapse to 0.00–0.08 and DV scatters (0.06–0.19). With the copula transform DV
    // and NWJ must reach 0.7 of the truth on average, MINE must not collapse (half the
    // truth: its single-shuffle gradient makes early stopping end some runs at the second
    // evaluation; measured here 0.197, 0.156, 0.090, mean 0.66 of the truth), and InfoNCE
    // must do no worse than without it
    let truth = 0.224171;
    let mut raw_nce = Vec::new();
    let mut cop_nce = Vec::new();
    let mut means = Vec::new();
    for bound in [
        Bound::Mine,
        Bound::DonskerVaradhan,
        Bound::Nwj,
        Bound::InfoNce,
    ] {
        let mut vals = Vec::new();
        for seed in 1..=3u64 {
            let (x, y) = student_t(5000, 100 + seed);
            for copula in [true, false] {
                if !copula && bound != Bound::InfoNce {
                    continue;
                }
                let cfg = NeuralConfig {
                    bound,
                    copula,
                    seed,
                    ..Default::default()
                };
                let e = estimate_mi(&x, &y, &cfg).unwrap().estimate;
                eprintln!("copula={copula} {bound:?} seed {seed}: {e:.4} (truth {truth})");
                match (copula, bound) {
                    (true, Bound::InfoNce) => cop_nce.push(e),
                    (false, _) => raw_nce.push(e),
                    _ => vals.push(e),
                }
            }
        }
        if bound != Bound::InfoNce {
            means.push((bound, vals.iter().sum::<f64>() / vals.len() as f64, vals));
        }
    }
    eprintln!("{means:?}");
    for (bound, m, vals) in &means {
        let bar = if *bound == Bound::Mine { 0.5 } else { 0.7 };
        assert!(*m >= bar * truth, "{bound:?} with the copula: {vals:?}");
    }
    let err = |v: &[f64]| v.iter().map(|e| (e - truth).abs()).sum::<f64>() / v.len() as f64;
    assert!(
        err(&cop_nce) <= err(&raw_nce) + 0.02,
        "InfoNCE: copula {cop_nce:?} vs raw {raw_nce:?}"
    );
}

/// The same short training on burn-ndarray (feature `ndarray`; `cargo xtask slow` runs it):
/// one code path, the suite run on each CPU backend.
#[cfg(feature = "ndarray")]
#[test]
fn short_training_on_ndarray() {
    let cov = vec![vec![1.0, 0.8], vec![0.8, 1.0]];
    let (x, y) = gaussian(2048, &cov, 1, 5);
    let cfg = NeuralConfig {
        bound: Bound::InfoNce,
        batch: 128,
        max_steps: 300,
        eval_every: 100,
        patience: 3,
        seed: 1,
        backend: BackendChoice::NdArray,
        ..Default::default()
    };
    let e = estimate_mi(&x, &y, &cfg).unwrap();
    assert!(e.estimate > 0.25 && e.estimate < 0.65, "{e:?}");
    assert_eq!(estimate_mi(&x, &y, &cfg).unwrap().estimate, e.estimate);
}

/// The wgpu backend either trains (a real GPU, or lavapipe's software Vulkan) and lands near
/// the flex result on the same data, or refuses at once with a typed error; it never hangs.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_trains_like_flex_or_refuses_cleanly() {
    let (x, y, cfg) = short_run(Bound::Mine);
    let started = std::time::Instant::now();
    let gpu = estimate_mi(
        &x,
        &y,
        &NeuralConfig {
            backend: BackendChoice::Wgpu,
            ..cfg.clone()
        },
    );
    match gpu {
        Err(NeuralError::BackendUnavailable { reason, .. }) => {
            eprintln!("wgpu unavailable here: {reason}");
            assert!(started.elapsed().as_secs() < 60, "refusal took too long");
        }
        Err(e) => panic!("wgpu failed: {e}"),
        Ok(g) => {
            let cpu = estimate_mi(&x, &y, &cfg).unwrap();
            eprintln!(
                "wgpu {:.4} vs flex {:.4} (truth 0.5108)",
                g.estimate, cpu.estimate
            );
            // different kernels, different rounding: the same training within noise
            assert!((g.estimate - cpu.estimate).abs() < 0.1, "{g:?} vs {cpu:?}");
            assert!(g.estimate > 0.25 && g.estimate < 0.65, "{g:?}");
        }
    }
}
