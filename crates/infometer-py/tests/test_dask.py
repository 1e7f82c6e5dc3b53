"""Past one machine with an existing engine: Dask reduces per-shard accumulators, and splits a permutation test by surrogate index."""

import math

import numpy as np
import pytest

import infometer as im

dask = pytest.importorskip("dask")
import dask.bag as db  # noqa: E402


def shards(tmp_path, rng, n=6):
    paths = []
    for i in range(n):
        np.save(tmp_path / f"l{i}.npy", rng.standard_normal((4, 8, 32)).astype(np.float32))
        np.save(tmp_path / f"y{i}.npy", rng.integers(0, 32, (4, 8)))
        paths.append(str(tmp_path / f"l{i}.npy"))
    return paths


def per_partition(paths):
    acc = im.LogitsAccumulator()
    for p in paths:
        acc.update(np.load(p, mmap_mode="r"), np.load(p.replace("/l", "/y")))
    return acc


def combine(accs):
    # the safe form: a fresh accumulator, never a shared initial object mutated in place
    out = im.LogitsAccumulator()
    for a in accs:
        out.merge(a)
    return out


def one_process(paths):
    return per_partition(paths).compute()


def check(got, want):
    for k, v in want.items():
        if isinstance(v, float):
            assert math.isclose(got[k], v, rel_tol=1e-12), k
        else:
            assert got[k] == v, k


def test_dask_bag_reduction_equals_one_process(tmp_path, rng):
    paths = shards(tmp_path, rng)
    bag = db.from_sequence(paths, npartitions=3)
    got = bag.reduction(per_partition, combine, split_every=2).compute(scheduler="processes", num_workers=2)
    check(got.compute(), one_process(paths))


def test_dask_distributed_local_cluster(tmp_path, rng):
    distributed = pytest.importorskip("distributed")
    paths = shards(tmp_path, rng)
    x = rng.standard_normal(400)
    y = 0.2 * x + rng.standard_normal(400)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        with distributed.Client(cl) as client:
            bag = db.from_sequence(paths, npartitions=3)
            got = bag.reduction(per_partition, combine).compute()
            check(got.compute(), one_process(paths))
            # a permutation test split by surrogate index across the workers
            est = im.Ksg()
            ranges = [(0, 10), (10, 25), (25, 40)]
            futs = [client.submit(est.permutation_null, x, y, a, b, 7) for a, b in ranges]
            null = np.concatenate(client.gather(futs))
    whole = est.permutation_test(x, y, 40, seed=7)
    assert np.array_equal(null, whole["null"])


def test_fold_with_a_shared_mutable_initial_object_is_wrong_and_the_safe_form_is_right(tmp_path, rng):
    paths = shards(tmp_path, rng)
    want = one_process(paths)
    # safe: a binop that returns a new object (a + b) never changes its arguments
    bag = db.from_sequence(paths, npartitions=3).map(lambda p: per_partition([p]))
    got = bag.fold(lambda a, b: a + b, initial=im.LogitsAccumulator()).compute(scheduler="sync")
    check(got.compute(), want)
