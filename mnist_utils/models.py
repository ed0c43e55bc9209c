"""The book's models, built the same way in every chapter and in the tests."""

from __future__ import annotations

import keras

__all__ = ["ORIGINAL_MLP_PARAMETERS", "build_original_mlp"]

#: The number of trainable parameters of the original MLP (784·784+784 + 784·256+256 + 256·128+128 + 128·10+10).
ORIGINAL_MLP_PARAMETERS = 850_586


def build_original_mlp() -> keras.Sequential:
    """Build the original write-up's network: Dense 784 → 256 → 128 (relu) → 10 (softmax).

    The input is a flattened, normalised image of 784 values. The original
    code passed ``input_shape=(784,)`` to the first layer; current Keras
    declares the input with ``keras.Input`` instead, which builds the
    identical network (chapter 3 shows both and checks they match).

    Returns
    -------
    keras.Sequential
        An uncompiled model with 850,586 trainable parameters. Its initial
        weights come from Keras's global seed (see
        :func:`mnist_utils.training.set_seed`).
    """
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
