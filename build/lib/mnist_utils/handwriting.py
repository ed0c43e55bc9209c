"""Turn any picture of a single digit into a 28×28 image formatted like MNIST.

MNIST's digits were made in a precise way: each digit's bounding box was scaled to fit
a 20×20 box with its aspect ratio kept and anti-aliased, then placed in a 28×28 field
so that its centre of mass sits at the centre. A model trained on MNIST expects exactly
that, so a photo or drawing must go through the same steps before it is classified.
"""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

__all__ = ["FormatSteps", "ImageInputError", "disguise_as_photo", "format_steps", "load_grey", "to_mnist_format"]

#: Side of the box the digit's bounding box is scaled to fit, as in MNIST.
DIGIT_BOX = 20
#: Side of the output field.
FIELD = 28
#: Ink strength (0..1, after contrast stretching) above which a pixel counts as ink.
INK_THRESHOLD = 0.5
#: Ink below this strength is treated as paper texture or noise and removed.
NOISE_FLOOR = 0.25


class ImageInputError(ValueError):
    """The input cannot be turned into a digit: unreadable, empty, blank or of a wrong type."""


def load_grey(image: Any) -> np.ndarray:
    """Read an image into a 2-D ``float64`` array of grey levels in ``[0, 1]``.

    Parameters
    ----------
    image:
        A path to a PNG or JPEG file (``str`` or ``pathlib.Path``), a ``PIL.Image.Image``,
        or a NumPy array of shape ``(h, w)``, ``(h, w, 3)`` or ``(h, w, 4)``, either
        ``uint8`` (0..255) or floating point in ``[0, 1]``. Transparent pixels of an
        image with alpha are laid over paper that contrasts with the ink.

    Raises
    ------
    ImageInputError
        If the file is missing or unreadable, the array is empty, has the wrong shape,
        contains NaN, or has values out of range.
    TypeError
        If ``image`` is of an unsupported type.
    """
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise ImageInputError(f"No image file at {path}; check the path.")
        try:
            with Image.open(path) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ImageInputError(
                f"Cannot read {path} as an image ({error}); save it as PNG or JPEG."
            ) from error
    if isinstance(image, Image.Image):
        if image.width == 0 or image.height == 0:
            raise ImageInputError(f"The image is empty ({image.width}×{image.height} pixels).")
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            array = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
        elif image.mode in ("I", "I;16", "F"):
            array = np.asarray(image, dtype=np.float64)
            array = array / (array.max() or 1.0)
        else:
            array = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    elif isinstance(image, np.ndarray):
        array = _array_to_unit(image)
    else:
        raise TypeError(
            f"image must be a file path, a PIL image or a NumPy array, got {type(image).__name__}."
        )
    if array.ndim == 3:
        rgb, alpha = array[..., :3], array[..., 3] if array.shape[2] == 4 else None
        # ITU-R 601 luma, written out rather than as a matrix product: BLAS may fuse the
        # multiply-adds differently on each CPU, and the book's JavaScript port
        # (webdemo/src/mnist-format.js) must compute the very same grey levels.
        grey = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
        if alpha is not None and alpha.min() < 1.0:
            opaque = alpha > 0.5
            ink_is_dark = grey[opaque].mean() < 0.5 if opaque.any() else True
            paper = 1.0 if ink_is_dark else 0.0
            grey = alpha * grey + (1.0 - alpha) * paper
        array = grey
    return array


def _array_to_unit(array: np.ndarray) -> np.ndarray:
    if array.size == 0:
        raise ImageInputError(f"The image array is empty (shape {array.shape}).")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ImageInputError(
            f"An image array must have shape (h, w), (h, w, 3) or (h, w, 4), got {array.shape}."
        )
    if array.dtype == bool:
        return array.astype(np.float64)
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"An image array must hold numbers, got dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageInputError("The image contains NaN or infinite values.")
        if array.min() < 0 or array.max() > 1:
            raise ImageInputError(
                f"A floating-point image must have values in [0, 1], got "
                f"[{array.min():g}, {array.max():g}]; divide 0..255 grey levels by 255."
            )
        return array.astype(np.float64)
    if array.min() < 0 or array.max() > 255:
        raise ImageInputError(
            f"An integer image must have grey levels in 0..255, got [{array.min()}, {array.max()}]."
        )
    return array.astype(np.float64) / 255.0


def _paper(grey: np.ndarray) -> float:
    """The paper's grey level: the median of the image's border."""
    return float(np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])))


def _is_dark_ink(grey: np.ndarray) -> bool:
    """Light paper means dark ink: the opposite of MNIST's polarity."""
    return _paper(grey) > 0.5


def _ink(grey: np.ndarray, invert: bool) -> np.ndarray:
    """Ink strength in [0, 1]: 0 on the paper, 1 at the darkest (or lightest) stroke."""
    paper = _paper(grey)
    ink = 1.0 - grey if invert else grey
    paper_level = 1.0 - paper if invert else paper
    strongest = float(np.percentile(ink, 99.5))
    if strongest - paper_level < 0.1:
        raise ImageInputError(
            "The image is blank: no stroke stands out from the background. Check that it "
            "shows a digit, or pass invert=True/False if the ink is lighter than the paper."
        )
    ink = np.clip((ink - paper_level) / (strongest - paper_level), 0.0, 1.0)
    ink[ink < NOISE_FLOOR] = 0.0
    return ink


def _digit_mask(ink: np.ndarray) -> np.ndarray:
    """Pixels that belong to the digit: connected pieces of ink, minus specks.

    A piece is kept if it holds at least 5 % of the ink of the largest piece, so that
    noise and dust are dropped but the separate strokes of a 5 or a 4 are not.
    """
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    if count == 0 or not np.any(ink > INK_THRESHOLD):
        raise ImageInputError("The image is blank: no pixel is dark enough to be ink.")
    amounts = ndimage.sum_labels(ink, labels, index=np.arange(1, count + 1))
    keep = np.flatnonzero(amounts >= 0.05 * amounts.max()) + 1
    return np.isin(labels, keep)


@dataclasses.dataclass(frozen=True)
class FormatSteps:
    """The intermediate images of :func:`format_steps`, for teaching and debugging.

    Attributes
    ----------
    grey:
        The input as grey levels in ``[0, 1]``, as read.
    ink:
        Ink strength in ``[0, 1]``: polarity fixed to light-on-dark, contrast stretched,
        faint noise removed.
    inverted:
        Whether the input's ink was darker than its paper (and so was flipped).
    box:
        The digit's bounding box in ``ink``: ``(top, bottom, left, right)``, inclusive.
    scaled:
        The cropped digit scaled so that its longer side is 20 pixels.
    result:
        The final 28×28 ``uint8`` image, centre of mass at the centre.
    """

    grey: np.ndarray
    ink: np.ndarray
    inverted: bool
    box: tuple[int, int, int, int]
    scaled: np.ndarray
    result: np.ndarray


def format_steps(image: Any, *, invert: bool | None = None) -> FormatSteps:
    """Run :func:`to_mnist_format` and return every intermediate image.

    Parameters and errors are those of :func:`to_mnist_format`.
    """
    if invert is not None and not isinstance(invert, bool):
        raise TypeError(f"invert must be True, False or None, got {invert!r}.")
    grey = load_grey(image)
    inverted = _is_dark_ink(grey) if invert is None else invert
    ink = _ink(grey, inverted)
    mask = _digit_mask(ink)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = (int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1]))
    crop = np.where(mask, ink, 0.0)[box[0] : box[1] + 1, box[2] : box[3] + 1]

    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(crop.astype(np.float32), mode="F").resize(
        size, Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    )
    scaled = np.clip(np.asarray(resized, dtype=np.float64), 0.0, 1.0)

    field = np.zeros((FIELD, FIELD))
    top, left = (FIELD - scaled.shape[0]) // 2, (FIELD - scaled.shape[1]) // 2
    field[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    centre_row, centre_col = ndimage.center_of_mass(field)
    shift = (round(FIELD / 2 - centre_row), round(FIELD / 2 - centre_col))
    field = ndimage.shift(field, shift, order=0, mode="constant", cval=0.0)
    result = np.round(field * 255).astype(np.uint8)
    return FormatSteps(grey=grey, ink=ink, inverted=inverted, box=box, scaled=scaled, result=result)


def to_mnist_format(image: Any, *, invert: bool | None = None) -> np.ndarray:
    """Format a picture of one digit like MNIST: 28×28 ``uint8``, light ink on black.

    Steps: read the image as grey levels; detect whether the ink is darker than the
    paper (from the border) and flip it to MNIST's light-on-dark; stretch the contrast
    and drop faint noise; crop the digit's bounding box; scale it, keeping its aspect
    ratio and with anti-aliasing, so that its longer side is 20 pixels; and place it in
    a 28×28 field with its centre of mass at the centre.

    Parameters
    ----------
    image:
        A file path (PNG or JPEG), a PIL image or a NumPy array of any size; grey, RGB
        or RGBA (see :func:`load_grey`).
    invert:
        ``None`` to detect the polarity automatically; ``True`` if the ink is darker
        than the paper (pen on paper); ``False`` if it is lighter (chalk on a board,
        MNIST itself).

    Returns
    -------
    numpy.ndarray
        Shape ``(28, 28)``, dtype ``uint8``, ink up to 255 on a 0 background: the format
        of ``load_mnist()``'s images, ready for the book's preprocessing.

    Raises
    ------
    ImageInputError
        If the input is unreadable, empty, blank, contains NaN, or out of range.
    TypeError
        If the input or ``invert`` is of an unsupported type.
    """
    return format_steps(image, invert=invert).result


def disguise_as_photo(digit: np.ndarray, rng: np.random.Generator, *, invert: bool) -> Image.Image:
    """Make a 28×28 MNIST digit look like a photographed or scanned one.

    The digit is enlarged to 150–400 pixels, placed off-centre on a larger canvas,
    optionally turned into dark ink on light paper, given grey paper, Gaussian noise
    and JPEG compression. Chapter 7 and the tests use it to check that
    :func:`to_mnist_format` recovers the digit.

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
        raise ValueError(f"digit must be a (28, 28) uint8 image, got {digit.shape} {digit.dtype}.")
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
