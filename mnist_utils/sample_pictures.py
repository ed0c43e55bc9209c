"""Pictures to try the formatting pipeline on: MNIST digits disguised as photos, and digits by other writers.

:func:`mnist_utils.handwriting.to_mnist_format` must recover a digit from a photo or a
scan, and the book's networks must read digits that nobody at MNIST wrote. Chapter 7, the
tests and the benchmark make such pictures here, without a camera or a download:
:func:`disguise_as_photo` turns an MNIST digit into a noisy, off-centre JPEG, and
:func:`load_other_writers` formats scikit-learn's bundled optdigits (digits by other writers)
as MNIST.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from .errors import InputTypeError, InputValueError, NoDigitError
from .handwriting import FIELD, to_mnist_format

__all__ = ["disguise_as_photo", "load_other_writers", "optdigits_picture"]


def disguise_as_photo(digit: np.ndarray, rng: np.random.Generator, *, invert: bool) -> Image.Image:
    """Make a 28×28 MNIST digit look like a photographed or scanned one.

    The digit is enlarged to 150–400 pixels, placed off-centre on a larger canvas,
    optionally turned into dark ink on light paper, given grey paper, Gaussian noise
    and JPEG compression. Chapter 7 and the tests use it to check that
    :func:`~mnist_utils.handwriting.to_mnist_format` recovers the digit.

    Parameters
    ----------
    digit:
        A ``(28, 28)`` ``uint8`` MNIST image.
    rng:
        The random generator that draws the size, position, noise and JPEG quality.
    invert:
        ``True`` for dark ink on light paper.

    Returns
    -------
    PIL.Image.Image
        An RGB image decoded from JPEG.
    """
    digit = np.asarray(digit)
    if digit.shape != (FIELD, FIELD) or digit.dtype != np.uint8:
        raise InputValueError(f"digit must be a (28, 28) uint8 image, got {digit.shape} {digit.dtype}.")
    if not isinstance(rng, np.random.Generator):
        raise InputTypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; use np.random.default_rng(seed).")
    if not isinstance(invert, (bool, np.bool_)):
        raise InputTypeError(f"invert must be True or False, got {invert!r}.")
    size = int(rng.integers(150, 401))
    big = Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)
    height, width = size + int(rng.integers(40, 301)), size + int(rng.integers(40, 301))
    canvas = Image.new("L", (width, height), 0)
    canvas.paste(big, (int(rng.integers(0, width - size + 1)), int(rng.integers(0, height - size + 1))))
    pixels = np.asarray(canvas, dtype=np.float64) / 255.0
    if invert:
        pixels = 1.0 - pixels
    pixels = 0.1 + 0.8 * pixels + rng.normal(0.0, 0.05, pixels.shape)
    photo = Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=int(rng.integers(40, 91)))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def optdigits_picture(digit: Any) -> np.ndarray:
    """An 8 × 8 optdigits image (ink 0..16) as a 96 × 96 grey picture, dark ink on white.

    Chapter 7 writes this out (``as_picture``) to turn scikit-learn's optdigits, digits by
    other writers, into pictures of the kind a reader photographs; a test holds the two equal.

    Raises
    ------
    InputValueError
        If ``digit`` is not an 8 × 8 array of ink levels between 0 and 16.
    """
    digit = np.asarray(digit)
    if digit.shape != (8, 8) or not np.issubdtype(digit.dtype, np.number):
        raise InputValueError(
            f"digit must be an 8 x 8 array of numbers, as in sklearn.datasets.load_digits().images, "
            f"got shape {digit.shape} and dtype {digit.dtype}."
        )
    if not np.all(np.isfinite(digit)) or digit.min() < 0 or digit.max() > 16:
        raise InputValueError("digit must hold ink levels between 0 and 16, as optdigits does; rescale it first.")
    ink = np.pad(digit / 16, 2)  # two blocks of blank paper around the digit
    return np.asarray(Image.fromarray(np.uint8(255 * (1 - ink))).resize((96, 96), Image.Resampling.BICUBIC))


def load_other_writers() -> tuple[np.ndarray, np.ndarray]:
    """Scikit-learn's optdigits (bundled with it, no download) formatted as MNIST, as chapter 7 does.

    Each 8 × 8 digit becomes a picture (:func:`optdigits_picture`), then goes through
    :func:`~mnist_utils.handwriting.to_mnist_format`; the few in which it finds no single digit are left out.

    Returns
    -------
    tuple
        ``(images, labels)``: ``uint8`` images of shape ``(n, 28, 28)`` and their digits.
    """
    from sklearn.datasets import load_digits  # only the benchmark and the tests need scikit-learn here

    other = load_digits()
    kept, images = [], []
    for index, digit in enumerate(other.images):
        try:
            images.append(to_mnist_format(optdigits_picture(digit)))
        except NoDigitError:
            continue
        kept.append(index)
    return np.stack(images), other.target[kept]
