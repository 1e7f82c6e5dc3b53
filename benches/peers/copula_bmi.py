"""The copula transform and GCMI on the Beyond Normal benchmark's own tasks: `infometer mi` with and without `--copula`.

Samples come from the benchmark package (`bmi.benchmark.BENCHMARK_TASKS[id].sample(n, seed)`),
are written once to .npy, and every estimator reads the same file through the CLI. KSG1,
Gaussian and GCMI run on every task; the neural bounds (MINE, DV, NWJ, InfoNCE; the
benchmark's protocol with asinh on, as the CLI defaults) run on the Student-t tasks, raw and
with `--copula`. Prints one JSON document on stdout and a markdown table on stderr.

Run with the bmi venv of ../shared/peers/setup.sh (or `cargo xtask compare-copula`):
    /tmp/peers-venv-bmi/bin/python benches/peers/copula_bmi.py --bin target/release/infometer
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np

TASKS = [
    "student-identity-1-1-1",
    "student-identity-2-2-1",
    "student-identity-5-5-2",
    "1v1-normal-0.75",
    "normal_cdf-1v1-normal-0.75",
    "half_cube-1v1-normal-0.75",
    "wiggly-1v1-normal-0.75",
    "1v1-bimodal-0.75",
    "multinormal-sparse-5-5-2-2.0",
    "half_cube-multinormal-sparse-5-5-2-2.0",
    "normal_cdf-multinormal-sparse-5-5-2-2.0",
    "spiral-multinormal-sparse-5-5-2-2.0",
    "swissroll_x-normal_cdf-1v1-normal-0.75",
]
NEURAL_TASKS = {"student-identity-1-1-1", "student-identity-2-2-1"}
CLASSIC = [("KSG1", ["--estimator", "ksg1"]), ("KSG1 copula", ["--estimator", "ksg1", "--copula"]),
           ("Gaussian", ["--estimator", "gaussian"]), ("GCMI", ["--estimator", "gcmi"])]
NEURAL = [(f"{b} {v}", ["--estimator", b.lower()] + (["--copula"] if v == "copula" else []))
          for b in ["MINE", "DV", "NWJ", "InfoNCE"] for v in ["raw", "copula"]]


def run(binary, path, dx, dy, args, seed):
    xcols = "0" if dx == 1 else f"0-{dx - 1}"
    ycols = str(dx) if dy == 1 else f"{dx}-{dx + dy - 1}"
    cmd = [binary, "mi", "--input", path, "--x", xcols, "--y", ycols, "--seed", str(seed), "--json"] + args
    if "--estimator" in args and args[args.index("--estimator") + 1] in ("mine", "dv", "nwj", "infonce"):
        cmd.append("--quiet")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["estimate"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the infometer binary (release build)")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--data-dir", default="/tmp/peers-data")
    ap.add_argument("--no-neural", action="store_true")
    args = ap.parse_args()
    import bmi  # noqa: E402  (only in the bmi venv)

    os.makedirs(args.data_dir, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for tid in TASKS:
        task = bmi.benchmark.BENCHMARK_TASKS[tid]
        ests = CLASSIC + ([] if args.no_neural or tid not in NEURAL_TASKS else NEURAL)
        for seed in seeds:
            x, y = task.sample(args.n, seed)
            path = os.path.join(args.data_dir, f"copula_{tid}_n{args.n}_s{seed}.npy")
            np.save(path, np.hstack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)]))
            for name, a in ests:
                v = run(args.bin, path, task.dim_x, task.dim_y, a, seed)
                rows.append(dict(task=tid, truth=float(task.mutual_information), seed=seed, estimator=name,
                                 estimate=v))
                print(f"{tid} seed {seed} {name}: {v:.4f} (truth {task.mutual_information:.4f})", file=sys.stderr)
    names = [n for n, _ in CLASSIC + NEURAL]
    summary = []
    for tid in TASKS:
        truth = float(bmi.benchmark.BENCHMARK_TASKS[tid].mutual_information)
        for name in names:
            vals = [r["estimate"] for r in rows if r["task"] == tid and r["estimator"] == name]
            if vals:
                summary.append(dict(task=tid, truth=truth, estimator=name, mean=statistics.fmean(vals),
                                    min=min(vals), max=max(vals), runs=len(vals)))
    print(json.dumps(dict(n=args.n, seeds=seeds, runs=rows, summary=summary), indent=1))
    print(f"\n| task (truth) | {' | '.join(names)} |", file=sys.stderr)
    print("|---|" + "---|" * len(names), file=sys.stderr)
    for tid in TASKS:
        truth = float(bmi.benchmark.BENCHMARK_TASKS[tid].mutual_information)
        cells = []
        for name in names:
            s = [r for r in summary if r["task"] == tid and r["estimator"] == name]
            cells.append(f"{s[0]['mean']:.3f}" if s else "")
        print(f"| {tid} ({truth:.3f}) | {' | '.join(cells)} |", file=sys.stderr)


if __name__ == "__main__":
    main()
