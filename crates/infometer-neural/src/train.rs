//! The training protocol: seeded split, standardisation (and asinh), mini-batch Adam on the chosen bound, evaluation on the held-out half, early stopping.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use infometer_continuous::Samples;
use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

use crate::critic::Critic;
use crate::{BackendChoice, Bound, CriticKind, NeuralConfig, NeuralError};

/// Serialises seeding and weight initialisation (burn's RNG is global).
static INIT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The result of a neural estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralEstimate {
    /// The best held-out estimate, in nats.
    pub estimate: f64,
    /// The training step at which it was measured.
    pub best_step: usize,
    /// (step, held-out estimate) at every evaluation.
    pub curve: Vec<(usize, f64)>,
    /// The same bound evaluated on the training rows at the best step: what scoring on the
    /// training data would have reported (optimistic; shown for comparison only).
    pub train_estimate: f64,
    /// The bound that was trained.
    pub bound: Bound,
    /// ln B for InfoNCE (the estimate can never exceed it); None otherwise.
    pub ceiling: Option<f64>,
    /// true when an InfoNCE estimate is within 20% of ln B: the truth may be larger.
    pub near_ceiling: bool,
    /// Training steps run.
    pub steps_run: usize,
}

/// Estimates I(X; Y) with a neural bound, training on one half and reporting the other.
///
/// # Formula
/// ```text
/// DV / MINE:  I ≥ E_P[T] − ln E_{P_X⊗P_Y}[e^T]
/// NWJ:        I ≥ E_P[T] − E_{P_X⊗P_Y}[e^{T − 1}]
/// InfoNCE:    I ≥ ln B + E_i[ T(x_i, y_i) − ln Σ_j e^{T(x_i, y_j)} ]   (≤ ln B)
/// MINE's gradient replaces E[e^T] in the denominator by a moving average (bias correction).
/// E_P is the mean over paired rows; E_{P_X⊗P_Y} is the mean over mismatched pairs: one
/// shuffle of the batch for MINE (as published), all B(B − 1) off-diagonal pairs of the batch
/// for DV and NWJ. Held out, the test rows are cut into blocks of about B rows and every
/// off-diagonal pair of every block is used, for all four bounds.
/// ```
///
/// # Errors
/// [`NeuralError::TooFewSamples`] when either half holds fewer than `batch` samples;
/// [`NeuralError::InvalidParameter`]; [`NeuralError::Diverged`] with the step of a NaN or
/// infinite loss; [`NeuralError::BackendUnavailable`]; constant columns when standardising.
///
/// # Examples
/// ```no_run
/// use infometer_continuous::Samples;
/// use infometer_neural::{estimate_mi, NeuralConfig};
/// let x = Samples::from_column(&(0..2000).map(|i| (i as f64).sin()).collect::<Vec<_>>()).unwrap();
/// let e = estimate_mi(&x, &x, &NeuralConfig { max_steps: 500, ..Default::default() }).unwrap();
/// assert!(e.estimate > 0.5);
/// ```
///
/// # References
/// Belghazi et al., "Mutual Information Neural Estimation", ICML 2018; Nguyen, Wainwright,
/// Jordan, IEEE Trans. IT 56(11), 2010 (NWJ); van den Oord, Li, Vinyals, "Representation
/// Learning with Contrastive Predictive Coding", 2018 (InfoNCE); Poole et al., "On Variational
/// Bounds of Mutual Information", ICML 2019; Czyż et al., "Beyond Normal", NeurIPS 2023.
pub fn estimate_mi(
    x: &Samples,
    y: &Samples,
    cfg: &NeuralConfig,
) -> Result<NeuralEstimate, NeuralError> {
    estimate_mi_with_progress(x, y, cfg, |_, _| {})
}

/// As [`estimate_mi`], calling `progress(step, held_out_estimate)` after each step (the
/// estimate is Some at evaluation steps).
///
/// # Errors
/// As [`estimate_mi`].
pub fn estimate_mi_with_progress<F: FnMut(usize, Option<f64>)>(
    x: &Samples,
    y: &Samples,
    cfg: &NeuralConfig,
    mut progress: F,
) -> Result<NeuralEstimate, NeuralError> {
    cfg.validate()?;
    if x.n_samples() != y.n_samples() {
        return Err(infometer_continuous::ContinuousError::ShapeMismatch {
            what: "samples per variable",
            expected: x.n_samples(),
            got: y.n_samples(),
        }
        .into());
    }
    let n = x.n_samples();
    let n_test = ((n as f64) * cfg.test_fraction).round() as usize;
    let n_train = n - n_test;
    if n_train < cfg.batch || n_test < cfg.batch {
        let needed =
            ((cfg.batch as f64) / cfg.test_fraction.min(1.0 - cfg.test_fraction)).ceil() as usize;
        return Err(NeuralError::TooFewSamples {
            n_samples: n,
            needed,
            batch: cfg.batch,
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let (train_idx, test_idx) = order.split_at(n_train);
    let (dx, dy) = (x.dim(), y.dim());
    let scores;
    let (x, y) = if cfg.copula {
        scores = infometer_continuous::copula_variables(&[x, y], cfg.seed)?;
        (&scores[0], &scores[1])
    } else {
        (x, y)
    };
    let xs = prepare(x, train_idx, cfg)?;
    let ys = prepare(y, train_idx, cfg)?;
    let xt = prepare_with(x, test_idx, train_idx, cfg)?;
    let yt = prepare_with(y, test_idx, train_idx, cfg)?;
    // as many training rows as test rows, for the (optimistic) training-data score
    let probe_idx = &train_idx[..test_idx.len().min(train_idx.len())];
    let xtr = prepare_with(x, probe_idx, train_idx, cfg)?;
    let ytr = prepare_with(y, probe_idx, train_idx, cfg)?;
    let mut train_estimate = f64::NAN;
    let device = make_device(cfg.backend)?;
    // burn's seed is process-global: seeding and initialising under one lock keeps the initial
    // weights a function of `cfg.seed` alone, even when estimates run on several threads
    let mut critic = {
        let _guard = INIT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        device.seed(cfg.seed);
        let c = match cfg.critic {
            CriticKind::Joint => Critic::joint(dx, dy, &cfg.hidden, &device),
            CriticKind::Separable => Critic::separable(dx, dy, &cfg.hidden, &device),
        };
        // parameters are initialised lazily: one forward pass materialises them under the lock
        let probe = [0usize];
        let _ = to_vec(score_matrix(&c, &xs, dx, &ys, dy, &probe, &device));
        c
    };
    let mut optim = AdamConfig::new().init();
    let b = cfg.batch;
    let mut ma: Option<f64> = None;
    let mut curve = Vec::new();
    let (mut best, mut best_step, mut since_best) = (f64::NEG_INFINITY, 0, 0usize);
    let mut test_perm: Vec<usize> = (0..test_idx.len()).collect();
    test_perm.shuffle(&mut rng);
    let mut probe_perm: Vec<usize> = (0..probe_idx.len()).collect();
    probe_perm.shuffle(&mut rng);
    let mut steps_run = 0;
    for step in 1..=cfg.max_steps {
        let batch: Vec<usize> = train_idx.choose_multiple(&mut rng, b).copied().collect();
        let loss = match cfg.bound {
            Bound::InfoNce => {
                let s = score_matrix(&critic, &xs, dx, &ys, dy, &batch, &device);
                let m = s.clone().detach().max_dim(1);
                let lse = s.clone().sub(m.clone()).exp().sum_dim(1).log().add(m);
                let eye = Tensor::<2>::from_data(TensorData::new(eye(b), [b, b]), &device);
                let diag = s.mul(eye).sum_dim(1);
                diag.sub(lse).mean().neg()
            }
            Bound::DonskerVaradhan | Bound::Nwj => {
                // all B(B − 1) off-diagonal pairs of the batch stand for P_X⊗P_Y (Poole et
                // al. 2019; as the benchmark does): B − 1 times the product samples of one
                // shuffle, for the same B rows
                let s = score_matrix(&critic, &xs, dx, &ys, dy, &batch, &device);
                let eye = Tensor::<2>::from_data(TensorData::new(eye(b), [b, b]), &device);
                let off = eye.clone().neg().add_scalar(1.0);
                let mean_tj = s.clone().mul(eye).sum().div_scalar(b as f64);
                let pairs = (b * (b - 1)) as f64;
                if cfg.bound == Bound::Nwj {
                    let neg = s.sub_scalar(1.0).exp().mul(off).sum().div_scalar(pairs);
                    mean_tj.sub(neg).neg()
                } else {
                    let m = s.clone().detach().max();
                    let sum = s.sub(m.clone().reshape([1, 1])).exp().mul(off).sum();
                    let lme = sum.log().add(m).sub_scalar(pairs.ln());
                    mean_tj.sub(lme).neg()
                }
            }
            Bound::Mine => {
                // MINE as published: one shuffled copy of the batch for P_X⊗P_Y
                let mut shuffled = batch.clone();
                shuffled.shuffle(&mut rng);
                let tj = critic.pairs(pairs_tensor(&xs, dx, &ys, dy, &batch, &batch, &device));
                let tm = critic.pairs(pairs_tensor(&xs, dx, &ys, dy, &batch, &shuffled, &device));
                let mean_tj = tj.mean();
                let et = tm.exp().mean();
                let batch_mean = et.clone().detach().into_scalar::<f32>() as f64;
                let avg = match ma {
                    None => batch_mean,
                    Some(prev) => cfg.ma_decay * prev + (1.0 - cfg.ma_decay) * batch_mean,
                };
                ma = Some(avg);
                if !avg.is_finite() || avg <= 0.0 {
                    return Err(NeuralError::Diverged { step, loss: avg });
                }
                // gradient of −(E[T] − E[e^T]/ma): the bias-corrected MINE gradient
                mean_tj.sub(et.div_scalar(avg)).neg()
            }
        };
        let lv = loss.clone().detach().into_scalar::<f32>() as f64;
        if !lv.is_finite() {
            return Err(NeuralError::Diverged { step, loss: lv });
        }
        let grads = GradientsParams::from_grads(loss.backward(), &critic);
        critic = optim.step(cfg.learning_rate, critic, grads);
        steps_run = step;
        let mut reported = None;
        if step % cfg.eval_every == 0 || step == cfg.max_steps {
            let est = evaluate(&critic, cfg, &xt, dx, &yt, dy, &test_perm, &device);
            if !est.is_finite() {
                return Err(NeuralError::Diverged { step, loss: est });
            }
            curve.push((step, est));
            reported = Some(est);
            if est > best {
                best = est;
                best_step = step;
                train_estimate = evaluate(&critic, cfg, &xtr, dx, &ytr, dy, &probe_perm, &device);
                since_best = 0;
            } else {
                since_best += 1;
            }
        }
        progress(step, reported);
        if since_best >= cfg.patience {
            break;
        }
    }
    let ceiling = (cfg.bound == Bound::InfoNce).then(|| (b as f64).ln());
    Ok(NeuralEstimate {
        estimate: best,
        best_step,
        curve,
        train_estimate,
        bound: cfg.bound,
        ceiling,
        near_ceiling: ceiling.is_some_and(|c| best >= 0.8 * c),
        steps_run,
    })
}

/// Checks that a backend can train: one forward pass, backward pass and Adam step of a tiny
/// critic on the chosen device.
///
/// # Formula
/// None: a smoke test. The step's loss must come back finite.
///
/// # Errors
/// [`NeuralError::BackendUnavailable`] when the backend is not compiled in, finds no device,
/// or returns a non-finite result. A driver that crashes the process (as Debian 12's
/// lavapipe does on burn's kernels) cannot be caught in-process: run the probe in a child
/// process first, as the `infometer` command does for `--backend wgpu`.
///
/// # Examples
/// ```
/// use infometer_neural::{probe_backend, BackendChoice};
/// assert!(probe_backend(BackendChoice::Flex).is_ok());
/// ```
///
/// # References
/// burn 0.22 devices: <https://docs.rs/burn/0.22.1/burn/>.
pub fn probe_backend(choice: BackendChoice) -> Result<(), NeuralError> {
    let device = make_device(choice)?;
    let unavailable = |reason: &str| NeuralError::BackendUnavailable {
        backend: choice.name(),
        reason: reason.into(),
    };
    let xs = [0.5f32, -1.0, 2.0, 0.0];
    let ys = [1.0f32, 0.5, -0.5, 0.25];
    let batch = [0usize, 1, 2, 3];
    // seeded and materialised under the lock, as in `estimate_mi`, so a probe never draws
    // from burn's global RNG while another estimate initialises
    let critic = {
        let _guard = INIT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        device.seed(0);
        let c = Critic::joint(1, 1, &[4], &device);
        let _ = to_vec(c.pairs(pairs_tensor(&xs, 1, &ys, 1, &batch, &batch, &device)));
        c
    };
    let loss = critic
        .pairs(pairs_tensor(&xs, 1, &ys, 1, &batch, &batch, &device))
        .mean();
    let lv = loss.clone().detach().into_scalar::<f32>();
    let grads = GradientsParams::from_grads(loss.backward(), &critic);
    let critic = AdamConfig::new().init().step(0.1, critic, grads);
    let after = to_vec(critic.pairs(pairs_tensor(&xs, 1, &ys, 1, &batch, &batch, &device)));
    if lv.is_finite() && after.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(unavailable("a training step returned a non-finite value"))
    }
}

fn make_device(choice: BackendChoice) -> Result<Device, NeuralError> {
    match choice {
        BackendChoice::Flex => Ok(Device::flex().autodiff()),
        BackendChoice::NdArray => {
            #[cfg(feature = "ndarray")]
            {
                #[allow(deprecated)] // the user asked for burn-ndarray explicitly
                let d = Device::ndarray();
                Ok(d.autodiff())
            }
            #[cfg(not(feature = "ndarray"))]
            Err(NeuralError::BackendUnavailable {
                backend: "ndarray",
                reason: "built without the `ndarray` feature of infometer-neural".into(),
            })
        }
        BackendChoice::Wgpu => {
            #[cfg(feature = "wgpu")]
            {
                use burn::tensor::wgpu::WgpuBackend;
                // Pinned to Vulkan: with automatic selection wgpu may settle on a software
                // OpenGL adapter and hang; pinned, a missing device is an error at once.
                // Kernels go through WGSL (burn's `vulkan` feature, which compiles SPIR-V
                // directly, is not enabled: Debian 12's lavapipe crashes on those shaders).
                let d = Device::wgpu_options()
                    .graphics_api(WgpuBackend::Vulkan)
                    .init()
                    .map_err(|e| NeuralError::BackendUnavailable {
                        backend: "wgpu",
                        reason: format!("no usable Vulkan device: {e}"),
                    })?;
                // the first kernel, under catch_unwind: a runtime that panics on its first
                // launch is reported as unavailable rather than unwinding through the caller
                let probe = std::panic::catch_unwind(|| {
                    Tensor::<1>::ones([2], &d).sum().into_scalar::<f32>()
                });
                match probe {
                    Ok(2.0) => Ok(d.autodiff()),
                    Ok(_) => Err(NeuralError::BackendUnavailable {
                        backend: "wgpu",
                        reason: "the Vulkan device returned a wrong result".into(),
                    }),
                    Err(_) => Err(NeuralError::BackendUnavailable {
                        backend: "wgpu",
                        reason: "the Vulkan device failed its first kernel".into(),
                    }),
                }
            }
            #[cfg(not(feature = "wgpu"))]
            Err(NeuralError::BackendUnavailable {
                backend: "wgpu",
                reason: "built without the `wgpu` feature of infometer-neural".into(),
            })
        }
    }
}

/// Rows `idx` of `s` as f32, standardised with the statistics of rows `stats_idx`, then asinh
/// (unless the copula transform already made the tails Gaussian).
fn prepare_with(
    s: &Samples,
    idx: &[usize],
    stats_idx: &[usize],
    cfg: &NeuralConfig,
) -> Result<Vec<f32>, NeuralError> {
    let d = s.dim();
    let mut mean = vec![0.0; d];
    let mut sd = vec![1.0; d];
    if cfg.standardize {
        for j in 0..d {
            let m = stats_idx.iter().map(|&i| s.row(i)[j]).sum::<f64>() / stats_idx.len() as f64;
            let v = stats_idx
                .iter()
                .map(|&i| (s.row(i)[j] - m).powi(2))
                .sum::<f64>()
                / (stats_idx.len().max(2) - 1) as f64;
            if v <= 0.0 || !v.is_finite() {
                return Err(
                    infometer_continuous::ContinuousError::ConstantColumn { col: j }.into(),
                );
            }
            mean[j] = m;
            sd[j] = v.sqrt();
        }
    }
    let mut out = Vec::with_capacity(idx.len() * d);
    for &i in idx {
        for j in 0..d {
            let z = (s.row(i)[j] - mean[j]) / sd[j];
            out.push(if cfg.asinh && !cfg.copula {
                z.asinh()
            } else {
                z
            } as f32);
        }
    }
    Ok(out)
}

/// Every row, transformed with the training rows' statistics, so batch indices (original row
/// numbers) address it directly; only training rows are ever drawn from it.
fn prepare(s: &Samples, train_idx: &[usize], cfg: &NeuralConfig) -> Result<Vec<f32>, NeuralError> {
    let all: Vec<usize> = (0..s.n_samples()).collect();
    prepare_with(s, &all, train_idx, cfg)
}

fn rows(data: &[f32], d: usize, idx: &[usize]) -> Vec<f32> {
    let mut v = Vec::with_capacity(idx.len() * d);
    for &i in idx {
        v.extend_from_slice(&data[i * d..(i + 1) * d]);
    }
    v
}

/// [(x_{xi[k]}, y_{yi[k]})] as a [n, dx + dy] tensor.
fn pairs_tensor(
    xs: &[f32],
    dx: usize,
    ys: &[f32],
    dy: usize,
    xi: &[usize],
    yi: &[usize],
    device: &Device,
) -> Tensor<2> {
    let mut v = Vec::with_capacity(xi.len() * (dx + dy));
    for (&a, &b) in xi.iter().zip(yi) {
        v.extend_from_slice(&xs[a * dx..(a + 1) * dx]);
        v.extend_from_slice(&ys[b * dy..(b + 1) * dy]);
    }
    Tensor::<2>::from_data(TensorData::new(v, [xi.len(), dx + dy]), device)
}

/// S[i, j] = T(x_{batch[i]}, y_{batch[j]}).
fn score_matrix(
    critic: &Critic,
    xs: &[f32],
    dx: usize,
    ys: &[f32],
    dy: usize,
    batch: &[usize],
    device: &Device,
) -> Tensor<2> {
    let b = batch.len();
    if critic.is_separable() {
        let x = Tensor::<2>::from_data(TensorData::new(rows(xs, dx, batch), [b, dx]), device);
        let y = Tensor::<2>::from_data(TensorData::new(rows(ys, dy, batch), [b, dy]), device);
        critic.scores(x, y)
    } else {
        let xi: Vec<usize> = batch
            .iter()
            .flat_map(|&i| std::iter::repeat_n(i, b))
            .collect();
        let yi: Vec<usize> = (0..b).flat_map(|_| batch.iter().copied()).collect();
        critic
            .pairs(pairs_tensor(xs, dx, ys, dy, &xi, &yi, device))
            .reshape([b, b])
    }
}

fn eye(b: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; b * b];
    for i in 0..b {
        v[i * b + i] = 1.0;
    }
    v
}

fn to_vec(t: Tensor<2>) -> Vec<f64> {
    t.detach()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 data")
        .into_iter()
        .map(f64::from)
        .collect()
}

/// The bound on the held-out rows (xt, yt are the test rows in order).
fn evaluate(
    critic: &Critic,
    cfg: &NeuralConfig,
    xt: &[f32],
    dx: usize,
    yt: &[f32],
    dy: usize,
    perm: &[usize],
    device: &Device,
) -> f64 {
    let n = perm.len();
    match cfg.bound {
        Bound::InfoNce => {
            let b = cfg.batch.min(n);
            let chunks = n / b;
            let mut total = 0.0;
            for c in 0..chunks {
                let idx: Vec<usize> = perm[c * b..(c + 1) * b].to_vec();
                let s = to_vec(score_matrix(critic, xt, dx, yt, dy, &idx, device));
                let mut acc = 0.0;
                for i in 0..b {
                    let row = &s[i * b..(i + 1) * b];
                    acc += row[i] - infometer_core::log_sum_exp(row);
                }
                total += (b as f64).ln() + acc / b as f64;
            }
            total / chunks as f64
        }
        bound => {
            // ⌈n / B⌉ blocks of near-equal size cover every test row once; the diagonal of each
            // block's score matrix gives E_P[T], its off-diagonal pairs (pooled) E_{P_X⊗P_Y}
            let n_blocks = n.div_ceil(cfg.batch.min(n)).max(1);
            let (mut sum_tj, mut pairs) = (0.0f64, 0.0f64);
            let mut off: Vec<f64> = Vec::new();
            let mut start = 0;
            for k in 0..n_blocks {
                let end = (k + 1) * n / n_blocks;
                let idx = &perm[start..end];
                start = end;
                // a block of one row adds its diagonal and no pair (only when n < 2B)
                let m = idx.len();
                let s = to_vec(score_matrix(critic, xt, dx, yt, dy, idx, device));
                for i in 0..m {
                    for j in 0..m {
                        if i == j {
                            sum_tj += s[i * m + j];
                        } else {
                            off.push(s[i * m + j]);
                        }
                    }
                }
                pairs += (m * (m - 1)) as f64;
            }
            let mean_tj = sum_tj / n as f64;
            match bound {
                Bound::Nwj => mean_tj - off.iter().map(|t| (t - 1.0).exp()).sum::<f64>() / pairs,
                _ => mean_tj - (infometer_core::log_sum_exp(&off) - pairs.ln()),
            }
        }
    }
}
