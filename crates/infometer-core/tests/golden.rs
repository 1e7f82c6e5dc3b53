//! Golden values from the study guide's demos, and closed forms.
#![allow(clippy::approx_constant)] // published reference values, printed to 4–6 decimals

mod common;
use common::*;
use infometer_core::*;

fn bits(x: f64) -> f64 {
    Base::TWO.from_nats(x)
}

#[test]
fn information_content_in_bits() {
    for (p, want) in [
        (0.15, 2.736966),
        (0.12, 3.058894),
        (0.08, 3.643856),
        (0.10, 3.321928),
        (0.05, 4.321928),
        (0.001, 9.965784),
    ] {
        close(
            bits(information_content(p).unwrap()),
            want,
            TOL_GOLDEN,
            "surprisal",
        );
    }
    assert_eq!(information_content(0.0).unwrap(), f64::INFINITY);
    assert!(information_content(1.5).is_err());
    assert!(information_content(f64::NAN).is_err());
}

#[test]
fn entropy_in_bits() {
    for (p, want) in [
        (vec![0.85, 0.08, 0.04, 0.02, 0.01], 0.855874),
        (vec![0.25, 0.20, 0.18, 0.17, 0.20], 2.308666),
        (vec![0.40, 0.35, 0.15, 0.06, 0.04], 1.898705),
    ] {
        close(
            bits(entropy(&Distribution::from_probs(&p).unwrap())),
            want,
            TOL_GOLDEN,
            "entropy",
        );
    }
}

#[test]
fn sparse_cross_entropy_target_zero() {
    for (x, want) in [
        ([3.0, -2.0, -2.0, -2.0, -2.0], 0.026595),
        ([1.5, -0.5, -0.5, -0.5, -0.5], 0.432653),
        ([0.2, 0.1, 0.1, 0.1, 0.1], 1.530254),
    ] {
        let x32: Vec<f32> = x.iter().map(|v| *v as f32).collect();
        let l = cross_entropy(
            Rows::new(&x, 5).unwrap(),
            Target::Sparse(&[0]),
            &CrossEntropyOptions::default(),
        )
        .unwrap();
        close(l.scalar().unwrap(), want, TOL_GOLDEN, "ce f64");
        let m = Analyze::new(Rows::new(&x32, 5).unwrap())
            .labels(&[0])
            .run()
            .unwrap();
        close(m.nll.unwrap()[0], want, TOL_GOLDEN, "fused nll f32");
    }
}

#[test]
fn kl_and_table_mi() {
    let p = Distribution::from_probs(&[0.7, 0.2, 0.1]).unwrap();
    let q = Distribution::from_probs(&[0.6, 0.3, 0.1]).unwrap();
    close(kl_divergence(&p, &q).unwrap(), 0.026812, TOL_GOLDEN, "kl");
    let t = JointTable::from_probs(2, 2, &[0.3, 0.1, 0.2, 0.4]).unwrap();
    close(
        bits(
            t.measures(TableEstimator::PlugIn)
                .unwrap()
                .mutual_information,
        ),
        0.124511,
        TOL_GOLDEN,
        "mi",
    );
}

#[test]
fn closed_forms() {
    for n in [1usize, 2, 7, 1000, 128_000] {
        let x = vec![0.0f32; n];
        let m = Analyze::new(Rows::new(&x, n).unwrap()).run().unwrap();
        close(
            m.entropy[0],
            (n as f64).ln(),
            1e-6 * (n as f64).ln().max(1.0),
            "H(uniform)",
        );
        let u = Distribution::from_probs(&vec![1.0 / n as f64; n]).unwrap();
        close(entropy(&u), (n as f64).ln(), 1e-9, "H(uniform) dist");
        close(
            renyi_entropy(&u, 0.5).unwrap(),
            (n as f64).ln(),
            1e-9,
            "renyi uniform",
        );
    }
    // JS of disjoint supports is ln 2; TV 1; Hellinger 1
    let a = Distribution::from_probs(&[0.5, 0.5, 0.0, 0.0]).unwrap();
    let b = Distribution::from_probs(&[0.0, 0.0, 0.5, 0.5]).unwrap();
    close(
        js_divergence(&a, &b).unwrap(),
        2f64.ln(),
        1e-15,
        "js disjoint",
    );
    close(total_variation(&a, &b).unwrap(), 1.0, 1e-15, "tv");
    close(hellinger(&a, &b).unwrap(), 1.0, 1e-15, "hellinger");
    assert_eq!(kl_divergence(&a, &b).unwrap(), f64::INFINITY);
    assert_eq!(cross_entropy_dist(&a, &b).unwrap(), f64::INFINITY);
    // the clamp mode is finite and documented as biased
    assert!(kl_divergence_clamped(&a, &b, 1e-8).unwrap().is_finite());
    // Rényi limits: min-entropy and Hartley
    let p = Distribution::from_probs(&[0.5, 0.25, 0.25, 0.0]).unwrap();
    close(
        renyi_entropy(&p, f64::INFINITY).unwrap(),
        2f64.ln(),
        1e-15,
        "H_inf",
    );
    close(renyi_entropy(&p, 0.0).unwrap(), 3f64.ln(), 1e-15, "H_0");
    close(
        renyi_entropy(&p, 2.0).unwrap(),
        -(0.25f64 + 0.0625 + 0.0625).ln(),
        1e-14,
        "H_2",
    );
}

#[test]
fn near_one_hot_128k_has_entropy_near_zero() {
    // The study guide's 1e-8 clamp gives 0.0236 nats here; the truth is ~ 1e-4 nats or less.
    let v = 128_000;
    let mut x = vec![-20.0f32; v];
    x[7] = 20.0;
    let m = Analyze::new(Rows::new(&x, v).unwrap()).run().unwrap();
    let (_, h, _) = naive_row(&x.iter().map(|v| *v as f64).collect::<Vec<_>>(), 1.0);
    close(m.entropy[0], h, 1e-9, "near one-hot");
    assert!(m.entropy[0] < 1e-8);
}

#[test]
fn perplexity_in_bits_is_not_two_to_the_nats() {
    // mean NLL 7.3232 nats: PPL = e^7.3232 ≈ 1515, whatever the display base
    let nll = vec![7.3232; 10];
    let mut acc = PerplexityAccumulator::new();
    acc.extend(&nll).unwrap();
    close(acc.perplexity().unwrap(), 7.3232f64.exp(), 1e-9, "ppl");
    close(
        2f64.powf(acc.bits_per_token().unwrap()),
        acc.perplexity().unwrap(),
        1e-9,
        "2^bits = ppl",
    );
}

#[test]
fn token_weighted_perplexity_differs_from_batch_average() {
    let b1 = vec![1.0; 100];
    let b2 = vec![5.0; 2];
    let mut acc = PerplexityAccumulator::new();
    acc.extend(&b1).unwrap();
    acc.extend(&b2).unwrap();
    let want = ((100.0 + 10.0) / 102.0f64).exp();
    close(acc.perplexity().unwrap(), want, 1e-12, "weighted");
    let wrong = 0.5 * (1f64.exp() + 5f64.exp());
    assert!((acc.perplexity().unwrap() - wrong).abs() > 10.0);
    acc.add_bytes(400);
    close(
        acc.bits_per_byte().unwrap(),
        110.0 / 2f64.ln() / 400.0,
        1e-12,
        "bpb",
    );
}

#[test]
fn sliding_windows_score_every_token_once() {
    for (n, ctx, stride) in [
        (10, 4, 2),
        (100, 16, 16),
        (100, 16, 1),
        (17, 32, 8),
        (2, 2, 1),
        (1000, 64, 48),
    ] {
        let w = sliding_windows(n, ctx, stride).unwrap();
        let mut seen = vec![0; n];
        for win in &w {
            assert!(
                win.end - win.begin <= ctx
                    && win.score_from > win.begin
                    && win.score_from <= win.end
            );
            for t in win.score_from..win.end {
                seen[t] += 1;
            }
        }
        assert_eq!(seen[0], 0);
        assert!(seen.iter().all(|&c| c <= 1));
        if stride < ctx {
            assert!(seen[1..].iter().all(|&c| c == 1), "{n} {ctx} {stride}");
        } else {
            // disjoint windows skip each window's first token
            assert_eq!(seen.iter().sum::<usize>(), n - n.div_ceil(ctx));
        }
    }
    // a bigram "model" whose NLL depends only on the previous token equals the direct sum
    let toks: Vec<usize> = (0..200).map(|i| (i * 7 + i / 3) % 5).collect();
    let nll_of = |prev: usize, cur: usize| ((prev + 2 * cur) % 4 + 1) as f64 * 0.3;
    let direct: f64 = (1..toks.len()).map(|t| nll_of(toks[t - 1], toks[t])).sum();
    let acc = sliding_window_perplexity(toks.len(), 8, 3, |w| {
        Ok((w.score_from..w.end)
            .map(|t| nll_of(toks[t - 1], toks[t]))
            .collect())
    })
    .unwrap();
    close(acc.total_nll(), direct, 1e-9, "bigram");
    assert!(sliding_windows(10, 4, 5).is_err());
    assert!(sliding_windows(1, 4, 2).is_err());
}

#[test]
fn cross_entropy_options_match_pytorch_formulas() {
    // 3 tokens, V = 4, one ignored; weights, smoothing: checked against the formula in f64
    let x = [1.0, 2.0, 0.5, -1.0, 0.0, 0.0, 3.0, 1.0, 2.0, 2.0, 2.0, 2.0];
    let labels = [1, 2, -100];
    let w = vec![1.0, 10.0, 2.0, 0.5];
    let eps = 0.1;
    let opts = CrossEntropyOptions {
        weights: Some(w.clone()),
        label_smoothing: eps,
        ..Default::default()
    };
    let got = cross_entropy(Rows::new(&x, 4).unwrap(), Target::Sparse(&labels), &opts)
        .unwrap()
        .scalar()
        .unwrap();
    let mut num = 0.0;
    let mut den = 0.0;
    for (i, &y) in labels.iter().enumerate().take(2) {
        let (_, _, lp) = naive_row(&x[i * 4..(i + 1) * 4], 1.0);
        let y = y as usize;
        num += (1.0 - eps) * w[y] * -lp[y] + eps / 4.0 * (0..4).map(|c| w[c] * -lp[c]).sum::<f64>();
        den += w[y];
    }
    close(got, num / den, 1e-12, "weighted smoothed mean");
    // reduction none gives 0 at ignored rows; sum = Σ none
    let none = cross_entropy(
        Rows::new(&x, 4).unwrap(),
        Target::Sparse(&labels),
        &CrossEntropyOptions {
            reduction: Reduction::None,
            ..opts.clone()
        },
    )
    .unwrap();
    let Loss::PerToken(v) = none else {
        panic!("per token")
    };
    assert_eq!(v[2], 0.0);
    let sum = cross_entropy(
        Rows::new(&x, 4).unwrap(),
        Target::Sparse(&labels),
        &CrossEntropyOptions {
            reduction: Reduction::Sum,
            ..opts.clone()
        },
    )
    .unwrap();
    close(sum.scalar().unwrap(), v.iter().sum(), 1e-12, "sum");
    // dense one-hot targets equal sparse targets (no weights, no smoothing)
    let dense = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    let d = cross_entropy(
        Rows::new(&x, 4).unwrap(),
        Target::Dense(&dense),
        &CrossEntropyOptions::default(),
    )
    .unwrap()
    .scalar()
    .unwrap();
    let s = cross_entropy(
        Rows::new(&x, 4).unwrap(),
        Target::Sparse(&[1, 2, 0]),
        &CrossEntropyOptions::default(),
    )
    .unwrap()
    .scalar()
    .unwrap();
    close(d, s, 1e-12, "dense = sparse");
    // all ignored: mean is an error, sum is 0
    let all = [-100, -100, -100];
    assert_eq!(
        cross_entropy(
            Rows::new(&x, 4).unwrap(),
            Target::Sparse(&all),
            &CrossEntropyOptions::default()
        ),
        Err(CoreError::NoValidTokens)
    );
    // temperature: CE at T equals CE of x/T
    let xt: Vec<f64> = x.iter().map(|v| v / 2.0).collect();
    let a = cross_entropy(
        Rows::new(&x, 4).unwrap(),
        Target::Sparse(&[1, 2, 0]),
        &CrossEntropyOptions {
            temperature: 2.0,
            ..Default::default()
        },
    )
    .unwrap();
    let b = cross_entropy(
        Rows::new(&xt, 4).unwrap(),
        Target::Sparse(&[1, 2, 0]),
        &CrossEntropyOptions::default(),
    )
    .unwrap();
    close(
        a.scalar().unwrap(),
        b.scalar().unwrap(),
        1e-12,
        "temperature",
    );
}

#[test]
fn calibration_and_temperature() {
    // perfectly calibrated synthetic data: confidence c, correct with frequency c in each bin
    let mut conf = Vec::new();
    let mut ok = Vec::new();
    for b in 0..10 {
        let c = (b as f64 + 0.5) / 10.0;
        for i in 0..100 {
            conf.push(c);
            ok.push(i < b * 10 + 5);
        }
    }
    let cal = calibration(&conf, &ok, 10).unwrap();
    assert!(cal.ece < 1e-12 && cal.mce < 1e-12);
    assert_eq!(cal.bins.iter().map(|b| b.count).sum::<usize>(), 1000);
    // over-confident logits: fitted T > 1 lowers NLL
    let mut logits = Vec::new();
    let mut labels = Vec::new();
    for i in 0..200 {
        let mut row = [0.0f32; 5];
        row[i % 5] = 8.0;
        logits.extend_from_slice(&row);
        labels.push(if i % 3 == 0 {
            ((i + 1) % 5) as i64
        } else {
            (i % 5) as i64
        });
    }
    let fit = fit_temperature(Rows::new(&logits, 5).unwrap(), &labels, None).unwrap();
    assert!(fit.temperature > 1.5, "{fit:?}");
    assert!(fit.nll_after < fit.nll_before);
    // the optimum is a stationary point: NLL at T ± 1% is not lower
    let nll_at = |t: f64| {
        cross_entropy(
            Rows::new(&logits, 5).unwrap(),
            Target::Sparse(&labels),
            &CrossEntropyOptions {
                temperature: t,
                ..Default::default()
            },
        )
        .unwrap()
        .scalar()
        .unwrap()
    };
    assert!(nll_at(fit.temperature * 1.01) >= fit.nll_after - 1e-9);
    assert!(nll_at(fit.temperature * 0.99) >= fit.nll_after - 1e-9);
}

#[test]
fn rlhf_estimators_are_unbiased_on_an_exact_expectation() {
    // π and π_ref over 3 tokens; E_π[k1] = E_π[k3] = KL(π‖π_ref) computed exactly
    let pi = [0.5, 0.3, 0.2];
    let pr = [0.2, 0.3, 0.5];
    let lp: Vec<f64> = pi.iter().map(|v: &f64| v.ln()).collect();
    let lr: Vec<f64> = pr.iter().map(|v: &f64| v.ln()).collect();
    let est = kl_estimators(&lp, &lr).unwrap();
    let kl = kl_divergence(
        &Distribution::from_probs(&pi).unwrap(),
        &Distribution::from_probs(&pr).unwrap(),
    )
    .unwrap();
    let e1: f64 = est.iter().zip(&pi).map(|(e, p)| p * e.k1).sum();
    let e3: f64 = est.iter().zip(&pi).map(|(e, p)| p * e.k3).sum();
    close(e1, kl, 1e-15, "k1");
    close(e3, kl, 1e-15, "k3");
    assert!(est.iter().all(|e| e.k2 >= 0.0 && e.k3 >= 0.0));
    // distillation: T² KL of the tempered softmaxes
    let t = [2.0f64, 0.0, -1.0];
    let s = [0.0f64, 1.0, 0.0];
    let got = distillation_loss(
        Rows::new(&t, 3).unwrap(),
        Rows::new(&s, 3).unwrap(),
        2.0,
        None,
    )
    .unwrap();
    let (_, _, lt) = naive_row(&t, 2.0);
    let (_, _, ls) = naive_row(&s, 2.0);
    close(got, 4.0 * naive_kl(&lt, &ls), 1e-12, "distillation");
}

#[test]
fn tables_and_miller_madow() {
    let counts = [10.0, 0.0, 5.0, 5.0];
    let t = JointTable::from_counts(2, 2, &counts).unwrap();
    let p = t.measures(TableEstimator::PlugIn).unwrap();
    let mm = t.measures(TableEstimator::MillerMadow).unwrap();
    // MM adds (m − 1)/(2N) per entropy: X has 2 non-zero, Y 2, XY 3, N = 20
    close(mm.entropy_x - p.entropy_x, 1.0 / 40.0, 1e-15, "mm x");
    close(
        mm.joint_entropy - p.joint_entropy,
        2.0 / 40.0,
        1e-15,
        "mm xy",
    );
    close(
        p.conditional_entropy_x_given_y,
        p.joint_entropy - p.entropy_y,
        1e-15,
        "chain rule",
    );
    close(
        p.variation_of_information,
        p.joint_entropy - p.mutual_information,
        1e-15,
        "vi",
    );
    // independent table: MI = 0 exactly
    let ind = JointTable::from_probs(2, 3, &[0.1, 0.2, 0.2, 0.1, 0.2, 0.2]).unwrap();
    assert!(
        ind.measures(TableEstimator::PlugIn)
            .unwrap()
            .mutual_information
            < 1e-15
    );
    assert!(JointTable::from_probs(2, 2, &[0.5, 0.5, 0.5, 0.5]).is_err());
    assert!(ind.measures(TableEstimator::MillerMadow).is_err());
}
