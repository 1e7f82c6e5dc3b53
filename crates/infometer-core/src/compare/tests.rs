//! Tests of the paired comparison: closed forms, brute-force twins of each statistic, symmetry, and scipy where a peers venv exists.

use super::*;
use crate::calibration;

/// A seeded corpus: per document, tokens as (nll_a, nll_b, conf_a, conf_b, correct_a, correct_b).
type Doc = Vec<TokenPair>;

fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

fn corpus(docs: usize, seed: u64, shift: f64) -> Vec<Doc> {
    let mut s = seed;
    (0..docs)
        .map(|_| {
            let len = 1 + (lcg(&mut s) * 30.0) as usize;
            let doc_effect = lcg(&mut s) - 0.5;
            (0..len)
                .map(|_| {
                    let b = 0.5 + 3.0 * lcg(&mut s);
                    let a = (b + shift + doc_effect + 0.3 * (lcg(&mut s) - 0.5)).max(0.0);
                    let (ca, cb) = (lcg(&mut s), lcg(&mut s));
                    TokenPair {
                        nll_a: a,
                        nll_b: b,
                        brier_a: 2.0 * lcg(&mut s),
                        brier_b: 2.0 * lcg(&mut s),
                        conf_a: ca,
                        conf_b: cb,
                        correct_a: lcg(&mut s) < ca,
                        correct_b: lcg(&mut s) < cb,
                    }
                })
                .collect()
        })
        .collect()
}

fn units(docs: &[Doc], bins: usize) -> PairedUnits {
    let mut u = PairedUnits::documents(bins).unwrap();
    for d in docs {
        u.start_unit();
        for t in d {
            u.add_token(t).unwrap();
        }
    }
    u
}

fn swapped(docs: &[Doc]) -> Vec<Doc> {
    docs.iter()
        .map(|d| {
            d.iter()
                .map(|t| TokenPair {
                    nll_a: t.nll_b,
                    nll_b: t.nll_a,
                    brier_a: t.brier_b,
                    brier_b: t.brier_a,
                    conf_a: t.conf_b,
                    conf_b: t.conf_a,
                    correct_a: t.correct_b,
                    correct_b: t.correct_a,
                })
                .collect()
        })
        .collect()
}

fn opts(b: usize, method: CiMethod) -> CompareOptions {
    CompareOptions {
        resamples: b,
        seed: 11,
        level: 0.95,
        method,
        resampling: Resampling::Units,
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// One check per metric: the estimate against a direct computation over the token lists.
fn check_point(docs: &[Doc], c: &Comparison) {
    let toks: Vec<&TokenPair> = docs.iter().flatten().collect();
    let n = toks.len() as f64;
    let mean = |f: &dyn Fn(&TokenPair) -> f64| toks.iter().map(|t| f(t)).sum::<f64>() / n;
    let dnll = mean(&|t| t.nll_a) - mean(&|t| t.nll_b);
    let get = |m| c.metric(m).unwrap().estimate;
    assert!(close(get(CompareMetric::DeltaNll), dnll, 1e-12));
    assert!(close(
        get(CompareMetric::PerplexityRatio),
        dnll.exp(),
        1e-12
    ));
    let dbrier = mean(&|t| t.brier_a) - mean(&|t| t.brier_b);
    assert!(close(get(CompareMetric::DeltaBrier), dbrier, 1e-12));
    // ECE twin: the calibration module, once per model
    let ece = |conf: Vec<f64>, ok: Vec<bool>| calibration(&conf, &ok, 10).unwrap().ece;
    let ea = ece(
        toks.iter().map(|t| t.conf_a).collect(),
        toks.iter().map(|t| t.correct_a).collect(),
    );
    let eb = ece(
        toks.iter().map(|t| t.conf_b).collect(),
        toks.iter().map(|t| t.correct_b).collect(),
    );
    assert!(close(get(CompareMetric::DeltaEce), ea - eb, 1e-12));
}

#[test]
fn point_estimates_match_direct_sums() {
    for seed in 1..6 {
        let docs = corpus(25, seed, 0.1);
        let c = compare(&units(&docs, 10), &opts(199, CiMethod::Bca)).unwrap();
        check_point(&docs, &c);
        assert_eq!(c.n_units, 25);
        for m in &c.metrics {
            assert!(m.ci.0 <= m.estimate && m.estimate <= m.ci.1, "{m:?}");
        }
    }
}

#[test]
fn identical_systems_give_zero_and_p_one() {
    let docs: Vec<Doc> = corpus(30, 3, 0.0)
        .into_iter()
        .map(|d| {
            d.into_iter()
                .map(|t| TokenPair {
                    nll_a: t.nll_b,
                    brier_a: t.brier_b,
                    conf_a: t.conf_b,
                    correct_a: t.correct_b,
                    ..t
                })
                .collect()
        })
        .collect();
    for method in [CiMethod::Percentile, CiMethod::Bca] {
        let c = compare(&units(&docs, 10), &opts(499, method)).unwrap();
        for m in &c.metrics {
            let zero = if m.metric == CompareMetric::PerplexityRatio {
                1.0
            } else {
                0.0
            };
            assert_eq!(m.estimate, zero, "{m:?}");
            assert_eq!(m.ci, (zero, zero), "{m:?}");
        }
        assert_eq!(c.sign_flip.p_value, 1.0);
        assert_eq!(c.delta_method.se, 0.0);
        assert_eq!(c.delta_method.design_effect, None);
        // few documents: exact test, also p = 1
        let c = compare(&units(&docs[..8], 10), &opts(99, method)).unwrap();
        assert!(c.sign_flip.exact);
        assert_eq!(c.sign_flip.p_value, 1.0);
    }
}

#[test]
fn swapping_the_models_flips_every_sign() {
    let docs = corpus(40, 5, 0.05);
    for method in [CiMethod::Percentile, CiMethod::Bca] {
        let ab = compare(&units(&docs, 10), &opts(999, method)).unwrap();
        let ba = compare(&units(&swapped(&docs), 10), &opts(999, method)).unwrap();
        for (x, y) in ab.metrics.iter().zip(&ba.metrics) {
            if x.metric == CompareMetric::PerplexityRatio {
                assert!(close(x.estimate, 1.0 / y.estimate, 1e-12));
                assert!(close(x.ci.0, 1.0 / y.ci.1, 1e-9), "{x:?} {y:?}");
                assert!(close(x.ci.1, 1.0 / y.ci.0, 1e-9), "{x:?} {y:?}");
            } else {
                assert_eq!(x.estimate, -y.estimate);
                assert!(close(x.ci.0, -y.ci.1, 1e-9), "{x:?} {y:?}");
                assert!(close(x.ci.1, -y.ci.0, 1e-9), "{x:?} {y:?}");
                assert!(close(x.se, y.se, 1e-9));
            }
        }
        assert_eq!(ab.sign_flip.p_value, ba.sign_flip.p_value);
        assert!(close(ab.delta_method.se, ba.delta_method.se, 1e-12));
    }
}

#[test]
fn document_order_changes_nothing_analytic() {
    let docs = corpus(18, 9, 0.02);
    let mut rev = docs.clone();
    rev.reverse();
    let a = compare(&units(&docs, 10), &opts(199, CiMethod::Bca)).unwrap();
    let b = compare(&units(&rev, 10), &opts(199, CiMethod::Bca)).unwrap();
    for (x, y) in a.metrics.iter().zip(&b.metrics) {
        assert!(close(x.estimate, y.estimate, 1e-12));
    }
    assert!(close(a.delta_method.se, b.delta_method.se, 1e-12));
    assert!(a.sign_flip.exact && b.sign_flip.exact);
    assert_eq!(a.sign_flip.p_value, b.sign_flip.p_value);
}

/// Brute-force twin of the delta method and the exact sign-flip test, from per-document sums.
#[test]
fn delta_method_and_sign_flip_match_brute_force() {
    for seed in 20..26 {
        let docs = corpus(14, seed, 0.03);
        let c = compare(&units(&docs, 4), &opts(99, CiMethod::Percentile)).unwrap();
        let sums: Vec<(f64, f64, f64)> = docs
            .iter()
            .map(|d| {
                (
                    d.iter().map(|t| t.nll_a).sum(),
                    d.iter().map(|t| t.nll_b).sum(),
                    d.len() as f64,
                )
            })
            .collect();
        let n: f64 = sums.iter().map(|s| s.2).sum();
        let delta = sums.iter().map(|s| s.0 - s.1).sum::<f64>() / n;
        let dd = sums.len() as f64;
        let var = dd / (dd - 1.0)
            * sums
                .iter()
                .map(|s| ((s.0 - s.1) - delta * s.2).powi(2))
                .sum::<f64>()
            / (n * n);
        assert!(close(c.delta_method.se, var.sqrt(), 1e-12));
        let z = 1.959963984540054;
        assert!(close(c.delta_method.ci.0, delta - z * var.sqrt(), 1e-9));
        assert!(close(
            c.delta_method.ratio_ci.1,
            (delta + z * var.sqrt()).exp(),
            1e-9
        ));
        // i.i.d. token SE and the design effect
        let diffs: Vec<f64> = docs.iter().flatten().map(|t| t.nll_a - t.nll_b).collect();
        let m = diffs.iter().sum::<f64>() / n;
        let s2 = diffs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        let se_iid = (s2 / n).sqrt();
        assert!(close(c.delta_method.se_iid, se_iid, 1e-9));
        assert!(close(
            c.delta_method.design_effect.unwrap(),
            var.sqrt() / se_iid,
            1e-9
        ));
        // exact sign flip by enumeration
        let d: Vec<f64> = sums.iter().map(|s| s.0 - s.1).collect();
        let t: f64 = d.iter().sum();
        let mut hits = 0;
        for mask in 0..(1u32 << d.len()) {
            let s: f64 = (0..d.len())
                .map(|i| if mask >> i & 1 == 1 { -d[i] } else { d[i] })
                .sum();
            if s.abs() >= t.abs() - 1e-9 {
                hits += 1;
            }
        }
        assert!(c.sign_flip.exact);
        assert_eq!(c.sign_flip.p_value, hits as f64 / (1u64 << d.len()) as f64);
    }
}

#[test]
fn one_token_documents_have_design_effect_one() {
    let docs: Vec<Doc> = corpus(60, 4, 0.0)
        .into_iter()
        .map(|d| d[..1].to_vec())
        .collect();
    let c = compare(&units(&docs, 10), &opts(99, CiMethod::Percentile)).unwrap();
    assert!(close(c.delta_method.design_effect.unwrap(), 1.0, 1e-9));
    assert!(close(c.delta_method.effective_tokens.unwrap(), 60.0, 1e-9));
}

#[test]
fn correlated_documents_have_design_effect_above_one() {
    // a per-document offset makes tokens within a document correlated
    let docs = corpus(40, 8, 0.0);
    let c = compare(&units(&docs, 10), &opts(99, CiMethod::Percentile)).unwrap();
    assert!(
        c.delta_method.design_effect.unwrap() > 2.0,
        "{:?}",
        c.delta_method
    );
    assert!(c.delta_method.effective_tokens.unwrap() < c.n_tokens as f64 / 4.0);
}

#[test]
fn monte_carlo_sign_flip_agrees_with_exact() {
    // 21 documents: random signs; p within Monte Carlo error of the exact count
    let docs = corpus(21, 12, 0.01);
    let u = units(&docs, 4);
    let c = compare(&u, &opts(100_000, CiMethod::Percentile)).unwrap();
    assert!(!c.sign_flip.exact);
    let d: Vec<f64> = docs
        .iter()
        .map(|d| d.iter().map(|t| t.nll_a - t.nll_b).sum())
        .collect();
    let t: f64 = d.iter().sum();
    let mut hits = 0u64;
    for mask in 0..(1u32 << 21) {
        let s: f64 = (0..21)
            .map(|i| if mask >> i & 1 == 1 { -d[i] } else { d[i] })
            .sum();
        hits += u64::from(s.abs() >= t.abs() - 1e-9);
    }
    let exact = hits as f64 / (1u64 << 21) as f64;
    let mc_sd = (exact * (1.0 - exact) / 1e5).sqrt();
    assert!(
        (c.sign_flip.p_value - exact).abs() < 5.0 * mc_sd + 1e-5,
        "{} vs {exact}",
        c.sign_flip.p_value
    );
}

#[test]
fn seeded_and_thread_independent() {
    let docs = corpus(30, 2, 0.05);
    let u = units(&docs, 10);
    let a = compare(&u, &opts(499, CiMethod::Bca)).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = pool.install(|| compare(&u, &opts(499, CiMethod::Bca)).unwrap());
    assert_eq!(a, b);
}

#[test]
fn blocks_of_one_unit_equal_unit_resampling() {
    let docs = corpus(30, 6, 0.05);
    let u = units(&docs, 10);
    let a = compare(&u, &opts(299, CiMethod::Percentile)).unwrap();
    let mut o = opts(299, CiMethod::Percentile);
    o.resampling = Resampling::MovingBlocks { len: 1 };
    let b = compare(&u, &o).unwrap();
    for (x, y) in a.metrics.iter().zip(&b.metrics) {
        assert!(close(x.ci.0, y.ci.0, 1e-12) && close(x.ci.1, y.ci.1, 1e-12));
    }
}

#[test]
fn token_units_warn_and_blocks_widen_intervals() {
    // one long text whose token differences follow an AR(1) with ρ = 0.9
    let mut s = 77u64;
    let mut u = PairedUnits::tokens();
    let mut x = 0.0;
    for _ in 0..4000 {
        let e = (lcg(&mut s) - 0.5) * 2.0;
        x = 0.9 * x + e;
        u.add_token(&TokenPair {
            nll_a: 5.0 + x,
            nll_b: 5.0,
            brier_a: 0.1,
            brier_b: 0.1,
            conf_a: 0.5,
            conf_b: 0.5,
            correct_a: true,
            correct_b: true,
        })
        .unwrap();
    }
    let iid = compare(&u, &opts(499, CiMethod::Percentile)).unwrap();
    assert!(iid.warnings.contains(&CompareWarning::TokenResampling));
    assert!(iid.metric(CompareMetric::DeltaEce).is_none());
    let mut o = opts(499, CiMethod::Percentile);
    o.resampling = Resampling::MovingBlocks { len: 100 };
    let blocks = compare(&u, &o).unwrap();
    assert!(!blocks.warnings.contains(&CompareWarning::TokenResampling));
    let width = |c: &Comparison| {
        let m = c.metric(CompareMetric::DeltaNll).unwrap();
        m.ci.1 - m.ci.0
    };
    // AR(1) with ρ = 0.9: the long-run SD is √((1 + ρ)/(1 − ρ)) ≈ 4.4 times the i.i.d. one
    assert!(
        width(&blocks) > 2.5 * width(&iid),
        "{} vs {}",
        width(&blocks),
        width(&iid)
    );
    assert!(blocks.delta_method.design_effect.unwrap() > 2.5);
}

#[test]
fn bad_input_is_refused() {
    let docs = corpus(10, 1, 0.0);
    let u = units(&docs, 10);
    for b in [0, MAX_RESAMPLES + 1] {
        assert!(matches!(
            compare(&u, &opts(b, CiMethod::Bca)),
            Err(CoreError::InvalidParameter {
                name: "resamples",
                ..
            })
        ));
    }
    let mut o = opts(9, CiMethod::Bca);
    o.level = 1.0;
    assert!(matches!(
        compare(&u, &o),
        Err(CoreError::InvalidParameter { name: "level", .. })
    ));
    o.level = 0.9;
    o.resampling = Resampling::MovingBlocks { len: 6 };
    assert!(matches!(
        compare(&u, &o),
        Err(CoreError::InvalidParameter {
            name: "block length",
            ..
        })
    ));
    let one = units(&docs[..1], 10);
    assert!(matches!(
        compare(&one, &opts(9, CiMethod::Bca)),
        Err(CoreError::TooFewUnits {
            got: 1,
            needed: 2,
            ..
        })
    ));
    // every token masked: documents started, none scored
    let mut empty = PairedUnits::documents(10).unwrap();
    empty.start_unit();
    empty.start_unit();
    assert_eq!(
        compare(&empty, &opts(9, CiMethod::Bca)),
        Err(CoreError::NoValidTokens)
    );
    assert!(PairedUnits::documents(0).is_err());
    assert!(PairedUnits::documents(MAX_BINS + 1).is_err());
    assert!(PairedUnits::documents(MAX_BINS).is_ok());
    let mut t = docs[0][0];
    t.nll_a = f64::INFINITY;
    assert!(matches!(
        empty.add_token(&t),
        Err(CoreError::NonFinite { .. })
    ));
    t.nll_a = -0.5;
    assert!(matches!(
        empty.add_token(&t),
        Err(CoreError::OutOfDomain { .. })
    ));
    t.nll_a = 0.5;
    t.conf_b = 1.5;
    assert!(matches!(
        empty.add_token(&t),
        Err(CoreError::InvalidProbability { .. })
    ));
    assert_eq!(empty.n_tokens(), 0);
    // bytes given for one document and not the other
    let mut u = units(&docs[..3], 10);
    u.set_bytes(100).unwrap();
    assert!(matches!(
        compare(&u, &opts(9, CiMethod::Bca)),
        Err(CoreError::OutOfDomain { .. })
    ));
}

#[test]
fn bits_per_byte_with_bytes() {
    let docs = corpus(12, 4, 0.2);
    let mut u = PairedUnits::documents(10).unwrap();
    let mut bytes = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        u.start_unit();
        for t in d {
            u.add_token(t).unwrap();
        }
        u.set_bytes(4 * d.len() as u64 + i as u64).unwrap();
        bytes.push(4 * d.len() as u64 + i as u64);
    }
    let c = compare(&u, &opts(99, CiMethod::Bca)).unwrap();
    let a: Vec<f64> = docs
        .iter()
        .map(|d| d.iter().map(|t| t.nll_a).sum())
        .collect();
    let b: Vec<f64> = docs
        .iter()
        .map(|d| d.iter().map(|t| t.nll_b).sum())
        .collect();
    let want = bits_per_byte_docs(&a, &bytes).unwrap() - bits_per_byte_docs(&b, &bytes).unwrap();
    let got = c.metric(CompareMetric::DeltaBitsPerByte).unwrap().estimate;
    assert!(close(got, want, 1e-12));
}

/// lm-evaluation-harness's aggregates on a fixture, computed here from their formulas in
/// `lm_eval/api/metrics.py`:
/// `weighted_perplexity(items) = math.exp(-weighted_mean(items))`,
/// `weighted_mean(items) = sum(a for a, b in items) / sum(b for a, b in items)`,
/// `bits_per_byte(items) = -weighted_mean(items) / math.log(2)`,
/// `mean_stderr(arr) = sample_stddev(arr) / math.sqrt(len(arr))` with
/// `sample_stddev = sqrt(sum((x - mu) ** 2) / (len(arr) - 1))`.
#[test]
fn lm_evaluation_harness_aggregates() {
    // (loglikelihood, words, bytes) of three documents
    let items = [(-12.5f64, 5u64, 23u64), (-30.25, 11, 61), (-4.0, 2, 9)];
    let nll: Vec<f64> = items.iter().map(|i| -i.0).collect();
    let words: Vec<u64> = items.iter().map(|i| i.1).collect();
    let bytes: Vec<u64> = items.iter().map(|i| i.2).collect();
    // exp(46.75 / 18), exp(46.75 / 93), 46.75 / 93 / ln 2
    assert!(close(
        weighted_perplexity(&nll, &words).unwrap(),
        (46.75f64 / 18.0).exp(),
        1e-14
    ));
    assert!(close(
        weighted_perplexity(&nll, &bytes).unwrap(),
        (46.75f64 / 93.0).exp(),
        1e-14
    ));
    assert!(close(
        bits_per_byte_docs(&nll, &bytes).unwrap(),
        46.75 / 93.0 / std::f64::consts::LN_2,
        1e-14
    ));
    // per-document accuracies 1, 0, 1: mean 2/3, sample SD √(1/3), SE √(1/9)
    assert!(close(
        mean_stderr(&[1.0, 0.0, 1.0]).unwrap(),
        1.0 / 3.0,
        1e-14
    ));
    assert!(mean_stderr(&[1.0]).is_err());
    assert!(weighted_perplexity(&nll, &[0, 0, 0]).is_err());
}

/// scipy's `stats.permutation_test(..., permutation_type='samples')` and
/// `stats.bootstrap(..., paired=True, method='BCa')`, where a Python with scipy exists
/// (`INFOMETER_PEERS_PYTHON`, or the peers venv under /tmp); skipped otherwise.
#[test]
fn agrees_with_scipy_where_available() {
    let python = std::env::var("INFOMETER_PEERS_PYTHON").ok().or_else(|| {
        ["/tmp/peers-venv/bin/python", "/tmp/torch-venv/bin/python"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .map(String::from)
    });
    let Some(python) = python else {
        eprintln!("skipped: no Python with scipy (set INFOMETER_PEERS_PYTHON)");
        return;
    };
    let docs = corpus(16, 31, 0.04);
    let a: Vec<f64> = docs
        .iter()
        .map(|d| d.iter().map(|t| t.nll_a).sum())
        .collect();
    let b: Vec<f64> = docs
        .iter()
        .map(|d| d.iter().map(|t| t.nll_b).sum())
        .collect();
    let n: Vec<f64> = docs.iter().map(|d| d.len() as f64).collect();
    let script = format!(
        "import numpy as np, scipy.stats as st\n\
         a=np.array({a:?}); b=np.array({b:?}); n=np.array({n:?})\n\
         f=lambda x,y,m,axis=-1: (x.sum(axis)-y.sum(axis))/m.sum(axis)\n\
         p=st.permutation_test((a,b),lambda x,y,axis=-1:(x-y).sum(axis),permutation_type='samples',n_resamples=np.inf,vectorized=True).pvalue\n\
         r=st.bootstrap((a,b,n),f,paired=True,vectorized=True,method='BCa',n_resamples=40000,random_state=np.random.default_rng(1)).confidence_interval\n\
         print(p, r.low, r.high)\n"
    );
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(&script)
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        eprintln!("skipped: {python} could not run scipy");
        return;
    };
    let v: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let c = compare(&units(&docs, 10), &opts(40_000, CiMethod::Bca)).unwrap();
    assert!(c.sign_flip.exact);
    assert!(
        close(c.sign_flip.p_value, v[0], 1e-12),
        "{} vs {}",
        c.sign_flip.p_value,
        v[0]
    );
    let m = c.metric(CompareMetric::DeltaNll).unwrap();
    let width = m.ci.1 - m.ci.0;
    assert!(
        (m.ci.0 - v[1]).abs() < 0.05 * width,
        "{:?} vs {:?}",
        m.ci,
        &v[1..]
    );
    assert!(
        (m.ci.1 - v[2]).abs() < 0.05 * width,
        "{:?} vs {:?}",
        m.ci,
        &v[1..]
    );
}
