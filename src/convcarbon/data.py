"""MNIST: loaded from a local file or the Keras download, checked, then prepared.

A bad file stops the run with one message that names the file and the fault.
Nothing ever falls back to other or synthetic data.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import MNIST_TEST_IMAGES, MNIST_TRAIN_IMAGES, ExperimentConfig
from .errors import DatasetError

EXPECTED_ARRAYS = {
    "x_train": (MNIST_TRAIN_IMAGES, 28, 28),
    "y_train": (MNIST_TRAIN_IMAGES,),
    "x_test": (MNIST_TEST_IMAGES, 28, 28),
    "y_test": (MNIST_TEST_IMAGES,),
}
NUM_CLASSES = 10


@dataclass(frozen=True)
class MnistArrays:
    """The four raw arrays, where they came from, and a hash of their content."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # the file's name, or KERAS_DOWNLOAD: never a path
    sha256: str


@dataclass(frozen=True)
class PreparedData:
    """Images scaled to [0, 1] with a channel axis, labels one-hot."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def resolve_mnist_path(flag_path: str | None, environ=os.environ) -> str | None:
    """The local file named by --mnist or CONVCARBON_MNIST, or None for the Keras download."""
    return flag_path or environ.get("CONVCARBON_MNIST") or None


KERAS_DOWNLOAD = "Keras download (keras.datasets.mnist)"


def load_mnist(path: str | None) -> MnistArrays:
    """The arrays, checked. `source` names them for a record: the file's name (never its folder, which may hold
    a user name and would be published with the record) or the Keras download; the content's sha256 identifies them.
    Messages about a bad file name the whole path, since they stay on this machine's terminal."""
    if path is None:
        arrays, source, where = _download_with_keras(), KERAS_DOWNLOAD, KERAS_DOWNLOAD
    else:
        arrays, source, where = _read_npz(Path(path)), Path(path).name, str(path)
    _validate(arrays, where)
    return MnistArrays(**arrays, source=source, sha256=_content_sha256(arrays))


def prepare(mnist: MnistArrays, config: ExperimentConfig) -> PreparedData:
    """Scale, add the channel axis, one-hot encode, and take the profile's subset."""
    return PreparedData(
        x_train=_scale(mnist.x_train[: config.train_images]),
        y_train=_one_hot(mnist.y_train[: config.train_images]),
        x_test=_scale(mnist.x_test[: config.test_images]),
        y_test=_one_hot(mnist.y_test[: config.test_images]),
    )


def _scale(images: np.ndarray) -> np.ndarray:
    return (images.astype("float32") / 255.0)[..., np.newaxis]


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype="float32")[labels]


def _download_with_keras() -> dict:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # the Keras loader raises many kinds when offline
        raise DatasetError(
            f"could not download MNIST through Keras ({type(error).__name__}: {error}); "
            "without internet, set CONVCARBON_MNIST or --mnist to a local mnist.npz"
        ) from None
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def _read_npz(path: Path) -> dict:
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    if not path.is_file():
        raise DatasetError(f"{path}: not a file")
    if not zipfile.is_zipfile(path):
        raise DatasetError(f"{path}: not a readable .npz file (no zip archive; truncated or another format)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = sorted(set(EXPECTED_ARRAYS) - set(archive.files))
            if missing:
                raise DatasetError(
                    f"{path}: missing arrays {', '.join(missing)} "
                    f"(found: {', '.join(sorted(archive.files)) or 'none'}); "
                    "expected the Keras mnist.npz layout: x_train, y_train, x_test, y_test"
                )
            return {key: archive[key] for key in EXPECTED_ARRAYS}
    except DatasetError:
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise DatasetError(f"{path}: holds pickled Python objects, which are refused") from None
        raise DatasetError(f"{path}: not a readable .npz file ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DatasetError(
            f"{path}: not a readable .npz file, perhaps truncated ({type(error).__name__}: {error})"
        ) from None


def _validate(arrays: dict, source: str) -> None:
    for key, shape in EXPECTED_ARRAYS.items():
        array = arrays[key]
        if array.shape != shape:
            raise DatasetError(f"{source}: {key} has shape {array.shape}, expected {shape}")
        if array.dtype != np.uint8:
            raise DatasetError(f"{source}: {key} has dtype {array.dtype}, expected uint8")
    for key in ("y_train", "y_test"):
        labels = arrays[key]
        if labels.max() >= NUM_CLASSES:
            raise DatasetError(f"{source}: {key} holds label {int(labels.max())}; labels must be 0 to 9")


def _content_sha256(arrays: dict) -> str:
    """A hash of the arrays themselves, so the same data gives the same fingerprint
    whether it came compressed, uncompressed or from the Keras cache."""
    digest = hashlib.sha256()
    for key in EXPECTED_ARRAYS:
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return digest.hexdigest()
