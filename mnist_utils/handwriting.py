"""Turn any picture of a single digit into a 28×28 image formatted like MNIST.

MNIST's digits were made in a precise way: each digit's bounding box was scaled to fit
a 20×20 box with its aspect ratio kept and anti-aliased, then placed in a 28×28 field
so that its centre of mass sits at the centre. A model trained on MNIST expects exactly
that, so a photo or drawing must go through the same steps before it is classified.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from ._validation import check_path
from .errors import ImageInputError, InputTypeError, InputValueError, NoDigitError, os_reason

__all__ = [
    "DARK_AREA_FILL",
    "GROUP_SHARE",
    "MAX_INK_DEPTH",
    "MAX_PIXELS",
    "MIN_SOLIDITY",
    "NOISE_EDGES",
    "PAIR_ASPECT",
    "PAIR_HEIGHT",
    "PAIR_OVERLAP",
    "TEXTURE_FILL",
    "TEXTURE_MAX_SOLIDITY",
    "TEXTURE_MID_GREY",
    "TEXTURE_MIN_SIDE",
    "FormatSteps",
    "format_steps",
    "ink_depth",
    "load_grey",
    "no_digit_reason",
    "solidity",
    "to_mnist_format",
]

#: Side of the box the digit's bounding box is scaled to fit, as in MNIST.
DIGIT_BOX = 20
#: Side of the output field.
FIELD = 28
#: Ink strength (0..1, after contrast stretching) above which a pixel counts as ink.
INK_THRESHOLD = 0.5
#: Ink below this strength is treated as paper texture or noise and removed.
NOISE_FLOOR = 0.25
# Knowing when there is no digit (see no_digit_reason). The thresholds were chosen on data
# by tools/calibrate_no_digit.py: real digits by two sets of writers (MNIST's training digits
# and scikit-learn's optdigits), each in every rendering of
# mnist_utils.sample_pictures.RENDERINGS (tight crops touching 2 to 4 edges, wide margins,
# blur, low resolution scaled up three ways, thin and thick pens, light and faint ink), and
# non-digits (noise filling the frame, a patch of noise on paper, half-dark pages, pairs of
# digits, dots). tests/test_handwriting.py holds every rendering to at most 0.5 % of real
# digits refused, and the non-digits to their measured refusal rates (the tool prints both).

#: Edges of the image (of 4) from which the ink may be noise filling the frame or a dark area
#: (a shadow, the edge of the page) rather than a tightly cropped digit. A digit cropped with
#: no margin touches 2 to 4 edges too, so these are refused only if the ink is also scattered
#: (:data:`MIN_SOLIDITY`) or a solid block (:data:`DARK_AREA_FILL`).
NOISE_EDGES = 3
#: Least :func:`solidity` of ink that touches :data:`NOISE_EDGES` edges. A digit's strokes are
#: solid: at MNIST's own 28 pixels, 65 % or more of its inked pixels' neighbours are inked
#: too, and more at any higher resolution (90 % or more); noise that fills the frame has at
#: most 54 %, because its inked pixels are placed independently of each other.
MIN_SOLIDITY = 0.6
#: Share of its bounding box from which ink touching :data:`NOISE_EDGES` edges is a solid dark
#: area (a half-dark page fills 100 %; tight crops of real digits fill at most 92 %).
DARK_AREA_FILL = 0.97
#: Share of the digit's pixels from which a piece of ink (a group of columns, or a connected
#: piece) counts as a possible digit of its own.
GROUP_SHARE = 0.2
#: Width-to-height ratio from which groups of columns separated by empty columns are several
#: digits. MNIST digits reach 1.43 at the 99th percentile (a few wide 2s and 7s reach 2.0, but
#: in one piece); pairs of MNIST digits start at 1.6.
PAIR_ASPECT = 1.5
#: Share of the height each of two connected pieces side by side must span to be two digits
#: (a 4 or a 5 drawn in two strokes has a piece well short of the full height).
PAIR_HEIGHT = 0.8
#: Largest overlap of two such pieces, as a share of the narrower one's width.
PAIR_OVERLAP = 0.25
#: Share of the formatted digit's bounding box that must be inked for it to count as texture.
#: No MNIST digit or photo of one is both this full and this grey (``TEXTURE_MID_GREY``); a
#: patch of noise shrunk to 20 pixels is.
TEXTURE_FILL = 0.85
#: Share of texture's inked pixels that are mid-grey (64..191).
TEXTURE_MID_GREY = 0.55
#: Smallest width and height of the formatted box for the texture test. A thin 1, a few
#: pixels wide, can fill its narrow box with anti-aliased grey.
TEXTURE_MIN_SIDE = 10
#: Texture is also less solid than this (:func:`solidity`): a patch of noise on paper reaches
#: 82 %, while a blurred or bold digit that fills its box as fully is 89 % solid or more.
TEXTURE_MAX_SOLIDITY = 0.85
#: Most times the formatted digit's ink (its pixels of at least 128) can be peeled, one pixel
#: from every side at once (a 3 × 3 erosion), before none is left: how thick its strokes are
#: against its 20-pixel size (:func:`ink_depth`). MNIST's 70,000 digits reach 5; a dot, or a
#: stroke shorter than about two widths of its pen, enlarged to 20 pixels reaches 6 or more.
MAX_INK_DEPTH = 5
#: The largest image accepted, in pixels (a 12-megapixel phone photo has 12,192,768).
#: Larger images are refused from their header, before they are decoded. Formatting an
#: image at the limit peaks at about 0.84 GB for an RGB JPEG and 1.23 GB for an RGBA PNG
#: (measured on 5000×5000 images; grey levels and ink are float64, for parity with the web port).
MAX_PIXELS = 25_000_000


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
        If the file is missing or unreadable, the image has more than :data:`MAX_PIXELS`
        pixels (checked before decoding), the array is empty, has the wrong shape,
        contains NaN, or has values out of range.
    InputTypeError
        If ``image`` is of an unsupported type.
    """
    if isinstance(image, (str, os.PathLike)):
        array = _read_file(check_path(image, "image"))
    elif isinstance(image, Image.Image):
        array = _pil_to_unit(image)
    elif isinstance(image, np.ndarray):
        array = _array_to_unit(image)
    else:
        raise InputTypeError(
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


def _check_size(width: int, height: int, what: str) -> None:
    if width == 0 or height == 0:
        raise ImageInputError(f"{what} is empty ({width}×{height} pixels).")
    if width * height > MAX_PIXELS:
        raise ImageInputError(
            f"{what} has {width}×{height} = {width * height:,} pixels; at most {MAX_PIXELS:,} are "
            "accepted. Crop it to the digit or scale it down: a digit needs only a few hundred pixels."
        )


def _read_file(path: Path) -> np.ndarray:
    """Open an image file, refusing it from its header if too large, and convert it."""
    try:
        exists = path.is_file()
    except OSError as error:  # a name too long, say
        raise ImageInputError(f"Cannot open {path}: {os_reason(error)}.") from error
    if not exists:
        what = "is a folder, not an image file" if path.is_dir() else "does not exist"
        raise ImageInputError(f"No image file at {path}: it {what}; check the path.")
    try:
        with warnings.catch_warnings():
            # Pillow warns above 89 megapixels and refuses above 179; we refuse earlier.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                _check_size(opened.width, opened.height, f"The image {path}")
                opened.load()
                return _pil_to_unit(ImageOps.exif_transpose(opened))
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageInputError(
            f"The image {path} is too large ({error}); at most {MAX_PIXELS:,} pixels are accepted. "
            "Crop it to the digit or scale it down: a digit needs only a few hundred pixels."
        ) from error
    except Exception as error:  # Pillow raises many types for a damaged or exotic file
        raise ImageInputError(
            f"Cannot read {path} as an image ({type(error).__name__}: {error}); save it as PNG or JPEG."
        ) from error


def _pil_to_unit(image: Image.Image) -> np.ndarray:
    """A PIL image as grey levels in [0, 1]: ``(h, w)``, or ``(h, w, 4)`` with alpha."""
    _check_size(image.width, image.height, "The image")
    mode = image.mode
    try:
        if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
            array = np.asarray(image.convert("RGBA"), dtype=np.float64)
            array /= 255.0  # in place: one float64 copy of a large image, not two
            return array
        if mode in ("I", "F") or mode.startswith("I;16"):
            array = np.asarray(image, dtype=np.float64)
            if not np.all(np.isfinite(array)) or array.min() < 0:
                raise ImageInputError(
                    f"The {mode} image holds negative, NaN or infinite values; save it as an 8-bit PNG."
                )
            return array / (array.max() or 1.0)
        try:
            grey = image.convert("L")
        except ValueError:  # a mode Pillow cannot turn into grey directly (LAB, HSV)
            grey = image.convert("RGB").convert("L")
        array = np.asarray(grey, dtype=np.float64)
        array /= 255.0
        return array
    except ImageInputError:
        raise
    except Exception as error:
        raise ImageInputError(
            f"Cannot convert the image (mode {mode}) to grey levels ({type(error).__name__}: {error}); "
            "save it as an RGB or greyscale PNG."
        ) from error


def _array_to_unit(array: np.ndarray) -> np.ndarray:
    if array.ndim in (2, 3):
        _check_size(array.shape[1], array.shape[0], f"The image array (shape {array.shape})")
    if array.size == 0:
        raise ImageInputError(f"The image array is empty (shape {array.shape}).")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ImageInputError(
            f"An image array must have shape (h, w), (h, w, 3) or (h, w, 4), got {array.shape}."
        )
    if array.dtype == bool:
        return array.astype(np.float64)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise InputTypeError(f"An image array must hold real numbers, got dtype {array.dtype}.")
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
    crop:
        The digit cut out of ``ink`` at ``box``, with specks outside the digit set to 0:
        what MNIST's own steps (scale to 20 pixels, centre in 28 × 28) start from.
    scaled:
        The cropped digit scaled so that its longer side is 20 pixels.
    result:
        The final 28×28 ``uint8`` image, centre of mass at the centre.
    """

    grey: np.ndarray
    ink: np.ndarray
    inverted: bool
    box: tuple[int, int, int, int]
    crop: np.ndarray
    scaled: np.ndarray
    result: np.ndarray


def format_steps(image: Any, *, invert: bool | None = None) -> FormatSteps:
    """Run :func:`to_mnist_format` and return every intermediate image.

    Parameters and errors are those of :func:`to_mnist_format`.
    """
    if invert is not None and not isinstance(invert, (bool, np.bool_)):
        raise InputTypeError(f"invert must be True, False or None, got {invert!r}.")
    invert = None if invert is None else bool(invert)
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
    reason = no_digit_reason(mask, box, result)
    if reason is not None:
        raise NoDigitError(reason)
    return FormatSteps(grey=grey, ink=ink, inverted=inverted, box=box, crop=crop, scaled=scaled, result=result)


def no_digit_reason(mask: np.ndarray, box: tuple[int, int, int, int], result: np.ndarray) -> str | None:
    """Why the ink found in an image is not one digit, or ``None`` if it may be one.

    Four tests, each on whole-number counts, so that the web demo's JavaScript port
    (``webdemo/src/mnist-format.js``) decides exactly alike:

    1. **Noise or a dark area**: the digit's pixels touch at least :data:`NOISE_EDGES` of the
       image's edges and are either scattered (:func:`solidity` below :data:`MIN_SOLIDITY`,
       as noise filling the frame is) or fill at least :data:`DARK_AREA_FILL` of their
       bounding box (a solid dark area). A digit cropped tightly touches as many edges, but
       its strokes are solid and leave paper in its box.
    2. **Several digits side by side**: either the digit's columns fall into two or more
       groups separated by empty columns, each with at least :data:`GROUP_SHARE` of its
       pixels, and the whole is at least :data:`PAIR_ASPECT` times wider than tall; or two
       connected pieces with that share stand side by side, each at least :data:`PAIR_HEIGHT`
       of the height, overlapping by at most :data:`PAIR_OVERLAP` of the narrower's width.
    3. **Texture, not strokes**: the formatted 28×28 digit's bounding box is at least
       :data:`TEXTURE_MIN_SIDE` pixels wide and tall, at least :data:`TEXTURE_FILL` of it is
       inked, at least :data:`TEXTURE_MID_GREY` of the inked pixels are mid-grey (64..191),
       and the ink in the input is less solid than :data:`TEXTURE_MAX_SOLIDITY`.
    4. **Too little ink**: the formatted digit's :func:`ink_depth` is above
       :data:`MAX_INK_DEPTH`: a dot or a short dash, enlarged to 20 pixels, is all stroke.

    Parameters
    ----------
    mask:
        The digit's pixels in the input image (boolean, the input's shape).
    box:
        The mask's bounding box ``(top, bottom, left, right)``, inclusive.
    result:
        The formatted 28×28 ``uint8`` digit.
    """
    top, bottom, left, right = box
    height, width = mask.shape
    edges = int((top == 0) + (bottom == height - 1) + (left == 0) + (right == width - 1))
    digit = mask[top : bottom + 1, left : right + 1]
    box_height, box_width = digit.shape
    total = int(np.count_nonzero(digit))
    solid, neighbours = _solid_pairs(digit)
    if edges >= NOISE_EDGES and solid < MIN_SOLIDITY * neighbours:
        return (
            f"No single digit stands out: the ink reaches {edges} of the image's 4 edges and is scattered, "
            f"as noise is (of the {neighbours:,} right and lower neighbours of its inked pixels, only "
            f"{solid:,} are ink; a digit's strokes are solid). Check that the image shows one digit."
        )
    if edges >= NOISE_EDGES and total >= DARK_AREA_FILL * digit.size:
        return (
            f"No single digit stands out: a solid dark area reaches {edges} of the image's 4 edges, as a "
            "shadow or the edge of the page does. Photograph or crop the digit on plain paper."
        )
    groups, count = [], 0
    for pixels in digit.sum(axis=0).tolist() + [0]:
        if pixels:
            count += pixels
        elif count:
            groups.append(count)
            count = 0
    large = sum(1 for pixels in groups if pixels >= GROUP_SHARE * total)
    side_by_side = large >= 2 and box_width >= PAIR_ASPECT * box_height
    if not side_by_side:
        labels, _ = ndimage.label(digit, structure=np.ones((3, 3)))
        pieces = []
        for label, found in enumerate(ndimage.find_objects(labels), start=1):
            if np.count_nonzero(labels[found] == label) >= GROUP_SHARE * total:
                rows, cols = found
                pieces.append((cols.start, cols.stop - 1, rows.stop - rows.start))
        pieces.sort()
        for (left1, right1, height1), (left2, right2, height2) in zip(pieces, pieces[1:]):
            overlap = max(0, right1 - left2 + 1)
            narrower = min(right1 - left1 + 1, right2 - left2 + 1)
            tall = height1 >= PAIR_HEIGHT * box_height and height2 >= PAIR_HEIGHT * box_height
            if tall and overlap <= PAIR_OVERLAP * narrower:
                side_by_side, large = True, len(pieces)
                break
    if side_by_side:
        return (
            f"No single digit stands out: the ink falls into {large} pieces side by side, as several "
            "digits do. Crop the image to one digit."
        )
    rows, cols = np.flatnonzero(result.any(axis=1)), np.flatnonzero(result.any(axis=0))
    if rows.size == 0:
        return None  # nothing survived the rounding to 0..255: _ink would have found it blank
    formatted = result[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    inked = int(np.count_nonzero(formatted))
    mid = int(np.count_nonzero((formatted >= 64) & (formatted < 192)))
    wide = min(formatted.shape) >= TEXTURE_MIN_SIDE  # a narrow 1 may fill its thin box with grey
    grey = inked >= TEXTURE_FILL * formatted.size and mid >= TEXTURE_MID_GREY * inked
    if wide and grey and solid < TEXTURE_MAX_SOLIDITY * neighbours:
        return (
            f"No single digit stands out: the formatted digit is a block of grey texture ({inked} of its "
            f"{formatted.size} pixels inked, {mid} of them mid-grey), as noise gives, not strokes. Check "
            "that the image shows one digit in clear strokes."
        )
    if ink_depth(result) > MAX_INK_DEPTH:
        return (
            "Too little ink to read: this looks like a dot or a short dash, whose strokes are "
            "about as thick as it is long, not like a digit. Draw a bigger digit."
        )
    return None


def _solid_pairs(digit: np.ndarray) -> tuple[int, int]:
    """``(solid, neighbours)``: inked pixels' right and lower neighbours in ``digit``, and how many are inked."""
    neighbours = int(np.count_nonzero(digit[:, :-1])) + int(np.count_nonzero(digit[:-1]))
    solid = int(np.count_nonzero(digit[:, :-1] & digit[:, 1:])) + int(np.count_nonzero(digit[:-1] & digit[1:]))
    return solid, neighbours


def solidity(mask: np.ndarray) -> float:
    """How solid ink is: the share of its pixels' right and lower neighbours that are ink too.

    Strokes are solid: most of a stroke's pixels lie inside it, so their neighbours are ink
    as well (a digit scores 0.65 at MNIST's 28 pixels and 0.9 or more when larger). Noise is
    not: its inked pixels fall independently, so a neighbour is ink about as often as any
    pixel is. Neighbours outside ``mask`` are not counted; ink with no neighbour at all (a
    single pixel or none) scores 1.

    Parameters
    ----------
    mask:
        A 2-D array, true (or non-zero) where there is ink: the digit's pixels, cropped to
        their bounding box, as :func:`no_digit_reason` takes them.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise InputValueError(f"mask must be a 2-D array, got {mask.ndim} dimensions; pass one image's ink mask.")
    solid, neighbours = _solid_pairs(mask.astype(bool))
    return solid / neighbours if neighbours else 1.0


def ink_depth(result: np.ndarray) -> int:
    """How many times a formatted digit's ink can be peeled before none is left.

    Each peel (a 3 × 3 binary erosion) removes the ink's outermost pixels on every side, so
    a stroke ``w`` pixels wide lasts about ``w / 2`` peels. The ink is the pixels of at least
    128; pixels outside the 28 × 28 field count as paper.

    Parameters
    ----------
    result:
        A formatted 28×28 ``uint8`` digit, as :func:`to_mnist_format` returns.
    """
    ink = np.asarray(result) >= 128
    depth = 0
    while ink.any():
        ink = ndimage.binary_erosion(ink, structure=np.ones((3, 3)), border_value=0)
        depth += 1
    return depth


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
    NoDigitError
        If the image shows no single digit that stands out: noise, a dark area, or
        several digits side by side (see :func:`no_digit_reason`).
    ImageInputError
        If the input is unreadable, too large, empty, blank, contains NaN, or out of range.
    InputTypeError
        If the input or ``invert`` is of an unsupported type.
    """
    return format_steps(image, invert=invert).result
