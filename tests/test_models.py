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


def _todays_mlp():
    """build_original_mlp() as it was before it took ``dropout``: the reference for its default."""
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(784, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="original_mlp",
    )


def _todays_cnn(shift: float, rotation: float):
    """build_cnn() as it was before it took ``batch_norm``: the reference for its default."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.RandomTranslation(shift, shift, fill_mode="constant", name="random_shift"),
            keras.layers.RandomRotation(rotation, fill_mode="constant", name="random_rotation"),
            keras.layers.Conv2D(32, kernel_size=3, activation="relu"),
            keras.layers.MaxPooling2D(pool_size=2),
            keras.layers.Conv2D(64, kernel_size=3, activation="relu"),
            keras.layers.MaxPooling2D(pool_size=2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="cnn",
    )


def _seeded(build):
    from mnist_utils.training import set_seed

    set_seed(42)
    return build()


def _same_network(built, reference):
    assert [type(layer).__name__ for layer in built.layers] == [type(layer).__name__ for layer in reference.layers]
    assert [layer.get_config() | {"name": None} for layer in built.layers] == [
        layer.get_config() | {"name": None} for layer in reference.layers]
    assert built.name == reference.name
    weights, expected = built.get_weights(), reference.get_weights()
    assert len(weights) == len(expected)
    for got, want in zip(weights, expected):
        np.testing.assert_array_equal(got, want)


def test_the_mlps_default_is_the_network_it_always_built():
    """No dropout by default: the same layers and, under the same seed, the same initial weights."""
    _same_network(_seeded(build_original_mlp), _seeded(_todays_mlp))
    _same_network(_seeded(lambda: build_original_mlp(dropout=0.0)), _seeded(_todays_mlp))


def test_dropout_adds_a_dropout_layer_after_each_hidden_layer_and_no_parameters():
    model = build_original_mlp(dropout=0.5)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout"] * 3 + ["Dense"]
    assert all(layer.rate == 0.5 for layer in model.layers if isinstance(layer, keras.layers.Dropout))
    assert model.count_params() == ORIGINAL_MLP_PARAMETERS


def test_the_cnns_default_is_the_network_it_always_built():
    from mnist_utils.models import build_cnn

    _same_network(_seeded(lambda: build_cnn(shift=0.08, rotation=0.03)), _seeded(lambda: _todays_cnn(0.08, 0.03)))


def test_batch_norm_normalises_each_convolution_before_its_relu_and_pooling():
    from mnist_utils.models import build_cnn

    plain, normalised = build_cnn(), build_cnn(batch_norm=True)
    kinds = [type(layer).__name__ for layer in normalised.layers]
    assert kinds[:8] == ["Conv2D", "BatchNormalization", "Activation", "MaxPooling2D"] * 2
    assert kinds.count("BatchNormalization") == 2
    convolutions = [layer for layer in normalised.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.use_bias for layer in convolutions] == [False, False]
    assert all(layer.activation.__name__ == "linear" for layer in convolutions)
    assert [layer.activation.__name__ for layer in normalised.layers if isinstance(layer, keras.layers.Activation)] == [
        "relu", "relu"]
    # Each convolution's 32 and 64 biases become the normalisation's shift, plus a scale (trainable)
    # and a moving mean and variance (not trainable).
    trainable = sum(int(np.prod(w.shape)) for w in normalised.trainable_weights)
    assert trainable == plain.count_params() - (32 + 64) + 2 * (32 + 64)
    assert normalised.count_params() == trainable + 2 * (32 + 64)
    assert normalised.output_shape == plain.output_shape == (None, 10)
