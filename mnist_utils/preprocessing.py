"""Turn MNIST's ``uint8`` images into the ``float32`` vectors a dense network reads.

Chapter 2 teaches these two steps in plain NumPy; the later chapters call
these functions so that every chapter prepares the data in exactly the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_choice, check_images
from .errors import InputValueError

__all__ = [
    "flatten_images",
    "normalize_images",
    "preprocess_for_cnn",
    "preprocess_for_mlp",
    "preprocess_for_model",
    "to_training_tensor",
]


def normalize_images(images: np.ndarray) -> np.ndarray:
    """Scale ``uint8`` grey levels 0..255 to ``float32`` values in ``[0, 1]``.

    Parameters
    ----------
    images:
        Raw images, shape ``(n, 28, 28)`` or ``(n, 784)``, dtype ``uint8``.

    Returns
    -------
    numpy.ndarray
        The same shape, dtype ``float32``, ``images / 255``.

    Raises
    ------
    InputTypeError
        If the images are already floating point (normalising twice is a
        classic silent bug: it divides by 255 again).
    InputValueError
        If the shape is wrong or the batch is empty.
    """
    array = check_images(images, normalized=False)
    scaled = array.astype(np.float32)
    scaled /= np.float32(255.0)  # in place: one float32 copy of the images, not two
    return scaled


def flatten_images(images: np.ndarray) -> np.ndarray:
    """Reshape ``(n, 28, 28)`` images into ``(n, 784)`` row vectors, row by row.

    Raises
    ------
    InputValueError
        If the images are not ``(n, 28, 28)`` or the batch is empty.
    """
    array = check_images(images, flat=False)
    return array.reshape(len(array), 28 * 28)


def preprocess_for_mlp(images: np.ndarray) -> np.ndarray:
    """Normalise and flatten raw ``uint8`` images: the input of the book's MLP.

    Equivalent to ``flatten_images(normalize_images(images))``.
    """
    return flatten_images(normalize_images(images))


def preprocess_for_cnn(images: np.ndarray) -> np.ndarray:
    """Normalise raw ``uint8`` images and add a channel axis: ``(n, 28, 28, 1)`` ``float32``.

    Convolutional layers keep the 2-D layout, so nothing is flattened.
    """
    array = normalize_images(images)
    return array.reshape(len(array), 28, 28, 1)


def to_training_tensor(images: np.ndarray, model: str) -> Any:
    """:func:`preprocess_for_mlp` or :func:`preprocess_for_cnn`, computed by TensorFlow.

    The same division by 255 in ``float32``, so the same numbers, bit for bit (the tests
    compare them), but the ``float32`` images are made by TensorFlow from the ``uint8``
    ones and live only in TensorFlow's memory. Handed a NumPy array, Keras's ``fit`` copies
    it into TensorFlow and keeps the copy, so the training images would exist twice over.
    Chapters 4 and 6 train from these tensors so that they fit in a Binder session.

    Parameters
    ----------
    images:
        Raw images, ``(n, 28, 28)`` ``uint8``.
    model:
        ``"mlp"`` for ``(n, 784)`` vectors, ``"cnn"`` for ``(n, 28, 28, 1)`` grids.

    Returns
    -------
    tensorflow.Tensor
        ``float32`` values in ``[0, 1]``.

    Raises
    ------
    InputValueError
        If ``model`` is neither ``"mlp"`` nor ``"cnn"``, or the images are not ``(n, 28, 28)``.
    InputTypeError
        If the images are not ``uint8``.
    """
    shapes = {"mlp": (784,), "cnn": (28, 28, 1)}
    check_choice(model, "model", tuple(shapes))
    array = check_images(images, flat=False, normalized=False)
    import tensorflow as tf  # here, so that importing this module does not load TensorFlow

    scaled = _scale_in_tensorflow()(array, tf.constant(255.0, tf.float32))
    return tf.reshape(scaled, (len(array), *shapes[model]))


_SCALE = None


def _scale_in_tensorflow():
    """A compiled ``float32(images) / divisor``, made on first use.

    Compiled with ``tf.function``, TensorFlow can write the quotient into the buffer of the
    ``float32`` copy instead of allocating a second one. The divisor is an argument rather than the constant 255: TensorFlow's
    graph optimiser would otherwise replace the division by a multiplication by 1/255,
    which rounds differently.
    """
    global _SCALE
    if _SCALE is None:
        import tensorflow as tf

        _SCALE = tf.function(lambda images, divisor: tf.cast(images, tf.float32) / divisor, reduce_retracing=True)
    return _SCALE


def preprocess_for_model(model: Any, images: np.ndarray) -> np.ndarray:
    """Prepare raw ``uint8`` images for ``model``, whichever of the book's networks it is.

    Parameters
    ----------
    model:
        A Keras model whose input shape is ``(None, 784)`` (the MLP) or
        ``(None, 28, 28, 1)`` (the CNN).
    images:
        Raw images, ``(n, 28, 28)`` ``uint8``.

    Raises
    ------
    InputValueError
        If the model expects another input shape, or the images are not raw ``(n, 28, 28)``.
    """
    shape = tuple(getattr(model, "input_shape", ()))
    if shape == (None, 784):
        return preprocess_for_mlp(images)
    if shape == (None, 28, 28, 1):
        return preprocess_for_cnn(images)
    raise InputValueError(
        f"The model expects input of shape {shape}; the book's models take (None, 784) "
        "or (None, 28, 28, 1). Pass one of the book's models."
    )
