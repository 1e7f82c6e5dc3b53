//! Each scenario's decision on crafted inputs, and the demo report as an insta snapshot.

use infometer_health::*;

#[test]
fn triage_decisions() {
    let p = triage::TriagePolicy::default();
    assert_eq!(
        triage::triage(&[0.85, 0.08, 0.04, 0.02, 0.01], &p)
            .unwrap()
            .decision,
        triage::Decision::Automate
    );
    assert_eq!(
        triage::triage(&[0.2; 5], &p).unwrap().decision,
        triage::Decision::Defer
    );
    assert!(triage::triage(&[1.0], &p).is_err());
    assert!(triage::triage(&[0.5, 0.6], &p).is_err());
    // the chosen threshold keeps the automated error rate under the target
    let curve = triage::risk_coverage(&triage::synthetic_cohort(1000, 3)).unwrap();
    let c = triage::choose_threshold(&curve, 0.05).unwrap();
    assert!(c.risk <= 0.05 && c.coverage > 0.2);
    // coverage is monotone in the threshold
    assert!(
        curve
            .windows(2)
            .all(|w| w[0].coverage < w[1].coverage && w[0].threshold < w[1].threshold)
    );
}

#[test]
fn rare_terms_flag_only_the_rare_word() {
    let s = rare_terms::surprisal(&[("the", 0.15), ("pneumomediastinum", 0.001)], 8.0).unwrap();
    assert!(!s[0].flagged && s[1].flagged);
    assert!((s[1].bits - 9.965784).abs() < 1e-6);
}

#[test]
fn class_weights_shift_the_gradient_to_the_rare_class() {
    let (l, y) = class_weights::imbalanced_batch(500, 0.05, 1);
    let c = class_weights::compare(&l, &y, 10.0).unwrap();
    assert!(c[1].rare_gradient_share > c[0].rare_gradient_share + 0.2);
    assert!(c[1].rare_loss_share > c[0].rare_loss_share);
}

#[test]
fn ood_notes_score_higher_perplexity() {
    let r = ood::screen(
        &ood::clinical_notes(300, 1),
        &ood::clinical_notes(100, 2),
        &ood::clinical_notes(100, 3),
        &ood::out_of_domain(100, 4),
        0.95,
    )
    .unwrap();
    assert!(
        r.auroc > 0.95 && r.sensitivity > 0.9 && r.false_positive_rate < 0.15,
        "{r:?}"
    );
    assert!((ood::auroc(&[0.0, 1.0], &[2.0, 3.0]) - 1.0).abs() < 1e-15);
    assert!((ood::auroc(&[1.0], &[1.0]) - 0.5).abs() < 1e-15);
}

#[test]
fn drifted_windows_alarm_and_stable_ones_do_not() {
    let (r, w) = drift::simulate(12, 2000, Some(6), 5);
    let d = drift::monitor(&r, &w, 4, 2).unwrap();
    assert!(d.first_alarm.is_some_and(|a| a >= 6), "{:?}", d.first_alarm);
    let (r, w) = drift::simulate(12, 2000, None, 5);
    let d = drift::monitor(&r, &w, 4, 2).unwrap();
    assert_eq!(d.first_alarm, None);
    assert!(drift::monitor(&r, &w, 1, 2).is_err());
}

#[test]
fn nonlinear_biomarker_ranks_first_by_mi_and_last_by_correlation() {
    let (y, m) = biomarkers::synthetic_cohort(400, 9);
    let r = biomarkers::rank(&y, &m, 49, 1).unwrap();
    let k = r.iter().find(|b| b.name == "potassium").unwrap();
    assert_eq!(k.rank_mi, 1);
    assert_eq!(k.rank_correlation, 3);
    assert!(k.pearson_r.abs() < 1e-12 && k.p_value <= 0.05);
}

#[test]
fn pharmacovigilance_signal_and_null() {
    let s = pharmacovigilance::signal(
        "sig",
        pharmacovigilance::Counts {
            a: 60.0,
            b: 1940.0,
            c: 390.0,
            d: 97610.0,
        },
    )
    .unwrap();
    assert!(s.signal && s.ic025 > 0.0 && s.ror_lower > 1.0);
    let n = pharmacovigilance::signal(
        "null",
        pharmacovigilance::Counts {
            a: 50.0,
            b: 4950.0,
            c: 950.0,
            d: 94050.0,
        },
    )
    .unwrap();
    assert!(!n.signal && n.ic025 < 0.0 && n.ror_lower < 1.0);
    // PRR and ROR by hand
    assert!((s.prr - (60.0 / 2000.0) / (390.0 / 98000.0)).abs() < 1e-12);
    assert!(
        pharmacovigilance::signal(
            "zero",
            pharmacovigilance::Counts {
                a: 0.0,
                b: 1.0,
                c: 1.0,
                d: 1.0
            }
        )
        .is_err()
    );
}

#[test]
fn physiology_breath_drives_heart_on_the_classic_rows() {
    let rec = physio::parse(physio::SFI_DATA).unwrap();
    assert_eq!(rec.heart.len(), 34000);
    let c = physio::coupling(&rec, 2349..3550, "classic", 49, 1).unwrap();
    assert!(c.te_breath_to_heart > c.te_heart_to_breath);
    assert!(c.p_breath_to_heart <= 0.05);
    assert!(c.mi > 0.05);
}

#[test]
fn demo_report_snapshot() {
    insta::assert_snapshot!("demo_quick", demo::report(false).unwrap());
}

#[test]
fn reports_display_and_serialize() {
    let t = triage::triage(
        &[0.85, 0.08, 0.04, 0.02, 0.01],
        &triage::TriagePolicy::default(),
    )
    .unwrap();
    assert_eq!(
        t.to_string(),
        "H = 0.856 bits, H/ln K = 0.369, top-1 = 0.850 → Automate"
    );
    let json = serde_json::to_value(&t).unwrap();
    assert_eq!(json["decision"], "Automate");
    let s = pharmacovigilance::signal(
        "p",
        pharmacovigilance::Counts {
            a: 60.0,
            b: 1940.0,
            c: 390.0,
            d: 97610.0,
        },
    )
    .unwrap();
    assert!(s.to_string().ends_with("→ SIGNAL"));
}

#[test]
fn demo_names_each_measure_in_full() {
    // readers who do not know the abbreviations find every measure named at least once
    let r = demo::report(false).unwrap();
    for name in [
        "cross-entropy",
        "perplexity",
        "entropy",
        "Kullback–Leibler divergence",
        "Jensen–Shannon divergence",
        "mutual information",
        "transfer entropy",
        "out of distribution",
    ] {
        assert!(r.contains(name), "{name} is never named in full");
    }
}

/// The brute-force twin of the rank AUROC: every pair, ties half.
fn auroc_pairs(neg: &[f64], pos: &[f64]) -> f64 {
    let mut w = 0.0;
    for p in pos {
        for n in neg {
            w += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    w / (neg.len() * pos.len()) as f64
}

#[test]
fn ood_screen_over_any_scores() {
    let mut s = 3u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for trial in 0..20 {
        // scores on a coarse grid, so ties are common
        let n = 5 + trial * 3;
        let neg: Vec<f64> = (0..n).map(|_| (next() * 8.0).floor()).collect();
        let pos: Vec<f64> = (0..n + 7).map(|_| (next() * 8.0 + 2.0).floor()).collect();
        let a = ood::auroc(&neg, &pos);
        assert!((a - auroc_pairs(&neg, &pos)).abs() < 1e-12, "trial {trial}");
        let cal: Vec<f64> = (0..40).map(|_| next() * 8.0).collect();
        let r = ood::screen_scores(&cal, &neg, &pos, 0.9).unwrap();
        // FPR at 95% TPR, brute force: the largest threshold t with #{pos ≥ t} ≥ 0.95 m
        let mut best = f64::NEG_INFINITY;
        for &t in &pos {
            let tpr = pos.iter().filter(|&&x| x >= t).count() as f64 / pos.len() as f64;
            if tpr >= 0.95 && t > best {
                best = t;
            }
        }
        let fpr = neg.iter().filter(|&&x| x >= best).count() as f64 / neg.len() as f64;
        assert_eq!(r.fpr_at_95_tpr, fpr, "trial {trial}");
        assert!(r.threshold >= 0.0 && r.threshold <= 8.0);
    }
    // +inf is a legal perplexity; NaN, empty sets and bad percentiles are refused by reason
    let r = ood::screen_scores(&[1.0, 2.0], &[1.5], &[f64::INFINITY], 0.5).unwrap();
    assert_eq!(r.auroc, 1.0);
    assert!(matches!(
        ood::screen_scores(&[1.0], &[f64::NAN], &[1.0], 0.5),
        Err(HealthError::NanScore { index: 0, .. })
    ));
    assert!(matches!(
        ood::screen_scores(&[], &[1.0], &[1.0], 0.5),
        Err(HealthError::EmptySet {
            what: "calibration"
        })
    ));
    assert!(matches!(
        ood::screen_scores(&[1.0], &[1.0], &[1.0], 1.0),
        Err(HealthError::OutOfRange {
            name: "percentile",
            ..
        })
    ));
}

#[test]
fn ensemble_triage_defers_disagreement() {
    use infometer_health::ensemble_triage::{compare_rules, risk_coverage, synthetic_cohort};
    // the risk–coverage curve against a brute force: for each k, sort and count afresh
    let score = [0.3, 0.1, 0.3, 0.9, 0.0, 0.5];
    let err = [true, false, false, true, true, false];
    let curve = risk_coverage(&score, &err);
    for k in 1..=6 {
        let mut idx: Vec<usize> = (0..6).collect();
        idx.sort_by(|&a, &b| score[a].partial_cmp(&score[b]).unwrap().then(a.cmp(&b)));
        let e = idx[..k].iter().filter(|&&i| err[i]).count() as f64 / k as f64;
        assert_eq!(curve[k - 1], e);
    }
    let c = synthetic_cohort(600, 0.15, 8, 5, 3).unwrap();
    let r = compare_rules(&c, 0.8).unwrap();
    println!("{r:?}");
    assert_eq!(r.n_ood, 90);
    // MI separates OOD cases (members disagree) from in-distribution ones
    assert!(r.mean_mi_in_vs_ood.1 > 5.0 * r.mean_mi_in_vs_ood.0);
    assert!(r.epistemic.ood_deferred > r.total.ood_deferred);
    assert!(r.epistemic.ood_deferred > 0.9);
    // at full coverage both rules keep every case: the risk is the error rate
    let full = compare_rules(&c, 1.0).unwrap();
    assert_eq!(full.epistemic.risk_at_coverage, full.error_rate);
    assert_eq!(full.total.risk_at_coverage, full.error_rate);
    assert!(compare_rules(&c, 0.0).is_err());
    let mut bad = c.clone();
    bad.ood.pop();
    assert!(compare_rules(&bad, 0.8).is_err());
    let mut bad = c.clone();
    bad.labels[0] = 5;
    assert!(compare_rules(&bad, 0.8).is_err());
    assert!(synthetic_cohort(10, 1.0, 3, 3, 1).is_err());
    assert!(synthetic_cohort(10, 0.1, 1, 3, 1).is_err());
}

#[test]
fn note_model_comparison_matches_direct_perplexities() {
    use infometer_health::model_comparison::compare_note_models;
    let r = compare_note_models(300, 30, 40, 499, 9).unwrap();
    // the twin: each model's corpus perplexity from its per-token NLLs, a ratio of sums
    let a = ood::BigramKn::fit(&ood::clinical_notes(300, 9), 0.75).unwrap();
    let b = ood::BigramKn::fit(&ood::clinical_notes(30, 10), 0.75).unwrap();
    let held = ood::clinical_notes(40, 11);
    let (mut sa, mut sb, mut n) = (0.0, 0.0, 0usize);
    for d in &held {
        let (x, y) = (a.nll(d), b.nll(d));
        sa += x.iter().sum::<f64>();
        sb += y.iter().sum::<f64>();
        n += x.len();
    }
    assert_eq!(r.tokens, n as u64);
    assert!((r.perplexity_a - (sa / n as f64).exp()).abs() < 1e-9);
    assert!((r.perplexity_b - (sb / n as f64).exp()).abs() < 1e-9);
    assert!((r.ratio - r.perplexity_a / r.perplexity_b).abs() < 1e-9);
    assert!(r.ratio_ci.0 <= r.ratio && r.ratio <= r.ratio_ci.1);
    assert!(compare_note_models(10, 10, 1, 99, 1).is_err());
    assert!(compare_note_models(10, 10, 5, 0, 1).is_err());
}
