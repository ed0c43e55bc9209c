"""The book's models, built the same way in every chapter and in the tests."""

from __future__ import annotations

import keras

from ._validation import check_float

__all__ = ["ORIGINAL_MLP_PARAMETERS", "build_cnn", "build_original_mlp"]

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


def build_cnn(*, shift: float = 0.0, rotation: float = 0.0) -> keras.Sequential:
    """Build the book's convolutional network (chapter 6).

    Two 3×3 convolutions (32 and 64 filters), each followed by 2×2 max pooling, as in
    the keras-io "Simple MNIST convnet" example, then a 128-unit dense layer with
    dropout before the 10-way softmax. Chapter 6 trains it with random shifts and
    rotations and a cosine learning-rate schedule.

    Parameters
    ----------
    shift:
        Largest random translation of a training image, as a fraction of its height
        and width; 0 disables it.
    rotation:
        Largest random rotation of a training image, as a fraction of a full turn;
        0 disables it.

    Returns
    -------
    keras.Sequential
        An uncompiled model taking ``(n, 28, 28, 1)`` images in ``[0, 1]``. The
        augmentation layers are active only during training.

    Raises
    ------
    InputValueError
        If ``shift`` or ``rotation`` is outside ``[0, 0.5)``.
    InputTypeError
        If either is not a number.
    """
    shift = check_float(shift, "shift", low=0.0, high=0.5, high_open=True)
    rotation = check_float(rotation, "rotation", low=0.0, high=0.5, high_open=True)
    augmentation = []
    if shift:
        augmentation.append(keras.layers.RandomTranslation(shift, shift, fill_mode="constant", name="random_shift"))
    if rotation:
        augmentation.append(keras.layers.RandomRotation(rotation, fill_mode="constant", name="random_rotation"))
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            *augmentation,
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
