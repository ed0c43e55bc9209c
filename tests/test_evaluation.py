"""Metrics: checked against hand-computed values, not just against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_utils.evaluation import (
    accuracy,
    confusion_matrix,
    most_confused_pairs,
    per_class_report,
    predict_digits,
    predict_probabilities,
)

Y_TRUE = np.array([0, 0, 1, 1, 1, 2, 9, 9])
Y_PRED = np.array([0, 1, 1, 1, 2, 2, 9, 4])


def test_accuracy():
    assert accuracy(Y_TRUE, Y_PRED) == 5 / 8
    assert isinstance(accuracy(Y_TRUE, Y_PRED), float)


def test_confusion_matrix_rows_are_true_digits():
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    assert cm.shape == (10, 10) and cm.sum() == 8
    assert cm[0, 1] == 1  # a true 0 predicted as 1
    assert cm[9, 4] == 1 and cm[4, 9] == 0  # a true 9 predicted as 4, not the transpose
    assert np.trace(cm) == 5
    assert cm[3].sum() == 0  # digits that never occur still get a row


def test_confusion_matrix_normalised_by_row():
    cm = confusion_matrix(Y_TRUE, Y_PRED, normalize="true")
    np.testing.assert_allclose(cm[1, [1, 2]], [2 / 3, 1 / 3])
    np.testing.assert_allclose(cm[[0, 1, 2, 9]].sum(axis=1), 1.0)


def test_per_class_report_by_hand():
    report = per_class_report(Y_TRUE, Y_PRED)
    assert list(report.index) == list(range(10))
    # Digit 1: predicted 3 times, 2 right -> precision 2/3; 3 true, 2 found -> recall 2/3.
    assert report.loc[1, "precision"] == pytest.approx(2 / 3)
    assert report.loc[1, "recall"] == pytest.approx(2 / 3)
    # Digit 2: predicted twice (one right), one true image found -> precision 1/2, recall 1.
    assert report.loc[2, "precision"] == pytest.approx(0.5)
    assert report.loc[2, "recall"] == pytest.approx(1.0)
    assert report.loc[2, "f1"] == pytest.approx(2 * 0.5 * 1 / 1.5)
    # Digit 4 is predicted once and never true: precision 0, no error.
    assert report.loc[4, "precision"] == 0 and report.loc[4, "support"] == 0
    assert report["support"].sum() == len(Y_TRUE)


def test_most_confused_pairs_order_and_ties():
    cm = np.zeros((10, 10), int)
    np.fill_diagonal(cm, 100)
    cm[4, 9], cm[9, 4], cm[3, 5], cm[7, 2] = 7, 3, 7, 1
    pairs = most_confused_pairs(cm, top=3)
    assert pairs.values.tolist() == [[3, 5, 7], [4, 9, 7], [9, 4, 3]]
    assert len(most_confused_pairs(cm, top=50)) == 4  # only non-zero off-diagonal cells


def test_most_confused_pairs_rejects_bad_input():
    with pytest.raises(ValueError, match="10×10"):
        most_confused_pairs(np.zeros((9, 9), int))
    with pytest.raises(TypeError, match="integer counts"):
        most_confused_pairs(np.eye(10))
    with pytest.raises(ValueError, match="top must be a positive integer"):
        most_confused_pairs(np.zeros((10, 10), int), top=0)


def test_predict_digits():
    probabilities = np.full((2, 10), 0.05)
    probabilities[0, 3], probabilities[1, 7] = 0.55, 0.55
    digits, confidence = predict_digits(probabilities)
    assert digits.tolist() == [3, 7]
    np.testing.assert_allclose(confidence, [0.55, 0.55])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        (Y_TRUE, Y_PRED[:-1], "has 7 entries but 8 were expected"),
        (Y_TRUE, np.eye(8, 10), "1-D"),
        (np.array([]), np.array([]), "empty"),
        (Y_TRUE, Y_PRED + 5, r"digits 0..9"),
    ],
)
def test_metrics_reject_bad_labels(y_true, y_pred, message):
    with pytest.raises((ValueError, TypeError), match=message):
        accuracy(y_true, y_pred)


@pytest.fixture(scope="module")
def small_mlp():
    from mnist_utils.models import build_original_mlp
    from mnist_utils.training import set_seed

    set_seed(3)
    return build_original_mlp()


def test_predict_probabilities_equals_one_predict_call_bit_for_bit(small_mlp):
    from mnist_utils.preprocessing import preprocess_for_mlp

    images = np.random.default_rng(0).integers(0, 256, (2500, 28, 28), dtype=np.uint8)
    whole = small_mlp.predict(preprocess_for_mlp(images), batch_size=500, verbose=0)
    chunked = predict_probabilities(small_mlp, images, batch_size=500, chunk_size=1000)  # 3 chunks, the last partial
    assert chunked.shape == (2500, 10) and chunked.dtype == np.float32
    np.testing.assert_array_equal(chunked, whole)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        ({"chunk_size": 2.5}, TypeError, "chunk_size must be an integer, got 2.5"),
        ({"batch_size": 300, "chunk_size": 1000}, ValueError, "must be a multiple of batch_size"),
    ],
)
def test_predict_probabilities_rejects_bad_sizes(small_mlp, kwargs, error, message):
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    with pytest.raises(error, match=message):
        predict_probabilities(small_mlp, images, **kwargs)


def test_predict_probabilities_checks_the_images(small_mlp):
    with pytest.raises(ValueError, match="images"):
        predict_probabilities(small_mlp, np.zeros((3, 28), dtype=np.uint8))


def _confidences(rows):
    """(n, 10) probabilities whose top digit and confidence are given per row."""
    probabilities = []
    for digit, confidence in rows:
        row = np.full(10, (1 - confidence) / 9)
        row[digit] = confidence
        probabilities.append(row)
    return np.array(probabilities)


def test_coverage_curve_answers_the_most_confident_first():
    from mnist_utils.evaluation import coverage_curve

    probabilities = _confidences([(1, 0.99), (2, 0.9), (3, 0.9), (4, 0.6), (5, 0.5)])
    y_true = np.array([1, 2, 0, 4, 0])  # the third and the last are wrong
    curve = coverage_curve(probabilities, y_true)
    np.testing.assert_allclose(curve["threshold"], [0.99, 0.9, 0.6, 0.5])  # the tie at 0.9 is one row
    np.testing.assert_allclose(curve["coverage"], [0.2, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(curve["accuracy"], [1.0, 2 / 3, 3 / 4, 3 / 5])


def test_choose_threshold_answers_the_most_images_at_the_target():
    from mnist_utils.evaluation import choose_threshold

    probabilities = _confidences([(1, 0.99), (2, 0.9), (3, 0.9), (4, 0.6), (5, 0.5)])
    y_true = np.array([1, 2, 0, 4, 0])
    assert choose_threshold(probabilities, y_true, target_accuracy=0.75) == pytest.approx(0.6)
    assert choose_threshold(probabilities, y_true, target_accuracy=0.6) == pytest.approx(0.5)
    assert choose_threshold(probabilities, y_true, target_accuracy=1.0) == pytest.approx(0.99)


def test_choose_threshold_says_when_the_target_is_out_of_reach():
    from mnist_utils.evaluation import choose_threshold

    probabilities = _confidences([(1, 0.99), (2, 0.9)])
    with pytest.raises(ValueError, match=r"target_accuracy=0.9 is reached at no threshold.*50.0%"):
        choose_threshold(probabilities, np.array([0, 0]), target_accuracy=0.9)
    with pytest.raises(ValueError, match="target_accuracy"):
        choose_threshold(probabilities, np.array([1, 2]), target_accuracy=0)
    with pytest.raises(ValueError, match="y_true"):
        choose_threshold(probabilities, np.array([1, 2, 3]), target_accuracy=0.5)
