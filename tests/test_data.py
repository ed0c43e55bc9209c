"""The shipped archive, its verification, and the download fallback."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mnist_utils import data
from mnist_utils.data import DatasetError, load_mnist, read_mnist_npz, train_validation_split

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_shipped_archive_is_the_real_mnist(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    for name, array in zip(("x_train", "y_train", "x_test", "y_test"), (x_train, y_train, x_test, y_test)):
        assert data.array_sha256(array) == data.SHA256[name]


def test_shipped_path_is_inside_the_package():
    assert data.SHIPPED_PATH == ROOT / "mnist_utils" / "_data" / "mnist.npz"
    assert data.SHIPPED_PATH.is_file()


def test_checksums_in_the_docs_match_the_code():
    for document in (ROOT / "appendix" / "data.md", ROOT / "mnist_utils" / "_data" / "README.md"):
        text = document.read_text()
        for name, digest in data.SHA256.items():
            assert re.search(rf"{name}\W.*{digest}", text), (document, name)


def test_missing_file_says_so(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        read_mnist_npz(tmp_path / "absent.npz")


def test_truncated_file_is_rejected(tmp_path, archive_bytes):
    path = tmp_path / "mnist.npz"
    path.write_bytes(archive_bytes[: len(archive_bytes) // 2])
    with pytest.raises(DatasetError, match="truncated or corrupted"):
        read_mnist_npz(path)


def test_garbage_file_is_rejected(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_text("<html>Service unavailable</html>")
    with pytest.raises(DatasetError, match="truncated or corrupted"):
        read_mnist_npz(path)


def _save(path, arrays):
    np.savez_compressed(path, **arrays)
    return path


def test_altered_pixel_is_detected(tmp_path, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    x_test = x_test.copy()
    x_test[0, 14, 14] ^= 1
    path = _save(tmp_path / "m.npz", dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test))
    with pytest.raises(DatasetError, match=r"'x_test' has SHA-256 .* altered"):
        read_mnist_npz(path)


def test_wrong_dtype_and_missing_array_are_reported(tmp_path, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    path = _save(tmp_path / "a.npz", dict(x_train=x_train, y_train=y_train.astype(np.int64), x_test=x_test, y_test=y_test))
    with pytest.raises(DatasetError, match=r"'y_train' has shape \(60000,\) and dtype int64"):
        read_mnist_npz(path)
    path = _save(tmp_path / "b.npz", dict(x_train=x_train, y_train=y_train))
    with pytest.raises(DatasetError, match=r"lacks the array\(s\) \['x_test', 'y_test'\]"):
        read_mnist_npz(path)


def test_error_for_shipped_file_says_how_to_restore(monkeypatch, tmp_path):
    broken = tmp_path / "mnist.npz"
    broken.write_bytes(b"PK\x03\x04broken")
    monkeypatch.setattr(data, "SHIPPED_PATH", broken)
    with pytest.raises(DatasetError, match="git checkout -- mnist_utils/_data/mnist.npz"):
        load_mnist()


# --- the download fallback, against a server on 127.0.0.1 ---------------------------------


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_writes_a_verified_archive(tmp_path, local_server, archive_bytes):
    url = local_server.serve("/mnist.npz", archive_bytes)
    destination = tmp_path / "cache" / "mnist.npz"
    assert data.download_mnist(destination, url=url) == destination
    assert destination.read_bytes() == archive_bytes
    assert _leftovers(destination.parent) == ["mnist.npz"]


def test_corrupted_download_leaves_nothing_behind(tmp_path, local_server, archive_bytes):
    corrupted = bytearray(archive_bytes)
    corrupted[len(corrupted) // 2] ^= 0xFF
    url = local_server.serve("/mnist.npz", bytes(corrupted))
    destination = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(DatasetError, match="not a valid MNIST archive"):
        data.download_mnist(destination, url=url)
    assert _leftovers(destination.parent) == []


def test_truncated_download_leaves_nothing_behind(tmp_path, local_server, archive_bytes):
    url = local_server.serve("/mnist.npz", archive_bytes[:100_000], declared_length=len(archive_bytes))
    destination = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(DatasetError, match="truncated|Could not download"):
        data.download_mnist(destination, url=url)
    assert _leftovers(destination.parent) == []


def test_failed_download_keeps_an_existing_file(tmp_path, local_server):
    destination = tmp_path / "mnist.npz"
    destination.write_bytes(b"previous")
    url = local_server.serve("/missing.npz", b"nope", status=404)
    with pytest.raises(DatasetError, match="HTTP Error 404.*MNIST_UTILS_URL"):
        data.download_mnist(destination, url=url)
    assert destination.read_bytes() == b"previous"
    assert _leftovers(tmp_path) == ["mnist.npz"]


def test_load_mnist_downloads_only_when_the_shipped_archive_is_absent(
    monkeypatch, tmp_path, local_server, archive_bytes
):
    monkeypatch.setattr(data, "SHIPPED_PATH", tmp_path / "absent" / "mnist.npz")
    url = local_server.serve("/mnist.npz", archive_bytes)
    monkeypatch.setenv("MNIST_UTILS_URL", url)
    (x_train, _), _ = load_mnist(cache_dir=tmp_path / "cache")
    assert data.array_sha256(x_train) == data.SHA256["x_train"]
    assert (tmp_path / "cache" / "mnist.npz").is_file()
    # A second load reads the cache: the server may be gone.
    monkeypatch.setenv("MNIST_UTILS_URL", "http://127.0.0.1:9/unreachable")
    (x_train, _), _ = load_mnist(cache_dir=tmp_path / "cache")
    assert data.array_sha256(x_train) == data.SHA256["x_train"]


def test_unreachable_server_gives_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="Could not download MNIST from http://127.0.0.1:9/"):
        data.download_mnist(tmp_path / "mnist.npz", url="http://127.0.0.1:9/mnist.npz", timeout=5)
    assert _leftovers(tmp_path) == []


# --- the validation split ---------------------------------------------------------------------


def test_split_is_stratified_seeded_and_disjoint(mnist):
    (x, y), _ = mnist
    (x_fit, y_fit), (x_val, y_val) = train_validation_split(x, y, validation_size=6000, seed=42)
    assert len(x_fit) == 54000 and len(x_val) == 6000
    assert np.abs(np.bincount(y_val) / 6000 - np.bincount(y) / 60000).max() < 1e-3
    (x_fit2, _), (x_val2, _) = train_validation_split(x, y, validation_size=6000, seed=42)
    assert np.array_equal(x_val, x_val2) and np.array_equal(x_fit, x_fit2)
    (_, _), (x_val3, _) = train_validation_split(x, y, validation_size=6000, seed=7)
    assert not np.array_equal(x_val, x_val3)
    # Together the two parts are a permutation of the training set.
    assert np.array_equal(np.sort(np.concatenate([y_fit, y_val])), np.sort(y))


@pytest.mark.parametrize("size", [0, 60000, -1])
def test_split_rejects_impossible_sizes(mnist, size):
    (x, y), _ = mnist
    with pytest.raises(ValueError, match="validation_size must be between 10 and 59990"):
        train_validation_split(x, y, validation_size=size)


def test_split_rejects_mismatched_lengths(mnist):
    (x, y), _ = mnist
    with pytest.raises(ValueError, match="differ in length"):
        train_validation_split(x, y[:-1])
