"""Normalisation, flattening and the input checks behind them."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_utils._validation import check_images, check_labels, check_probabilities
from mnist_utils.preprocessing import (
    flatten_images,
    normalize_images,
    preprocess_for_cnn,
    preprocess_for_mlp,
    to_training_tensor,
)

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


def test_normalize_divides_by_255_in_float32():
    out = normalize_images(IMAGES)
    assert out.dtype == np.float32 and out.shape == IMAGES.shape
    assert np.array_equal(out, IMAGES.astype(np.float32) / 255)
    assert out.min() >= 0 and out.max() <= 1


def test_flatten_lays_rows_end_to_end():
    flat = flatten_images(IMAGES)
    assert flat.shape == (5, 784)
    assert np.array_equal(flat[2, 28 * 7 : 28 * 8], IMAGES[2, 7])


def test_preprocess_for_mlp_is_normalise_then_flatten():
    assert np.array_equal(preprocess_for_mlp(IMAGES), flatten_images(normalize_images(IMAGES)))


def test_normalising_twice_is_refused():
    with pytest.raises(TypeError, match="must be raw uint8 grey levels.*got dtype float32"):
        normalize_images(normalize_images(IMAGES))


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (np.zeros((0, 28, 28), np.uint8), ValueError, "is empty"),
        (np.zeros((28, 28), np.uint8), ValueError, r"shape \(n, 28, 28\) or \(n, 784\), got \(28, 28\).*np.newaxis"),
        (np.zeros((3, 32, 32), np.uint8), ValueError, r"got \(3, 32, 32\)"),
        (np.full((2, 28, 28), "a"), TypeError, "must hold numbers"),
        (np.zeros((2, 28, 28), bool), TypeError, "must hold numbers"),
        ([[1, 2, 3]], ValueError, r"got \(1, 3\)"),
        ("not an array", TypeError, "must be a NumPy array, got str"),
        (np.full((2, 28, 28), 300, np.int32), ValueError, r"grey levels in 0..255, got values in \[300, 300\]"),
    ],
)
def test_check_images_rejects_bad_input(bad, error, message):
    with pytest.raises(error, match=message):
        check_images(bad)


def test_check_images_rejects_nan_and_out_of_range_floats():
    images = np.zeros((2, 784), np.float32)
    images[1, 3] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite value"):
        check_images(images)
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*got values in \[255, 255\].*exactly once"):
        check_images(np.full((2, 784), 255.0))


def test_check_images_shape_requirements():
    with pytest.raises(ValueError, match="must be flattened"):
        check_images(IMAGES, flat=True)
    with pytest.raises(ValueError, match=r"must have shape \(n, 28, 28\)"):
        flatten_images(preprocess_for_mlp(IMAGES))
    with pytest.raises(TypeError, match="must be normalised floats"):
        check_images(IMAGES, normalized=True)


def test_check_labels():
    assert check_labels(np.array([0, 9, 3])).tolist() == [0, 9, 3]
    with pytest.raises(ValueError, match=r"1-D .* got shape \(2, 10\).*argmax"):
        check_labels(np.zeros((2, 10), int))
    with pytest.raises(ValueError, match="is empty"):
        check_labels(np.array([], int))
    with pytest.raises(TypeError, match="must be integers"):
        check_labels(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"digits 0..9, got values in \[0, 10\]"):
        check_labels(np.array([0, 10]))
    with pytest.raises(ValueError, match="has 2 entries but 3 were expected"):
        check_labels(np.array([1, 2]), n=3)


def test_check_probabilities():
    with pytest.raises(ValueError, match=r"shape \(n, 10\)"):
        check_probabilities(np.zeros((3, 9)))
    with pytest.raises(ValueError, match="logits"):
        check_probabilities(np.full((1, 10), 3.0))
    with pytest.raises(ValueError, match="NaN"):
        check_probabilities(np.full((1, 10), np.nan))
    with pytest.raises(TypeError, match="must be floats"):
        check_probabilities(np.zeros((1, 10), int))


@pytest.mark.parametrize(("model", "reference"), [("mlp", preprocess_for_mlp), ("cnn", preprocess_for_cnn)])
def test_training_tensor_is_the_numpy_preprocessing_bit_for_bit(model, reference):
    images = np.random.default_rng(5).integers(0, 256, (500, 28, 28), dtype=np.uint8)
    images[0] = np.arange(784).reshape(28, 28) % 256  # every grey level at least once
    tensor = to_training_tensor(images, model)
    assert tensor.dtype.name == "float32"
    np.testing.assert_array_equal(tensor.numpy(), reference(images))


@pytest.mark.parametrize(
    ("images", "model", "error", "message"),
    [
        (np.zeros((2, 28, 28), np.uint8), "rnn", ValueError, "model must be one of 'mlp', 'cnn'"),
        (np.zeros((2, 784), np.uint8), "mlp", ValueError, "28, 28"),
        (np.zeros((2, 28, 28), np.float32), "cnn", TypeError, "uint8"),
    ],
)
def test_training_tensor_rejects_bad_input(images, model, error, message):
    with pytest.raises(error, match=message):
        to_training_tensor(images, model)
