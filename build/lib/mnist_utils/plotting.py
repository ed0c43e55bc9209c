"""Figures that several chapters draw: digit grids, learning curves, confusion matrices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from ._validation import check_images, check_labels

__all__ = ["plot_confusion_matrix", "plot_digits", "plot_learning_curves"]


def plot_digits(
    images: Any,
    labels: Any | None = None,
    *,
    predictions: Any | None = None,
    confidences: Any | None = None,
    ncols: int = 10,
    title: str = "MNIST digits",
    size: float = 1.2,
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
        ``true 4 → 9 (87%)`` and wrong predictions are drawn in red.
    ncols:
        Images per row.
    title:
        The figure's title.
    size:
        Inches per image.
    """
    images = check_images(images).reshape(-1, 28, 28)
    n = len(images)
    if labels is not None:
        labels = check_labels(labels, n=n)
    if predictions is not None:
        predictions = check_labels(predictions, name="predictions", n=n)
    if confidences is not None:
        confidences = np.asarray(confidences, dtype=float)
        if confidences.shape != (n,):
            raise ValueError(f"confidences must have shape ({n},), got {confidences.shape}.")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}.")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    extra = 0.35 if predictions is not None else 0.2
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
            ax.set_title(" ".join(parts), fontsize=9, color=colour)
    fig.suptitle(title, fontsize=12)
    return fig


def plot_learning_curves(history: Mapping[str, Sequence[float]], *, title: str = "Learning curves") -> Figure:
    """Plot loss and accuracy per epoch, training against validation.

    Parameters
    ----------
    history:
        ``History.history`` from ``model.fit``: needs ``loss``, ``accuracy``,
        ``val_loss`` and ``val_accuracy``.
    """
    needed = ("loss", "accuracy", "val_loss", "val_accuracy")
    missing = [key for key in needed if key not in history]
    if missing:
        raise KeyError(
            f"history lacks {missing}; train with metrics=['accuracy'] and validation_data=..."
        )
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
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
    fig.suptitle(title, fontsize=13)
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
        Axes to draw on; a new 8×7-inch figure otherwise.
    """
    matrix = np.asarray(matrix)
    if matrix.shape != (10, 10):
        raise ValueError(f"matrix must be 10×10, got shape {matrix.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 7), layout="constrained")
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
