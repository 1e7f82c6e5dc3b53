"""MINE wall time and accuracy: the Beyond Normal package's JAX MINE against `infometer mi --estimator mine`.

Same samples (written once to .npy), same settings (the benchmark's defaults: hidden (16, 8),
batch 256, Adam lr 0.1, at most 10 000 steps, test every 250 steps, 50/50 split, standardised,
smoothing 0.9, no asinh), several seeds. bmi gets an untimed warm-up call first (JIT compile);
our side is timed as a whole process (start, read, train, print). Prints one JSON document.

Run with the bmi venv of ../shared/peers/setup.sh:
    /tmp/peers-venv-bmi/bin/python benches/peers/mine_vs_bmi.py --bin target/release/infometer
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def tasks():
    # (name, covariance, dim_x, true MI in nats)
    c2 = np.array([[1.0, 0.7], [0.7, 1.0]])
    c3 = np.array([[1.0, 0.0, 0.7], [0.0, 1.0, 0.3], [0.7, 0.3, 1.0]])

    def mi(c, dx):
        return 0.5 * math.log(np.linalg.det(c[:dx, :dx]) * np.linalg.det(c[dx:, dx:]) / np.linalg.det(c))

    return [("gauss-2d-rho0.7", c2, 1, mi(c2, 1)), ("gauss-3d", c3, 2, mi(c3, 2))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the infometer binary (release build)")
    ap.add_argument("--n", type=int, default=8000)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--data-dir", default="/tmp/peers-data")
    args = ap.parse_args()
    import bmi  # noqa: E402  (only in the bmi venv)
    import jax

    os.makedirs(args.data_dir, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    settings = dict(hidden_layers=(16, 8), batch_size=256, learning_rate=0.1, max_n_steps=10_000,
                    test_every_n_steps=250, train_test_split=0.5, smoothing_alpha=0.9, standardize=True)
    # warm-up: compile bmi's jitted step once (untimed)
    w = np.random.default_rng(0).normal(size=(600, 2))
    bmi.estimators.MINEEstimator(**settings, verbose=False, seed=0).estimate(w[:, :1], w[:, 1:])
    rows = []
    for name, cov, dx, truth in tasks():
        xy = np.random.default_rng(12345).multivariate_normal(np.zeros(len(cov)), cov, size=args.n)
        path = os.path.join(args.data_dir, f"mine_{name}_n{args.n}.npy")
        np.save(path, xy)
        xcols = "0" if dx == 1 else f"0-{dx - 1}"
        ycols = ",".join(str(i) for i in range(dx, len(cov)))
        for seed in seeds:
            t0 = time.perf_counter()
            res = bmi.estimators.MINEEstimator(**settings, verbose=False, seed=seed).estimate_with_info(
                xy[:, :dx], xy[:, dx:])
            t_bmi = time.perf_counter() - t0
            est, bmi_steps = res.mi_estimate, res.additional_information["n_training_steps"]
            cmd = [args.bin, "mi", "--input", path, "--x", xcols, "--y", ycols, "--estimator", "mine",
                   "--hidden", "16,8", "--batch", "256", "--lr", "0.1", "--steps", "10000",
                   "--no-asinh", "--seed", str(seed), "--quiet", "--json"]
            t0 = time.perf_counter()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            t_ours = time.perf_counter() - t0
            ours = json.loads(out)
            rows.append(dict(task=name, seed=seed, truth=truth, bmi=float(est), bmi_s=t_bmi, bmi_steps=bmi_steps,
                             bmi_ms_per_step=1e3 * t_bmi / bmi_steps,
                             infometer_steps=ours["steps_run"],
                             infometer_ms_per_step=1e3 * t_ours / ours["steps_run"],
                             infometer=ours["estimate"], infometer_s=t_ours,
                             infometer_best_step=ours.get("best_step")))
            print(f"{name} seed {seed}: bmi {float(est):.4f} in {t_bmi:.2f} s ({bmi_steps} steps); infometer "
                  f"{ours['estimate']:.4f} in {t_ours:.2f} s ({ours['steps_run']} steps) (truth {truth:.4f})", file=sys.stderr)
    summary = []
    for name, _, _, truth in tasks():
        r = [x for x in rows if x["task"] == name]
        b, o = statistics.median(x["bmi_s"] for x in r), statistics.median(x["infometer_s"] for x in r)
        bs = statistics.median(x["bmi_ms_per_step"] for x in r)
        os_ = statistics.median(x["infometer_ms_per_step"] for x in r)
        summary.append(dict(task=name, truth=truth, bmi_median_s=b, infometer_median_s=o, ratio=o / b,
                            bmi_median_ms_per_step=bs, infometer_median_ms_per_step=os_,
                            ratio_per_step=os_ / bs,
                            bmi_mean_abs_err=statistics.mean(abs(x["bmi"] - truth) for x in r),
                            infometer_mean_abs_err=statistics.mean(abs(x["infometer"] - truth) for x in r)))
    print(json.dumps(dict(jax=jax.__version__, bmi=getattr(bmi, "__version__", "0.1.3"),
                          n=args.n, rows=rows, summary=summary), indent=1))


if __name__ == "__main__":
    main()
