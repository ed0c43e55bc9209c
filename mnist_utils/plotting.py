"""Figures that several chapters draw: digit grids, learning curves, confusion matrices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from ._validation import check_bool, check_float, check_images, check_int, check_labels
from .errors import InputTypeError, InputValueError

#: The most images ``plot_digits`` draws in one figure (20 rows of 20).
MAX_PLOTTED_IMAGES = 400

#: The width in inches of the book's content column at the notebooks' 100 dpi, which is 688 px as
#: the site shows it at 1280 px. A figure drawn this wide is shown at its natural size, so
#: 9-point text stays 12.5 px high; wider figures are scaled down, and their text with them.
COLUMN_INCHES = 6.88

__all__ = ["COLUMN_INCHES", "MAX_PLOTTED_IMAGES", "plot_confusion_matrix", "plot_digits", "plot_learning_curves"]


def plot_digits(
    images: Any,
    labels: Any | None = None,
    *,
    predictions: Any | None = None,
    confidences: Any | None = None,
    ncols: int = 10,
    title: str = "MNIST digits",
    size: float | None = None,
) -> Figure:
    """Show images in a grid, each titled with its label (and prediction).

    Parameters
    ----------
    images:
        ``(n, 28, 28)`` or ``(n, 784)`` images, raw or normalised.
    labels:
        True digits; shown above each image.
    predictions, confidences:
        Predicted digits and their probabilities; when given, each title reads
        ``true 4`` over ``→ 9 (87%)`` and wrong predictions are drawn in red.
    ncols:
        Images per row.
    title:
        The figure's title.
    size:
        Inches per image; by default the grid fills the content column
        (:data:`COLUMN_INCHES`), so the titles stay readable on the page.

    Raises
    ------
    InputValueError
        If the images or labels are invalid, more than :data:`MAX_PLOTTED_IMAGES` images
        are given, ``confidences`` is not ``n`` values in ``[0, 1]``, or ``ncols``/``size``
        is not positive.
    InputTypeError
        If an argument has the wrong type.
    """
    images = check_images(images).reshape(-1, 28, 28)
    n = len(images)
    if n > MAX_PLOTTED_IMAGES:
        raise InputValueError(
            f"images holds {n} images; plot_digits draws at most {MAX_PLOTTED_IMAGES}. Pass a slice, "
            "for example images[:50]."
        )
    if labels is not None:
        labels = check_labels(labels, n=n)
    if predictions is not None:
        predictions = check_labels(predictions, name="predictions", n=n)
    if confidences is not None:
        confidences = _as_floats(confidences, "confidences")
        if confidences.shape != (n,):
            raise InputValueError(f"confidences must have shape ({n},), got {confidences.shape}.")
        if not np.all(np.isfinite(confidences)) or confidences.min() < 0 or confidences.max() > 1:
            raise InputValueError("confidences must be probabilities in [0, 1], one per image.")
    ncols = check_int(ncols, "ncols", minimum=1)
    _check_title(title, "title")
    ncols = min(ncols, n)
    size = COLUMN_INCHES / ncols if size is None else check_float(size, "size", low=0.1, high=10.0)
    nrows = -(-n // ncols)
    extra = 0.42 if predictions is not None else 0.22
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * size, nrows * (size + extra) + 0.6),
        squeeze=False,
        layout="constrained",
    )
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= n:
            continue
        ax.imshow(images[index], cmap="gray_r", interpolation="nearest")
        parts, colour = [], "black"
        if labels is not None:
            parts.append(f"true {labels[index]}" if predictions is not None else str(labels[index]))
        if predictions is not None:
            guess = f"→ {predictions[index]}"
            if confidences is not None:
                guess += f" ({confidences[index]:.0%})"
            parts.append(guess)
            if labels is not None and predictions[index] != labels[index]:
                colour = "tab:red"
        if parts:
            ax.set_title("\n".join(parts), fontsize=9, color=colour, linespacing=1.1)
    fig.suptitle(title, fontsize=11)
    return fig


def _as_floats(values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise InputTypeError(f"{name} must be numbers, got {type(values).__name__} ({error}).") from None


def _check_title(title: Any, name: str, *, optional: bool = False) -> None:
    if not (isinstance(title, str) or optional and title is None):
        raise InputTypeError(f"{name} must be a string, got {type(title).__name__}.")


def plot_learning_curves(history: Mapping[str, Sequence[float]], *, title: str = "Learning curves") -> Figure:
    """Plot loss and accuracy per epoch, training against validation.

    Parameters
    ----------
    history:
        ``History.history`` from ``model.fit``: needs ``loss``, ``accuracy``,
        ``val_loss`` and ``val_accuracy``.

    Raises
    ------
    InputTypeError
        If ``history`` is not a mapping (pass ``History.history``, not the ``History``).
    InputValueError
        If a curve is missing, empty, of another length than the others, or not finite.
    """
    if not isinstance(history, Mapping):
        hint = " Pass history.history, the dict inside it." if hasattr(history, "history") else ""
        raise InputTypeError(f"history must be a dict of lists, got {type(history).__name__}.{hint}")
    needed = ("loss", "accuracy", "val_loss", "val_accuracy")
    missing = [key for key in needed if key not in history]
    if missing:
        raise InputValueError(
            f"history lacks {missing}; train with metrics=['accuracy'] and validation_data=..."
        )
    curves = {key: _as_floats(history[key], f"history[{key!r}]") for key in needed}
    lengths = {len(curve) if curve.ndim == 1 else -1 for curve in curves.values()}
    if len(lengths) != 1 or min(lengths) < 1:
        raise InputValueError(
            "history's curves must be lists of one number per epoch, all of the same length; got "
            + ", ".join(f"{key}: {curve.shape}" for key, curve in curves.items())
            + "."
        )
    if not all(np.all(np.isfinite(curve)) for curve in curves.values()):
        raise InputValueError("history holds NaN or infinite values: training diverged; lower the learning rate.")
    _check_title(title, "title")
    history = curves
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(COLUMN_INCHES, 3.2), layout="constrained")
    for ax, key, label in ((ax_loss, "loss", "Cross-entropy loss"), (ax_acc, "accuracy", "Accuracy")):
        ax.plot(epochs, history[key], "o-", label="training")
        ax.plot(epochs, history[f"val_{key}"], "s-", label="validation")
        ax.set_xlabel("Epoch")
        ax.set_ylabel(label)
        ax.set_title(label)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_loss.set_yscale("log")
    ax_acc.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    fig.suptitle(title, fontsize=11)
    return fig


def plot_confusion_matrix(
    matrix: Any,
    *,
    normalized: bool = False,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Draw a 10×10 confusion matrix as an annotated seaborn heatmap.

    Parameters
    ----------
    matrix:
        Counts, or row-normalised fractions when ``normalized`` is true.
    normalized:
        Annotate cells as percentages and fix the colour scale to 0–100 %.
    title:
        The axes' title.
    ax:
        Axes to draw on; a new figure as wide as the content column otherwise.

    Raises
    ------
    InputValueError
        If ``matrix`` is not 10×10 numbers, holds negative or non-finite values, holds
        fractions above 1 while ``normalized`` (counts, not fractions), or fractions while not.
    InputTypeError
        If an argument has the wrong type.
    """
    if not isinstance(matrix, (np.ndarray, list, tuple)):
        raise InputTypeError(f"matrix must be a 10×10 array, got {type(matrix).__name__}.")
    matrix = _as_floats(matrix, "matrix") if not isinstance(matrix, np.ndarray) else matrix
    if matrix.shape != (10, 10):
        raise InputValueError(f"matrix must be 10×10, got shape {matrix.shape}.")
    if not np.issubdtype(matrix.dtype, np.number) or matrix.dtype == bool:
        raise InputTypeError(f"matrix must hold numbers, got dtype {matrix.dtype}.")
    normalized = check_bool(normalized, "normalized")
    _check_title(title, "title", optional=True)
    if ax is not None and not isinstance(ax, plt.Axes):
        raise InputTypeError(f"ax must be matplotlib Axes or None, got {type(ax).__name__}.")
    if not np.all(np.isfinite(matrix)) or matrix.min() < 0:
        raise InputValueError("matrix must hold counts or fractions, 0 or more, with no NaN.")
    if normalized and matrix.max() > 1:
        raise InputValueError(
            f"matrix holds values up to {matrix.max():g}, so it holds counts, but normalized=True "
            "draws fractions as percentages. Pass confusion_matrix(..., normalize='true'), or normalized=False."
        )
    if not normalized and not np.all(matrix == np.round(matrix)):
        raise InputValueError(
            "matrix holds fractions, but normalized=False annotates whole counts. "
            "Pass normalized=True for a row-normalised matrix."
        )
    if not normalized:
        matrix = matrix.astype(int)
    if ax is None:
        _, ax = plt.subplots(figsize=(COLUMN_INCHES, 6), layout="constrained")
    if normalized:
        sns.heatmap(
            100 * matrix, annot=True, fmt=".1f", cmap="Blues", vmin=0, vmax=100,
            cbar_kws={"label": "% of the true digit's images"}, ax=ax, square=True,
        )
    else:
        sns.heatmap(
            matrix, annot=True, fmt="d", cmap="Blues", cbar_kws={"label": "Images"},
            ax=ax, square=True, annot_kws={"fontsize": 8},
        )
    ax.set_xlabel("Predicted digit")
    ax.set_ylabel("True digit")
    ax.set_title(title or ("Confusion matrix (row-normalised, %)" if normalized else "Confusion matrix (counts)"))
    return ax
