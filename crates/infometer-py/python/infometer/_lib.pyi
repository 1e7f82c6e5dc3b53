"""Type stubs of the Rust extension module infometer._lib (checked by mypy.stubtest)."""

from typing import Any, Optional, final

import numpy as np
import numpy.typing as npt

__version__: str
__all__ = [
    "InfometerError",
    "ShapeError",
    "NonFiniteError",
    "LabelError",
    "SettingError",
    "DataError",
    "analyze",
    "Report",
    "LogitsAccumulator",
    "_accumulator_from_bytes",
    "Estimator",
    "Estimate",
    "transfer_entropy",
    "kl_entropy",
    "uncertainty",
    "compare_nll",
    "_check_panic_guard",
    "__version__",
]

class InfometerError(ValueError): ...
class ShapeError(InfometerError): ...
class NonFiniteError(InfometerError): ...
class LabelError(InfometerError): ...
class SettingError(InfometerError): ...
class DataError(InfometerError): ...

@final
class Report:
    """Summary values as attributes, per-token arrays in `tokens` (None where undefined)."""

    @property
    def summary(self) -> dict[str, Any]: ...
    @property
    def tokens(self) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def n_tokens(self) -> int: ...
    @property
    def unit(self) -> str: ...
    @property
    def mean_nll(self) -> Optional[float]: ...
    @property
    def perplexity(self) -> Optional[float]: ...
    @property
    def mean_entropy(self) -> float: ...
    @property
    def mean_confidence(self) -> float: ...
    @property
    def accuracy(self) -> Optional[float]: ...
    @property
    def brier(self) -> Optional[float]: ...
    @property
    def ece(self) -> Optional[float]: ...
    @property
    def mce(self) -> Optional[float]: ...
    @property
    def mean_kl(self) -> Optional[float]: ...
    @property
    def mean_kl_reverse(self) -> Optional[float]: ...
    @property
    def mean_js(self) -> Optional[float]: ...
    @property
    def valid(self) -> npt.NDArray[np.bool_]: ...
    @property
    def nll(self) -> Optional[npt.NDArray[np.float64]]: ...
    @property
    def entropy(self) -> npt.NDArray[np.float64]: ...
    @property
    def top1(self) -> npt.NDArray[np.int64]: ...
    @property
    def confidence(self) -> npt.NDArray[np.float64]: ...
    @property
    def kl(self) -> Optional[npt.NDArray[np.float64]]: ...
    @property
    def kl_reverse(self) -> Optional[npt.NDArray[np.float64]]: ...
    @property
    def js(self) -> Optional[npt.NDArray[np.float64]]: ...

def analyze(
    logits: npt.NDArray[Any],
    labels: Optional[npt.NDArray[np.int64]] = None,
    ref: Optional[npt.NDArray[Any]] = None,
    mask: Optional[npt.NDArray[np.bool_]] = None,
    ignore_index: int = ...,
    base: str = "e",
    temperature: float = 1.0,
    shift_labels: bool = False,
    bf16: bool = False,
) -> Report: ...

@final
class LogitsAccumulator:
    def __new__(
        cls,
        labels: bool = True,
        reference: bool = False,
        temperature: float = 1.0,
        ignore_index: int = ...,
    ) -> LogitsAccumulator: ...
    def update(
        self,
        logits: npt.NDArray[Any],
        labels: Optional[npt.NDArray[np.int64]] = None,
        ref: Optional[npt.NDArray[Any]] = None,
        mask: Optional[npt.NDArray[np.bool_]] = None,
        shift_labels: bool = False,
        bf16: bool = False,
    ) -> None: ...
    def compute(self, base: str = "e") -> dict[str, Any]: ...
    def bins(self) -> dict[str, npt.NDArray[Any]]: ...
    def reset(self) -> None: ...
    def merge(self, other: LogitsAccumulator) -> None: ...
    def merge_state(self, other: LogitsAccumulator) -> None: ...
    def __add__(self, other: LogitsAccumulator, /) -> LogitsAccumulator: ...
    def __radd__(self, other: LogitsAccumulator, /) -> LogitsAccumulator: ...
    @property
    def n_tokens(self) -> int: ...
    def to_state(self) -> bytes: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

def _accumulator_from_bytes(state: bytes) -> LogitsAccumulator: ...

@final
class Estimate:
    @property
    def nats(self) -> float: ...
    @property
    def bits(self) -> float: ...
    @property
    def n_samples(self) -> int: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def local(self) -> Optional[npt.NDArray[np.float64]]: ...
    def __float__(self) -> float: ...

@final
class Estimator:
    def __new__(
        cls,
        method: str,
        k: Optional[int] = None,
        noise: Optional[float] = None,
        standardize: Optional[bool] = None,
        theiler: Optional[int] = None,
        copula: bool = False,
        seed: int = 0,
    ) -> Estimator: ...
    @property
    def name(self) -> str: ...
    def estimate(
        self,
        x: npt.NDArray[Any],
        y: npt.NDArray[Any],
        z: Optional[npt.NDArray[Any]] = None,
    ) -> Estimate: ...
    def permutation_test(
        self,
        x: npt.NDArray[Any],
        y: npt.NDArray[Any],
        n_surrogates: int,
        seed: int = 0,
        z: Optional[npt.NDArray[Any]] = None,
    ) -> dict[str, Any]: ...
    def __reduce__(
        self,
    ) -> tuple[
        Any,
        tuple[str, Optional[int], Optional[float], Optional[bool], Optional[int], bool, int],
    ]: ...
    def permutation_null(
        self,
        x: npt.NDArray[Any],
        y: npt.NDArray[Any],
        start: int,
        stop: int,
        seed: int = 0,
    ) -> npt.NDArray[np.float64]: ...
    def bootstrap_ci(
        self,
        x: npt.NDArray[Any],
        y: npt.NDArray[Any],
        n_resamples: int,
        level: float = 0.95,
        seed: int = 0,
    ) -> dict[str, float]: ...

def transfer_entropy(
    source: npt.NDArray[Any],
    target: npt.NDArray[Any],
    estimator: str = "ksg1",
    target_history: int = 1,
    source_history: int = 1,
    target_spacing: int = 1,
    source_spacing: int = 1,
    lag: int = 1,
    k: Optional[int] = None,
    noise: Optional[float] = None,
    theiler: Optional[int] = None,
    copula: bool = False,
    seed: int = 0,
    permutations: Optional[int] = None,
) -> Any: ...
def _check_panic_guard() -> None: ...
def kl_entropy(x: npt.NDArray[Any], k: int = 4, metric: str = "max") -> float: ...
def uncertainty(
    members: list[npt.NDArray[Any]],
    mask: Optional[npt.NDArray[np.bool_]] = None,
    temperature: float = 1.0,
    renyi_alpha: float = 0.5,
    jackknife: bool = False,
    bf16: bool = False,
) -> dict[str, Any]: ...
def compare_nll(
    nll_a: npt.NDArray[np.float64],
    nll_b: npt.NDArray[np.float64],
    doc: npt.NDArray[np.int64],
    bytes: Optional[npt.NDArray[np.int64]] = None,
    resamples: int = 9999,
    seed: int = 0,
    level: float = 0.95,
    interval: str = "bca",
    resample: str = "documents",
    block_len: Optional[int] = None,
) -> dict[str, Any]: ...
