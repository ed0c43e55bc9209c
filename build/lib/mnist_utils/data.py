"""Load MNIST from the archive shipped with the book, and verify that it is MNIST.

The book never downloads data: the archive ``mnist_utils/_data/mnist.npz`` is
part of the repository. Every load checks the SHA-256 of each of the four
arrays, so a truncated or altered file is reported, never used.

Where the shipped archive is absent (a trimmed copy of the package, say),
:func:`load_mnist` can fetch Keras's ``mnist.npz`` from a configurable URL,
verify it the same way and cache it. The cache is written atomically: an
interrupted or corrupted download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_URL",
    "SHA256",
    "SHIPPED_PATH",
    "DatasetError",
    "array_sha256",
    "download_mnist",
    "load_mnist",
    "read_mnist_npz",
    "train_validation_split",
]

#: SHA-256 of each array's raw bytes, as published with the data's provenance.
SHA256: dict[str, str] = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}

_SHAPES: dict[str, tuple[int, ...]] = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}

#: The archive that ships inside the package.
SHIPPED_PATH: Path = Path(__file__).resolve().parent / "_data" / "mnist.npz"

#: Where Keras downloads ``mnist.npz`` from; override with ``$MNIST_UTILS_URL``.
DEFAULT_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"

Split = tuple[np.ndarray, np.ndarray]


class DatasetError(RuntimeError):
    """The MNIST archive is missing, unreadable, or not the real MNIST."""


def array_sha256(array: np.ndarray) -> str:
    """Return the SHA-256 hex digest of an array's raw (C-ordered) bytes."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def read_mnist_npz(path: str | os.PathLike[str]) -> tuple[Split, Split]:
    """Read an ``mnist.npz`` archive and verify every array against :data:`SHA256`.

    Parameters
    ----------
    path:
        The archive, in the layout of ``keras.datasets.mnist.load_data()``.

    Returns
    -------
    tuple
        ``((x_train, y_train), (x_test, y_test))`` as ``uint8`` arrays.

    Raises
    ------
    DatasetError
        If the file is missing, unreadable, truncated, lacks an array, or any
        array's shape, dtype or checksum differs from the real MNIST.
    """
    path = Path(path)
    if path.resolve() == SHIPPED_PATH:
        fix = (
            "Restore the book's copy with `git checkout -- mnist_utils/_data/mnist.npz` "
            "(or a fresh clone); load_mnist() downloads a verified copy only if it is absent."
        )
    else:
        fix = "Delete the file and download it again, or pass the book's own archive."
    if not path.is_file():
        raise DatasetError(f"MNIST archive not found at {path}. {fix}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = sorted(set(_SHAPES) - set(archive.files))
            if missing:
                raise DatasetError(
                    f"{path} is not an MNIST archive: it lacks the array(s) {missing}. {fix}"
                )
            arrays = {key: archive[key] for key in _SHAPES}
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise DatasetError(
            f"Cannot read {path} as a NumPy .npz archive ({type(error).__name__}: {error}); "
            f"the file is truncated or corrupted. {fix}"
        ) from error
    for key, shape in _SHAPES.items():
        array = arrays[key]
        if array.shape != shape or array.dtype != np.uint8:
            raise DatasetError(
                f"{path}: array {key!r} has shape {array.shape} and dtype {array.dtype}; "
                f"MNIST's is {shape} uint8. {fix}"
            )
        digest = array_sha256(array)
        if digest != SHA256[key]:
            raise DatasetError(
                f"{path}: array {key!r} has SHA-256 {digest[:12]}…, expected "
                f"{SHA256[key][:12]}…; the data was altered or is not MNIST. {fix}"
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def default_cache_dir() -> Path:
    """Return the folder for downloaded data and trained models.

    ``$MNIST_BOOK_CACHE`` if set, else ``~/.cache/mnist-book``.
    """
    return Path(os.environ.get("MNIST_BOOK_CACHE", Path.home() / ".cache" / "mnist-book"))


def download_mnist(
    destination: str | os.PathLike[str],
    *,
    url: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``mnist.npz``, verify it, and move it into place atomically.

    The file is streamed to a temporary file beside ``destination``, checked
    against the server's ``Content-Length`` and against :data:`SHA256`, and
    only then renamed to ``destination``. On any failure the temporary file is
    removed and ``destination`` is left as it was.

    Parameters
    ----------
    destination:
        Where the verified archive is written.
    url:
        Where to download from; defaults to ``$MNIST_UTILS_URL``, else
        :data:`DEFAULT_URL`.
    timeout:
        Seconds to wait for the server before giving up.

    Returns
    -------
    pathlib.Path
        ``destination``.

    Raises
    ------
    DatasetError
        If the download fails, is truncated, or is not the real MNIST.
    """
    url = url or os.environ.get("MNIST_UTILS_URL", DEFAULT_URL)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    expected = response.headers.get("Content-Length")
                    received = 0
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        received += len(chunk)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
                raise DatasetError(
                    f"Could not download MNIST from {url}: {error}. Check the URL "
                    "(set $MNIST_UTILS_URL to a mirror) or your network connection."
                ) from error
        if expected is not None and received != int(expected):
            raise DatasetError(
                f"The download from {url} was truncated: received {received} of "
                f"{expected} bytes. Try again."
            )
        try:
            read_mnist_npz(temporary)
        except DatasetError as error:
            raise DatasetError(
                f"The file downloaded from {url} is not a valid MNIST archive: {error}"
            ) from error
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination


def load_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> tuple[Split, Split]:
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))``, verified.

    The same layout as ``keras.datasets.mnist.load_data()``: images are
    ``uint8`` arrays of shape ``(n, 28, 28)`` with 0 as background, labels are
    ``uint8`` digits.

    Parameters
    ----------
    path:
        An archive to read. If omitted, the archive shipped with the book is
        read; if that is absent, a cached download; if that is absent too, the
        archive is downloaded from ``url`` into ``cache_dir``.
    url:
        Where to download from if needed (see :func:`download_mnist`).
    cache_dir:
        Folder for the downloaded archive; defaults to ``$MNIST_BOOK_CACHE``
        or ``~/.cache/mnist-book``.

    Raises
    ------
    DatasetError
        If the archive is missing, unreadable, or fails verification.
    """
    if path is not None:
        return read_mnist_npz(path)
    if SHIPPED_PATH.is_file():
        return read_mnist_npz(SHIPPED_PATH)
    cached = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = cached / "mnist.npz"
    if not cached.is_file():
        download_mnist(cached, url=url)
    return read_mnist_npz(cached)


def train_validation_split(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    validation_size: int = 6000,
    seed: int = 42,
) -> tuple[Split, Split]:
    """Split a training set into training and validation parts, stratified by digit.

    The validation part is held out from training and used to choose
    settings; the official test set stays untouched until the final evaluation.

    Parameters
    ----------
    images, labels:
        The images and their labels, with the same first dimension.
    validation_size:
        How many examples go to the validation part.
    seed:
        Seed for the shuffle, so that the split is the same on every run.

    Returns
    -------
    tuple
        ``((x_train, y_train), (x_validation, y_validation))``.

    Raises
    ------
    ValueError
        If the lengths differ or ``validation_size`` does not leave both parts
        non-empty.
    """
    from sklearn.model_selection import train_test_split

    images = np.asarray(images)
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(
            f"images and labels differ in length ({len(images)} vs {len(labels)}); "
            "pass matching arrays."
        )
    if not 0 < validation_size < len(images):
        raise ValueError(
            f"validation_size must be between 1 and {len(images) - 1}, got {validation_size}."
        )
    x_train, x_val, y_train, y_val = train_test_split(
        images, labels, test_size=validation_size, random_state=seed, stratify=labels
    )
    return (x_train, y_train), (x_val, y_val)
