"""Estimators: the trait's values and local values, CLI parity, warnings, refusals, the split permutation test."""

import math
import warnings

import numpy as np
import pytest

import infometer as im
from conftest import run_cli


def pairs(rng, n=800, rho=0.6):
    x = rng.standard_normal(n)
    y = rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal(n)
    return x, y


def test_ksg_locals_and_parity_with_the_cli(rng, tmp_path):
    x, y = pairs(rng)
    np.savetxt(tmp_path / "xy.csv", np.c_[x, y], delimiter=",", header="x,y", comments="")
    for alg in (1, 2):
        e = im.Ksg(k=4, algorithm=alg).estimate(x, y)
        j = run_cli("mi", "--input", str(tmp_path / "xy.csv"), "--x", "x", "--y", "y", "--estimator", f"ksg{alg}")
        # the CSV round trip prints shortest decimal forms: identical values
        assert e.nats == j["estimate"], alg
        assert math.isclose(e.local.mean(), e.nats, rel_tol=1e-12)
        assert e.n_samples == 800
    truth = -0.5 * math.log(1 - 0.36)
    assert abs(im.Gaussian().estimate(x, y).nats - truth) < 0.05
    assert abs(im.Gcmi().estimate(x, y).nats - truth) < 0.05


def test_warnings_are_python_warnings(rng):
    x, _ = pairs(rng, 300)
    with pytest.warns(im.InfometerWarning, match="identical"):
        im.Ksg().estimate(x, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x2, y2 = pairs(rng, 300)
        im.Gaussian().estimate(x2, y2)  # clean data: no warning


def test_refusals(rng):
    x, y = pairs(rng, 200)
    with pytest.raises(im.SettingError, match="k does not apply to the gaussian"):
        im.Estimator("gaussian", k=3)
    with pytest.raises(im.SettingError, match="not one of"):
        im.Estimator("ksg3")
    with pytest.raises(im.SettingError, match="no conditional form"):
        im.Kde().estimate(x, y, z=x)
    levels = np.floor(rng.random(600) * 3)
    with pytest.raises(im.DataError, match="zero nearest-neighbour"):
        im.Ksg(noise=0.0).estimate(levels, (levels + 1) % 3)
    with pytest.raises(im.LabelError):
        im.Mixed().estimate(x, y)
    with pytest.raises(im.ShapeError):
        im.Ksg().estimate(x, y[:10])
    with pytest.raises(im.NonFiniteError):
        im.Ksg().estimate(np.r_[x[:-1], np.nan], y)
    with pytest.raises(TypeError, match="C-contiguous"):
        im.Ksg().estimate(np.asfortranarray(np.c_[x, y]), y)
    with pytest.raises(im.SettingError):
        im.Ksg().permutation_test(x, y, 0)


def test_permutation_test_split_by_surrogate_index(rng):
    x, y = pairs(rng, 300, 0.6)
    est = im.Ksg()
    t = est.permutation_test(x, y, 40, seed=5)
    parts = [est.permutation_null(x, y, a, b, seed=5) for a, b in [(0, 13), (13, 29), (29, 40)]]
    assert np.array_equal(np.concatenate(parts), t["null"])
    assert t["p_value"] <= 1 / 41 + 1e-12


def test_estimators_pickle(rng):
    import pickle

    x, y = pairs(rng, 300)
    for est in (im.Ksg(k=3, algorithm=2, theiler=1, seed=4), im.Gcmi(), im.Mixed(k=2), im.Kde(copula=True)):
        back = pickle.loads(pickle.dumps(est))
        assert back.name == est.name
        if est.name != "mixed":
            assert back.estimate(x, y).nats == est.estimate(x, y).nats


def test_transfer_entropy_and_entropy(rng):
    s = rng.standard_normal(2000)
    t = np.r_[0.0, s[:-1]] + 0.3 * rng.standard_normal(2000)
    assert im.transfer_entropy(s, t) > 0.5
    assert abs(im.transfer_entropy(t, s)) < 0.05
    test = im.transfer_entropy(s, t, estimator="gaussian", permutations=19)
    assert test["p_value"] == pytest.approx(1 / 20)
    h = im.kl_entropy(rng.standard_normal(5000))
    assert abs(h - 0.5 * math.log(2 * math.pi * math.e)) < 0.05


def test_no_panic_crosses_the_boundary():
    with pytest.raises(im.InfometerError, match="internal error"):
        im._lib._check_panic_guard()
