"""Side-by-side timings of the Python package against PyTorch and scikit-learn, in one process.

Run by `cargo xtask compare-python` (or by hand) with an interpreter that has infometer, numpy,
and optionally torch and scikit-learn installed. Prints one JSON object; every figure is the
median of --repeat runs after one warm-up, and every ratio compares figures of this run only.

- analyze: infometer.analyze(logits, labels) on an [8, 512, 32000] float32 array against
  torch.nn.functional.cross_entropy plus a torch entropy (log_softmax, -(p * logp).sum(-1)) on
  the same tensor, both on 2 threads (torch.set_num_threads(2); infometer's pool is the
  machine's 2 cores).
- ksg: infometer.Ksg(k=3).estimate(x, y) against sklearn's mutual_info_regression(x, y,
  n_neighbors=3) at N = 1e5, one dimension each, correlated Gaussians (rho = 0.6).
"""

import argparse
import json
import statistics
import time

import numpy as np

import infometer as im


def median_time(f, repeat):
    f()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--shape", default="8,512,32000")
    ap.add_argument("--n", type=int, default=100_000)
    a = ap.parse_args()
    out = {"repeat": a.repeat}
    shape = tuple(int(s) for s in a.shape.split(","))
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal(shape, dtype=np.float32) * 2.0).astype(np.float32)
    labels = rng.integers(0, shape[-1], shape[:-1])
    out["shape"] = list(shape)
    out["infometer_analyze_s"] = median_time(lambda: im.analyze(logits, labels), a.repeat)
    try:
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(2)
        t = torch.from_numpy(logits)
        y = torch.from_numpy(labels)

        def torch_pass():
            flat = t.view(-1, shape[-1])
            ce = F.cross_entropy(flat, y.view(-1))
            lp = F.log_softmax(flat, dim=-1)
            ent = -(lp.exp() * lp).sum(-1).mean()
            return ce.item(), ent.item()

        out["torch_ce_entropy_s"] = median_time(torch_pass, a.repeat)
        out["analyze_speedup_vs_torch"] = out["torch_ce_entropy_s"] / out["infometer_analyze_s"]
        r = im.analyze(logits, labels)
        ce, ent = torch_pass()
        out["torch_agrees"] = abs(r.mean_nll - ce) < 1e-4 and abs(r.mean_entropy - ent) < 1e-4
    except ImportError:
        out["torch"] = "not installed"
    x = rng.standard_normal(a.n)
    yv = 0.6 * x + 0.8 * rng.standard_normal(a.n)
    out["n"] = a.n
    out["infometer_ksg_s"] = median_time(lambda: im.Ksg(k=3).estimate(x, yv), a.repeat)
    try:
        from sklearn.feature_selection import mutual_info_regression

        out["sklearn_mi_s"] = median_time(
            lambda: mutual_info_regression(x[:, None], yv, n_neighbors=3, random_state=0), a.repeat
        )
        out["ksg_speedup_vs_sklearn"] = out["sklearn_mi_s"] / out["infometer_ksg_s"]
    except ImportError:
        out["sklearn"] = "not installed"
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
