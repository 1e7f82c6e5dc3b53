//! `infometer te --local-out/--local-window`: the local series on the time axis (NaN where masked), whose valid mean is the printed estimate, and refusals with nothing written.

mod common;
use common::*;

use infometer_cli::npy::parse_npy;

fn series(dir: &std::path::Path) -> String {
    let mut s = 11u64;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<f64> = (0..600).map(|_| u()).collect();
    let mut text = String::from("x,y\n");
    let mut prev = 0.0;
    for v in &x {
        let y = 0.7 * prev + 0.3 * u();
        text.push_str(&format!("{v},{y}\n"));
        prev = *v;
    }
    let p = dir.join("xy.csv");
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn local_te_series_and_windows() {
    let d = tmpdir("local-te");
    let input = series(&d);
    let npy = d.join("local.npy");
    let (ok, v, err) = run(&[
        "te",
        "--input",
        &input,
        "--source",
        "x",
        "--target",
        "y",
        "--target-history",
        "3",
        "--local-out",
        npy.to_str().unwrap(),
        "--local-window",
        "100",
        "--json",
    ]);
    assert!(ok, "{err}");
    let l = parse_npy(&std::fs::read(&npy).unwrap())
        .unwrap()
        .data
        .to_f64();
    assert_eq!(l.len(), 600);
    assert!(l[..3].iter().all(|x| x.is_nan()) && !l[3].is_nan());
    let valid: Vec<f64> = l.iter().copied().filter(|x| !x.is_nan()).collect();
    let mean = valid.iter().sum::<f64>() / valid.len() as f64;
    assert!((mean - v["estimate"].as_f64().unwrap()).abs() < 1e-12);
    assert_eq!(v["n_invalid_time_points"], 3);
    let w = v["local_windows"]["windows"].as_array().unwrap();
    assert_eq!(w.len(), 6);
    assert_eq!(w[0]["n_valid"], 97);
    // text: only the valid time points, with their t
    let txt = d.join("local.txt");
    let (ok, _, err) = run(&[
        "te",
        "--input",
        &input,
        "--source",
        "x",
        "--target",
        "y",
        "--local",
        txt.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&txt).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,local_nats"));
    assert!(lines.next().unwrap().starts_with("1,"));
    assert_eq!(text.lines().count(), 600);
    // refused, nothing written
    let never = d.join("never.npy");
    for (args, want) in [
        (
            vec![
                "--estimator",
                "gaussian",
                "--local-out",
                never.to_str().unwrap(),
            ],
            "--local-out: --estimator gaussian",
        ),
        (vec!["--local-stride", "5"], "need --local-window"),
        (vec!["--local-window", "0"], "--local-window 0"),
        (vec!["--local-window", "601"], "longer than the series"),
    ] {
        let mut a = vec!["te", "--input", &input, "--source", "x", "--target", "y"];
        a.extend(args);
        let (ok, _, err) = run(&a);
        assert!(!ok && err.contains(want), "{err}");
        assert_eq!(err.trim().lines().count(), 1);
    }
    assert!(!never.exists());
}
