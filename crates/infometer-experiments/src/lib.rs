//! infometer-experiments: the research experiments behind `cargo xtask experiments` — E1 KSG bias and spread, E2 an estimator benchmark in the style of Beyond Normal, E3 the study guide's pitfalls in numbers, E4 physiological surrogates — as tables, JSON and SVG plots.
//!
//! Every experiment is seeded; `quick` mode runs small versions whose tables are snapshot-tested.

#![warn(missing_docs)]

pub mod svg;
mod tasks;

use infometer_continuous::{
    KsgAlgorithm, KsgConfig, MiEstimator, MiMethod, MiSettings, Samples, ksg_mi,
};
use infometer_core::{
    Analyze, Base, Distribution, PerplexityAccumulator, Rows, js_divergence, kl_divergence,
};
use infometer_neural::{AnyMi, Bound, CriticKind, NeuralConfig, estimate_mi};
use serde_json::{Value, json};

pub use tasks::{Task, benchmark_tasks};

/// A markdown table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Caption.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// GitHub-flavoured markdown.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "**{}**\n\n| {} |\n|{}|\n",
            self.title,
            self.header.join(" | "),
            vec!["---"; self.header.len()].join("|")
        );
        for r in &self.rows {
            s += &format!("| {} |\n", r.join(" | "));
        }
        s
    }
}

/// One experiment's outputs.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Short name (file stem).
    pub name: String,
    /// Tables.
    pub tables: Vec<Table>,
    /// Machine-readable results.
    pub json: Value,
    /// (file name, SVG text).
    pub plots: Vec<(String, String)>,
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// E1: KSG bias and spread against N and k on bivariate Gaussians (Kraskov et al. 2004, figs. 3–4).
pub fn e1_ksg_bias(quick: bool) -> Experiment {
    let ns: &[usize] = if quick {
        &[100, 400]
    } else {
        &[100, 1000, 10_000]
    };
    let ks: &[usize] = if quick { &[1, 4] } else { &[1, 4, 10] };
    let seeds = if quick { 3 } else { 20 };
    let mut rows = Vec::new();
    let mut js = Vec::new();
    let mut series = Vec::new();
    for &rho in &[0.0, 0.5, 0.9] {
        let truth = -0.5 * (1.0f64 - rho * rho).ln();
        let mut line = Vec::new();
        for &n in ns {
            for &k in ks {
                for alg in [KsgAlgorithm::One, KsgAlgorithm::Two] {
                    let est: Vec<f64> = (0..seeds)
                        .map(|s| {
                            let (x, y) = tasks::gauss_pairs(n, 1, rho, 1000 + s);
                            ksg_mi(
                                &x,
                                &y,
                                &KsgConfig {
                                    k,
                                    algorithm: alg,
                                    seed: s,
                                    ..Default::default()
                                },
                            )
                            .expect("valid task")
                        })
                        .collect();
                    let (m, sd) = mean_sd(&est);
                    let a = if alg == KsgAlgorithm::One {
                        "KSG1"
                    } else {
                        "KSG2"
                    };
                    rows.push(vec![
                        format!("{rho}"),
                        n.to_string(),
                        k.to_string(),
                        a.into(),
                        format!("{truth:.4}"),
                        format!("{:+.4}", m - truth),
                        format!("{sd:.4}"),
                    ]);
                    js.push(json!({"rho": rho, "n": n, "k": k, "algorithm": a, "truth": truth, "mean": m, "bias": m - truth, "sd": sd, "seeds": seeds}));
                    if k == 4 && alg == KsgAlgorithm::One {
                        line.push((n as f64, m - truth));
                    }
                }
            }
        }
        series.push((format!("rho = {rho}"), line));
    }
    Experiment {
        name: "e1_ksg_bias".into(),
        tables: vec![Table {
            title: format!(
                "E1. KSG bias (mean − truth) and spread (sd) over {seeds} seeds, bivariate Gaussian, nats"
            ),
            header: ["ρ", "N", "k", "algorithm", "truth", "bias", "sd"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            rows,
        }],
        json: json!(js),
        plots: vec![(
            "e1_ksg_bias.svg".into(),
            svg::line_chart("KSG1 bias at k = 4", "N", "bias (nats)", &series, true),
        )],
    }
}

/// The estimators of E2, by name.
/// "(copula)" marks the copula transform ([`Samples::copula`]) in front of the estimator.
pub const E2_ESTIMATORS: [&str; 9] = [
    "KSG1",
    "KSG1 (copula)",
    "KSG2",
    "KDE",
    "Gaussian",
    "GCMI",
    "MINE",
    "InfoNCE",
    "InfoNCE (copula)",
];

/// The E2 column `name` as an estimator of the one dispatcher ([`AnyMi`]): method, copula,
/// and for the neural bounds the training settings (InfoNCE with the separable critic: 2B
/// critic evaluations per step instead of B², which keeps the full benchmark within minutes).
fn e2_estimator(name: &str, seed: u64, quick: bool) -> Result<AnyMi, String> {
    let (method, copula) = match name {
        "KSG1" => (MiMethod::Ksg1, false),
        "KSG1 (copula)" => (MiMethod::Ksg1, true),
        "KSG2" => (MiMethod::Ksg2, false),
        "KDE" => (MiMethod::Kde, false),
        "Gaussian" => (MiMethod::Gaussian, false),
        "GCMI" => (MiMethod::Gcmi, false),
        "MINE" => (MiMethod::Mine, false),
        "InfoNCE" => (MiMethod::InfoNce, false),
        "InfoNCE (copula)" => (MiMethod::InfoNce, true),
        other => return Err(format!("no E2 column {other:?}")),
    };
    let settings = MiSettings {
        copula,
        seed,
        ..Default::default()
    };
    let critic = if method == MiMethod::InfoNce {
        CriticKind::Separable
    } else {
        CriticKind::Joint
    };
    let neural = if quick {
        NeuralConfig {
            critic,
            batch: 64,
            max_steps: 300,
            eval_every: 100,
            ..Default::default()
        }
    } else {
        NeuralConfig {
            critic,
            ..Default::default()
        }
    };
    AnyMi::new(method, &settings, &neural).map_err(|e| e.to_string())
}

/// One E2 estimate, or the estimator's error message (kept in the JSON, not dropped).
fn e2_estimate(
    name: &str,
    x: &Samples,
    y: &Samples,
    seed: u64,
    quick: bool,
) -> Result<f64, String> {
    let est = e2_estimator(name, seed, quick)?;
    est.estimate(x, y)
        .map(|e| e.nats)
        .map_err(|e| e.to_string())
}

/// E2: estimators against tasks with known MI (Beyond Normal style): mean estimate and sd over seeds.
pub fn e2_benchmark(quick: bool) -> Experiment {
    let n = if quick { 600 } else { 5000 };
    let seeds: u64 = if quick { 1 } else { 3 };
    let tasks = benchmark_tasks();
    let mut rows = Vec::new();
    let mut js = Vec::new();
    let mut err = Vec::new();
    for t in &tasks {
        if !quick {
            eprintln!("  E2 task {}", t.name);
        }
        let mut row = vec![t.name.to_string(), format!("{:.3}", t.truth)];
        let mut err_row = Vec::new();
        for est in E2_ESTIMATORS {
            let mut errors = Vec::new();
            let vals: Vec<f64> = (0..seeds)
                .filter_map(|s| {
                    let (x, y) = (t.sample)(n, 7000 + s);
                    e2_estimate(est, &x, &y, s, quick)
                        .map_err(|e| errors.push(e))
                        .ok()
                })
                .collect();
            if vals.is_empty() {
                row.push("fail".into());
                err_row.push(f64::NAN);
                js.push(
                    json!({"task": t.name, "estimator": est, "truth": t.truth, "failed": true,
                               "errors": errors}),
                );
            } else {
                let (m, sd) = mean_sd(&vals);
                row.push(if seeds > 1 {
                    format!("{m:.3} ± {sd:.3}")
                } else {
                    format!("{m:.3}")
                });
                err_row.push((m - t.truth).abs());
                js.push(json!({"task": t.name, "estimator": est, "truth": t.truth, "mean": m, "sd": sd, "runs": vals.len()}));
            }
        }
        rows.push(row);
        err.push(err_row);
    }
    let mut header = vec!["task".to_string(), "truth".to_string()];
    header.extend(E2_ESTIMATORS.iter().map(|s| s.to_string()));
    let names: Vec<String> = tasks.iter().map(|t| t.name.to_string()).collect();
    let cols: Vec<String> = E2_ESTIMATORS.iter().map(|s| s.to_string()).collect();
    Experiment {
        name: "e2_benchmark".into(),
        tables: vec![Table {
            title: format!(
                "E2. Estimates (nats) on tasks with known MI, N = {n}, {seeds} seed(s); mean ± sd"
            ),
            header,
            rows,
        }],
        json: json!(js),
        plots: vec![(
            "e2_benchmark_error.svg".into(),
            svg::heatmap(
                "E2: |estimate − truth| (nats)",
                &names,
                &cols,
                &err,
                0.0,
                0.5,
            ),
        )],
    }
}

/// E3: what the study guide's reference code gets wrong, by numbers.
pub fn e3_pitfalls(quick: bool) -> Experiment {
    let mut rows = Vec::new();
    // perplexity "in bits" computed as 2^(NLL in nats)
    let nll = 7.3232;
    let mut acc = PerplexityAccumulator::new();
    acc.extend(&[nll; 4]).expect("finite");
    rows.push(vec![
        "perplexity of mean NLL 7.3232 nats".into(),
        format!("{:.2}", acc.perplexity().expect("tokens")),
        format!("{:.2} (2^nats)", 2f64.powf(nll)),
    ]);
    // per-batch averaging
    let (b1, b2) = (vec![1.0; 100], vec![5.0; 2]);
    let mut acc = PerplexityAccumulator::new();
    acc.extend(&b1).expect("finite");
    acc.extend(&b2).expect("finite");
    let per_batch = 0.5 * (1f64.exp() + 5f64.exp());
    rows.push(vec![
        "perplexity of batches (100 tok @ 1.0, 2 tok @ 5.0)".into(),
        format!("{:.3}", acc.perplexity().expect("tokens")),
        format!("{per_batch:.3} (mean of batch PPLs)"),
    ]);
    // the 1e-8 clamp on a near-one-hot 128k row
    let v = 128_000;
    let mut x = vec![-20.0f32; v];
    x[7] = 20.0;
    let m = Analyze::new(Rows::new(&x, v).expect("shape"))
        .run()
        .expect("finite");
    let p = Distribution::from_logits(&x).expect("finite");
    let clamped: f64 = -p
        .probs()
        .iter()
        .map(|&q| {
            let c = q.max(1e-8);
            c * c.ln()
        })
        .sum::<f64>();
    rows.push(vec![
        "entropy of a near-one-hot 128k row (nats)".into(),
        format!("{:.3e}", m.entropy[0]),
        format!("{clamped:.4} (1e-8 clamp)"),
    ]);
    // symmetrised KL labelled JS
    let a = Distribution::from_probs(&[0.5, 0.5, 0.0]).expect("valid");
    let b = Distribution::from_probs(&[0.0, 0.5, 0.5]).expect("valid");
    let sym = 0.5 * (kl_divergence(&a, &b).expect("same") + kl_divergence(&b, &a).expect("same"));
    rows.push(vec![
        "\"JS\" of [.5,.5,0] and [0,.5,.5] (bits)".into(),
        format!(
            "{:.4}",
            Base::TWO.from_nats(js_divergence(&a, &b).expect("same"))
        ),
        format!("{sym} (symmetrised KL)"),
    ]);
    // MINE scored on its training data
    let (xs, ys) = tasks::gauss_pairs(if quick { 600 } else { 2000 }, 1, 0.9806, 5);
    let truth = -0.5 * (1.0f64 - 0.9806 * 0.9806).ln();
    let cfg = NeuralConfig {
        bound: Bound::Mine,
        hidden: vec![64, 32],
        batch: if quick { 64 } else { 256 },
        max_steps: if quick { 400 } else { 3000 },
        eval_every: 100,
        patience: 1000,
        seed: 1,
        ..Default::default()
    };
    if let Ok(e) = estimate_mi(&xs, &ys, &cfg) {
        rows.push(vec![
            format!("MINE, truth {truth:.3} nats"),
            format!("{:.3} (held-out half)", e.estimate),
            format!("{:.3} (scored on training rows)", e.train_estimate),
        ]);
    }
    let json = json!(
        rows.iter()
            .map(|r| json!({"quantity": r[0], "right": r[1], "wrong": r[2]}))
            .collect::<Vec<_>>()
    );
    Experiment {
        name: "e3_pitfalls".into(),
        tables: vec![Table {
            title: "E3. The study guide's mistakes, by numbers".into(),
            header: vec![
                "quantity".into(),
                "infometer".into(),
                "the guide's way".into(),
            ],
            rows,
        }],
        json,
        plots: vec![],
    }
}

/// E4: heart rate and breathing (SFI set B), with the surrogate distributions of both TEs.
pub fn e4_physiology(quick: bool) -> Experiment {
    use infometer_continuous::{TeEmbedding, TeEstimator, transfer_entropy_test};
    let rec =
        infometer_health::physio::parse(infometer_health::physio::SFI_DATA).expect("bundled data");
    let perms = if quick { 19 } else { 200 };
    let (h, b) = (&rec.heart[2349..3550], &rec.breath[2349..3550]);
    let est = TeEstimator::Ksg(KsgConfig::default());
    let e = TeEmbedding::default();
    let mut rows = Vec::new();
    let mut plots = Vec::new();
    let mut js = Vec::new();
    for (label, src, dst, file) in [
        ("breath → heart", b, h, "e4_te_breath_to_heart.svg"),
        ("heart → breath", h, b, "e4_te_heart_to_breath.svg"),
    ] {
        let t = transfer_entropy_test(src, dst, &e, &est, perms, 3).expect("valid series");
        rows.push(vec![
            label.into(),
            format!("{:.4}", t.observed),
            format!("{:.4}", t.null_mean),
            format!("{:.4}", t.null_sd),
            format!("{:.3}", t.p_value),
        ]);
        plots.push((
            file.into(),
            svg::histogram(
                &format!("TE {label}: surrogates (bars) and observed (line)"),
                &t.null,
                t.observed,
                20,
            ),
        ));
        js.push(json!({"direction": label, "observed": t.observed, "null": t.null, "p_value": t.p_value}));
    }
    let (local_table, local_json, local_plot) = e4_local_te(&rec, quick);
    plots.push(local_plot);
    Experiment {
        name: "e4_physiology".into(),
        tables: vec![
            Table {
                title: format!(
                    "E4. Transfer entropy, SFI rows 2350–3550, KSG k = 4, {perms} surrogates (nats)"
                ),
                header: ["direction", "TE", "null mean", "null sd", "p"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                rows,
            },
            local_table,
        ],
        json: json!({"tests": js, "local": local_json}),
        plots,
    }
}

/// E4b: local KSG transfer entropy breath → heart over the recording, as windowed means with
/// moving-block bootstrap intervals, beside the breathing amplitude (SD of chest volume) of
/// each window: the apnoea-related stretches are the windows of irregular breathing.
fn e4_local_te(
    rec: &infometer_health::physio::Recording,
    quick: bool,
) -> (Table, Value, (String, String)) {
    use infometer_continuous::{
        TeEmbedding, TeEstimator, WindowOptions, local_transfer_entropy, local_windows,
    };
    // quick: the first 6000 samples (50 minutes at 2 Hz); full: all 34000 (4.7 hours)
    let n = if quick { 6000 } else { rec.heart.len() };
    let (h, b) = (&rec.heart[..n], &rec.breath[..n]);
    let est = TeEstimator::Ksg(KsgConfig::default());
    let l = local_transfer_entropy(b, h, &TeEmbedding::default(), &est).expect("valid series");
    let o = WindowOptions {
        window: 1200, // 10 minutes at 2 Hz
        stride: 600,
        block: 35,
        resamples: if quick { 99 } else { 999 },
        level: 0.95,
        seed: 4,
    };
    let w = local_windows(&l.values, &l.valid, &o).expect("valid windows");
    let sd = |r: std::ops::Range<usize>| mean_sd(&b[r]).1;
    let hours = |t: usize| t as f64 / 2.0 / 3600.0;
    let mut rows = Vec::new();
    let mut mean_pts = Vec::new();
    let mut lo_pts = Vec::new();
    let mut hi_pts = Vec::new();
    let mut amp = Vec::new();
    let max_sd = w.iter().map(|x| sd(x.start..x.end)).fold(0.0, f64::max);
    let max_te = w
        .iter()
        .filter_map(|x| x.ci.map(|c| c.1))
        .fold(0.0, f64::max);
    for x in &w {
        let (lo, hi) = x.ci.unwrap_or((f64::NAN, f64::NAN));
        let mid = hours((x.start + x.end) / 2);
        mean_pts.push((mid, x.mean));
        lo_pts.push((mid, lo));
        hi_pts.push((mid, hi));
        // the breathing amplitude, scaled onto the TE axis for the figure
        amp.push((mid, sd(x.start..x.end) / max_sd * max_te));
        rows.push(vec![
            format!("{:.2}–{:.2}", hours(x.start), hours(x.end)),
            format!("{:.3}", x.mean),
            format!("{:.3}–{:.3}", lo, hi),
            format!("{:.0}", sd(x.start..x.end)),
        ]);
    }
    let plot = svg::line_chart(
        "Local TE breath → heart, 10-min windows, 95% band; breath SD",
        "hours",
        "nats",
        &[
            ("local TE".into(), mean_pts),
            ("lower 95%".into(), lo_pts),
            ("upper 95%".into(), hi_pts),
            ("breath SD (scaled)".into(), amp),
        ],
        false,
    );
    let table = Table {
        title: format!(
            "E4b. Local TE breath → heart over the first {n} samples, windows of 1200 (10 min), stride 600; mean of the valid locals {:.4} = TE (nats)",
            l.estimate
        ),
        header: ["hours", "local TE", "95% CI", "breath SD"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows: if quick {
            rows
        } else {
            rows.into_iter().take(60).collect()
        },
    };
    let js = json!({
        "n": n,
        "estimate": l.estimate,
        "windows": w.iter().map(|x| json!({"start": x.start, "end": x.end, "mean": x.mean,
            "ci": x.ci.map(|c| vec![c.0, c.1]), "breath_sd": sd(x.start..x.end)})).collect::<Vec<_>>(),
    });
    (table, js, ("e4_local_te_breath_to_heart.svg".into(), plot))
}

/// All experiments.
pub fn all(quick: bool) -> Vec<Experiment> {
    vec![
        e1_ksg_bias(quick),
        e2_benchmark(quick),
        e3_pitfalls(quick),
        e4_physiology(quick),
    ]
}
