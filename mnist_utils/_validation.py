"""Input checks shared by the modules of :mod:`mnist_utils`.

Each check raises an exception whose message says what was wrong with the
input *and* what to do about it, in the style of scikit-learn.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputTypeError, InputValueError

__all__ = [
    "check_bool",
    "check_choice",
    "check_float",
    "check_images",
    "check_int",
    "check_labels",
    "check_model",
    "check_path",
    "check_probabilities",
]


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` as a Python ``int``; NumPy integers are accepted, bools and floats are not.

    Raises
    ------
    InputTypeError
        If ``value`` is not an integer.
    InputValueError
        If it lies outside ``[minimum, maximum]``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        hint = " Pass a whole number, for example int(x)." if isinstance(value, (float, np.floating)) else ""
        raise InputTypeError(f"{name} must be an integer, got {_show(value)}.{hint}")
    value = int(value)
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise InputValueError(f"{name} must be {_range(minimum, maximum)}, got {value}.")
    return value


def check_float(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a Python ``float``; Python and NumPy ints and floats are accepted.

    ``low``/``high`` bound it, excluded when ``low_open``/``high_open``.

    Raises
    ------
    InputTypeError
        If ``value`` is not a real number (bools and strings are refused).
    InputValueError
        If it is NaN, infinite or out of range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{name} must be a number, got {_show(value)}.")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        span = f"in {left}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}{right}"
        raise InputValueError(f"{name} must be a finite number {span}, got {value!r}.")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` as a Python ``bool``; only ``True``/``False`` (or NumPy's) are accepted.

    Strings such as ``"no"`` are refused: they would otherwise count as true.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise InputTypeError(f"{name} must be True or False, got {_show(value)}.")
    return bool(value)


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise :class:`InputValueError`."""
    choices = tuple(choices)
    try:
        ok = value in choices
    except TypeError:  # an unhashable or incomparable value
        ok = False
    if not ok or isinstance(value, (bool, np.bool_)) and not any(c is value for c in choices):
        listed = ", ".join(repr(c) for c in choices)
        raise InputValueError(f"{name} must be one of {listed}; got {_show(value)}.")
    return value


def check_path(value: Any, name: str) -> Path:
    """Return ``value`` as a :class:`pathlib.Path`; ``str`` and path-like objects are accepted.

    Raises
    ------
    InputTypeError
        If ``value`` is not a ``str`` or path-like.
    InputValueError
        If it is empty or contains a NUL character.
    """
    if not isinstance(value, (str, os.PathLike)):
        raise InputTypeError(f"{name} must be a file path (str or pathlib.Path), got {_show(value)}.")
    text = os.fspath(value)
    if not isinstance(text, str):
        raise InputTypeError(f"{name} must be a text path, got bytes {text!r}; decode it first.")
    if not text:
        raise InputValueError(f"{name} is an empty path; pass the file's name.")
    if "\0" in text:
        raise InputValueError(f"{name} contains a NUL character, which no file name can hold: {text!r}.")
    return Path(text)


def check_model(model: Any, name: str = "model") -> Any:
    """Return ``model`` if it is a Keras model, else raise :class:`InputTypeError`."""
    import keras  # here, so that importing this module does not load TensorFlow

    if not isinstance(model, keras.Model):
        raise InputTypeError(f"{name} must be a keras.Model, got {type(model).__name__}.")
    return model


def _show(value: Any) -> str:
    """``value`` for an error message: its repr, shortened, with its type."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"between {minimum} and {maximum}"
    if minimum == 1:
        return "a positive integer"
    if minimum is not None:
        return f"at least {minimum}"
    return f"at most {maximum}"


def _as_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    if hasattr(values, "numpy") and callable(values.numpy):  # a TensorFlow tensor
        return np.asarray(values.numpy())
    if isinstance(values, (list, tuple)):
        try:
            return np.asarray(values)
        except ValueError as error:  # ragged nesting
            raise InputValueError(
                f"{name} is a ragged list: its rows have different lengths ({error}). "
                "Every image (or row) must have the same shape."
            ) from None
    raise InputTypeError(
        f"{name} must be a NumPy array, got {type(values).__name__}. "
        "Convert it first, for example with np.asarray(...)."
    )


def check_images(
    images: Any,
    *,
    name: str = "images",
    flat: bool | None = None,
    normalized: bool | None = None,
) -> np.ndarray:
    """Check a batch of MNIST-sized images and return it as a NumPy array.

    Parameters
    ----------
    images:
        A batch of images: shape ``(n, 28, 28)`` or, flattened, ``(n, 784)``.
    name:
        The name used for the input in error messages.
    flat:
        ``True`` to require ``(n, 784)``, ``False`` to require ``(n, 28, 28)``,
        ``None`` to accept either.
    normalized:
        ``True`` to require floating-point values in ``[0, 1]``, ``False`` to
        require ``uint8`` grey levels, ``None`` to accept either.

    Raises
    ------
    InputTypeError
        If the input is not array-like or has a non-numeric dtype.
    InputValueError
        If the batch is empty, has the wrong shape, contains NaN or infinite
        values, or has values outside the expected range.
    """
    array = _as_array(images, name)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise InputTypeError(
            f"{name} must hold numbers, got dtype {array.dtype}. "
            "Pass grey levels as uint8 (0..255) or floats in [0, 1]."
        )
    if array.ndim == 2 and array.shape[1] == 784:
        is_flat = True
    elif array.ndim == 3 and array.shape[1:] == (28, 28):
        is_flat = False
    else:
        raise InputValueError(
            f"{name} must have shape (n, 28, 28) or (n, 784), got {array.shape}. "
            "For a single image, add a batch axis with image[np.newaxis]."
        )
    if array.shape[0] == 0:
        raise InputValueError(f"{name} is empty (shape {array.shape}); pass at least one image.")
    if flat is True and not is_flat:
        raise InputValueError(
            f"{name} must be flattened to (n, 784), got {array.shape}. "
            "Use mnist_utils.preprocessing.flatten_images first."
        )
    if flat is False and is_flat:
        raise InputValueError(
            f"{name} must have shape (n, 28, 28), got {array.shape}. "
            "Reshape with images.reshape(-1, 28, 28)."
        )
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            bad = int(np.count_nonzero(~np.isfinite(array)))
            raise InputValueError(
                f"{name} contains {bad} NaN or infinite value(s). "
                "Find where they came from, or replace them with np.nan_to_num."
            )
        if normalized is False:
            raise InputTypeError(
                f"{name} must be raw uint8 grey levels (0..255), got dtype {array.dtype}. "
                "Pass the images as loaded by mnist_utils.data.load_mnist."
            )
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise InputValueError(
                f"{name} must hold values in [0, 1] once normalised, got values in "
                f"[{low:g}, {high:g}]. Divide uint8 grey levels by 255 exactly once."
            )
    else:
        if normalized is True:
            raise InputTypeError(
                f"{name} must be normalised floats in [0, 1], got dtype {array.dtype}. "
                "Use mnist_utils.preprocessing.normalize_images first."
            )
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise InputValueError(
                f"{name} must hold grey levels in 0..255, got values in [{low}, {high}]."
            )
    return array


def check_labels(labels: Any, *, name: str = "labels", n: int | None = None) -> np.ndarray:
    """Check a 1-D array of digit labels 0..9 and return it as a NumPy array.

    Parameters
    ----------
    labels:
        Integer class labels, shape ``(n,)``.
    name:
        The name used for the input in error messages.
    n:
        If given, the number of labels required (to match a batch of images).

    Raises
    ------
    InputTypeError
        If the labels are not integers.
    InputValueError
        If the labels are empty, not 1-D, of the wrong length, or outside 0..9.
    """
    array = _as_array(labels, name)
    if array.ndim != 1:
        raise InputValueError(
            f"{name} must be 1-D with one digit per image, got shape {array.shape}. "
            "If you have one-hot rows or probabilities, take .argmax(axis=1) first."
        )
    if array.size == 0:
        raise InputValueError(f"{name} is empty; pass at least one label.")
    if not np.issubdtype(array.dtype, np.integer):
        raise InputTypeError(
            f"{name} must be integers 0..9, got dtype {array.dtype}. "
            "Convert class indices with .astype(int)."
        )
    if n is not None and array.shape[0] != n:
        raise InputValueError(f"{name} has {array.shape[0]} entries but {n} were expected.")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > 9:
        raise InputValueError(f"{name} must be digits 0..9, got values in [{low}, {high}].")
    return array


def check_probabilities(probabilities: Any, *, name: str = "probabilities") -> np.ndarray:
    """Check an ``(n, 10)`` array of class probabilities and return it.

    Raises
    ------
    InputTypeError
        If the array does not hold floats.
    InputValueError
        If the shape is not ``(n, 10)``, the array is empty, contains NaN or values
        outside ``[0, 1]``, or a row does not sum to 1.
    """
    array = _as_array(probabilities, name)
    if array.ndim != 2 or array.shape[1] != 10:
        raise InputValueError(
            f"{name} must have shape (n, 10), one row of class probabilities per image, "
            f"got {array.shape}."
        )
    if array.shape[0] == 0:
        raise InputValueError(f"{name} is empty; pass at least one row.")
    if not np.issubdtype(array.dtype, np.floating):
        raise InputTypeError(f"{name} must be floats, got dtype {array.dtype}.")
    if not np.all(np.isfinite(array)):
        raise InputValueError(f"{name} contains NaN or infinite values; check the model's output.")
    if array.min() < 0.0 or array.max() > 1.0 + 1e-6:
        raise InputValueError(
            f"{name} must lie in [0, 1]; got [{array.min():g}, {array.max():g}]. "
            "Did you pass logits instead of softmax outputs?"
        )
    sums = array.sum(axis=1, dtype=np.float64)
    off = np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE)
    if off.size:
        raise InputValueError(
            f"each row of {name} must sum to 1 (one probability per digit), but {off.size} row(s) "
            f"do not: row {off[0]} sums to {sums[off[0]]:g}. Pass the softmax outputs of a "
            "ten-class model, not scores, logits or one-hot rows of another shape."
        )
    return array


#: How far a row of probabilities may sum from 1: float32 softmax rows sum to 1 within ~1e-6.
ROW_SUM_TOLERANCE = 1e-3
