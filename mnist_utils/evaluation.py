"""Metrics for a digit classifier, computed with scikit-learn, checked on input.

Hand-written metric code is a classic source of silent errors in tutorials
(a transposed confusion matrix, an accuracy over the wrong axis); these
functions validate their input and delegate the arithmetic to scikit-learn.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn import metrics

from ._validation import check_choice, check_images, check_int, check_labels, check_probabilities
from .errors import InputTypeError, InputValueError
from .preprocessing import preprocess_for_model

__all__ = [
    "DIGITS",
    "accuracy",
    "confusion_matrix",
    "most_confused_pairs",
    "per_class_report",
    "predict_digits",
    "predict_probabilities",
]

#: The ten classes, in order.
DIGITS: tuple[int, ...] = tuple(range(10))


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true = check_labels(y_true, name="y_true")
    y_pred = check_labels(y_pred, name="y_pred", n=len(y_true))
    return y_true, y_pred


def predict_digits(probabilities: Any) -> tuple[np.ndarray, np.ndarray]:
    """Turn an ``(n, 10)`` array of softmax outputs into digits and confidences.

    Returns
    -------
    tuple
        ``(digits, confidences)``: the most probable digit of each row and its
        probability.

    Raises
    ------
    InputValueError
        If the array is not ``(n, 10)``, or a row is not a probability distribution
        (values outside ``[0, 1]``, NaN, or a sum other than 1: logits, scores).
    InputTypeError
        If the array does not hold floats.
    """
    probabilities = check_probabilities(probabilities)
    digits = probabilities.argmax(axis=1)
    return digits, probabilities[np.arange(len(digits)), digits]


def predict_probabilities(
    model: Any, images: Any, *, batch_size: int = 1000, chunk_size: int = 2000
) -> np.ndarray:
    """The ``(n, 10)`` softmax outputs of one of the book's models for raw ``uint8`` images.

    The images are preprocessed for ``model`` and passed to ``model.predict`` ``chunk_size``
    at a time. The numbers are those of a single ``model.predict(..., batch_size=batch_size)``
    over all the images, bit for bit, since the batches are the same; but only one chunk is
    ever converted to ``float32`` and copied into TensorFlow at a time, so the memory needed
    does not grow with the number of images (chapter 5 explains why that matters).

    Raises
    ------
    InputValueError
        If ``images`` is not ``(n, 28, 28)``, if the model is not one of the book's, or if
        ``chunk_size`` is not a positive multiple of ``batch_size``.
    InputTypeError
        If ``model`` is not a Keras model or the images are not ``uint8``.
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    if not callable(getattr(model, "predict", None)):
        raise InputTypeError(f"model must be a Keras model, got {type(model).__name__}.")
    if chunk_size % batch_size:
        raise InputValueError(
            f"chunk_size ({chunk_size}) must be a multiple of batch_size ({batch_size}), so that "
            "the batches, and so the numbers, are those of one model.predict call."
        )
    images = check_images(images, flat=False, normalized=False)
    return np.concatenate(
        [
            model.predict(preprocess_for_model(model, images[start : start + chunk_size]), batch_size=batch_size, verbose=0)
            for start in range(0, len(images), chunk_size)
        ]
    )


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of predictions equal to the true label, as a Python float.

    Raises
    ------
    InputValueError
        If either array is empty, not 1-D, outside 0..9, or the lengths differ.
    InputTypeError
        If the labels are not integers.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(metrics.accuracy_score(y_true, y_pred))


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    normalize: Literal["true", "pred", "all"] | None = None,
) -> np.ndarray:
    """The 10×10 confusion matrix: row = true digit, column = predicted digit.

    Every digit gets a row and a column even if it never occurs.

    Parameters
    ----------
    y_true, y_pred:
        True and predicted digits, the same length.
    normalize:
        ``None`` for counts; ``"true"`` to divide each row by the number of
        images of that digit (the diagonal is then each digit's recall); ``"pred"`` to
        divide each column by the number of predictions of that digit; ``"all"`` to divide
        by the number of images.

    Raises
    ------
    InputValueError
        If the labels are invalid (see :func:`accuracy`) or ``normalize`` is not one of
        ``None``, ``"true"``, ``"pred"``, ``"all"``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    check_choice(normalize, "normalize", (None, "true", "pred", "all"))
    return metrics.confusion_matrix(y_true, y_pred, labels=list(DIGITS), normalize=normalize)


def per_class_report(y_true: Any, y_pred: Any) -> pd.DataFrame:
    """Precision, recall, F1 and support for each digit, as a table.

    Returns
    -------
    pandas.DataFrame
        One row per digit, columns ``precision``, ``recall``, ``f1``,
        ``support``; a digit never predicted gets precision 0.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=list(DIGITS), zero_division=0
    )
    table = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(DIGITS, name="digit"),
    )
    return table


def _count_matrix(matrix: Any) -> np.ndarray:
    """``matrix`` as a 10×10 array of non-negative integer counts, or a clear error."""
    if not isinstance(matrix, (np.ndarray, list, tuple)):
        raise InputTypeError(f"matrix must be a 10×10 array, got {type(matrix).__name__}.")
    try:
        matrix = np.asarray(matrix)
    except ValueError:
        raise InputValueError("matrix is ragged: its rows have different lengths; pass a 10×10 array.") from None
    if matrix.shape != (10, 10):
        raise InputValueError(f"matrix must be 10×10, got shape {matrix.shape}.")
    if not np.issubdtype(matrix.dtype, np.integer) or matrix.dtype == bool:
        raise InputTypeError(
            f"matrix must hold integer counts, got dtype {matrix.dtype}; "
            "pass the un-normalised confusion matrix."
        )
    if matrix.min() < 0:
        raise InputValueError(f"matrix must hold counts (0 or more), got {matrix.min()}.")
    return matrix


def most_confused_pairs(matrix: Any, top: int = 5) -> pd.DataFrame:
    """The off-diagonal cells of a confusion matrix with the most errors.

    Parameters
    ----------
    matrix:
        A 10×10 matrix of counts from :func:`confusion_matrix`.
    top:
        How many pairs to return.

    Returns
    -------
    pandas.DataFrame
        Columns ``true``, ``predicted``, ``count``, largest count first (ties
        broken by true digit, then predicted digit).

    Raises
    ------
    InputValueError
        If ``matrix`` is not 10×10 or holds negative counts, or ``top`` is not positive.
    InputTypeError
        If ``matrix`` does not hold integers or ``top`` is not an integer.
    """
    matrix = _count_matrix(matrix)
    top = check_int(top, "top", minimum=1)
    rows = [
        (int(t), int(p), int(matrix[t, p]))
        for t in DIGITS
        for p in DIGITS
        if t != p and matrix[t, p] > 0
    ]
    rows.sort(key=lambda row: (-row[2], row[0], row[1]))
    return pd.DataFrame(rows[:top], columns=["true", "predicted", "count"])
