"""Save and load trained models: each written once, whole, with its record inside.

A model is saved in Keras's ``.keras`` format, a zip archive whose ``metadata.json`` Keras
writes and never reads back. :func:`write_model` adds the book's record (the recipe, the
training history, the wall time) to that ``metadata.json`` under the key ``"mnist_book"``
and writes the archive atomically (see :mod:`mnist_utils.files`). Model and record are one
file, so they can never disagree: a reader sees the old pair or the new pair, whole.

:func:`load_model` checks what it loads: a readable Keras archive holding a network that
takes the book's 28×28 images (flat or as a grid) and answers with ten probabilities.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import check_model, check_path
from .errors import InputTypeError, ModelFileError, os_reason
from .files import atomic_path, check_writable

__all__ = [
    "INPUT_SHAPES", "check_classifier", "load_model", "load_model_and_record", "read_record", "weights_digest",
    "write_model",
]

#: The input shapes of the book's networks, flat vectors (the MLP) or grids (the CNN).
INPUT_SHAPES: tuple[tuple[int | None, ...], ...] = ((None, 784), (None, 28, 28, 1))

_METADATA = "metadata.json"
_KEY = "mnist_book"


def write_model(model: Any, path: str | os.PathLike[str], record: dict | None = None, *, name: str = "path") -> Path:
    """Save ``model`` to ``path`` (a ``.keras`` file) atomically, with ``record`` inside.

    Parameters
    ----------
    model:
        A Keras model.
    path:
        The ``.keras`` file to write; its folders are created.
    record:
        A JSON-serialisable dict kept inside the file (see :func:`read_record`).
    name:
        The argument's name, for error messages.

    Raises
    ------
    InputTypeError
        If ``model`` is not a Keras model or ``record`` is not a dict.
    InputValueError
        If ``path`` does not end in ``.keras`` or is a folder.
    FileWriteError
        If the file cannot be written.
    """
    check_model(model)
    if record is not None and not isinstance(record, dict):
        raise InputTypeError(f"record must be a dict or None, got {type(record).__name__}.")
    record = record or {}
    path = check_path(path, name)
    try:
        json.dumps(record)
    except (TypeError, ValueError) as error:
        raise InputTypeError(f"record must hold only what JSON can (numbers, strings, lists, dicts): {error}.") from None
    check_writable(path, name=name, suffix=".keras")
    with atomic_path(path, name=name) as temporary:
        model.save(temporary)
        with zipfile.ZipFile(temporary) as source:
            entries = [(info, source.read(info)) for info in source.infolist()]
        with zipfile.ZipFile(temporary, "w") as target:
            for info, data in entries:
                if info.filename == _METADATA:
                    metadata = json.loads(data)
                    metadata[_KEY] = record
                    data = json.dumps(metadata).encode()
                target.writestr(info, data)
    return path


def read_record(source: str | os.PathLike[str] | Any) -> dict | None:
    """The record :func:`write_model` put inside a ``.keras`` file, or ``None``.

    ``source`` is a path or an open binary file. ``None`` is returned when the file does
    not exist or holds no record (a model saved by Keras alone); a file that exists but is
    not a Keras archive raises :class:`~mnist_utils.errors.ModelFileError`.
    """
    if isinstance(source, (str, os.PathLike)):
        path = check_path(source, "path")
        try:
            if not path.is_file():
                return None
        except OSError as error:
            raise ModelFileError(f"cannot read {path}: {os_reason(error)}.") from error
    try:
        with zipfile.ZipFile(source) as archive:
            metadata = json.loads(archive.read(_METADATA))
    except KeyError:
        return None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ModelFileError(
            f"{getattr(source, 'name', source)} is not a readable .keras archive ({error}); "
            "it is truncated or not a model. Save or train the model again."
        ) from error
    record = metadata.get(_KEY) if isinstance(metadata, dict) else None
    return record if isinstance(record, dict) else None


def load_model(path: str | os.PathLike[str], *, name: str = "path", check: bool = True) -> Any:
    """Load a ``.keras`` model, in Keras's safe mode, and check that it classifies digits.

    Parameters
    ----------
    path:
        The ``.keras`` file.
    name:
        The argument's name, for error messages (the command line passes ``--model-path``).
    check:
        Run :func:`check_classifier` on the loaded model.

    Raises
    ------
    ModelFileError
        If the file is missing, not a Keras archive, cannot be loaded (truncated, from an
        incompatible Keras, or holding code, which safe mode refuses), or is not a digit
        classifier of the book's kind.
    """
    import keras

    path = check_path(path, name)
    try:
        exists = path.is_file()
    except OSError as error:  # a name too long, say
        raise ModelFileError(f"cannot read {name} {path}: {os_reason(error)}.") from error
    if not exists:
        what = "is a folder, not a .keras file" if path.is_dir() else "does not exist"
        raise ModelFileError(f"{name} {path} {what}. Train a model first: python -m mnist_utils train --model cnn")
    if path.suffix != ".keras":
        raise ModelFileError(f"{name} {path} must be a .keras file saved by Keras 3, got suffix {path.suffix!r}.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{name} {path} is not a .keras archive: the file is truncated or damaged. Save or train it again."
        )
    try:
        model = keras.models.load_model(path)
    except Exception as error:  # Keras raises many types for a bad file
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelFileError(f"cannot load {name} {path} ({message[:300]}). Save or train it again.") from error
    if check:
        check_classifier(model, name=f"{name} {path}")
    return model


def load_model_and_record(path: str | os.PathLike[str]) -> tuple[Any, dict | None]:
    """Load a model and its record from one and the same version of the file.

    Another process may replace the file while it is read. The file is opened once and
    copied, from that open handle, to a private temporary file; model and record are
    read from the copy. A replacement after the opening does not change what the open
    handle reads, so the pair is always one version's.

    Raises
    ------
    ModelFileError
        As :func:`load_model`.
    """
    path = check_path(path, "path")
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError as error:
        raise ModelFileError(f"cannot read {path}: {os_reason(error)}.") from error
    with handle, tempfile.TemporaryDirectory(prefix="mnist-book-") as folder:
        snapshot = Path(folder) / "model.keras"
        with open(snapshot, "wb") as copy:
            shutil.copyfileobj(handle, copy)
        try:
            return load_model(snapshot, check=False), read_record(snapshot)
        except ModelFileError as error:
            raise ModelFileError(str(error).replace(str(snapshot), str(path))) from error.__cause__


def check_classifier(model: Any, *, name: str = "model") -> None:
    """Check that ``model`` takes the book's images and answers with ten probabilities.

    The input shape must be one of :data:`INPUT_SHAPES`, the output shape ``(None, 10)``,
    and on a probe batch (a blank image, a full one and two of random grey levels) every
    output row must be ten numbers in ``[0, 1]`` that sum to 1: a softmax, not logits.

    Raises
    ------
    ModelFileError
        If any of these does not hold; the message says which and what to do.
    """
    shape = tuple(getattr(model, "input_shape", ()) or ())
    if shape not in INPUT_SHAPES:
        raise ModelFileError(
            f"{name} takes input of shape {shape}; the book's models take (None, 784) "
            "(flattened images) or (None, 28, 28, 1) (image grids). Pass one of the book's models."
        )
    output = tuple(getattr(model, "output_shape", ()) or ())
    if output != (None, 10):
        raise ModelFileError(
            f"{name} answers with shape {output}; a digit classifier answers (None, 10), one "
            "probability per digit. Pass one of the book's models."
        )
    rng = np.random.default_rng(0)
    probe = np.concatenate([np.zeros((1, 784)), np.ones((1, 784)), rng.random((2, 784))]).astype(np.float32)
    try:
        outputs = np.asarray(model.predict(probe.reshape(4, *shape[1:]), verbose=0), dtype=np.float64)
    except Exception as error:
        raise ModelFileError(f"{name} fails on a probe batch of images ({type(error).__name__}: {error}).") from error
    sums = outputs.sum(axis=1)
    if not np.all(np.isfinite(outputs)) or outputs.min() < 0 or outputs.max() > 1 + 1e-6 or np.abs(sums - 1).max() > 1e-3:
        raise ModelFileError(
            f"{name} does not answer with probabilities: on a probe batch its outputs range over "
            f"[{np.nanmin(outputs):.3g}, {np.nanmax(outputs):.3g}] and its rows sum to up to "
            f"{np.nanmax(sums):.3g}. Its last layer must be a softmax (it may output logits)."
        )


def weights_digest(model) -> str:
    """The first 16 hex digits of the SHA-256 of all of ``model``'s weights, in order.

    Equal digests mean bit-identical weights (chapter 9 compares replicas with it, the
    benchmark repeated runs).

    Raises
    ------
    InputTypeError
        If ``model`` is not a Keras model.
    """
    digest = hashlib.sha256()
    for weight in check_model(model).weights:
        digest.update(np.asarray(weight).tobytes())
    return digest.hexdigest()[:16]
