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

from .data import train_validation_split
from .errors import InputTypeError, InputValueError, NoDigitError
from .handwriting import FIELD, to_mnist_format

__all__ = [
    "OTHER_WRITERS_SPLIT_SEED",
    "RENDERINGS",
    "disguise_as_photo",
    "load_other_writers",
    "optdigits_picture",
    "render_digit",
    "split_other_writers",
]


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


#: The seed of the one, fixed split of the other writers' digits into two halves (:func:`split_other_writers`).
OTHER_WRITERS_SPLIT_SEED = 2026


def split_other_writers(images: Any, labels: Any) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The other writers' digits in two fixed halves, stratified by digit: ``(validation, test)``.

    Work that tries to make the networks read other writers better chooses on the
    **validation** half only, and reports the **test** half once, so that the digits it is
    judged on were never used to choose. The split is drawn once, with
    :data:`OTHER_WRITERS_SPLIT_SEED`, by :func:`mnist_utils.data.train_validation_split`; an odd
    digit count puts the extra digit in the test half.

    Parameters
    ----------
    images, labels:
        The digits and their labels, as :func:`load_other_writers` returns them.

    Returns
    -------
    tuple
        ``((x_validation, y_validation), (x_test, y_test))``.

    Raises
    ------
    InputValueError
        As :func:`~mnist_utils.data.train_validation_split` does: lengths that differ, or a
        digit with fewer than two examples.
    """
    labels = np.asarray(labels)
    test, validation = train_validation_split(images, labels, validation_size=len(labels) // 2,
                                              seed=OTHER_WRITERS_SPLIT_SEED)
    return validation, test


#: The ways a real digit is rendered to check that :func:`~mnist_utils.handwriting.to_mnist_format`
#: refuses none of them (``tests/test_handwriting.py``, ``tools/calibrate_no_digit.py``): how a
#: photo or scan is framed, its resolution and how it was scaled up, the pen and the ink.
#: Each picture is dark ink on light paper unless the rendering says otherwise.
RENDERINGS: dict[str, str] = {
    "tight crop, nearest": "cut to the ink with no margin (touching 2 to 4 edges), longer side 64 pixels, enlarged by repeating pixels",
    "tight crop, bilinear": "cut to the ink with no margin, enlarged to 64 pixels with bilinear interpolation",
    "tight crop, bicubic": "cut to the ink with no margin, enlarged to 64 pixels with bicubic interpolation",
    "margin, nearest": "enlarged to 64 pixels by repeating pixels, on a margin of 16 pixels",
    "margin, bilinear": "enlarged to 64 pixels with bilinear interpolation, on a margin of 16 pixels",
    "margin, bicubic": "enlarged to 64 pixels with bicubic interpolation, on a margin of 16 pixels",
    "wide margin": "96 pixels tall in the middle of a 396-pixel page",
    "blur": "96 pixels, out of focus (a Gaussian blur of 3 pixels)",
    "thin pen": "96 pixels, strokes thinned by 4 pixels (a 5 × 5 erosion)",
    "thick pen": "96 pixels, strokes thickened by 6 pixels (a 7 × 7 dilation)",
    "tight crop, thick pen": "96 pixels, strokes thickened by 6 pixels, no margin",
    "light ink on dark": "96 pixels, light ink on dark paper, as on a blackboard",
    "faint ink": "96 pixels, ink at a third of full contrast, as a pencil gives",
}


def _enlarge(ink: np.ndarray, size: int, method: Image.Resampling) -> np.ndarray:
    height, width = ink.shape
    scale = size / max(height, width)
    shape = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(shape, method), dtype=np.float64)


def render_digit(ink: Any, rendering: str) -> np.ndarray:
    """A real digit rendered as :data:`RENDERINGS` says: a grey picture to format.

    Parameters
    ----------
    ink:
        The digit as ink strengths in ``[0, 1]`` (0 is paper): an MNIST image divided by 255,
        or an optdigits image divided by 16.
    rendering:
        One of the names in :data:`RENDERINGS`.

    Returns
    -------
    numpy.ndarray
        A ``uint8`` grey picture, dark ink (8 %) on light paper (92 %) unless the rendering
        says otherwise.

    Raises
    ------
    InputValueError
        If ``rendering`` is not in :data:`RENDERINGS`, or ``ink`` is not a 2-D array of values
        in ``[0, 1]`` with some ink.
    """
    from scipy import ndimage

    if rendering not in RENDERINGS:
        raise InputValueError(f"rendering must be one of {', '.join(map(repr, RENDERINGS))}; got {rendering!r}.")
    ink = np.asarray(ink, dtype=np.float64)
    if ink.ndim != 2 or not np.all(np.isfinite(ink)) or ink.min() < 0 or ink.max() > 1 or not ink.any():
        raise InputValueError(
            "ink must be a 2-D array of ink strengths between 0 and 1 with some ink (an MNIST image / 255, "
            f"an optdigits image / 16); got shape {ink.shape}."
        )
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    tight = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    methods = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
               "bicubic": Image.Resampling.BICUBIC}
    paper, stroke = 0.92, 0.08
    if rendering.startswith(("tight crop, n", "tight crop, bi", "margin")):
        picture = _enlarge(tight, 64, methods[rendering.split(", ")[1]])
        if rendering.startswith("margin"):
            picture = np.pad(picture, 16)
    else:
        large = _enlarge(np.pad(tight, 1), 96, Image.Resampling.BILINEAR)
        picture = {
            "wide margin": lambda: np.pad(large, 150),
            "blur": lambda: ndimage.gaussian_filter(np.pad(large, 12), 3),
            "thin pen": lambda: np.pad(ndimage.grey_erosion(large, size=(5, 5)), 12),
            "thick pen": lambda: np.pad(ndimage.grey_dilation(large, size=(7, 7)), 12),
            "tight crop, thick pen": lambda: ndimage.grey_dilation(_enlarge(tight, 96, Image.Resampling.BILINEAR), size=(7, 7)),
            "light ink on dark": lambda: np.pad(large, 12),
            "faint ink": lambda: np.pad(large, 12) / 3,
        }[rendering]()
        if rendering == "light ink on dark":
            paper, stroke = stroke, paper
    grey = paper + (stroke - paper) * np.clip(picture, 0.0, 1.0)
    return np.round(grey * 255).astype(np.uint8)
