"""The book's MLP builder reproduces the original architecture exactly."""

from __future__ import annotations

import warnings

import keras
import numpy as np

from mnist_utils.models import ORIGINAL_MLP_PARAMETERS, build_original_mlp


def _original_as_written():
    """The original write-up's code, verbatim (it passes input_shape to the first layer)."""
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return tf.keras.models.Sequential([
            tf.keras.layers.Dense(784, activation="relu", input_shape=(784,)),
            tf.keras.layers.Dense(256, activation="relu"),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ])


def _architecture(model):
    return [
        (type(layer).__name__, layer.units, layer.activation.__name__, layer.use_bias,
         tuple(w.shape for w in layer.weights))
        for layer in model.layers
    ]


def test_builder_matches_the_original_code():
    built, original = build_original_mlp(), _original_as_written()
    assert _architecture(built) == _architecture(original)
    assert built.input_shape == original.input_shape == (None, 784)
    assert built.output_shape == (None, 10)


def test_parameter_count():
    assert ORIGINAL_MLP_PARAMETERS == (784 * 784 + 784) + (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10)
    assert build_original_mlp().count_params() == ORIGINAL_MLP_PARAMETERS == 850_586


def test_output_is_a_probability_distribution():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    out = build_original_mlp().predict(x, verbose=0)
    assert out.shape == (4, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
