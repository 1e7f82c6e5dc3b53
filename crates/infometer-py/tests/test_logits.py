"""analyze: numpy and CLI parity, every dtype, layout and bad-input refusals, torch where installed."""

import math

import numpy as np
import pytest

import infometer as im
from conftest import reference, run_cli


def check(report, logits, labels, tol):
    """One check for the logits family: per-token NLL and entropy against numpy in float64,
    and the summary as ratios of sums. The fused kernel works in float32 lanes for
    half and single precision (as PyTorch does) and in float64 for float64 input."""
    if logits.dtype != np.float64:
        tol = max(tol, 2e-6)
    nll, ent = reference(logits, labels)
    assert np.allclose(report.nll, nll, rtol=tol, atol=tol)
    assert np.allclose(report.entropy, ent, rtol=tol, atol=tol)
    assert report.n_tokens == labels.size
    assert math.isclose(report.mean_nll, nll.mean(), rel_tol=tol)
    assert math.isclose(report.perplexity, math.exp(nll.mean()), rel_tol=tol)
    assert np.array_equal(report.top1, logits.argmax(axis=-1))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_every_float_dtype_against_numpy(rng, dtype):
    logits = (rng.standard_normal((3, 7, 50)) * 4).astype(dtype)
    labels = rng.integers(0, 50, (3, 7))
    check(im.analyze(logits, labels), logits, labels, 1e-9)


def test_bfloat16_through_the_int16_view(rng):
    f = (rng.standard_normal((5, 40)) * 3).astype(np.float32)
    bits = (f.view(np.uint32) >> 16).astype(np.uint16).view(np.int16)  # truncated bf16
    as_float = (bits.astype(np.uint16).astype(np.uint32) << 16).view(np.float32)
    labels = rng.integers(0, 40, 5)
    r = im._lib.analyze(bits, labels, bf16=True)
    check(r, as_float, labels, 1e-9)


def test_units_temperature_reference_and_shift(rng):
    logits = rng.standard_normal((2, 6, 30))
    ref = rng.standard_normal((2, 6, 30))
    labels = rng.integers(0, 30, (2, 6))
    nats = im.analyze(logits, labels, ref=ref)
    bits = im.analyze(logits, labels, ref=ref, base="2")
    assert math.isclose(bits.mean_nll, nats.mean_nll / math.log(2), rel_tol=1e-12)
    assert math.isclose(bits.perplexity, nats.perplexity, rel_tol=1e-12)  # unitless
    assert np.all(nats.js <= math.log(2) + 1e-12)
    # KL against numpy
    lp, lq = np.log(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)), None
    lq = ref - np.log(np.exp(ref).sum(-1, keepdims=True))
    kl = (np.exp(lp) * (lp - lq)).sum(-1)
    assert np.allclose(nats.kl, kl, atol=1e-10)
    hot = im.analyze(logits, labels, temperature=2.0)
    check(hot, logits / 2.0, labels, 1e-9)
    # causal shift: position t scores label t + 1; the last position of each row is out
    s = im.analyze(logits, labels, shift_labels=True)
    check(
        im.analyze(np.ascontiguousarray(logits[:, :-1]), np.ascontiguousarray(labels[:, 1:])),
        logits[:, :-1],
        labels[:, 1:],
        1e-9,
    )
    assert s.n_tokens == 2 * 5
    assert not s.valid[:, -1].any()
    assert math.isclose(
        s.mean_nll, im.analyze(np.ascontiguousarray(logits[:, :-1]), np.ascontiguousarray(labels[:, 1:])).mean_nll
    )


def test_masks_and_ignore_index(rng):
    logits = rng.standard_normal((10, 20))
    labels = rng.integers(0, 20, 10)
    labels[3] = -100
    mask = np.ones(10, bool)
    mask[5] = False
    r = im.analyze(logits, labels, mask=mask)
    keep = np.array([i not in (3, 5) for i in range(10)])
    assert r.n_tokens == 8
    assert np.isnan(r.nll[3]) and np.isnan(r.nll[5])
    nll, _ = reference(logits[keep], labels[keep])
    assert math.isclose(r.mean_nll, nll.mean(), rel_tol=1e-12)


def test_layouts_and_dtypes_that_are_refused(rng):
    logits = rng.standard_normal((6, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 6)
    with pytest.raises(TypeError, match="C-contiguous"):
        im.analyze(np.asfortranarray(logits), labels)
    with pytest.raises(TypeError, match="C-contiguous"):
        im.analyze(logits[:, ::2], labels)
    with pytest.raises(TypeError, match="not supported"):
        im.analyze(logits.astype(np.int32), labels)
    with pytest.raises(TypeError, match="numpy array"):
        im._lib.analyze([[1.0, 2.0]], None)


def test_bad_values_raise_typed_errors(rng):
    logits = rng.standard_normal((4, 8))
    labels = rng.integers(0, 8, 4)
    bad = logits.copy()
    bad[2, 3] = np.nan
    with pytest.raises(im.NonFiniteError, match="index 19"):
        im.analyze(bad, labels)
    with pytest.raises(im.LabelError, match="label 8 at row 1"):
        im.analyze(logits, np.array([0, 8, 1, 1]))
    with pytest.raises(im.ShapeError):
        im.analyze(logits, labels[:3])
    with pytest.raises(im.ShapeError):
        im.analyze(logits, labels, ref=logits[:, :4].copy())
    with pytest.raises(im.SettingError):
        im.analyze(logits, labels, temperature=-1.0)
    with pytest.raises(im.SettingError):
        im.analyze(logits, labels, base="ten")
    with pytest.raises(im.ShapeError):
        im.analyze(logits[0], labels[:1], shift_labels=True)
    # every error is a ValueError too, and the whole family is InfometerError
    assert issubclass(im.NonFiniteError, im.InfometerError)
    assert issubclass(im.InfometerError, ValueError)
    # an infinite logit at the label gives an infinite NLL, not an error
    inf = logits.copy()
    inf[0, labels[0]] = -np.inf
    assert im.analyze(inf, labels).nll[0] == np.inf


def test_parity_with_the_cli_json(rng, tmp_path):
    logits = rng.standard_normal((2, 5, 16)).astype(np.float32)
    labels = rng.integers(0, 16, (2, 5))
    np.save(tmp_path / "l.npy", logits)
    np.save(tmp_path / "y.npy", labels)
    j = run_cli("logits", "--logits", str(tmp_path / "l.npy"), "--labels", str(tmp_path / "y.npy"))
    r = im.analyze(logits, labels)
    assert j["n_tokens"] == r.n_tokens
    assert math.isclose(j["perplexity"], r.perplexity, rel_tol=1e-12)
    assert math.isclose(j["mean_entropy"], r.mean_entropy, rel_tol=1e-12)


def test_torch_tensors_where_torch_is_installed(rng):
    torch = pytest.importorskip("torch")
    logits = torch.randn(3, 9, 40)
    labels = torch.randint(0, 40, (3, 9))
    r = im.analyze(logits, labels)
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 40).double(), labels.reshape(-1))
    assert math.isclose(r.mean_nll, ce.item(), rel_tol=1e-9)
    b = logits.to(torch.bfloat16)
    rb = im.analyze(b, labels)
    ceb = torch.nn.functional.cross_entropy(b.reshape(-1, 40).double(), labels.reshape(-1))
    assert math.isclose(rb.mean_nll, ceb.item(), rel_tol=1e-9)


def test_misaligned_data_are_read_correctly(rng):
    logits = rng.standard_normal((4, 12))
    labels = rng.integers(0, 12, 4)
    buf = bytearray(logits.nbytes + 1)
    mis = np.frombuffer(buf, dtype=np.float64, count=logits.size, offset=1).reshape(4, 12)
    mis[...] = logits
    assert not mis.flags.aligned
    check(im.analyze(mis, labels), logits, labels, 1e-12)


def test_scoring_500_mb_raises_peak_rss_by_less_than_a_tenth_of_the_array():
    import subprocess
    import sys

    script = """
import resource, numpy as np, infometer as im
rows, vocab = 3907, 32000                       # 500 MB of float32
logits = np.empty((rows, vocab), np.float32)
logits[...] = 0.25                              # touch every page: it is resident
logits[:, 7] = 3.0
labels = np.arange(rows, dtype=np.int64) % vocab
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
r = im.analyze(logits, labels)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
assert r.n_tokens == rows
print((after - before) / logits.nbytes)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 0.10, out.stdout
