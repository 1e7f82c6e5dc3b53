"""infometer: information measures for language models and data, computed in Rust.

Logits (numpy float16/float32/float64 arrays, or CPU torch tensors including bfloat16) are read
in place, without a copy; every computation runs with the GIL released.

Units: everything is computed in nats and converted at the edge (``base="2"`` gives bits).
Perplexity is exp(mean NLL in nats) whatever the base: it is unitless.

Formulas (per token, p = softmax(logits / T)):

- NLL (surprisal of the label) = -ln p[label]; cross-entropy = mean NLL over valid tokens
- perplexity = exp(sum NLL / number of valid tokens), a ratio of sums over all tokens
- entropy H = -sum p ln p;  KL(P||Q) = sum p (ln p - ln q), +inf where q = 0 < p
- JS = (KL(P||M) + KL(Q||M)) / 2 with M = (P + Q) / 2, at most ln 2
- ECE: 15 equal-width bins of top-1 confidence, sum over bins |acc - conf| * n_b / n
"""

from __future__ import annotations

import warnings as _warnings
from typing import Any, Optional

import numpy as np

from . import _lib
from ._lib import (
    DataError,
    Estimate,
    InfometerError,
    LabelError,
    LogitsAccumulator,
    NonFiniteError,
    Report,
    SettingError,
    ShapeError,
    __version__,
)

__all__ = [
    "analyze",
    "Report",
    "LogitsAccumulator",
    "Perplexity",
    "Calibration",
    "Estimator",
    "Estimate",
    "Ksg",
    "Kde",
    "BoxKernel",
    "Gaussian",
    "Gcmi",
    "Mixed",
    "GcmiMixed",
    "transfer_entropy",
    "kl_entropy",
    "uncertainty",
    "compare_nll",
    "InfometerError",
    "ShapeError",
    "NonFiniteError",
    "LabelError",
    "SettingError",
    "DataError",
    "InfometerWarning",
    "__version__",
]


class InfometerWarning(UserWarning):
    """A legal but doubtful result: a negative MI estimate, identical variables, more
    dimensions than samples, ties with the noise off."""


def _array(x: Any, name: str) -> tuple[Any, bool]:
    """A numpy view of `x` without a copy, and whether it holds bfloat16 bits.

    torch tensors: CPU only (`.detach().numpy()` shares memory); bfloat16 goes through
    `.view(torch.int16)`, whose bits the Rust side reads as bfloat16. Lists become arrays.
    """
    mod = type(x).__module__
    if mod.startswith("torch"):
        import torch  # only when a tensor is given

        if x.device.type != "cpu":
            raise TypeError(
                f"{name}: a {x.device.type} tensor; move it to the CPU first ({name}.cpu()), "
                "or reduce it on the device and pass the result"
            )
        t = x.detach()
        if t.dtype == torch.bfloat16:
            return t.view(torch.int16).numpy(), True
        return t.numpy(), False
    if isinstance(x, np.ndarray):
        return x, False
    return np.asarray(x), False


def _labels(x: Any, name: str) -> Optional[np.ndarray]:
    if x is None:
        return None
    a, _ = _array(x, name)
    if a.dtype != np.int64 and np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.int64)  # labels are small: one copy
    return a


def _mask(x: Any) -> Optional[np.ndarray]:
    if x is None:
        return None
    a, _ = _array(x, "mask")
    if a.dtype != np.bool_:
        a = a.astype(bool)
    return a


def analyze(
    logits: Any,
    labels: Any = None,
    ref: Any = None,
    mask: Any = None,
    ignore_index: int = -100,
    base: str = "e",
    temperature: float = 1.0,
    shift_labels: bool = False,
) -> Report:
    """One fused pass over ``logits`` of shape ``[..., vocab]``.

    Returns a Report: summary values as attributes (``n_tokens``, ``mean_nll``,
    ``perplexity``, ``mean_entropy``, ``accuracy``, ``brier``, ``ece``, ``mean_kl``,
    ``mean_js``, ...) and per-token arrays shaped like the leading axes (``nll``,
    ``entropy``, ``top1``, ``confidence``, ``kl``, ``js``, ``valid``), NaN at masked or
    ignored tokens. With ``shift_labels`` the logits at position t score label t + 1
    (causal LM), as Hugging Face does, without moving the logits.
    """
    a, bf16 = _array(logits, "logits")
    r = None
    if ref is not None:
        r, rbf = _array(ref, "ref")
        if rbf != bf16:
            raise TypeError("ref: bfloat16 and the logits' dtype differ; cast one of them")
    return _lib.analyze(
        a,
        labels=_labels(labels, "labels"),
        ref=r,
        mask=_mask(mask),
        ignore_index=ignore_index,
        base=base,
        temperature=temperature,
        shift_labels=shift_labels,
        bf16=bf16,
    )


class _Metric:
    """A torchmetrics-style metric over a LogitsAccumulator: update, compute, reset, merge."""

    _labels = True

    def __init__(self, temperature: float = 1.0, ignore_index: int = -100) -> None:
        self._acc = LogitsAccumulator(
            labels=self._labels, reference=False, temperature=temperature, ignore_index=ignore_index
        )

    def update(self, logits: Any, labels: Any, mask: Any = None, shift_labels: bool = False) -> None:
        """Adds a batch (the pass runs with the GIL released)."""
        a, bf16 = _array(logits, "logits")
        self._acc.update(
            a, labels=_labels(labels, "labels"), mask=_mask(mask), shift_labels=shift_labels, bf16=bf16
        )

    def reset(self) -> None:
        """Empties the state."""
        self._acc.reset()

    def merge(self, other: "_Metric") -> None:
        """Adds another metric's state (exact: sums and per-bin counts)."""
        if type(other) is not type(self):
            raise SettingError(f"cannot merge a {type(other).__name__} into a {type(self).__name__}")
        self._acc.merge(other._acc)

    merge_state = merge

    def __add__(self, other: "_Metric") -> "_Metric":
        out = type(self).__new__(type(self))
        out._acc = self._acc + other._acc
        return out

    @property
    def accumulator(self) -> LogitsAccumulator:
        """The underlying state."""
        return self._acc


class Perplexity(_Metric):
    """Token-weighted perplexity exp(sum NLL / n tokens) over every update: a ratio of sums,
    never a mean of per-batch perplexities."""

    def compute(self) -> float:
        return float(self._acc.compute()["perplexity"])


class Calibration(_Metric):
    """Expected calibration error over 15 equal-width bins of top-1 confidence; keeps per-bin
    (count, sum of confidence, correct), so merges are exact."""

    def compute(self) -> dict:
        s = self._acc.compute()
        out = {"ece": s["ece"], "mce": s["mce"], "accuracy": s["accuracy"], "n_tokens": s["n_tokens"]}
        out.update(self._acc.bins())
        return out


def _warn(e: Estimate) -> Estimate:
    for w in e.warnings:
        _warnings.warn(w, InfometerWarning, stacklevel=3)
    return e


class Estimator:
    """Any MI estimator by name: "ksg1", "ksg2", "kde", "box", "gaussian", "gcmi", "mixed",
    "gcmi-mixed". Settings the estimator does not take are refused (SettingError)."""

    def __init__(self, method: str, **settings: Any) -> None:
        self._est = _lib.Estimator(method, **settings)

    @property
    def name(self) -> str:
        return self._est.name

    def estimate(self, x: Any, y: Any, z: Any = None) -> Estimate:
        """I(X; Y) (or I(X; Y | Z)) in nats; warnings are issued as InfometerWarning."""
        return _warn(self._est.estimate(_samples(x), _samples(y), None if z is None else _samples(z)))

    def permutation_test(self, x: Any, y: Any, n_surrogates: int, seed: int = 0, z: Any = None) -> dict:
        """p = (1 + #{null >= observed}) / (1 + S), X's rows shuffled."""
        return self._est.permutation_test(
            _samples(x), _samples(y), n_surrogates, seed=seed, z=None if z is None else _samples(z)
        )

    def permutation_null(self, x: Any, y: Any, start: int, stop: int, seed: int = 0) -> Any:
        """Null values of surrogates start..stop only; ranges split across workers and
        concatenated in order equal one permutation_test's null."""
        return self._est.permutation_null(_samples(x), _samples(y), start, stop, seed=seed)

    def bootstrap_ci(self, x: Any, y: Any, n_resamples: int, level: float = 0.95, seed: int = 0) -> dict:
        """Percentile bootstrap over rows."""
        return self._est.bootstrap_ci(_samples(x), _samples(y), n_resamples, level=level, seed=seed)

    def __repr__(self) -> str:
        return repr(self._est)


def _samples(x: Any) -> Any:
    a, bf16 = _array(x, "samples")
    if bf16:
        raise TypeError("samples: bfloat16 samples are not supported; pass float32")
    return a


def Ksg(k: int = 4, algorithm: int = 1, **settings: Any) -> Estimator:
    """KSG mutual information (Kraskov et al. 2004), JIDT's conventions: k neighbours,
    standardised columns, 1e-8 noise (seeded), Theiler window; local values included."""
    if algorithm not in (1, 2):
        raise SettingError(f"algorithm {algorithm}: expected 1 or 2")
    return Estimator(f"ksg{algorithm}", k=k, **settings)


def Kde(**settings: Any) -> Estimator:
    """Gaussian-kernel KDE MI (leave-one-out, Scott's bandwidth)."""
    return Estimator("kde", **settings)


def BoxKernel(**settings: Any) -> Estimator:
    """JIDT's box-kernel MI (width 0.25 standard deviations)."""
    return Estimator("box", **settings)


def Gaussian() -> Estimator:
    """Linear-Gaussian MI and CMI from sample covariances."""
    return Estimator("gaussian")


def Gcmi(**settings: Any) -> Estimator:
    """Gaussian-copula MI (Ince et al. 2017), bias-corrected."""
    return Estimator("gcmi", **settings)


def Mixed(k: int = 4, **settings: Any) -> Estimator:
    """Ross's MI between integer labels (x) and continuous y."""
    return Estimator("mixed", k=k, **settings)


def GcmiMixed(**settings: Any) -> Estimator:
    """Gaussian-copula MI between integer labels (x) and continuous y."""
    return Estimator("gcmi-mixed", **settings)


def transfer_entropy(source: Any, target: Any, estimator: str = "ksg1", **kwargs: Any) -> Any:
    """Transfer entropy T(source -> target) in nats (a dict with the test when
    ``permutations`` is given)."""
    return _lib.transfer_entropy(_samples(source), _samples(target), estimator, **kwargs)


def kl_entropy(x: Any, k: int = 4, metric: str = "max") -> float:
    """Kozachenko-Leonenko differential entropy in nats."""
    return _lib.kl_entropy(_samples(x), k, metric)


def uncertainty(
    members: Any,
    mask: Any = None,
    temperature: float = 1.0,
    renyi_alpha: float = 0.5,
    jackknife: bool = False,
) -> dict:
    """Total, aleatoric and epistemic uncertainty of an ensemble (or MC-dropout samples).

    ``members`` is a list of logits arrays of one shape ``[..., vocab]``, or one array (or
    tensor) ``[M, ..., vocab]`` with the members on its first axis (views, no copy). The
    predictive distribution is the members' mean, formed in log space. Returns a dict with
    per-token float64 arrays shaped like the leading axes (NaN where masked): ``total``
    H(p̄), ``aleatoric`` E_m H(p_m), ``mutual_information`` (epistemic, BALD), ``rmi``,
    ``epkl`` (= MI + RMI), ``max_prob``, ``renyi_to_uniform`` (order ``renyi_alpha``) and
    ``fisher_rao_to_uniform``; their means under ``mean``; with ``jackknife`` (3+ members),
    standard errors over members and a bias-corrected MI; and ``warnings``.
    """
    if isinstance(members, (list, tuple)):
        views = [_array(m, f"members[{k}]") for k, m in enumerate(members)]
    else:
        a, bf = _array(members, "members")
        if a.ndim < 2:
            raise ShapeError("members: one array needs a member axis and a vocabulary axis")
        views = [(a[k], bf) for k in range(a.shape[0])]
    kinds = {bf for _, bf in views}
    if len(kinds) > 1:
        raise TypeError("members: bfloat16 and other dtypes mixed; cast them to one")
    bf16 = kinds.pop() if kinds else False
    return _lib.uncertainty(
        [v for v, _ in views],
        mask=_mask(mask),
        temperature=temperature,
        renyi_alpha=renyi_alpha,
        jackknife=jackknife,
        bf16=bf16,
    )


def compare_nll(
    nll_a: Any,
    nll_b: Any,
    doc: Any,
    bytes: Any = None,
    resamples: int = 9999,
    seed: int = 0,
    level: float = 0.95,
    interval: str = "bca",
    resample: str = "documents",
    block_len: Optional[int] = None,
) -> dict:
    """Two models compared on the same tokens, by document.

    ``nll_a`` and ``nll_b`` are per-token NLLs (nats) of the scored tokens, ``doc`` the
    document of each token (a document's tokens contiguous). Returns ``delta_nll``
    (A − B), ``perplexity_ratio`` and, with ``bytes`` (one count per document),
    ``delta_bits_per_byte``, each with a document-bootstrap interval (``interval``: bca or
    percentile) and standard error; ``delta_method`` (cluster-robust SE and interval, the
    design effect and the effective number of tokens); ``sign_flip`` (exact for up to 20
    documents); ``warnings``. ``resample='tokens'`` treats tokens as independent (warned);
    ``resample='blocks'`` with ``block_len`` is a moving-block bootstrap for one long text.
    """
    a = np.ascontiguousarray(_array(nll_a, "nll_a")[0], dtype=np.float64).reshape(-1)
    b = np.ascontiguousarray(_array(nll_b, "nll_b")[0], dtype=np.float64).reshape(-1)
    d = np.ascontiguousarray(_array(doc, "doc")[0], dtype=np.int64).reshape(-1)
    by = None if bytes is None else np.ascontiguousarray(np.asarray(bytes), dtype=np.int64).reshape(-1)
    out = _lib.compare_nll(
        a,
        b,
        d,
        bytes=by,
        resamples=resamples,
        seed=seed,
        level=level,
        interval=interval,
        resample=resample,
        block_len=block_len,
    )
    for w in out["warnings"]:
        _warnings.warn(w, InfometerWarning, stacklevel=2)
    return out
