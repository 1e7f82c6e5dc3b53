//! Property tests (proptest): bounds, identities, invariances, and the fused kernel against its brute-force twin.

mod common;
use common::*;
use infometer_core::*;
use proptest::prelude::*;

fn logits_rows(
    max_rows: usize,
    max_v: usize,
) -> impl Strategy<Value = (usize, Vec<f64>, Vec<f64>)> {
    (1..=max_v, 1..=max_rows).prop_flat_map(|(v, r)| {
        (
            Just(v),
            prop::collection::vec(-30.0..30.0f64, v * r),
            prop::collection::vec(-30.0..30.0f64, v * r),
        )
    })
}

fn check_fused_against_naive(
    v: usize,
    x: &[f64],
    y: &[f64],
    t: f64,
    tol: f64,
    m: &TokenMeasures,
    labels: &[i64],
) {
    for i in 0..x.len() / v {
        let (lse, h, lp) = naive_row(&x[i * v..(i + 1) * v], t);
        let (_, hq, lq) = naive_row(&y[i * v..(i + 1) * v], t);
        close(
            m.reference_entropy.as_ref().unwrap()[i],
            hq,
            tol,
            "reference entropy",
        );
        close(m.log_partition[i], lse, tol * lse.abs().max(1.0), "lse");
        close(m.entropy[i], h, tol, "entropy");
        close(
            m.nll.as_ref().unwrap()[i],
            -lp[labels[i] as usize],
            tol,
            "nll",
        );
        close(
            m.kl_pq.as_ref().unwrap()[i],
            naive_kl(&lp, &lq),
            tol,
            "kl_pq",
        );
        close(
            m.kl_qp.as_ref().unwrap()[i],
            naive_kl(&lq, &lp),
            tol,
            "kl_qp",
        );
        close(m.js.as_ref().unwrap()[i], naive_js(&lp, &lq), tol, "js");
        let top = lp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        close(m.top1_prob[i], top.exp(), tol, "top1");
        let p2: f64 = lp.iter().map(|l| (2.0 * l).exp()).sum();
        close(
            m.brier.as_ref().unwrap()[i],
            p2 - 2.0 * lp[labels[i] as usize].exp() + 1.0,
            tol,
            "brier",
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn fused_f64_equals_brute_force((v, x, y) in logits_rows(5, 70), t in 0.3..3.0f64) {
        let n = x.len() / v;
        let labels: Vec<i64> = (0..n).map(|i| (i * 7 % v) as i64).collect();
        let m = Analyze::new(Rows::new(&x, v).unwrap()).labels(&labels).reference(Rows::new(&y, v).unwrap()).temperature(t).run().unwrap();
        check_fused_against_naive(v, &x, &y, t, TOL_F64, &m, &labels);
    }

    #[test]
    fn fused_f32_within_1e5_of_f64((v, x, y) in logits_rows(4, 300)) {
        let n = x.len() / v;
        let x32: Vec<f32> = x.iter().map(|a| *a as f32).collect();
        let y32: Vec<f32> = y.iter().map(|a| *a as f32).collect();
        let xw: Vec<f64> = x32.iter().map(|a| *a as f64).collect();
        let yw: Vec<f64> = y32.iter().map(|a| *a as f64).collect();
        let labels: Vec<i64> = (0..n).map(|i| (i * 3 % v) as i64).collect();
        let m = Analyze::new(Rows::new(&x32, v).unwrap()).labels(&labels).reference(Rows::new(&y32, v).unwrap()).run().unwrap();
        check_fused_against_naive(v, &xw, &yw, 1.0, TOL_F32, &m, &labels);
    }

    #[test]
    fn bounds_and_identities((v, x, y) in logits_rows(3, 50)) {
        let p = Distribution::from_logits(&x[..v]).unwrap();
        let q = Distribution::from_logits(&y[..v]).unwrap();
        let h = entropy(&p);
        prop_assert!(h >= 0.0 && h <= (v as f64).ln() + 1e-12);
        let kl = kl_divergence(&p, &q).unwrap();
        prop_assert!(kl >= 0.0);
        prop_assert!(kl_divergence(&p, &p).unwrap().abs() < 1e-12);
        close(cross_entropy_dist(&p, &q).unwrap(), h + kl, 1e-9 * (1.0 + h + kl), "CE = H + KL");
        let js = js_divergence(&p, &q).unwrap();
        prop_assert!((0.0..=2f64.ln()).contains(&js));
        close(js, js_divergence(&q, &p).unwrap(), 1e-12, "JS symmetric");
        let tv = total_variation(&p, &q).unwrap();
        let he = hellinger(&p, &q).unwrap();
        prop_assert!((0.0..=1.0).contains(&tv) && (0.0..=1.0).contains(&he));
        // Pinsker: TV ≤ sqrt(KL/2)
        prop_assert!(tv <= (kl / 2.0).sqrt() + 1e-9);
        // Rényi entropy is non-increasing in α
        let h05 = renyi_entropy(&p, 0.5).unwrap();
        let h2 = renyi_entropy(&p, 2.0).unwrap();
        prop_assert!(h05 + 1e-9 >= h && h + 1e-9 >= h2);
    }

    #[test]
    fn logit_shift_invariance((v, x, _y) in logits_rows(3, 40), c in -1e3..1e3f64) {
        let shifted: Vec<f64> = x.iter().map(|a| a + c).collect();
        let a = Analyze::new(Rows::new(&x, v).unwrap()).run().unwrap();
        let b = Analyze::new(Rows::new(&shifted, v).unwrap()).run().unwrap();
        for (e1, e2) in a.entropy.iter().zip(&b.entropy) {
            close(*e1, *e2, 1e-9, "entropy shift");
        }
        for (t1, t2) in a.top1_index.iter().zip(&b.top1_index) {
            prop_assert_eq!(t1, t2);
        }
    }

    #[test]
    fn perplexity_is_base_invariant_and_streaming_equals_one_shot(nll in prop::collection::vec(0.0..20.0f64, 1..200), split in 0usize..200) {
        let split = split.min(nll.len());
        let one = perplexity(&nll).unwrap();
        let mut acc = PerplexityAccumulator::new();
        acc.extend(&nll[..split]).unwrap();
        let mut other = PerplexityAccumulator::new();
        other.extend(&nll[split..]).unwrap();
        acc.merge(&other);
        close(acc.perplexity().unwrap(), one, 1e-12 * one, "stream = one-shot");
        for base in [Base::E, Base::TWO, Base::TEN, Base::new(3.7).unwrap()] {
            let via = base.value().powf(acc.mean_nll_in(base).unwrap());
            close(via, one, 1e-9 * one, "base invariant");
        }
    }

    #[test]
    fn half_precision_rows_match_their_widened_values((v, x, _y) in logits_rows(3, 64)) {
        let h: Vec<half::f16> = x.iter().map(|a| half::f16::from_f64(*a)).collect();
        let b: Vec<half::bf16> = x.iter().map(|a| half::bf16::from_f64(*a)).collect();
        let hw: Vec<f64> = h.iter().map(|a| f64::from(*a)).collect();
        let bw: Vec<f64> = b.iter().map(|a| f64::from(*a)).collect();
        let mh = Analyze::new(Rows::new(&h, v).unwrap()).run().unwrap();
        let mb = Analyze::new(Rows::new(&b, v).unwrap()).run().unwrap();
        let mhw = Analyze::new(Rows::new(&hw, v).unwrap()).run().unwrap();
        let mbw = Analyze::new(Rows::new(&bw, v).unwrap()).run().unwrap();
        for i in 0..x.len() / v {
            close(mh.entropy[i], mhw.entropy[i], TOL_F32, "f16");
            close(mb.entropy[i], mbw.entropy[i], TOL_F32, "bf16");
        }
    }

    #[test]
    fn table_mi_is_symmetric_and_bounded(cells in prop::collection::vec(0.0..10.0f64, 12)) {
        prop_assume!(cells.iter().sum::<f64>() > 0.0);
        let t = JointTable::from_counts(3, 4, &cells).unwrap().measures(TableEstimator::PlugIn).unwrap();
        let mut tr = vec![0.0; 12];
        for i in 0..3 { for j in 0..4 { tr[j * 3 + i] = cells[i * 4 + j]; } }
        let u = JointTable::from_counts(4, 3, &tr).unwrap().measures(TableEstimator::PlugIn).unwrap();
        close(t.mutual_information, u.mutual_information, 1e-12, "MI symmetric");
        prop_assert!(t.mutual_information <= t.entropy_x.min(t.entropy_y) + 1e-12);
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let v = 997;
    let x: Vec<f32> = (0..v * 64)
        .map(|i| ((i * 2654435761usize) % 1000) as f32 / 37.0)
        .collect();
    let y: Vec<f32> = x.iter().rev().copied().collect();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                Analyze::new(Rows::new(&x, v).unwrap())
                    .reference(Rows::new(&y, v).unwrap())
                    .run()
                    .unwrap()
            })
    };
    assert_eq!(run(1), run(2));
}

proptest! {
    /// The top-1 index is the first index holding the row maximum, wherever the ties fall
    /// (within a lane, across lanes, in the tail), for f64 and f32 rows.
    #[test]
    fn top1_is_the_first_maximum(
        v in 1usize..70,
        cells in prop::collection::vec(0u8..4, 3 * 70),
    ) {
        let x: Vec<f64> = cells[..3 * v].iter().map(|&c| f64::from(c)).collect();
        let x32: Vec<f32> = x.iter().map(|&a| a as f32).collect();
        let a = Analyze::new(Rows::new(&x, v).unwrap()).run().unwrap();
        let b = Analyze::new(Rows::new(&x32, v).unwrap()).run().unwrap();
        for i in 0..3 {
            let row = &x[i * v..(i + 1) * v];
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let want = row.iter().position(|&r| r == m).unwrap();
            prop_assert_eq!(a.top1_index[i] as usize, want);
            prop_assert_eq!(b.top1_index[i] as usize, want);
        }
    }
}

/// One check for the offset family: every per-token measure of `a` equals that of `b` to
/// 1e-12 relative (the log-partition shifted by `c`).
fn check_offset_invariant(a: &TokenMeasures, b: &TokenMeasures, c: f64) {
    let same = |p: f64, q: f64, what: &str| {
        assert!(
            p == q || (p - q).abs() <= 1e-12 * p.abs().max(q.abs()).max(1e-300),
            "{what}: {p} vs {q} (offset {c})"
        );
    };
    let n = a.entropy.len();
    for i in 0..n {
        same(a.entropy[i], b.entropy[i], "entropy");
        same(a.top1_prob[i], b.top1_prob[i], "top-1 probability");
        assert_eq!(a.top1_index[i], b.top1_index[i]);
        same(
            a.nll.as_ref().unwrap()[i],
            b.nll.as_ref().unwrap()[i],
            "nll",
        );
        same(
            a.brier.as_ref().unwrap()[i],
            b.brier.as_ref().unwrap()[i],
            "brier",
        );
        same(
            a.kl_pq.as_ref().unwrap()[i],
            b.kl_pq.as_ref().unwrap()[i],
            "kl_pq",
        );
        same(
            a.kl_qp.as_ref().unwrap()[i],
            b.kl_qp.as_ref().unwrap()[i],
            "kl_qp",
        );
        same(a.js.as_ref().unwrap()[i], b.js.as_ref().unwrap()[i], "js");
        let lse_a = a.log_partition[i] + c;
        assert!(
            (lse_a - b.log_partition[i]).abs() <= 1e-12 * lse_a.abs().max(1.0),
            "log-partition {} + {c} vs {}",
            a.log_partition[i],
            b.log_partition[i]
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Adding a constant to every logit of a row (and of its reference row) changes no
    /// measure. Logits are multiples of 2⁻¹⁰ and offsets multiples of 2²⁰ up to 2⁴⁰, so
    /// x + c is exact in f64 and any difference is the estimator's own rounding.
    #[test]
    fn every_measure_is_invariant_to_a_row_offset(
        v in 1usize..90,
        cells in prop::collection::vec(-30_720i64..30_720, 2 * 3 * 90),
        shift in -(1i64 << 20)..(1i64 << 20),
        t in prop::sample::select(vec![0.5f64, 1.0, 2.0]),
    ) {
        let x: Vec<f64> = cells[..3 * v].iter().map(|&k| k as f64 / 1024.0).collect();
        let y: Vec<f64> = cells[3 * 90..3 * 90 + 3 * v].iter().map(|&k| k as f64 / 1024.0).collect();
        let c = shift as f64 * (1u64 << 20) as f64;
        let xc: Vec<f64> = x.iter().map(|a| a + c).collect();
        let yc: Vec<f64> = y.iter().map(|a| a + c).collect();
        let labels: Vec<i64> = (0..3).map(|i| (i * 5 % v) as i64).collect();
        let run = |x: &[f64], y: &[f64]| {
            Analyze::new(Rows::new(x, v).unwrap())
                .labels(&labels)
                .reference(Rows::new(y, v).unwrap())
                .temperature(t)
                .run()
                .unwrap()
        };
        check_offset_invariant(&run(&x, &y), &run(&xc, &yc), c / t);
    }
}

#[test]
fn nll_of_equal_huge_logits_is_ln_v() {
    // eight equal logits: p = 1/8 whatever their common value, so NLL = ln 8 and Brier = 7/8
    for value in [0.0, 1e16, 1e30, -1e30, 1e300] {
        let x = [value; 8];
        let m = Analyze::new(Rows::new(&x, 8).unwrap())
            .labels(&[3])
            .run()
            .unwrap();
        let nll = m.nll.as_ref().unwrap()[0];
        assert!((nll - 8f64.ln()).abs() < 1e-12, "{value}: NLL {nll}");
        let brier = m.brier.as_ref().unwrap()[0];
        assert!((brier - 7.0 / 8.0).abs() < 1e-12, "{value}: Brier {brier}");
        let d = Distribution::from_logits(&x).unwrap();
        assert!(
            (d.log_probs()[3] + 8f64.ln()).abs() < 1e-12,
            "{value}: {:?}",
            d.log_probs()
        );
        let ce = cross_entropy(
            Rows::new(&x, 8).unwrap(),
            Target::Sparse(&[3]),
            &CrossEntropyOptions::default(),
        )
        .unwrap();
        assert!(
            matches!(ce, Loss::Scalar(l) if (l - 8f64.ln()).abs() < 1e-12),
            "{value}: {ce:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// The row-wise TV, Hellinger and Rényi of two logits tensors against a twin that builds
    /// each row's distributions and sums in probability space.
    #[test]
    fn pair_distances_equal_their_probability_space_twin(
        (v, x, y) in logits_rows(4, 40),
        t in 0.5..2.0f64,
        alpha in prop::sample::select(vec![0.5f64, 1.0, 2.0, 3.5]),
    ) {
        let n = x.len() / v;
        let d = pair_distances(Rows::new(&x, v).unwrap(), Rows::new(&y, v).unwrap(), t, Some(alpha), None).unwrap();
        for i in 0..n {
            let p = Distribution::from_logits_with_temperature(&x[i * v..(i + 1) * v], t).unwrap();
            let q = Distribution::from_logits_with_temperature(&y[i * v..(i + 1) * v], t).unwrap();
            close(d.total_variation[i], total_variation(&p, &q).unwrap(), 1e-12, "tv");
            close(d.hellinger[i], hellinger(&p, &q).unwrap(), 1e-9, "hellinger");
            let naive = if alpha == 1.0 {
                kl_divergence(&p, &q).unwrap()
            } else {
                let s: f64 = p.probs().iter().zip(q.probs()).map(|(a, b)| a.powf(alpha) * b.powf(1.0 - alpha)).sum();
                (s.ln() / (alpha - 1.0)).max(0.0)
            };
            let got = d.renyi.as_ref().unwrap()[i];
            prop_assert!((got - naive).abs() <= 1e-9 * naive.abs().max(1.0), "renyi {} vs {}", got, naive);
            prop_assert!((renyi_divergence(&p, &q, alpha).unwrap() - got).abs() <= 1e-12 * got.abs().max(1.0));
        }
    }
}

#[test]
fn renyi_is_infinite_where_q_vanishes_and_p_does_not() {
    let p = Distribution::from_probs(&[0.5, 0.5]).unwrap();
    let q = Distribution::from_probs(&[1.0, 0.0]).unwrap();
    assert_eq!(renyi_divergence(&p, &q, 2.0).unwrap(), f64::INFINITY);
    assert_eq!(renyi_divergence(&p, &q, 1.0).unwrap(), f64::INFINITY);
    // below order 1 the missing outcome only drops out: −2 ln Σ √(p q) = −2 ln √0.5 = ln 2
    assert!((renyi_divergence(&p, &q, 0.5).unwrap() - 2f64.ln()).abs() < 1e-12);
    assert!(renyi_divergence(&p, &q, 0.0).is_err());
    assert!(renyi_divergence(&p, &q, f64::NAN).is_err());
}
