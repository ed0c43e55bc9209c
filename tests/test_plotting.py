"""The shared figures are labelled, and reject bad input clearly."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mnist_utils.plotting import (
    COLUMN_INCHES,
    plot_ablation,
    plot_confusion_matrix,
    plot_digits,
    plot_learning_curves,
    plot_regularisation,
)

IMAGES = np.random.default_rng(0).integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
LABELS = np.arange(12) % 10


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_digits_titles_each_image_and_marks_errors():
    predictions = LABELS.copy()
    predictions[3] = 8
    fig = plot_digits(IMAGES, LABELS, predictions=predictions, confidences=np.full(12, 0.9), ncols=5, title="T")
    assert fig._suptitle.get_text() == "T"
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 12 and len(fig.axes) == 15
    assert titled[3].get_title() == "true 3\n→ 8 (90%)"
    assert titled[3].title.get_color() == "tab:red" and titled[0].title.get_color() == "black"


def test_plot_digits_rejects_mismatched_input():
    with pytest.raises(ValueError, match="has 11 entries but 12 were expected"):
        plot_digits(IMAGES, LABELS[:-1])
    with pytest.raises(ValueError, match=r"confidences must have shape \(12,\)"):
        plot_digits(IMAGES, LABELS, predictions=LABELS, confidences=np.ones(3))
    with pytest.raises(ValueError, match="ncols"):
        plot_digits(IMAGES, ncols=0)


def test_learning_curves_are_labelled():
    history = {"loss": [1.0, 0.5], "accuracy": [0.8, 0.9], "val_loss": [1.1, 0.7], "val_accuracy": [0.7, 0.85]}
    fig = plot_learning_curves(history)
    for ax in fig.axes:
        assert ax.get_xlabel() == "Epoch" and ax.get_ylabel() and ax.get_title()
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
    with pytest.raises(ValueError, match="val_loss"):
        plot_learning_curves({"loss": [1.0], "accuracy": [0.5]})


def test_confusion_matrix_plot():
    ax = plot_confusion_matrix(np.eye(10, dtype=int) * 5)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Predicted digit", "True digit")
    assert ax.get_title() == "Confusion matrix (counts)"
    assert ax.texts[0].get_text() == "5"
    ax = plot_confusion_matrix(np.eye(10) * 0.5, normalized=True)
    assert ax.texts[0].get_text() == "50.0"
    with pytest.raises(ValueError, match="10×10"):
        plot_confusion_matrix(np.eye(3))


def test_plot_digits_fills_the_content_column_by_default():
    from mnist_utils.plotting import COLUMN_INCHES

    for ncols in (4, 10):
        fig = plot_digits(IMAGES, LABELS, ncols=ncols)
        assert fig.get_figwidth() == pytest.approx(COLUMN_INCHES)
    assert plot_digits(IMAGES, ncols=4, size=2.0).get_figwidth() == pytest.approx(8.0)


def _box_texts(fig):
    """Each box's label and the texts drawn inside it, after checking each text fits in its box."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = [(patch.get_label(), patch.get_window_extent(renderer), []) for patch in ax.patches]
    for text in ax.texts:
        extent = text.get_window_extent(renderer)
        centre = ((extent.x0 + extent.x1) / 2, (extent.y0 + extent.y1) / 2)
        for _, box, texts in boxes:
            if text.get_text() and box.contains(*centre):
                assert box.x0 <= extent.x0 and extent.x1 <= box.x1, f"{text.get_text()!r} overflows its box"
                assert box.y0 <= extent.y0 and extent.y1 <= box.y1, f"{text.get_text()!r} overflows its box"
                texts.append(text.get_text())
    assert all(t.get_fontsize() >= 8 for t in fig.findobj(plt.Text) if t.get_text())
    assert fig.get_figwidth() <= COLUMN_INCHES + 1e-9
    return [(label, texts) for label, _, texts in boxes], [t.get_text() for t in ax.texts]


def test_plot_architecture_draws_the_mlp_side_by_side_with_numbers_from_the_model():
    from mnist_utils.models import ORIGINAL_MLP_PARAMETERS, build_original_mlp
    from mnist_utils.plotting import plot_architecture

    fig = plot_architecture(build_original_mlp(), title="The MLP")
    assert fig._suptitle.get_text() == "The MLP"
    boxes, texts = _box_texts(fig)
    assert [label for label, _ in boxes] == ["Input", "Dense", "Dense", "Dense", "Dense"]
    assert boxes[0][1] == ["Input", "shape: 784"]
    assert boxes[1][1] == ["Dense", "784 units", "relu", "out: 784", "615,440 params"]
    assert boxes[4][1] == ["Dense", "10 units", "softmax", "out: 10", "1,290 params"]
    assert f"{ORIGINAL_MLP_PARAMETERS:,} parameters in all" in texts
    xs = [patch.get_x() for patch in fig.axes[0].patches]
    assert xs == sorted(xs) and len(set(patch.get_y() for patch in fig.axes[0].patches)) == 1  # one row


def test_plot_architecture_draws_the_cnn_as_a_column_of_every_layer():
    from mnist_utils.models import build_cnn
    from mnist_utils.plotting import plot_architecture

    model = build_cnn(shift=0.08, rotation=0.03)
    fig = plot_architecture(model)
    boxes, texts = _box_texts(fig)
    assert [label for label, _ in boxes] == ["Input"] + [type(layer).__name__ for layer in model.layers]
    by_kind = dict(boxes)
    assert by_kind["RandomTranslation"] == ["RandomTranslation", "shift ±8 %, training only", "28×28×1", "0"]
    assert ["Conv2D", "32 filters 3×3, relu", "26×26×32", "320"] in [t for _, t in boxes]
    assert by_kind["Flatten"] == ["Flatten", "to one vector", "1,600", "0"]
    assert f"{model.count_params():,} parameters in all" in texts
    ys = [patch.get_y() for patch in fig.axes[0].patches]
    assert ys == sorted(ys, reverse=True) and len(set(p.get_x() for p in fig.axes[0].patches)) == 1  # one column
    assert len(plot_architecture(build_cnn()).axes[0].patches) == len(model.layers) - 1  # no augmentation


def test_plot_architecture_draws_batch_normalization_and_long_names_in_a_column():
    import keras

    from mnist_utils.plotting import plot_architecture

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.BatchNormalization(),
                              keras.layers.Flatten(), keras.layers.Dense(4)])
    boxes, texts = _box_texts(plot_architecture(model))  # four boxes in a row leave room for the long name
    assert boxes[1] == ("BatchNormalization", ["BatchNormalization", "per channel", "out: 28×28×1", "4 params"])
    assert "3,144 parameters in all, 3,142 of them trainable" in texts
    model.add(keras.layers.Dense(2))
    boxes, _ = _box_texts(plot_architecture(model))  # five are too narrow for it: a column
    assert boxes[1] == ("BatchNormalization", ["BatchNormalization", "per channel", "28×28×1", "4"])
    with pytest.raises(ValueError, match="orientation='horizontal' cannot fit"):
        plot_architecture(model, orientation="horizontal")
    boxes, _ = _box_texts(plot_architecture(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]),
                                            orientation="vertical"))
    assert boxes[1] == ("Dense", ["Dense", "2 units, linear", "2", "8"])


def test_plot_architecture_rejects_what_is_not_a_built_sequential_model():
    import keras

    from mnist_utils.errors import InputTypeError, InputValueError
    from mnist_utils.models import build_original_mlp
    from mnist_utils.plotting import plot_architecture

    with pytest.raises(InputTypeError, match="model must be a keras.Sequential model.*got str"):
        plot_architecture("build_original_mlp")
    inputs = keras.Input((4,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(InputTypeError, match="model must be .*got a Keras model but not a Sequential one"):
        plot_architecture(functional)
    with pytest.raises(InputValueError, match="model has no input shape yet.*keras.Input"):
        plot_architecture(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(InputValueError, match="model has no layers"):
        plot_architecture(keras.Sequential())
    with pytest.raises(InputTypeError, match="title must be a string"):
        plot_architecture(build_original_mlp(), title=3)
    with pytest.raises(InputValueError, match="orientation must be one of"):
        plot_architecture(build_original_mlp(), orientation="diagonal")


def _ablation(seeds=(42, 1)):
    """A small ablation record shaped like benchmarks/results.json's: three steps and the other order."""
    start = {"epochs": 1, "batch_size": 32, "schedule": "constant"}
    configs = [start, dict(start, epochs=12), dict(start, epochs=12, schedule="cosine")]
    runs = []
    for k, seed in enumerate(seeds):
        steps = [
            {"step": i, "factor": factor, "config": config,
             "validation_accuracy": 0.95 + 0.01 * i + 0.001 * k, "test_accuracy": 0.96 + 0.01 * i}
            for i, (factor, config) in enumerate(zip([None, "epochs", "schedule"], configs))
        ]
        other = {"after_step": 1, "factor": "schedule", "config": dict(configs[1], schedule="cosine"),
                 "validation_accuracy": 0.975, "test_accuracy": 0.978}
        runs.append({"seed": seed, "steps": steps, "schedule_first": other})
    return {"runs": runs}


def test_plot_ablation_draws_one_row_per_step_and_each_seed():
    fig = plot_ablation(_ablation(), write_up=0.96439)
    ax = fig.axes[0]
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == ["0. original recipe, 1 epoch", "1. + 12 epochs", "2. + cosine schedule",
                      "1. + cosine schedule, batches of 32"]
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert legend == ["validation, seed 42", "validation, seed 1", "test, seed 42", "test, seed 1"]
    # The first seed's test squares sit at the accuracies given, in percent.
    filled = [c for c in ax.collections if c.get_label() == "test, seed 42"][0]
    assert np.allclose(filled.get_offsets()[:, 0], [96.0, 97.0, 98.0, 97.8])
    assert any(line.get_linestyle() == "--" and line.get_xdata()[0] == pytest.approx(96.439) for line in ax.lines)
    assert fig.get_figwidth() == COLUMN_INCHES


def test_plot_ablation_rejects_what_is_not_an_ablation():
    with pytest.raises(TypeError, match=r"ablation must be a dict.*results.json"):
        plot_ablation([1, 2])
    with pytest.raises(ValueError, match="non-empty list"):
        plot_ablation({"runs": []})
    broken = _ablation()
    broken["runs"][1]["steps"][2]["test_accuracy"] = 98.0  # a percentage, not a fraction
    with pytest.raises(ValueError, match=r"\['steps'\]\[2\]\['test_accuracy'\]"):
        plot_ablation(broken)
    short = _ablation()
    del short["runs"][1]["steps"][-1]
    with pytest.raises(ValueError, match="same steps as the first"):
        plot_ablation(short)
    with pytest.raises(ValueError, match="write_up"):
        plot_ablation(_ablation(), write_up=96.439)


def _regularisation():
    variants = [{"name": "baseline", "label": "the recipe", "dropout": 0.0, "weight_decay": 0.0, "early_stopping": False},
                {"name": "dropout_0.2", "label": "dropout", "dropout": 0.2, "weight_decay": 0.0, "early_stopping": False},
                {"name": "early_stopping", "label": "stop", "dropout": 0.0, "weight_decay": 0.0, "early_stopping": True}]
    runs = [{"variant": v["name"], "seed": seed, "validation_accuracy": 0.98 + 0.001 * i + 0.0001 * seed, "gap": 0.017}
            for i, v in enumerate(variants) for seed in (42, 1)]
    return {"variants": variants, "seeds": [42, 1], "chosen": "dropout_0.2", "runs": runs}


def test_plot_regularisation_draws_each_variant_and_seed_and_stars_the_chosen():
    fig = plot_regularisation(_regularisation())
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["the recipe as it is", "★ dropout 0.2", "early stopping"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["seed 42", "other seeds"]
    filled = [c for c in left.collections if c.get_label() == "seed 42"][0]
    assert np.allclose(filled.get_offsets()[:, 0], [98.42, 98.52, 98.62])  # percent
    gaps = [c for c in right.collections if c.get_label() == "seed 42"][0]
    assert np.allclose(gaps.get_offsets()[:, 0], 1.7)  # percentage points
    assert fig.get_figwidth() == COLUMN_INCHES


def test_plot_regularisation_rejects_what_is_not_the_record():
    with pytest.raises(TypeError, match=r"section must be a dict.*results.json"):
        plot_regularisation([1])
    with pytest.raises(ValueError, match="'variants'.*'regularisation' section"):
        plot_regularisation({"runs": []})
    wrong = _regularisation()
    wrong["chosen"] = "dropout_0.9"
    with pytest.raises(ValueError, match="'chosen' must be one of"):
        plot_regularisation(wrong)
    percent = _regularisation()
    percent["runs"][3]["validation_accuracy"] = 98.3
    with pytest.raises(ValueError, match=r"\['runs'\]\[3\]\['validation_accuracy'\]"):
        plot_regularisation(percent)
