"""Shared test fixtures: the real MNIST file, and small fake ones that are broken on purpose."""

import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_path() -> str:
    path = os.environ.get("CONVCARBON_MNIST")
    if not path or not Path(path).is_file():
        pytest.fail("set CONVCARBON_MNIST to a local mnist.npz (CI uses ../shared/data/mnist.npz)")
    return path


def valid_mnist_arrays() -> dict:
    """Arrays of MNIST's shapes and dtypes, all zeros: valid layout, not real data."""
    return {
        "x_train": np.zeros((60_000, 28, 28), dtype=np.uint8),
        "y_train": np.zeros((60_000,), dtype=np.uint8),
        "x_test": np.zeros((10_000, 28, 28), dtype=np.uint8),
        "y_test": np.zeros((10_000,), dtype=np.uint8),
    }


@pytest.fixture
def write_npz(tmp_path):
    """Write arrays to an .npz file in tmp_path and return its path."""

    def write(name: str = "mnist.npz", **arrays) -> Path:
        path = tmp_path / name
        np.savez_compressed(path, **arrays)
        return path

    return write
