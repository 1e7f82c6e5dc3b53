"""Accumulators: merges equal one pass, pickling, arithmetic, refusals, and the torchmetrics-style metrics."""

import math
import pickle
import threading

import numpy as np
import pytest

import infometer as im


def check(a, b):
    """One check for the accumulator family: every summary field equal to 1e-12 relative."""
    sa, sb = a.compute(), b.compute()
    for k, v in sa.items():
        if isinstance(v, float):
            assert math.isclose(v, sb[k], rel_tol=1e-12, abs_tol=1e-15), k
        else:
            assert v == sb[k], k


def batches(rng, n=4):
    return [
        (rng.standard_normal((3, 5, 24)).astype(np.float32), rng.integers(0, 24, (3, 5)))
        for _ in range(n)
    ]


def test_merges_and_updates_equal_one_pass(rng):
    bs = batches(rng)
    whole = im.LogitsAccumulator()
    whole.update(np.concatenate([b[0] for b in bs]), np.concatenate([b[1] for b in bs]))
    parts = [im.LogitsAccumulator() for _ in bs]
    for acc, (l, y) in zip(parts, bs):
        acc.update(l, y)
    merged = parts[0] + parts[1]
    merged.merge(parts[2])
    merged.merge_state(parts[3])
    check(whole, merged)
    # the one-shot report agrees with the accumulated summary
    r = im.analyze(np.concatenate([b[0] for b in bs]), np.concatenate([b[1] for b in bs]))
    assert math.isclose(r.perplexity, whole.compute()["perplexity"], rel_tol=1e-12)


def test_pickle_round_trip_and_self_merge(rng):
    acc = im.LogitsAccumulator()
    for l, y in batches(rng, 2):
        acc.update(l, y)
    back = pickle.loads(pickle.dumps(acc))
    check(acc, back)
    n = acc.n_tokens
    acc.merge(acc)  # must not deadlock; doubles every sum
    assert acc.n_tokens == 2 * n
    assert math.isclose(acc.compute()["perplexity"], back.compute()["perplexity"], rel_tol=1e-12)
    with pytest.raises(im.InfometerError):
        im._lib._accumulator_from_bytes(b"not a state")


def test_mismatched_merges_and_updates_are_refused(rng):
    a = im.LogitsAccumulator(temperature=1.0)
    b = im.LogitsAccumulator(temperature=2.0)
    with pytest.raises(im.SettingError, match="different settings"):
        a.merge(b)
    l, y = batches(rng, 1)[0]
    a.update(l, y)
    with pytest.raises(im.ShapeError, match="vocabulary"):
        a.update(np.zeros((2, 7), np.float32), np.zeros(2, np.int64))
    with pytest.raises(im.SettingError):
        a.update(l)  # made with labels
    a.reset()
    assert a.n_tokens == 0


def test_perplexity_and_calibration_metrics(rng):
    bs = batches(rng)
    p, c = im.Perplexity(), im.Calibration()
    for l, y in bs:
        p.update(l, y)
        c.update(l, y)
    allnll = np.concatenate([im.analyze(l, y).nll.ravel() for l, y in bs])
    # the ratio of sums, not the mean of per-batch perplexities
    assert math.isclose(p.compute(), math.exp(allnll.mean()), rel_tol=1e-12)
    per_batch = np.mean([im.analyze(l, y).perplexity for l, y in bs])
    assert not math.isclose(p.compute(), per_batch, rel_tol=1e-9)
    cal = c.compute()
    assert cal["count"].sum() == cal["n_tokens"] == allnll.size
    q = pickle.loads(pickle.dumps(p))
    assert q.compute() == p.compute()
    both = p + q
    assert math.isclose(both.compute(), p.compute(), rel_tol=1e-12)


def test_threads_update_one_accumulator(rng):
    acc = im.LogitsAccumulator()
    bs = batches(rng, 8)
    ts = [threading.Thread(target=acc.update, args=b) for b in bs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    one = im.LogitsAccumulator()
    for b in bs:
        one.update(*b)
    check(acc, one)
