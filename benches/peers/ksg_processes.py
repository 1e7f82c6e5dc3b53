"""Whole-process KSG timings: infometer (1 and 2 threads) against infomeasure (1 thread and
`parallel`), median of --reps runs, on the peer harness's .npy files; with the Python peers'
figures from a `mi_bench.py` JSON, prints the markdown table of docs/benchmarks.md.

Usage:
  python3 benches/peers/ksg_processes.py --infometer target/dist/infometer \
      --infomeasure-single benches/peers/infomeasure/target/release/infomeasure-peer \
      --infomeasure-parallel /path/to/infomeasure-peer-built-with-parallel \
      --data-dir /tmp/peers-data --python-json peers.json --reps 3

The runs of the tools alternate case by case, so a slow spell of the machine hits them alike.

`--infometer` is the binary users get from `cargo xtask dist` (static on Linux with glibc).
With `--infometer-dynamic` (the plain `cargo build --release` binary) and
`--infomeasure-parallel-static` (the peer built the same static way: `RUSTFLAGS="-C
target-feature=+crt-static" cargo build --release --features parallel --target <host>`), a
second table compares the two tools linked alike, dynamic against dynamic and static
against static, so the link mode's share of a ratio can be read off.
"""

import argparse
import json
import os
import statistics
import subprocess
import time

CASES = [(10_000, 1), (100_000, 1), (10_000, 4), (100_000, 4)]


def timed(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infometer", required=True)
    ap.add_argument("--infomeasure-single")
    ap.add_argument("--infomeasure-parallel")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--python-json", help="mi_bench.py output, for the Python columns")
    ap.add_argument("--infometer-dynamic", help="the plain release build, for the second table")
    ap.add_argument("--infomeasure-parallel-static", help="the peer linked statically")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()

    python = {}
    if a.python_json:
        for r in json.load(open(a.python_json))["results"]:
            if r.get("seconds") is not None:
                python[(r["peer"], r["N"], r["d"] // 2)] = r["seconds"]

    def env(threads):
        e = dict(os.environ)
        e["RAYON_NUM_THREADS"] = str(threads)
        return e

    print("| N | dims | scikit-learn | NPEET | infomeasure, 1 thread | infomeasure, `parallel` "
          "| infometer, 1 thread | infometer, 2 threads | vs fastest Python peer "
          "| vs infomeasure `parallel` |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    alike = []
    for n, d in CASES:
        path = os.path.join(a.data_dir, f"gauss_d{2 * d}_n{n}.npy")
        x = "0" if d == 1 else f"0-{d - 1}"
        y = str(d) if d == 1 else f"{d}-{2 * d - 1}"
        ours = [a.infometer, "mi", "--input", path, "--x", x, "--y", y, "--k", "3", "--json"]
        tools = {"ours1": (ours, env(1)), "ours2": (ours, env(2))}
        if a.infometer_dynamic:
            dyn = [a.infometer_dynamic] + ours[1:]
            tools["oursdyn"] = (dyn, env(2))
        for key, exe in (("im1", a.infomeasure_single), ("impar", a.infomeasure_parallel),
                         ("imparstatic", a.infomeasure_parallel_static)):
            if exe:
                tools[key] = ([exe, path, str(d), str(d)], None)
        times = {k: [] for k in tools}
        for _ in range(a.reps):
            for k, (cmd, e) in tools.items():
                times[k].append(timed(cmd, e))
        med = {k: statistics.median(v) for k, v in times.items()}
        sk, npeet = python.get(("sklearn", n, d)), python.get(("npeet", n, d))
        fastest = min([v for v in (sk, npeet) if v is not None], default=None)

        def cell(v):
            return "–" if v is None else (f"{v:.4f} s" if v < 0.1 else f"{v:.3f} s")

        ratio_py = "–" if fastest is None else f"{fastest / med['ours2']:.1f}×"
        ratio_im = f"{med['impar'] / med['ours2']:.2f}×" if "impar" in med else "–"
        print(f"| {n:.0e} | {d}+{d} | {cell(sk)} | {cell(npeet)} | {cell(med.get('im1'))} "
              f"| {cell(med.get('impar'))} | {cell(med['ours1'])} | {cell(med['ours2'])} "
              f"| {ratio_py} | {ratio_im} |".replace("e+0", "e"), flush=True)
        if "oursdyn" in med and "imparstatic" in med:
            alike.append((n, d, med))
    if alike:
        print()
        print("| N | dims | infometer dynamic, 2 threads | infomeasure `parallel`, dynamic "
              "| dynamic against dynamic | infometer static, 2 threads "
              "| infomeasure `parallel`, static | static against static |")
        print("|---|---|---|---|---|---|---|---|")
        for n, d, med in alike:
            def c(v):
                return f"{v:.4f} s" if v < 0.1 else f"{v:.3f} s"
            print(f"| {n:.0e} | {d}+{d} | {c(med['oursdyn'])} | {c(med['impar'])} "
                  f"| {med['impar'] / med['oursdyn']:.2f}× | {c(med['ours2'])} "
                  f"| {c(med['imparstatic'])} | {med['imparstatic'] / med['ours2']:.2f}× |"
                  .replace("e+0", "e"), flush=True)


if __name__ == "__main__":
    main()
