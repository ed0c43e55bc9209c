"""The shared figures are labelled, and reject bad input clearly."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mnist_utils.plotting import plot_confusion_matrix, plot_digits, plot_learning_curves

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
