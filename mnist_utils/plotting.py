"""Figures that several chapters draw: digit grids, learning curves, confusion matrices,
architectures, and the ablation of chapter 5."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from ._validation import check_bool, check_choice, check_float, check_images, check_int, check_labels
from .errors import InputTypeError, InputValueError

#: The most images ``plot_digits`` draws in one figure (20 rows of 20).
MAX_PLOTTED_IMAGES = 400

#: The width in inches of the book's content column at the notebooks' 100 dpi, which is 688 px as
#: the site shows it at 1280 px. A figure drawn this wide is shown at its natural size, so
#: 9-point text stays 12.5 px high; wider figures are scaled down, and their text with them.
COLUMN_INCHES = 6.88

__all__ = [
    "COLUMN_INCHES",
    "MAX_ARCHITECTURE_LAYERS",
    "MAX_HORIZONTAL_BOXES",
    "MAX_PLOTTED_IMAGES",
    "plot_ablation",
    "plot_architecture",
    "plot_confusion_matrix",
    "plot_digits",
    "plot_learning_curves",
]


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
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(plt.matplotlib.ticker.MaxNLocator(integer=True))  # whole epochs only
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


#: The most boxes (the input and the layers) ``plot_architecture`` puts side by side: more
#: would make the boxes too narrow for their 9-point text in the content column. Fewer may
#: be too many already when a box's text is long ("BatchNormalization").
MAX_HORIZONTAL_BOXES = 6
#: The most layers ``plot_architecture`` draws; a longer stack would not fit on a page.
MAX_ARCHITECTURE_LAYERS = 40

# Fill colours of the boxes, by kind of layer; any other layer is drawn in grey.
_LAYER_COLOURS = {
    "InputLayer": "#ffffff",
    "Dense": "#d6e6f5",
    "Conv2D": "#fde0c5",
    "MaxPooling2D": "#d5efd0",
    "AveragePooling2D": "#d5efd0",
    "BatchNormalization": "#e6dcf0",
}
_AUGMENTATION_COLOUR = "#fbf3c4"
_OTHER_COLOUR = "#e8e8e8"


def _pair(value: Any) -> str:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    return "×".join(str(v) for v in values)


def _layer_details(layer: Any) -> list[str]:
    """What sets ``layer`` apart from another layer of its kind, in one or two short lines."""
    kind = type(layer).__name__
    activation = getattr(getattr(layer, "activation", None), "__name__", None)
    if kind == "Dense":
        return [f"{layer.units:,} units", activation or "linear"]
    if kind == "Conv2D":
        return [f"{layer.filters} filters {_pair(layer.kernel_size)}", activation or "linear"]
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return [f"{_pair(layer.pool_size)} {'max' if kind.startswith('Max') else 'mean'} pool"]
    if kind == "Flatten":
        return ["to one vector"]
    if kind == "Dropout":
        return [f"drops {100 * layer.rate:.0f} %", "training only"]
    if kind == "BatchNormalization":
        return ["per channel"]
    if kind == "Activation":
        return [activation or "linear"]
    if kind == "RandomTranslation":
        return [f"shift ±{100 * _largest(layer.height_factor):.0f} %", "training only"]
    if kind == "RandomRotation":
        return [f"turn ±{_largest(layer.factor) * 360:.0f}°", "training only"]
    if kind.startswith("Random"):
        return ["training only"]
    return []


def _largest(factor: Any) -> float:
    values = factor if isinstance(factor, (tuple, list)) else (factor,)
    return max(abs(float(v)) for v in values)


def _shape_text(shape: Any) -> str:
    dims = tuple(shape)[1:]  # without the batch dimension
    return "×".join("?" if d is None else f"{d:,}" for d in dims) if dims else "scalar"


def _architecture_rows(model: Any) -> list[dict[str, Any]]:
    rows = [{
        "kind": "Input", "colour": _LAYER_COLOURS["InputLayer"], "details": [],
        "shape": _shape_text(model.input_shape), "params": None,
    }]
    for layer in model.layers:
        kind = type(layer).__name__
        try:
            shape = _shape_text(layer.output.shape)
        except (AttributeError, ValueError, TypeError):  # a layer never called: no output shape
            shape = "?"
        colour = _LAYER_COLOURS.get(kind, _AUGMENTATION_COLOUR if kind.startswith("Random") else _OTHER_COLOUR)
        rows.append({
            "kind": kind, "colour": colour, "details": _layer_details(layer),
            "shape": shape, "params": layer.count_params(),
        })
    return rows


def plot_architecture(model: Any, *, title: str = "Model architecture", orientation: str = "auto") -> Figure:
    """Draw a Keras ``Sequential`` model as a stack of labelled boxes, one per layer.

    Each box names the layer's kind (``Dense``, ``Conv2D``, ``MaxPooling2D``, ``Flatten``,
    ``Dropout``, ``BatchNormalization``, an augmentation layer, …), what sets it apart
    (units and activation, filters and kernel size, pool size, dropout rate, augmentation
    range), its output shape without the batch dimension, and its number of parameters,
    all read from the model. A first, white box shows the input's shape, and the
    figure's foot the total number of parameters. The figure is as wide as the content
    column (:data:`COLUMN_INCHES`); its text is 9 points.

    Parameters
    ----------
    model:
        A built ``keras.Sequential`` model: one that starts with ``keras.Input`` (or whose
        first layer was given ``input_shape``), or on which ``build`` was called.
    title:
        The figure's title.
    orientation:
        ``"horizontal"``: boxes side by side, left to right, for at most
        :data:`MAX_HORIZONTAL_BOXES` boxes (the input and the layers);
        ``"vertical"``: one row per layer, top to bottom, for any model;
        ``"auto"`` (the default): horizontal when the boxes fit, vertical otherwise.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; its first axes holds one rectangle (patch) per box, input first.

    Raises
    ------
    InputTypeError
        If ``model`` is not a ``keras.Sequential`` model, or ``title`` is not a string.
    InputValueError
        If ``model`` has no layers, more than :data:`MAX_ARCHITECTURE_LAYERS`, or no input
        shape yet; if ``orientation`` is not one of the three names, or ``"horizontal"``
        for a model with too many layers to draw side by side.
    """
    import keras  # here, so that importing this module does not load TensorFlow

    if not isinstance(model, keras.Sequential):
        kind = "a Keras model but not a Sequential one" if isinstance(model, keras.Model) else type(model).__name__
        raise InputTypeError(
            f"model must be a keras.Sequential model (a stack of layers), got {kind}. "
            "Pass the model itself, for example build_original_mlp()."
        )
    _check_title(title, "title")
    orientation = check_choice(orientation, "orientation", ("auto", "horizontal", "vertical"))
    if not model.layers:
        raise InputValueError("model has no layers to draw; add some with model.add(...).")
    if len(model.layers) > MAX_ARCHITECTURE_LAYERS:
        raise InputValueError(
            f"model has {len(model.layers)} layers; plot_architecture draws at most {MAX_ARCHITECTURE_LAYERS}."
        )
    if not model.built:
        raise InputValueError(
            "model has no input shape yet, so its layers have no output shapes or parameters: "
            "start it with keras.Input(shape=...), or call model.build(input_shape) first."
        )
    rows = _architecture_rows(model)
    fits = len(rows) <= MAX_HORIZONTAL_BOXES and _widest_line(rows) <= _horizontal_box_width(len(rows)) - 0.08
    if orientation == "auto":
        orientation = "horizontal" if fits else "vertical"
    elif orientation == "horizontal" and not fits:
        raise InputValueError(
            f"orientation='horizontal' cannot fit model's {len(rows)} boxes (the input and "
            f"{len(model.layers)} layers) side by side in the content column with readable text "
            f"(at most {MAX_HORIZONTAL_BOXES}, fewer if their text is long); use orientation='vertical'."
        )
    total = model.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    footer = f"{total:,} parameters in all" + (f", {trainable:,} of them trainable" if trainable != total else "")
    draw = _draw_horizontal if orientation == "horizontal" else _draw_vertical
    return draw(rows, title, footer)


_BOX_STYLE = "round,pad=0,rounding_size=0.06"
_FONT = 9
# Notebooks save figures cropped to what is drawn plus 0.1 inch on each side; drawing within
# this width keeps the saved image as wide as the column, so it is shown at its natural size.
_SIDE = 0.1
_INNER = COLUMN_INCHES - 2 * _SIDE


def _architecture_figure(content: float, title: str) -> tuple[Figure, plt.Axes]:
    """A column-wide figure whose axes, ``content`` inches high, count in inches; the title above."""
    top = 0.4  # inches kept for the title
    height = content + top
    fig = plt.figure(figsize=(COLUMN_INCHES, height))
    ax = fig.add_axes((_SIDE / COLUMN_INCHES, 0, _INNER / COLUMN_INCHES, content / height))
    ax.set_xlim(0, _INNER)
    ax.set_ylim(0, content)
    ax.set_axis_off()
    fig.suptitle(title, fontsize=11, y=1 - 0.1 / height, va="top")
    return fig, ax


def _box(ax: plt.Axes, x: float, y: float, width: float, height: float, row: dict[str, Any]) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch(
        (x, y), width, height, boxstyle=_BOX_STYLE, facecolor=row["colour"], edgecolor="#444444",
        linewidth=1.0, linestyle="--" if row["kind"] == "Input" else "-", label=row["kind"],
    ))


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "#444444", "lw": 1.2,
                                                      "shrinkA": 0, "shrinkB": 0})


def _params_text(params: int | None) -> str:
    return "" if params is None else f"{params:,} params"


_H_MARGIN, _H_GAP = 0.02, 0.26


def _horizontal_box_width(n: int) -> float:
    return (_INNER - 2 * _H_MARGIN - (n - 1) * _H_GAP) / n


def _widest_line(rows: list[dict[str, Any]]) -> float:
    """The width, in inches, of the longest line of text a horizontal box would hold."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    lines = []
    for row in rows:
        lines.append((row["kind"], "bold"))
        lines += [(text, "normal") for text in (*row["details"], f"shape: {row['shape']}", _params_text(row["params"]))]
    return max(
        TextPath((0, 0), text, size=_FONT, prop=FontProperties(weight=weight)).get_extents().width / 72
        for text, weight in lines if text
    )


def _draw_horizontal(rows: list[dict[str, Any]], title: str, footer: str) -> Figure:
    margin, gap, line = _H_MARGIN, _H_GAP, 0.19
    n = len(rows)
    width = _horizontal_box_width(n)
    n_details = max(len(row["details"]) for row in rows)
    box_height = (3 + n_details) * line + 0.22
    bottom = 0.36  # room for the footer
    fig, ax = _architecture_figure(bottom + box_height + 0.05, title)
    for index, row in enumerate(rows):
        x = margin + index * (width + gap)
        _box(ax, x, bottom, width, box_height, row)
        lines = [(row["kind"], "bold"), *((d, "normal") for d in row["details"])]
        lines += [("", "normal")] * (1 + n_details - len(lines))
        shape = f"shape: {row['shape']}" if row["params"] is None else f"out: {row['shape']}"
        lines += [(shape, "normal"), (_params_text(row["params"]), "normal")]
        for k, (text, weight) in enumerate(lines):
            if text:
                ax.text(x + width / 2, bottom + box_height - 0.11 - (k + 0.5) * line, text, ha="center",
                        va="center", fontsize=_FONT, fontweight=weight)
        if index:
            _arrow(ax, (x - gap + 0.04, bottom + box_height / 2), (x - 0.04, bottom + box_height / 2))
    ax.text(_INNER / 2, bottom / 2, footer, ha="center", va="center", fontsize=_FONT, color="#333333")
    return fig


def _draw_vertical(rows: list[dict[str, Any]], title: str, footer: str) -> Figure:
    margin, gap, box_height, header = 0.02, 0.16, 0.3, 0.3
    right = _INNER - margin
    columns = {"kind": margin + 0.12, "details": margin + 1.75, "shape": margin + 4.5, "params": right - 0.12}
    bottom = 0.36  # room for the footer
    height = bottom + len(rows) * box_height + (len(rows) - 1) * gap + header
    fig, ax = _architecture_figure(height, title)
    top = bottom + len(rows) * box_height + (len(rows) - 1) * gap
    for name, label, align in (("kind", "Layer", "left"), ("shape", "Output shape", "center"),
                               ("params", "Parameters", "right")):
        ax.text(columns[name], top + header / 2, label, ha=align, va="center", fontsize=_FONT,
                color="#555555", style="italic")
    for index, row in enumerate(rows):
        y = top - (index + 1) * box_height - index * gap
        _box(ax, margin, y, right - margin, box_height, row)
        middle = y + box_height / 2
        ax.text(columns["kind"], middle, row["kind"], ha="left", va="center", fontsize=_FONT, fontweight="bold")
        if row["details"]:
            ax.text(columns["details"], middle, ", ".join(row["details"]), ha="left", va="center", fontsize=_FONT)
        ax.text(columns["shape"], middle, row["shape"], ha="center", va="center", fontsize=_FONT)
        params = "" if row["params"] is None else f"{row['params']:,}"
        ax.text(columns["params"], middle, params, ha="right", va="center", fontsize=_FONT)
        if index:
            arrow_x = columns["details"] + 0.5
            _arrow(ax, (arrow_x, y + box_height + gap - 0.01), (arrow_x, y + box_height + 0.01))
    ax.text(_INNER / 2, bottom / 2, footer, ha="center", va="center", fontsize=_FONT, color="#333333")
    return fig


# How plot_ablation names each step, by the recipe field it changes (None: the starting recipe).
_ABLATION_STEP_NAMES = {
    None: "original recipe, {epochs} epoch{plural}",
    "epochs": "+ {epochs} epochs",
    "batch_size": "+ batches of {batch_size}",
    "schedule": "+ {schedule} schedule",
    "steps_per_execution": "+ {steps_per_execution} steps per call",
}
_ACCURACY_KEYS = ("validation_accuracy", "test_accuracy")


def _ablation_row(row: Any, where: str) -> dict[str, Any]:
    """One measured run of the ablation, checked: its recipe and its two accuracies."""
    if not isinstance(row, Mapping):
        raise InputTypeError(f"{where} must be a dict, got {type(row).__name__}.")
    missing = [key for key in ("config", *_ACCURACY_KEYS) if key not in row]
    if missing:
        raise InputValueError(f"{where} lacks {missing}; pass the 'ablation' section of benchmarks/results.json.")
    if not isinstance(row["config"], Mapping):
        raise InputTypeError(f"{where}['config'] must be a dict (a recipe), got {type(row['config']).__name__}.")
    for key in _ACCURACY_KEYS:
        check_float(row[key], f"{where}[{key!r}]", low=0.0, high=1.0)
    return dict(row)


def _ablation_label(row: Mapping[str, Any], number: Any) -> str:
    config = dict(row["config"])
    template = _ABLATION_STEP_NAMES.get(row.get("factor"))
    if template is None:
        return f"{number}. {row.get('label') or row.get('factor')}"
    try:
        text = template.format(plural="" if config.get("epochs") == 1 else "s", **config)
    except KeyError as error:
        raise InputValueError(f"the recipe of step {number} lacks the field {error}.") from None
    return f"{number}. {text}"


def _ablation_rows(run: Mapping[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    """(label, measured run) for each step of ``run``, then for its schedule changed first, if any."""
    steps = run.get("steps")
    if not isinstance(steps, Sequence) or isinstance(steps, str) or not steps:
        raise InputValueError(f"{where}['steps'] must be a non-empty list of the ablation's steps.")
    rows = []
    for index, step in enumerate(steps):
        step = _ablation_row(step, f"{where}['steps'][{index}]")
        rows.append((_ablation_label(step, step.get("step", index)), step))
    other = run.get("schedule_first")
    if other is not None:
        other = _ablation_row(other, f"{where}['schedule_first']")
        config = other["config"]
        label = f"{other.get('after_step', '?')}. + {config.get('schedule')} schedule"
        rows.append((label + f", batches of {config.get('batch_size')}", other))
    return rows


def plot_ablation(
    ablation: Mapping[str, Any],
    *,
    write_up: float | None = None,
    title: str = "From the original recipe to the book's, one change at a time",
) -> Figure:
    """Draw an ablation of a training recipe: each step's validation and test accuracy, per seed.

    One row per step, from the starting recipe at the top to the book's recipe, then, after
    a gap, the run that changed the schedule before the batch size (``schedule_first``).
    Each row holds circles for the validation accuracy and squares for the test accuracy:
    filled for the first run's seed (the book's), hollow for the other seeds. The figure
    is as wide as the content column (:data:`COLUMN_INCHES`).

    Parameters
    ----------
    ablation:
        The ``ablation`` section of ``benchmarks/results.json``: a dict whose ``runs`` list
        holds, per seed, its ``seed``, its ``steps`` (each with the ``factor`` it changed,
        its ``config`` and its ``validation_accuracy`` and ``test_accuracy``, as fractions)
        and, optionally, ``schedule_first``. Every run must have as many steps as the first.
    write_up:
        A test accuracy to mark with a dashed vertical line, as a fraction (the original
        write-up's); none when ``None``.
    title:
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; its axes' tick labels name the steps, top to bottom.

    Raises
    ------
    InputTypeError
        If ``ablation`` or one of its parts is not a dict or list as described, or
        ``title`` is not a string.
    InputValueError
        If ``runs`` is missing or empty, a run has no steps or another number of steps than
        the first, an accuracy is missing or outside [0, 1], or ``write_up`` is outside
        [0, 1].
    """
    if not isinstance(ablation, Mapping):
        raise InputTypeError(
            f"ablation must be a dict, got {type(ablation).__name__}: pass "
            'json.loads(Path("benchmarks/results.json").read_text())["ablation"].'
        )
    runs = ablation.get("runs")
    if not isinstance(runs, Sequence) or isinstance(runs, str) or not runs:
        raise InputValueError("ablation['runs'] must be a non-empty list, one run per seed.")
    for index, run in enumerate(runs):
        if not isinstance(run, Mapping):
            raise InputTypeError(f"ablation['runs'][{index}] must be a dict, got {type(run).__name__}.")
    if write_up is not None:
        write_up = check_float(write_up, "write_up", low=0.0, high=1.0)
    _check_title(title, "title")
    rows = [_ablation_rows(run, f"ablation['runs'][{index}]") for index, run in enumerate(runs)]
    if any(len(run_rows) != len(rows[0]) for run_rows in rows):
        raise InputValueError(
            "every run of the ablation must have the same steps as the first, got "
            + ", ".join(str(len(run_rows)) for run_rows in rows) + " rows."
        )
    book, *others = runs
    labels = [label for label, _ in rows[0]]
    y = -np.arange(len(labels), dtype=float)
    if book.get("schedule_first") is not None:
        y[-1] -= 0.5  # a gap before the run in the other order
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 3.4), layout="constrained")
    other_seeds = " and ".join(str(run.get("seed", "?")) for run in others)
    for key, marker, colour, shift in (("validation_accuracy", "o", "tab:blue", 0.13),
                                       ("test_accuracy", "s", "tab:orange", -0.13)):
        name = key.split("_")[0]
        for run_rows in rows[1:]:
            ax.scatter([100 * row[key] for _, row in run_rows], y + shift, marker=marker, s=20,
                       facecolors="none", edgecolors=colour, linewidths=0.9)
        ax.scatter([100 * row[key] for _, row in rows[0]], y + shift, marker=marker, s=32,
                   color=colour, label=f"{name}, seed {book.get('seed', '?')}")
        if others:
            ax.scatter([], [], marker=marker, s=20, facecolors="none", edgecolors=colour,
                       label=f"{name}, seed{'s' if len(others) > 1 else ''} {other_seeds}")
    if write_up is not None:
        ax.axvline(100 * write_up, color="0.35", linestyle="--", linewidth=1)
        ax.annotate(f"write-up's test accuracy, {100 * write_up:g} %", (100 * write_up, y[0] + 0.55),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=9, color="0.25")
    ax.set_yticks(y, labels)
    ax.set_ylim(y[-1] - 0.6, y[0] + 0.9)
    ax.set_xlabel("Accuracy (%)")
    ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title, fontsize=11)
    fig.legend(ncols=2, loc="outside lower center")
    return fig


def plot_regularisation(
    section: Mapping[str, Any],
    *,
    title: str = "Regularising the MLP, one change at a time",
) -> Figure:
    """Draw the benchmark's regularisation runs: each variant's validation accuracy and gap, per seed.

    Two panels share one row per variant, in the record's order: on the left the validation
    accuracy, on the right the gap between training and validation accuracy (percentage
    points). Each seed is a marker: filled for the first seed (the book's), hollow for the
    others. The variant the benchmark chose on validation is marked with a star in its label.
    The figure is as wide as the content column (:data:`COLUMN_INCHES`).

    Parameters
    ----------
    section:
        The ``regularisation`` section of ``benchmarks/results.json``: a dict with
        ``variants`` (each with a ``name`` and a ``label``), ``seeds``, ``chosen`` (a variant's
        name) and ``runs`` (each with its ``variant``, ``seed``, ``validation_accuracy`` and
        ``gap``, as fractions).
    title:
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; the left axes' tick labels name the variants, top to bottom.

    Raises
    ------
    InputTypeError
        If ``section`` is not a dict, or ``title`` is not a string.
    InputValueError
        If a part of ``section`` is missing, a run names an unknown variant or seed, or an
        accuracy is outside [0, 1].
    """
    if not isinstance(section, Mapping):
        raise InputTypeError(
            f"section must be a dict, got {type(section).__name__}: pass "
            'json.loads(Path("benchmarks/results.json").read_text())["regularisation"].'
        )
    _check_title(title, "title")
    try:
        variants = [(variant["name"], _variant_label(variant)) for variant in section["variants"]]
        seeds, chosen, runs = list(section["seeds"]), section["chosen"], list(section["runs"])
    except (KeyError, TypeError) as error:
        raise InputValueError(
            f"section must hold 'variants' (each with a name and a label), 'seeds', 'chosen' and 'runs'; {error!r} "
            "is missing or malformed: pass the 'regularisation' section of benchmarks/results.json."
        ) from None
    names = [name for name, _ in variants]
    if not names or not seeds or chosen not in names:
        raise InputValueError(f"section needs variants and seeds, and 'chosen' must be one of {names}; got {chosen!r}.")
    points: dict[tuple[str, Any], tuple[float, float]] = {}
    for index, run in enumerate(runs):
        if not isinstance(run, Mapping) or run.get("variant") not in names or run.get("seed") not in seeds:
            raise InputValueError(f"section['runs'][{index}] must name one of the variants and seeds.")
        accuracy = check_float(run.get("validation_accuracy"), f"section['runs'][{index}]['validation_accuracy']",
                               low=0.0, high=1.0)
        gap = check_float(run.get("gap"), f"section['runs'][{index}]['gap']", low=-1.0, high=1.0)
        points[run["variant"], run["seed"]] = (accuracy, gap)
    y = -np.arange(len(names), dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(COLUMN_INCHES, 3.2), sharey=True, layout="constrained")
    for ax, which, scale, colour in ((left, 0, 100, "tab:blue"), (right, 1, 100, "tab:red")):
        for position, seed in enumerate(seeds):
            xs = [scale * points[name, seed][which] if (name, seed) in points else np.nan for name in names]
            filled = position == 0
            ax.scatter(xs, y, s=30 if filled else 22, marker="o", color=colour if filled else "none",
                       edgecolors=colour, linewidths=0.9,
                       label=f"seed {seed}" if filled else ("other seeds" if position == 1 else None))
        ax.grid(axis="x", alpha=0.3)
    left.set_yticks(y, [f"★ {label}" if name == chosen else label for name, label in variants])
    left.set_xlabel("Validation accuracy (%)")
    right.set_xlabel("Training − validation (points)")
    fig.legend(*left.get_legend_handles_labels(), ncols=2, loc="outside lower center")
    fig.suptitle(title)
    return fig


def _variant_label(variant: Mapping[str, Any]) -> str:
    """A short label for a regularisation variant, from its settings (its ``label`` otherwise)."""
    if variant.get("dropout"):
        return f"dropout {variant['dropout']:g}"
    if variant.get("weight_decay"):
        return f"weight decay {variant['weight_decay']:g}"
    if variant.get("early_stopping"):
        return "early stopping"
    if "dropout" in variant:
        return "the recipe as it is"
    return str(variant["label"])
