//! Tests of the ensemble decomposition: closed forms, identities, a Dirichlet ground truth and a brute-force twin in linear space over all member pairs.

use super::*;
use crate::{Distribution, renyi_entropy};

fn lcg(s: &mut u64) -> f64 {
    *s = s
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*s >> 11) as f64 / (1u64 << 53) as f64
}

fn logits(m: usize, n: usize, v: usize, seed: u64, spread: f64) -> Vec<Vec<f64>> {
    let mut s = seed;
    let base: Vec<f64> = (0..n * v).map(|_| 4.0 * lcg(&mut s) - 2.0).collect();
    (0..m)
        .map(|_| {
            base.iter()
                .map(|b| b + spread * (lcg(&mut s) - 0.5))
                .collect()
        })
        .collect()
}

fn run(members: &[Vec<f64>], v: usize) -> EnsembleMeasures {
    let rows = members.iter().map(|x| Rows::new(x, v).unwrap()).collect();
    Ensemble::new(rows).unwrap().run().unwrap()
}

/// The twin: softmax in linear space, p̄ as a plain mean, EPKL over all M² ordered pairs.
fn twin(members: &[Vec<f64>], v: usize, row: usize) -> [f64; 8] {
    let mm = members.len() as f64;
    let ps: Vec<Vec<f64>> = members
        .iter()
        .map(|x| {
            let r = &x[row * v..(row + 1) * v];
            let mx = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = r.iter().map(|a| (a - mx).exp()).sum();
            r.iter().map(|a| (a - mx).exp() / z).collect()
        })
        .collect();
    let pbar: Vec<f64> = (0..v)
        .map(|c| ps.iter().map(|p| p[c]).sum::<f64>() / mm)
        .collect();
    let h = |p: &[f64]| {
        -p.iter()
            .filter(|&&x| x > 0.0)
            .map(|x| x * x.ln())
            .sum::<f64>()
    };
    let kl = |p: &[f64], q: &[f64]| {
        p.iter()
            .zip(q)
            .filter(|(a, _)| **a > 0.0)
            .map(|(a, b)| a * (a / b).ln())
            .sum::<f64>()
    };
    let total = h(&pbar);
    let alea = ps.iter().map(|p| h(p)).sum::<f64>() / mm;
    let mi = ps.iter().map(|p| kl(p, &pbar)).sum::<f64>() / mm;
    let rmi = ps.iter().map(|p| kl(&pbar, p)).sum::<f64>() / mm;
    let mut epkl = 0.0;
    for p in &ps {
        for q in &ps {
            epkl += kl(p, q);
        }
    }
    epkl /= mm * mm;
    let maxp = pbar.iter().cloned().fold(0.0, f64::max);
    let renyi = (v as f64).ln() - pbar.iter().map(|p| p.sqrt()).sum::<f64>().ln() / 0.5;
    let bc: f64 = pbar.iter().map(|p| (p / v as f64).sqrt()).sum();
    [
        total,
        alea,
        mi,
        rmi,
        epkl,
        maxp,
        renyi,
        2.0 * bc.min(1.0).acos(),
    ]
}

fn check(m: &EnsembleMeasures, i: usize, want: [f64; 8], tol: f64) {
    let got = [
        m.total[i],
        m.aleatoric[i],
        m.mutual_information[i],
        m.rmi[i],
        m.epkl[i],
        m.max_prob[i],
        m.renyi_to_uniform[i],
        m.fisher_rao_to_uniform[i],
    ];
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "measure {k} row {i}: {g} vs {w}"
        );
    }
}

#[test]
fn matches_linear_space_twin() {
    for (m, v, spread) in [(2, 7, 1.0), (5, 50, 3.0), (8, 11, 0.2)] {
        let members = logits(m, 20, v, m as u64 * 31 + v as u64, spread);
        let out = run(&members, v);
        for i in 0..20 {
            check(&out, i, twin(&members, v, i), 1e-10);
        }
    }
}

#[test]
fn identities_hold_to_1e12() {
    let members = logits(6, 200, 64, 5, 4.0);
    let out = run(&members, 64);
    for i in 0..200 {
        let (mi, rmi, epkl) = (out.mutual_information[i], out.rmi[i], out.epkl[i]);
        assert!((epkl - (mi + rmi)).abs() < 1e-12, "row {i}");
        assert!(
            (out.total[i] - (out.aleatoric[i] + mi)).abs() < 1e-12,
            "row {i}"
        );
        assert!(mi >= 0.0 && mi <= 6f64.ln() + 1e-12);
    }
}

#[test]
fn identical_members_have_no_epistemic_part() {
    for m in [2, 3, 7] {
        let one = logits(1, 30, 17, 9, 0.0).remove(0);
        let members = vec![one.clone(); m];
        let out = run(&members, 17);
        for i in 0..30 {
            assert_eq!(out.mutual_information[i], 0.0);
            assert_eq!(out.epkl[i], 0.0);
            assert_eq!(out.rmi[i], 0.0);
        }
    }
}

#[test]
fn disagreeing_one_hot_members() {
    let inf = f64::NEG_INFINITY;
    let members = vec![vec![5.0, inf, inf], vec![inf, 5.0, inf]];
    let out = run(&members, 3);
    assert!((out.mutual_information[0] - 2f64.ln()).abs() < 1e-15);
    assert!((out.total[0] - 2f64.ln()).abs() < 1e-15);
    assert_eq!(out.aleatoric[0], 0.0);
    assert_eq!(out.epkl[0], f64::INFINITY);
    assert_eq!(out.rmi[0], f64::INFINITY);
    let s = out.summary().unwrap();
    assert_eq!(s.infinite_epkl, 1);
    assert_eq!(s.epkl, f64::INFINITY);
}

#[test]
fn dirichlet_ground_truth() {
    use rand::SeedableRng;
    use rand_distr::{Distribution as _, Gamma};
    use statrs::function::gamma::digamma;
    let alpha = [0.5, 1.0, 2.0, 3.5];
    let a0: f64 = alpha.iter().sum();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let m = 3000;
    let members: Vec<Vec<f64>> = (0..m)
        .map(|_| {
            let g: Vec<f64> = alpha
                .iter()
                .map(|&a| Gamma::new(a, 1.0).unwrap().sample(&mut rng))
                .collect();
            let s: f64 = g.iter().sum();
            g.iter().map(|x| (x / s).ln()).collect()
        })
        .collect();
    // E[H(p)] for p ~ Dir(α), and H of the mean α/α₀
    let e_h = digamma(a0 + 1.0) - alpha.iter().map(|a| a / a0 * digamma(a + 1.0)).sum::<f64>();
    let h_mean = -alpha.iter().map(|a| a / a0 * (a / a0).ln()).sum::<f64>();
    let exact = h_mean - e_h;
    let rows: Vec<Rows<'_, f64>> = members.iter().map(|x| Rows::new(x, 4).unwrap()).collect();
    let e = Ensemble::new(rows).unwrap();
    let s = e.run().unwrap().summary().unwrap();
    let j = e.jackknife().unwrap();
    assert!(j.mi_se > 0.0 && j.mi_se < 0.02, "{j:?}");
    assert!(
        (j.mi_bias_corrected - exact).abs() < 4.0 * j.mi_se,
        "MI {} (corrected {}) vs exact {exact}, se {}",
        s.mutual_information,
        j.mi_bias_corrected,
        j.mi_se
    );
    assert!((s.aleatoric - e_h).abs() < 4.0 * j.total_se.max(j.mi_se) + 0.02);
}

#[test]
fn logit_only_measures_match_their_definitions() {
    let members = logits(3, 10, 9, 77, 2.0);
    let out = run(&members, 9);
    for i in 0..10 {
        let t = twin(&members, 9, i);
        let pbar = Distribution::from_probs(&{
            // the twin's p̄ renormalised to guard rounding
            let ps: Vec<f64> = (0..9)
                .map(|c| {
                    members
                        .iter()
                        .map(|x| {
                            let r = &x[i * 9..(i + 1) * 9];
                            let z: f64 = r.iter().map(|a| a.exp()).sum();
                            r[c].exp() / z
                        })
                        .sum::<f64>()
                        / 3.0
                })
                .collect();
            let s: f64 = ps.iter().sum();
            ps.into_iter().map(|p| p / s).collect::<Vec<_>>()
        })
        .unwrap();
        let want = 9f64.ln() - renyi_entropy(&pbar, 0.5).unwrap();
        assert!((out.renyi_to_uniform[i] - want).abs() < 1e-10);
        assert!((out.max_prob[i] - t[5]).abs() < 1e-12);
    }
    // α = 1 is the KL to uniform, ln V − H[p̄]
    let rows = members.iter().map(|x| Rows::new(x, 9).unwrap()).collect();
    let one = Ensemble::new(rows).unwrap().renyi_alpha(1.0).run().unwrap();
    assert!((one.renyi_to_uniform[0] - (9f64.ln() - one.total[0])).abs() < 1e-14);
    // a very large α: Σ p̄^α underflows in linear space, but D_α tends to ln(V · max p̄)
    let rows = members.iter().map(|x| Rows::new(x, 9).unwrap()).collect();
    let big = Ensemble::new(rows).unwrap().renyi_alpha(1e6).run().unwrap();
    for i in 0..10 {
        let limit = (9.0 * big.max_prob[i]).ln();
        assert!(
            (big.renyi_to_uniform[i] - limit).abs() < 1e-5,
            "{} vs {limit}",
            big.renyi_to_uniform[i]
        );
    }
    // uniform p̄: distance 0
    let flat = vec![vec![0.0; 9]; 2];
    let u = run(&flat, 9);
    assert!(u.fisher_rao_to_uniform[0].abs() < 1e-6 && u.renyi_to_uniform[0].abs() < 1e-14);
}

#[test]
fn temperature_and_mask() {
    let members = logits(3, 6, 5, 3, 1.0);
    let halved: Vec<Vec<f64>> = members
        .iter()
        .map(|x| x.iter().map(|a| a / 2.0).collect())
        .collect();
    let rows = members.iter().map(|x| Rows::new(x, 5).unwrap()).collect();
    let mask = [true, false, true, true, false, true];
    let t = Ensemble::new(rows)
        .unwrap()
        .temperature(2.0)
        .mask(&mask)
        .run()
        .unwrap();
    let h = run(&halved, 5);
    for i in 0..6 {
        if mask[i] {
            assert!((t.mutual_information[i] - h.mutual_information[i]).abs() < 1e-14);
        } else {
            assert!(t.total[i].is_nan());
        }
    }
    assert_eq!(t.summary().unwrap().n_tokens, 4);
    let none = [false; 6];
    let rows = members.iter().map(|x| Rows::new(x, 5).unwrap()).collect();
    let e = Ensemble::new(rows).unwrap().mask(&none).run().unwrap();
    assert_eq!(e.summary(), Err(CoreError::NoValidTokens));
}

#[test]
fn bad_input_is_refused() {
    let members = logits(2, 4, 5, 3, 1.0);
    let one = vec![Rows::new(&members[0], 5).unwrap()];
    assert!(matches!(
        Ensemble::new(one),
        Err(CoreError::TooFewUnits {
            got: 1,
            needed: 2,
            ..
        })
    ));
    let short = &members[1][..15];
    let e = Ensemble::new(vec![
        Rows::new(&members[0], 5).unwrap(),
        Rows::new(short, 5).unwrap(),
    ]);
    assert!(matches!(e, Err(CoreError::InMember { member: 1, .. })));
    let wide = Rows::new(&members[1][..16], 4).unwrap();
    let e = Ensemble::new(vec![
        Rows::new(&members[0][..16], 4).unwrap(),
        wide,
        Rows::new(&members[1][..20], 5).unwrap(),
    ]);
    assert!(matches!(e, Err(CoreError::InMember { member: 2, .. })));
    let mut bad = members[1].clone();
    bad[7] = f64::NAN;
    let rows = vec![
        Rows::new(&members[0], 5).unwrap(),
        Rows::new(&bad, 5).unwrap(),
    ];
    let err = Ensemble::new(rows).unwrap().run().unwrap_err();
    match &err {
        CoreError::InMember { member: 1, error } => assert!(matches!(
            **error,
            CoreError::NonFinite { what: "logits", index: 7, value } if value.is_nan()
        )),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("member 1: non-finite value NaN in logits at index 7"),
        "{err}"
    );
    let rows = vec![
        Rows::new(&members[0], 5).unwrap(),
        Rows::new(&members[1], 5).unwrap(),
    ];
    let e = Ensemble::new(rows).unwrap();
    assert!(matches!(
        e.jackknife(),
        Err(CoreError::TooFewUnits { needed: 3, .. })
    ));
    assert!(e.clone().renyi_alpha(0.0).run().is_err());
    assert!(e.clone().temperature(0.0).run().is_err());
    assert!(e.mask(&[true]).run().is_err());
}
