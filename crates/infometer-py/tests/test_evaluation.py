"""Model evaluation: the ensemble decomposition against numpy, and compare_nll against direct sums and scipy."""

import math
import warnings

import numpy as np
import pytest

import infometer as im
from conftest import log_softmax


def members(rng, m=4, shape=(3, 5), vocab=11, spread=1.0):
    base = rng.standard_normal((*shape, vocab))
    return [(base + spread * rng.standard_normal(base.shape)).astype(np.float32) for _ in range(m)]


def twin(ms):
    """float64 numpy: H(p̄), E H(p_m), their difference, and EPKL over all M² ordered pairs."""
    lp = np.stack([log_softmax(x) for x in ms])
    p = np.exp(lp)
    pbar = p.mean(0)
    total = -(pbar * np.log(pbar)).sum(-1)
    alea = -(p * lp).sum(-1).mean(0)
    epkl = np.mean([(p[a] * (lp[a] - lp[b])).sum(-1) for a in range(len(ms)) for b in range(len(ms))], axis=0)
    return total, alea, total - alea, epkl


def test_uncertainty_matches_numpy_and_stacked_equals_list(rng):
    ms = members(rng)
    r = im.uncertainty(ms, jackknife=True)
    total, alea, mi, epkl = twin(ms)
    np.testing.assert_allclose(r["total"], total, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r["aleatoric"], alea, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r["mutual_information"], mi, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(r["epkl"], epkl, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r["epkl"], r["mutual_information"] + r["rmi"], atol=1e-12)
    assert r["total"].shape == (3, 5)
    assert r["jackknife"]["mutual_information_se"] > 0
    assert any("only 4 members" in w for w in r["warnings"])
    s = im.uncertainty(np.stack(ms))
    for k in ("total", "mutual_information", "epkl", "max_prob", "fisher_rao_to_uniform"):
        np.testing.assert_array_equal(s[k], r[k])
    assert math.isclose(s["mean"]["mutual_information"], float(np.mean(r["mutual_information"])), rel_tol=1e-12)


def test_uncertainty_identical_members_mask_and_refusals(rng):
    one = members(rng, m=1)[0]
    r = im.uncertainty([one, one, one])
    assert np.all(r["mutual_information"] == 0) and np.all(r["epkl"] == 0)
    mask = np.ones((3, 5), bool)
    mask[1, 2] = False
    r = im.uncertainty([one, one * 0.5], mask=mask)
    assert np.isnan(r["total"][1, 2]) and r["n_tokens"] == 14
    with pytest.raises(im.SettingError, match="at least 2 members"):
        im.uncertainty([one])
    with pytest.raises(im.SettingError, match="jackknife"):
        im.uncertainty([one, one], jackknife=True)
    with pytest.raises(im.ShapeError, match=r"members\[1\]"):
        im.uncertainty([one, one[:, :, :10].copy()])
    bad = one.copy()
    bad[0, 1, 3] = np.nan
    with pytest.raises(im.NonFiniteError, match="member 1"):
        im.uncertainty([one, bad])
    with pytest.raises(im.InfometerError, match="no valid token"):
        im.uncertainty([one, one], mask=np.zeros((3, 5), bool))


def docs(rng, d=12, shift=0.05):
    lens = rng.integers(5, 30, d)
    doc = np.repeat(np.arange(d), lens)
    b = 1 + rng.random(doc.size) * 3
    a = b + shift + 0.3 * rng.standard_normal(d)[doc] + 0.1 * rng.standard_normal(doc.size)
    return np.abs(a), b, doc


def test_compare_nll_estimates_symmetry_and_identity(rng):
    a, b, doc = docs(rng)
    r = im.compare_nll(a, b, doc, resamples=999)
    assert math.isclose(r["delta_nll"]["estimate"], a.mean() - b.mean(), rel_tol=1e-12)
    assert math.isclose(r["perplexity_ratio"]["estimate"], math.exp(a.mean() - b.mean()), rel_tol=1e-12)
    assert r["sign_flip"]["exact"] and r["n_units"] == 12
    s = im.compare_nll(b, a, doc, resamples=999)
    assert s["delta_nll"]["estimate"] == -r["delta_nll"]["estimate"]
    assert s["sign_flip"]["p_value"] == r["sign_flip"]["p_value"]
    same = im.compare_nll(a, a, doc)
    assert same["delta_nll"]["estimate"] == 0 and same["sign_flip"]["p_value"] == 1.0
    assert tuple(same["delta_nll"]["ci"]) == (0.0, 0.0)
    with_bytes = im.compare_nll(a, b, doc, bytes=np.full(12, 100))
    bpb = (a.sum() - b.sum()) / math.log(2) / 1200
    assert math.isclose(with_bytes["delta_bits_per_byte"]["estimate"], bpb, rel_tol=1e-12)


def test_compare_nll_sign_flip_matches_scipy(rng):
    st = pytest.importorskip("scipy.stats")
    a, b, doc = docs(rng, d=10)
    sa = np.bincount(doc, a)
    sb = np.bincount(doc, b)
    # scipy.stats.permutation_test with permutation_type='samples' swaps a_d and b_d within
    # each document: the sign flip of a_d - b_d; all 2^10 arrangements
    p = st.permutation_test(
        (sa, sb), lambda x, y, axis=-1: (x - y).sum(axis), permutation_type="samples",
        n_resamples=np.inf, vectorized=True,
    ).pvalue
    r = im.compare_nll(a, b, doc)
    assert math.isclose(r["sign_flip"]["p_value"], p, rel_tol=1e-12)


def test_compare_nll_refusals_and_warnings(rng):
    a, b, doc = docs(rng, d=6)
    with pytest.warns(im.InfometerWarning, match="clusters"):
        im.compare_nll(a, b, doc, resamples=99)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.warns(im.InfometerWarning, match="as if independent"):
            im.compare_nll(a, b, doc, resample="tokens", resamples=99)
    with pytest.raises(im.ShapeError, match="contiguous"):
        im.compare_nll(a, b, np.r_[doc[1:], doc[:1]])
    with pytest.raises(im.InfometerError, match="at least 2"):
        im.compare_nll(a, b, np.zeros_like(doc))
    with pytest.raises(im.SettingError, match="resamples"):
        im.compare_nll(a, b, doc, resamples=0)
    with pytest.raises(im.SettingError, match="block_len"):
        im.compare_nll(a, b, doc, resample="blocks")
    with pytest.raises(im.ShapeError):
        im.compare_nll(a, b[:-1], doc)
    with pytest.raises(im.NonFiniteError):
        im.compare_nll(np.r_[a[:-1], np.inf], b, doc)
