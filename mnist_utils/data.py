"""Load MNIST from the archive shipped with the book, and verify that it is MNIST.

The book never downloads data: the archive ``mnist_utils/_data/mnist.npz`` is
part of the repository. Every load checks the SHA-256 of each of the four
arrays, so a truncated or altered file is reported, never used.

Where the shipped archive is absent (a trimmed copy of the package, say),
:func:`load_mnist` can fetch Keras's ``mnist.npz`` from a configurable URL,
verify it the same way and cache it. The cache is written atomically (see
:mod:`mnist_utils.files`): an interrupted or corrupted download leaves nothing behind,
and a download larger than :data:`MAX_DOWNLOAD_BYTES` is stopped.

An archive is read without trusting it: each array's header is checked (name, shape,
dtype) before its data is read, so a damaged or hostile file can neither ask for a huge
allocation nor smuggle in a pickle; any failure is a :class:`~mnist_utils.errors.DatasetError`.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from ._validation import check_float, check_images, check_int, check_labels, check_path
from .errors import DatasetError, InputTypeError, InputValueError, os_reason
from .files import atomic_path

__all__ = [
    "DEFAULT_URL",
    "MAX_DOWNLOAD_BYTES",
    "SHA256",
    "SHIPPED_PATH",
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

#: The archive that ships inside the package, ``mnist_utils/_data/mnist.npz``.
#:
#: :meta hide-value:
SHIPPED_PATH: Path = Path(__file__).resolve().parent / "_data" / "mnist.npz"

#: Where Keras downloads ``mnist.npz`` from; override with ``$MNIST_UTILS_URL``.
DEFAULT_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"

#: The largest download accepted, in bytes (Keras's ``mnist.npz`` has 11,490,434).
MAX_DOWNLOAD_BYTES = 64 * 2**20

Split = tuple[np.ndarray, np.ndarray]


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
    path = check_path(path, "path")
    try:
        shipped = path.resolve() == SHIPPED_PATH
        exists = path.is_file()
    except OSError as error:  # a name too long, a loop of links
        raise DatasetError(f"Cannot use {path} as the MNIST archive: {os_reason(error)}.") from error
    if shipped:
        fix = (
            "Restore the book's copy with `git checkout -- mnist_utils/_data/mnist.npz` "
            "(or a fresh clone); load_mnist() downloads a verified copy only if it is absent."
        )
    else:
        fix = "Delete the file and download it again, or pass the book's own archive."
    if not exists:
        raise DatasetError(f"MNIST archive not found at {path}. {fix}")
    try:
        arrays = _read_arrays(path, fix)
    except DatasetError:
        raise
    except Exception as error:  # zlib, zipfile, OS or NumPy errors: all mean a damaged file
        hint = _what_it_is(path)
        raise DatasetError(
            f"Cannot read {path} as a NumPy .npz archive ({type(error).__name__}: {error}); "
            f"the file is truncated or corrupted{hint}. {fix}"
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


def _read_arrays(path: Path, fix: str) -> dict[str, np.ndarray]:
    """The four arrays, each header checked against MNIST's before its data is read."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        missing = [key for key in _SHAPES if f"{key}.npy" not in names]
        if missing:
            raise DatasetError(f"{path} is not an MNIST archive: it lacks the array(s) {missing}. {fix}")
        for key, shape in _SHAPES.items():
            with archive.open(f"{key}.npy") as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                got_shape, fortran_order, dtype = read_header(member)
                if got_shape != shape or dtype != np.uint8 or fortran_order:
                    layout = ", Fortran order" if fortran_order else ""
                    raise DatasetError(
                        f"{path}: array {key!r} has shape {got_shape} and dtype {dtype}{layout}; "
                        f"MNIST's is {shape} uint8. {fix}"
                    )
                array = np.empty(shape, np.uint8)
                view, filled = memoryview(array).cast("B"), 0
                while filled < len(view) and (count := member.readinto(view[filled:])):
                    filled += count
                if filled < len(view):
                    raise DatasetError(f"{path}: array {key!r} is truncated ({filled} of {len(view)} bytes). {fix}")
                arrays[key] = array
    return arrays


def _what_it_is(path: Path) -> str:
    """A hint at what a file that is not an .npz archive is, from its first bytes."""
    try:
        with open(path, "rb") as file:
            start = file.read(64).lstrip().lower()
    except OSError:
        return ""
    if start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<")):
        return " (it is a web page, not the archive: the server answered with an HTML page)"
    if start.startswith(b"\x93numpy"):
        return " (it is a single .npy array, not an .npz archive of four)"
    if not start:
        return " (it is empty)"
    return ""


def default_cache_dir() -> Path:
    """Return the folder for downloaded data and trained models.

    ``$MNIST_BOOK_CACHE`` if set, else ``~/.cache/mnist-book``.
    """
    return Path(os.environ.get("MNIST_BOOK_CACHE") or Path.home() / ".cache" / "mnist-book")


def _check_url(url: object) -> None:
    if url is not None and not isinstance(url, str):
        raise InputTypeError(f"url must be a string such as {DEFAULT_URL!r}, got {type(url).__name__}.")


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
        If the download fails, is truncated, too large, or is not the real MNIST.
    FileWriteError
        If ``destination`` cannot be written.
    """
    _check_url(url)
    url = url or os.environ.get("MNIST_UTILS_URL") or DEFAULT_URL
    timeout = check_float(timeout, "timeout", low=0.0, low_open=True)
    destination = check_path(destination, "destination")
    with atomic_path(destination, name="destination") as temporary:
        with open(temporary, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    declared = response.headers.get("Content-Length") or ""
                    expected = int(declared) if declared.isdigit() else None
                    if expected is not None and expected > MAX_DOWNLOAD_BYTES:
                        raise DatasetError(
                            f"The file at {url} is {expected:,} bytes; MNIST's archive is about 11 MB "
                            f"and at most {MAX_DOWNLOAD_BYTES:,} are accepted. Check the URL."
                        )
                    received = 0
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        received += len(chunk)
                        if received > MAX_DOWNLOAD_BYTES:
                            raise DatasetError(
                                f"The download from {url} passed {MAX_DOWNLOAD_BYTES:,} bytes and was stopped; "
                                "MNIST's archive is about 11 MB. Check the URL."
                            )
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
                raise DatasetError(
                    f"Could not download MNIST from {url}: {error}. Check the URL "
                    "(set $MNIST_UTILS_URL to a mirror) or your network connection."
                ) from error
        if expected is not None and received != expected:
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
    InputTypeError, InputValueError
        If an argument has the wrong type or is an empty path.
    """
    if cache_dir is not None:
        cache_dir = check_path(cache_dir, "cache_dir")
    _check_url(url)
    if path is not None:
        return read_mnist_npz(path)
    if SHIPPED_PATH.is_file():
        return read_mnist_npz(SHIPPED_PATH)
    cached = cache_dir if cache_dir is not None else default_cache_dir()
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
    InputValueError
        If the lengths differ, ``validation_size`` leaves either part without every
        digit present, or a digit has fewer than two examples.
    InputTypeError
        If an argument has the wrong type.
    """
    from sklearn.model_selection import train_test_split

    images = check_images(images)
    labels = check_labels(labels)
    if len(images) != len(labels):
        raise InputValueError(
            f"images and labels differ in length ({len(images)} vs {len(labels)}); "
            "pass matching arrays."
        )
    classes = len(np.unique(labels))
    validation_size = check_int(
        validation_size, "validation_size", minimum=classes, maximum=max(classes, len(images) - classes)
    )
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    counts = np.bincount(labels)
    if counts[counts > 0].min() < 2:
        rare = int(np.flatnonzero(counts == 1)[0])
        raise InputValueError(
            f"labels has only one image of digit {rare}; a split stratified by digit needs at "
            "least two of every digit present. Pass more images."
        )
    try:
        x_train, x_val, y_train, y_val = train_test_split(
            images, labels, test_size=validation_size, random_state=seed, stratify=labels
        )
    except ValueError as error:  # scikit-learn's checks, should ours miss a case
        raise InputValueError(f"cannot split with validation_size={validation_size}: {error}") from error
    return (x_train, y_train), (x_val, y_val)
