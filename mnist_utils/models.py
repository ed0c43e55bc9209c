"""The book's models, built the same way in every chapter and in the tests."""

from __future__ import annotations

import keras

from ._validation import check_bool, check_float

__all__ = ["ORIGINAL_MLP_PARAMETERS", "build_cnn", "build_original_mlp"]

#: The number of trainable parameters of the original MLP (784·784+784 + 784·256+256 + 256·128+128 + 128·10+10).
ORIGINAL_MLP_PARAMETERS = 850_586


def build_original_mlp(*, dropout: float = 0.0) -> keras.Sequential:
    """Build the original write-up's network: Dense 784 → 256 → 128 (relu) → 10 (softmax).

    The input is a flattened, normalised image of 784 values. The original
    code passed ``input_shape=(784,)`` to the first layer; current Keras
    declares the input with ``keras.Input`` instead, which builds the
    identical network (chapter 3 shows both and checks they match).

    Parameters
    ----------
    dropout:
        The fraction of each hidden layer's outputs that a ``Dropout`` layer after it
        zeroes during training (the benchmark's ``regularisation`` section measures it);
        0, the default, adds no ``Dropout`` layer and builds the original network.

    Returns
    -------
    keras.Sequential
        An uncompiled model with 850,586 trainable parameters (``Dropout`` has none). Its
        initial weights come from Keras's global seed (see
        :func:`mnist_utils.training.set_seed`).

    Raises
    ------
    InputValueError
        If ``dropout`` is outside ``[0, 1)``.
    InputTypeError
        If it is not a number.
    """
    dropout = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)

    def hidden(units: int) -> list[keras.layers.Layer]:
        layer = keras.layers.Dense(units, activation="relu")
        return [layer, keras.layers.Dropout(dropout)] if dropout else [layer]

    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            *hidden(784),
            *hidden(256),
            *hidden(128),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="original_mlp",
    )


def build_cnn(*, shift: float = 0.0, rotation: float = 0.0, batch_norm: bool = False) -> keras.Sequential:
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
    batch_norm:
        Normalise each convolution's outputs over the batch: each ``Conv2D`` loses its bias
        (the normalisation's shift replaces it) and is followed by ``BatchNormalization``,
        then the relu, before its pooling. ``False``, the default, builds chapter 6's
        network; the benchmark's ``cnn_batchnorm`` section measures ``True``.

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
        If ``shift`` or ``rotation`` is not a number, or ``batch_norm`` is not a bool.
    """
    shift = check_float(shift, "shift", low=0.0, high=0.5, high_open=True)
    rotation = check_float(rotation, "rotation", low=0.0, high=0.5, high_open=True)
    batch_norm = check_bool(batch_norm, "batch_norm")

    def convolution(filters: int) -> list[keras.layers.Layer]:
        if not batch_norm:
            return [keras.layers.Conv2D(filters, kernel_size=3, activation="relu")]
        return [keras.layers.Conv2D(filters, kernel_size=3, use_bias=False), keras.layers.BatchNormalization(),
                keras.layers.Activation("relu")]

    augmentation = []
    if shift:
        augmentation.append(keras.layers.RandomTranslation(shift, shift, fill_mode="constant", name="random_shift"))
    if rotation:
        augmentation.append(keras.layers.RandomRotation(rotation, fill_mode="constant", name="random_rotation"))
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            *augmentation,
            *convolution(32),
            keras.layers.MaxPooling2D(pool_size=2),
            *convolution(64),
            keras.layers.MaxPooling2D(pool_size=2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="cnn",
    )
