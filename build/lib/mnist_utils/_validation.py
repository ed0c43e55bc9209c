"""Input checks shared by the modules of :mod:`mnist_utils`.

Each check raises an exception whose message says what was wrong with the
input *and* what to do about it, in the style of scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_images", "check_labels", "check_probabilities"]


def _as_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    if hasattr(values, "numpy"):  # a TensorFlow tensor
        return np.asarray(values.numpy())
    if isinstance(values, (list, tuple)):
        return np.asarray(values)
    raise TypeError(
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
    TypeError
        If the input is not array-like or has a non-numeric dtype.
    ValueError
        If the batch is empty, has the wrong shape, contains NaN or infinite
        values, or has values outside the expected range.
    """
    array = _as_array(images, name)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(
            f"{name} must hold numbers, got dtype {array.dtype}. "
            "Pass grey levels as uint8 (0..255) or floats in [0, 1]."
        )
    if array.ndim == 2 and array.shape[1] == 784:
        is_flat = True
    elif array.ndim == 3 and array.shape[1:] == (28, 28):
        is_flat = False
    else:
        raise ValueError(
            f"{name} must have shape (n, 28, 28) or (n, 784), got {array.shape}. "
            "For a single image, add a batch axis with image[np.newaxis]."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one image.")
    if flat is True and not is_flat:
        raise ValueError(
            f"{name} must be flattened to (n, 784), got {array.shape}. "
            "Use mnist_utils.preprocessing.flatten_images first."
        )
    if flat is False and is_flat:
        raise ValueError(
            f"{name} must have shape (n, 28, 28), got {array.shape}. "
            "Reshape with images.reshape(-1, 28, 28)."
        )
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            bad = int(np.count_nonzero(~np.isfinite(array)))
            raise ValueError(
                f"{name} contains {bad} NaN or infinite value(s). "
                "Find where they came from, or replace them with np.nan_to_num."
            )
        if normalized is False:
            raise TypeError(
                f"{name} must be raw uint8 grey levels (0..255), got dtype {array.dtype}. "
                "Pass the images as loaded by mnist_utils.data.load_mnist."
            )
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"{name} must hold values in [0, 1] once normalised, got values in "
                f"[{low:g}, {high:g}]. Divide uint8 grey levels by 255 exactly once."
            )
    else:
        if normalized is True:
            raise TypeError(
                f"{name} must be normalised floats in [0, 1], got dtype {array.dtype}. "
                "Use mnist_utils.preprocessing.normalize_images first."
            )
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise ValueError(
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
    TypeError
        If the labels are not integers.
    ValueError
        If the labels are empty, not 1-D, of the wrong length, or outside 0..9.
    """
    array = _as_array(labels, name)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D with one digit per image, got shape {array.shape}. "
            "If you have one-hot rows or probabilities, take .argmax(axis=1) first."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty; pass at least one label.")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            f"{name} must be integers 0..9, got dtype {array.dtype}. "
            "Convert class indices with .astype(int)."
        )
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} entries but {n} were expected.")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > 9:
        raise ValueError(f"{name} must be digits 0..9, got values in [{low}, {high}].")
    return array


def check_probabilities(probabilities: Any, *, name: str = "probabilities") -> np.ndarray:
    """Check an ``(n, 10)`` array of class probabilities and return it.

    Raises
    ------
    ValueError
        If the shape is not ``(n, 10)``, the array is empty, or it contains NaN
        or values outside ``[0, 1]``.
    """
    array = _as_array(probabilities, name)
    if array.ndim != 2 or array.shape[1] != 10:
        raise ValueError(
            f"{name} must have shape (n, 10), one row of class probabilities per image, "
            f"got {array.shape}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty; pass at least one row.")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must be floats, got dtype {array.dtype}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values; check the model's output.")
    if array.min() < 0.0 or array.max() > 1.0 + 1e-6:
        raise ValueError(
            f"{name} must lie in [0, 1]; got [{array.min():g}, {array.max():g}]. "
            "Did you pass logits instead of softmax outputs?"
        )
    return array
