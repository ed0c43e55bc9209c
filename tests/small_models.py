"""Small Keras networks for the tests of the checks that refuse foreign models."""

from __future__ import annotations


def dense(input_shape, units, activation):
    """A one-layer network: input shape, number of outputs and activation of one's choice."""
    import keras

    return keras.Sequential([keras.Input(shape=input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(units, activation=activation)])  # fmt: skip
