"""The MNIST loader: the real file passes; every kind of bad file stops with one clear message."""

import numpy as np
import pytest
from helpers import valid_mnist_arrays

from convcarbon.config import resolve_config
from convcarbon.data import load_mnist, prepare, resolve_mnist_path
from convcarbon.errors import DatasetError


def test_real_file_loads_with_the_published_label_counts(mnist_path):
    mnist = load_mnist(mnist_path)
    assert np.bincount(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert len(mnist.sha256) == 64


def test_prepare_scales_one_hots_and_takes_the_subset(mnist_path):
    mnist = load_mnist(mnist_path)
    data = prepare(mnist, resolve_config("smoke", environ={}))
    assert data.x_train.shape == (2_000, 28, 28, 1) and data.x_train.dtype == np.float32
    assert data.x_train.min() >= 0.0 and data.x_train.max() == 1.0
    assert data.y_train.shape == (2_000, 10)
    assert (data.y_train.argmax(axis=1) == mnist.y_train[:2_000]).all()
    assert data.x_test.shape == (1_000, 28, 28, 1)


def test_flag_wins_over_environment():
    assert resolve_mnist_path("a.npz", {"CONVCARBON_MNIST": "b.npz"}) == "a.npz"
    assert resolve_mnist_path(None, {"CONVCARBON_MNIST": "b.npz"}) == "b.npz"
    assert resolve_mnist_path(None, {}) is None


def test_content_hash_ignores_compression(write_npz, tmp_path):
    arrays = valid_mnist_arrays()
    compressed = write_npz("a.npz", **arrays)
    plain = tmp_path / "b.npz"
    np.savez(plain, **arrays)
    assert load_mnist(str(compressed)).sha256 == load_mnist(str(plain)).sha256


def _expect(path, message):
    with pytest.raises(DatasetError, match=message) as caught:
        load_mnist(str(path))
    assert str(path.name) in str(caught.value)  # the message names the file


def test_missing_file(tmp_path):
    _expect(tmp_path / "absent.npz", "no such file")


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "folder.npz").mkdir()
    _expect(tmp_path / "folder.npz", "not a file")


def test_truncated_file(write_npz):
    path = write_npz(**valid_mnist_arrays())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _expect(path, "not a readable .npz")


def test_not_an_npz_at_all(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_text("hello")
    _expect(path, "not a readable .npz")


def test_wrong_keys(write_npz):
    arrays = valid_mnist_arrays()
    arrays["images"] = arrays.pop("x_train")
    _expect(write_npz(**arrays), "missing arrays x_train")


def test_wrong_shape(write_npz):
    arrays = valid_mnist_arrays()
    arrays["x_test"] = np.zeros((10_000, 32, 32), dtype=np.uint8)
    _expect(write_npz(**arrays), r"x_test has shape \(10000, 32, 32\)")


def test_wrong_dtype(write_npz):
    arrays = valid_mnist_arrays()
    arrays["x_train"] = arrays["x_train"].astype(np.float32)
    _expect(write_npz(**arrays), "x_train has dtype float32")


def test_label_out_of_range(write_npz):
    arrays = valid_mnist_arrays()
    arrays["y_test"][5] = 10
    _expect(write_npz(**arrays), "y_test holds label 10")


def test_pickled_objects_are_refused(write_npz):
    arrays = valid_mnist_arrays()
    arrays["y_train"] = np.array([{"label": 1}] * 60_000, dtype=object)
    _expect(write_npz(**arrays), "pickled")


def test_the_source_is_the_file_name_never_its_folder_while_errors_name_the_whole_path(write_npz, tmp_path):
    """A record carries `source`: a folder such as /home/<user>/ would be published with it."""
    mnist = load_mnist(str(write_npz("my-mnist.npz", **valid_mnist_arrays())))
    assert mnist.source == "my-mnist.npz"
    arrays = {**valid_mnist_arrays(), "y_test": np.full((10_000,), 12, dtype=np.uint8)}
    broken = write_npz("broken.npz", **arrays)
    with pytest.raises(DatasetError, match=f"^{broken}: y_test holds label 12"):
        load_mnist(str(broken))
