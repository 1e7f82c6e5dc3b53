"""Shared helpers of the Python tests: a float64 reference of the logits measures, and the CLI binary."""

import os
import pathlib
import subprocess
import json

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Reference in float64, relative to the row maximum."""
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    z = x - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def reference(logits: np.ndarray, labels: np.ndarray):
    """(nll, entropy) per row from numpy, the independent twin of the fused pass."""
    lp = log_softmax(logits)
    p = np.exp(lp)
    ent = -(p * lp).sum(axis=-1)
    nll = -np.take_along_axis(lp, labels[..., None], axis=-1)[..., 0]
    return nll, ent


@pytest.fixture
def rng():
    return np.random.default_rng(20261129)


def cli() -> pathlib.Path:
    """The infometer binary `cargo test` built (INFOMETER_BIN overrides)."""
    p = pathlib.Path(os.environ.get("INFOMETER_BIN", ROOT / "target" / "debug" / "infometer"))
    if not p.exists():
        pytest.skip(f"no CLI binary at {p}; build it with cargo build -p infometer-cli")
    return p


def run_cli(*args: str) -> dict:
    out = subprocess.run([str(cli()), *args, "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)
