"""Turn MNIST's ``uint8`` images into the ``float32`` vectors a dense network reads.

Chapter 2 teaches these two steps in plain NumPy; the later chapters call
these functions so that every chapter prepares the data in exactly the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_images

__all__ = [
    "flatten_images",
    "normalize_images",
    "preprocess_for_cnn",
    "preprocess_for_mlp",
    "preprocess_for_model",
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
    TypeError
        If the images are already floating point (normalising twice is a
        classic silent bug: it divides by 255 again).
    ValueError
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
    ValueError
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
    ValueError
        If the model expects another input shape.
    """
    shape = tuple(getattr(model, "input_shape", ()))
    if shape == (None, 784):
        return preprocess_for_mlp(images)
    if shape == (None, 28, 28, 1):
        return preprocess_for_cnn(images)
    raise ValueError(
        f"The model expects input of shape {shape}; the book's models take (None, 784) "
        "or (None, 28, 28, 1)."
    )
