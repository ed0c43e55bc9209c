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

from ._validation import check_choice, check_float, check_images, check_int, check_labels, check_probabilities
from .errors import InputTypeError, InputValueError
from .preprocessing import preprocess_for_model

__all__ = [
    "DIGITS",
    "NOT_SURE_MIN_COVERAGE",
    "NOT_SURE_TARGET",
    "accuracy",
    "choose_threshold",
    "confusion_matrix",
    "coverage_curve",
    "most_confused_pairs",
    "per_class_report",
    "predict_digits",
    "predict_probabilities",
]

#: The ten classes, in order.
DIGITS: tuple[int, ...] = tuple(range(10))

#: The accuracy asked of a network's answers when it may say "not sure" instead. Chapter 7
#: and the drawing pad choose each network's confidence threshold for it on the validation
#: split, with :func:`choose_threshold`. High enough to refuse the doubtful digits, low
#: enough that each network still answers the clear majority of clean validation digits
#: (at least :data:`NOT_SURE_MIN_COVERAGE`; the pad's build checks it and records the share).
NOT_SURE_TARGET = 0.995
#: The smallest share of clean validation digits a network must still answer at its threshold.
NOT_SURE_MIN_COVERAGE = 0.9


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


def coverage_curve(probabilities: Any, y_true: Any) -> pd.DataFrame:
    """Accuracy against coverage, for a classifier that answers only when it is confident.

    A threshold ``t`` on the top probability splits the images in two: the model answers
    those whose confidence is at least ``t`` and says "not sure" for the rest. Raising ``t``
    answers fewer images (lower *coverage*), usually more of them correctly.

    Parameters
    ----------
    probabilities:
        ``(n, 10)`` softmax outputs.
    y_true:
        The ``n`` true digits.

    Returns
    -------
    pandas.DataFrame
        One row per distinct confidence, most confident first, with columns ``threshold``
        (answer when the top probability is at least this), ``coverage`` (the fraction of
        images answered) and ``accuracy`` (the fraction of answered images that are right).
        The last row has coverage 1: the plain accuracy.

    Raises
    ------
    InputValueError
        If ``probabilities`` is not ``(n, 10)`` probabilities, or ``y_true`` is not ``n``
        digits.
    InputTypeError
        If an argument has the wrong type.
    """
    digits, confidences = predict_digits(probabilities)
    y_true = check_labels(y_true, name="y_true", n=len(digits))
    order = np.argsort(-confidences, kind="stable")
    sorted_confidences = confidences[order]
    right = np.cumsum(digits[order] == y_true[order])
    answered = np.arange(1, len(order) + 1)
    # With ties, a threshold answers every image of that confidence: keep the last of each run.
    last = np.r_[sorted_confidences[1:] != sorted_confidences[:-1], True]
    return pd.DataFrame(
        {
            "threshold": sorted_confidences[last].astype(float),
            "coverage": answered[last] / len(order),
            "accuracy": right[last] / answered[last],
        }
    )


def choose_threshold(probabilities: Any, y_true: Any, *, target_accuracy: float) -> float:
    """The lowest confidence threshold whose answered images reach ``target_accuracy``.

    Choose it on validation data, never on the test set: the threshold is a decision, and
    the test set must stay out of every decision to measure it honestly.

    Parameters
    ----------
    probabilities, y_true:
        As for :func:`coverage_curve`.
    target_accuracy:
        The accuracy the answered images must reach, in ``(0, 1]``.

    Returns
    -------
    float
        The threshold that answers the most images at that accuracy.

    Raises
    ------
    InputValueError
        If no threshold reaches ``target_accuracy`` (the message gives the best accuracy
        there is), or an argument is invalid as for :func:`coverage_curve`.
    InputTypeError
        If an argument has the wrong type.
    """
    target_accuracy = check_float(target_accuracy, "target_accuracy", low=0.0, high=1.0, low_open=True)
    curve = coverage_curve(probabilities, y_true)
    reaching = curve[curve["accuracy"] >= target_accuracy]
    if reaching.empty:
        best = curve.loc[curve["accuracy"].idxmax()]
        raise InputValueError(
            f"target_accuracy={target_accuracy:g} is reached at no threshold: the most accurate one, "
            f"{best['threshold']:.4f}, answers {best['coverage']:.1%} of the images at {best['accuracy']:.2%}. "
            "Ask for a lower accuracy."
        )
    return float(reaching["threshold"].iloc[-1])
