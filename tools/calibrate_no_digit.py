"""Measure how often ``to_mnist_format`` refuses real digits and accepts non-digits.

The thresholds of :func:`mnist_utils.handwriting.no_digit_reason` were chosen with this
script: every kind of real digit must pass (MNIST digits as they are, disguised as photos,
cropped tightly; and the digits of two sets of writers, MNIST's and scikit-learn's
optdigits, in every rendering of :data:`mnist_utils.sample_pictures.RENDERINGS`), and as many
non-digits as possible must be refused (noise filling the frame, a patch of noise on paper, a
page half dark, two digits side by side).

    python -m tools.calibrate_no_digit            # the full run (about two minutes)

``tests/test_handwriting.py`` runs the same cases on a smaller sample.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw

from mnist_utils.data import load_mnist
from mnist_utils.handwriting import ImageInputError, NoDigitError, to_mnist_format
from mnist_utils.sample_pictures import RENDERINGS, disguise_as_photo, render_digit

Case = tuple[str, Callable[[], object]]


def digits(x: np.ndarray, rng: np.random.Generator, n: int) -> Iterator[tuple[str, object]]:
    """Real digits: MNIST as it is, disguised as photos, and cropped to a 1-pixel margin."""
    for index in rng.choice(len(x), n, replace=False):
        yield "MNIST digit", x[index]
        if index % 6 == 0:
            yield "photo of a digit", disguise_as_photo(x[index], rng, invert=bool(index % 2))
        if index % 3 == 0:
            rows, cols = np.flatnonzero(x[index].any(axis=1)), np.flatnonzero(x[index].any(axis=0))
            yield "tightly cropped digit", np.pad(x[index][rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], 1)


def rendered(x: np.ndarray, rng: np.random.Generator, n: int) -> Iterator[tuple[str, object]]:
    """Real digits in every rendering: ``n`` MNIST digits and every optdigits digit (or ``n`` of them)."""
    from sklearn.datasets import load_digits

    optdigits = load_digits().images
    sources = {"MNIST": x[rng.choice(len(x), n, replace=False)] / 255,
               "optdigits": optdigits[rng.choice(len(optdigits), min(n, len(optdigits)), replace=False)] / 16}
    for source, inks in sources.items():
        for ink in inks:
            for rendering in RENDERINGS:
                yield f"{source}, {rendering}", render_digit(ink, rendering)


#: A few digits as pen strokes on a 300-pixel page, for drawings with thin and thick pens.
PEN_STROKES = {
    1: [[(170, 60), (175, 250)], [(150, 80), (170, 60)]],
    4: [[(180, 260), (180, 40), (60, 180), (230, 180)]],
    7: [[(70, 60), (230, 60), (130, 260)]],
    8: [[(150, 150), (95, 100), (150, 50), (205, 100), (150, 150), (90, 205), (150, 255), (210, 205), (150, 150)]],
}


def drawing(strokes: list, width: int, size: int = 300) -> Image.Image:
    """Dark strokes of a round pen ``width`` pixels wide on light paper."""
    image = Image.new("L", (size, size), 235)
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        pen.line(stroke, fill=25, width=width, joint="curve")
        for x, y in stroke:
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=25)
    return image


def drawings() -> Iterator[tuple[str, object]]:
    """Digits drawn with pens from 3 to 45 pixels wide (thin pens give faint, grey strokes)."""
    for strokes in PEN_STROKES.values():
        for width in (3, 4, 5, 6, 8, 12, 22, 30, 45):
            yield "drawn digit, any pen", drawing(strokes, width)


def non_digits(x: np.ndarray, rng: np.random.Generator, n: int) -> Iterator[tuple[str, object]]:
    """Images with no single digit: noise, a patch of noise on paper, half-dark pages, pairs."""
    for k in range(n):
        size = int(rng.integers(28, 400))
        yield "uniform noise", rng.random((size, size))
        yield "Gaussian noise", np.clip(rng.normal(0.5, 0.2, (size, size)), 0, 1)
        yield "black-and-white noise", (rng.random((size, size)) < rng.uniform(0.05, 0.6)).astype(float)
        patch = int(rng.integers(20, 150))
        yield "patch of noise on paper", np.pad(rng.random((patch, patch)), 40, constant_values=1.0)
        page = np.ones((size, size))
        cut = int(size * rng.uniform(0.3, 0.7))
        side = k % 4
        if side == 0:
            page[:, :cut] = 0
        elif side == 1:
            page[:cut] = 0
        elif side == 2:
            page[:, cut:] = 0
        else:
            page[cut:] = 0
        yield "half-dark page", page
        i, j = rng.choice(len(x), 2)
        gap = np.zeros((28, int(rng.integers(0, 6))), np.uint8)
        yield "two digits side by side", np.concatenate([x[i], gap, x[j]], axis=1)
        touching = np.zeros((28, 48), np.uint8)
        touching[:, :28] = x[i]
        touching[:, 20:] = np.maximum(touching[:, 20:], x[j])
        yield "two digits, margins overlapping", touching


def outcome(image: object) -> str:
    """``"accepted"``, ``"no digit"`` (NoDigitError) or ``"blank"`` (any other ImageInputError)."""
    try:
        to_mnist_format(image)
    except NoDigitError:
        return "no digit"
    except ImageInputError:
        return "blank"
    return "accepted"


def tally(cases: Iterator[tuple[str, object]]) -> dict[str, dict[str, int]]:
    """For each kind of case, how many were accepted, refused as no digit, or as blank."""
    counts: dict[str, dict[str, int]] = {}
    for kind, image in cases:
        row = counts.setdefault(kind, {"accepted": 0, "no digit": 0, "blank": 0})
        row[outcome(image)] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=3000, help="MNIST training digits to draw (default 3000)")
    parser.add_argument("--non-digits", type=int, default=200, help="images of each non-digit kind (default 200)")
    args = parser.parse_args()
    (x, _), _ = load_mnist()
    rng = np.random.default_rng(0)
    counts = {**tally(digits(x, rng, args.digits)), **tally(rendered(x, rng, min(args.digits, 1797))),
              **tally(drawings()), **tally(non_digits(x, rng, args.non_digits))}
    print(f"{'case':32} {'images':>7} {'accepted':>9} {'no digit':>9} {'blank':>6}")
    for kind, row in counts.items():
        print(f"{kind:32} {sum(row.values()):7} {row['accepted']:9} {row['no digit']:9} {row['blank']:6}")


if __name__ == "__main__":
    main()
