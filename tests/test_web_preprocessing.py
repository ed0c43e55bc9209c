"""The web demo's JavaScript port of to_mnist_format gives the Python function's output.

``webdemo/src/mnist-format.js`` repeats, step by step, the arithmetic of
:func:`mnist_utils.handwriting.format_steps` (NumPy's median, percentile and pairwise
sums, SciPy's labelling and centre of mass, Pillow's float resampling), so that a digit
drawn on a web page's canvas is prepared exactly as the book's Python code prepares it.

The cases are generated here with a fixed seed, as RGBA bytes like a canvas's
``ImageData``: strokes drawn with a wide round brush (a 4 and a 5 in two separate
strokes, specks of dust that must be dropped), MNIST digits disguised as photographs
(dark ink on grey paper, JPEG noise), tiny drawings that are enlarged, non-square
canvases, transparent backgrounds, forced polarity, and blank canvases. Node runs the
JavaScript on all of them at once (``webdemo/tests/format-cli.mjs``).

Tolerance: none. For every case both sides must give the same error message, or else
the same polarity, bounding box, scaled digit (float32 values) and 28×28 result. That
holds because ``load_grey`` computes the grey level term by term, as the JavaScript does:
a BLAS matrix product may fuse multiply-adds on some processors, and a last-bit
difference decides whether a pixel whose ink lands exactly on the noise floor is kept.
A sweep of 60 more disguised MNIST digits checks that on the inputs most exposed to it.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from mnist_utils.data import load_mnist
from mnist_utils.handwriting import ImageInputError, format_steps
from mnist_utils.sample_pictures import RENDERINGS, disguise_as_photo, render_digit

CLI = Path(__file__).resolve().parents[1] / "webdemo" / "tests" / "format-cli.mjs"
SEED = 20240607
#: Disguised digits in the sweep.
SWEEP = 60

#: Strokes of hand-drawn digits, as polylines in a unit square. The 4 and the 5 are
#: drawn in two strokes that do not touch, so that the digit is two separate pieces.
STROKES = {
    0: [[(0.5, 0.05), (0.2, 0.2), (0.12, 0.5), (0.2, 0.8), (0.5, 0.95), (0.8, 0.8), (0.88, 0.5), (0.8, 0.2),
         (0.5, 0.05)]],
    1: [[(0.35, 0.2), (0.55, 0.05), (0.55, 0.95)]],
    2: [[(0.2, 0.25), (0.35, 0.08), (0.65, 0.08), (0.78, 0.3), (0.6, 0.55), (0.18, 0.92), (0.85, 0.92)]],
    3: [[(0.2, 0.12), (0.7, 0.08), (0.75, 0.3), (0.45, 0.48), (0.8, 0.65), (0.7, 0.92), (0.2, 0.88)]],
    4: [[(0.45, 0.05), (0.08, 0.6), (0.45, 0.6)], [(0.85, 0.25), (0.85, 0.95)]],
    5: [[(0.8, 0.04), (0.3, 0.04)], [(0.27, 0.3), (0.25, 0.5), (0.6, 0.45), (0.8, 0.65), (0.65, 0.92), (0.2, 0.88)]],
    6: [[(0.7, 0.06), (0.35, 0.35), (0.2, 0.7), (0.4, 0.93), (0.72, 0.82), (0.7, 0.58), (0.4, 0.55), (0.25, 0.7)]],
    7: [[(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)]],
    8: [[(0.5, 0.5), (0.22, 0.3), (0.5, 0.06), (0.78, 0.3), (0.5, 0.5), (0.2, 0.73), (0.5, 0.95), (0.8, 0.73),
         (0.5, 0.5)]],
    9: [[(0.75, 0.4), (0.5, 0.5), (0.25, 0.3), (0.5, 0.06), (0.75, 0.25), (0.75, 0.4), (0.6, 0.95)]],
}


def _draw(digit, rng, size=(280, 280), brush=22, ink=(255, 255, 255), paper=(0, 0, 0, 255), antialias=True):
    """A digit drawn with a round brush, as on a canvas: RGBA bytes of shape (h, w, 4).

    The strokes are jittered by the generator. With ``antialias``, the drawing is made
    four times larger and reduced, which gives its edges intermediate grey levels.
    """
    factor = 4 if antialias else 1
    width, height = size[0] * factor, size[1] * factor
    side = min(width, height) * rng.uniform(0.55, 0.8)
    left = rng.uniform(0.05, 0.95) * (width - side * 0.7)
    top = rng.uniform(0.05, 0.95) * (height - side)
    image = Image.new("RGBA", (width, height), paper)
    draw = ImageDraw.Draw(image)
    radius = brush * factor / 2
    for stroke in STROKES[digit]:
        points = [
            (left + side * 0.7 * (x + rng.normal(0, 0.015)), top + side * (y + rng.normal(0, 0.015)))
            for x, y in stroke
        ]
        draw.line(points, fill=(*ink, 255), width=round(2 * radius), joint="curve")
        for x, y in points:  # round caps and joints
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*ink, 255))
    if antialias:
        image = image.resize(size, Image.Resampling.BOX)
    return np.asarray(image).copy()


def _rgba(grey, alpha=255):
    """Grey levels (h, w) as opaque (or uniformly transparent) RGBA bytes."""
    grey = np.asarray(grey, np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, alpha)])


def _bar(shape, box, value=255, background=0):
    """A filled rectangle (top, bottom, left, right; exclusive) on a plain background."""
    grey = np.full(shape, background, np.uint8)
    top, bottom, left, right = box
    grey[top:bottom, left:right] = value
    return _rgba(grey)


def _build_cases():
    """Every case as (name, RGBA bytes, invert), generated from the fixed seed."""
    rng = np.random.default_rng(SEED)
    (_, _), (x_test, _) = load_mnist()
    cases = []

    # A canvas drawing: white ink on black, brushes of various widths, some aliased.
    for digit in range(10):
        rgba = _draw(digit, rng, brush=int(rng.integers(14, 31)), antialias=digit % 3 != 0)
        cases.append((f"drawn_{digit}", rgba, None))
    # Specks of dust, far from the digit, that must be dropped.
    for digit in (5, 7):
        rgba = _draw(digit, rng)
        rgba[6:9, 268:271, :3] = 255
        rgba[270:272, 5:7, :3] = 200
        cases.append((f"drawn_{digit}_with_specks", rgba, None))
    # A blue pen on white paper: dark ink, colour channels that differ.
    cases.append(("blue_pen_on_white", _draw(3, rng, ink=(20, 40, 160), paper=(255, 255, 255, 255)), None))

    # MNIST digits disguised as photos or scans (dark ink on light paper, or the reverse).
    for index in range(8):
        photo = disguise_as_photo(x_test[index], rng, invert=index % 2 == 0)
        cases.append((f"photo_{index}", np.asarray(photo.convert("RGBA")).copy(), None))
    # A sweep: more disguised digits, half of them dark ink on light paper.
    for index in range(SWEEP):
        photo = disguise_as_photo(x_test[100 + index], rng, invert=bool(rng.integers(0, 2)))
        cases.append((f"sweep_{index}", np.asarray(photo.convert("RGBA")).copy(), None))
    # MNIST digits themselves, as a 28×28 canvas.
    for index in (8, 9):
        cases.append((f"mnist_{index}", _rgba(x_test[index]), None))

    # Tiny drawings, enlarged with the bilinear filter.
    tiny_seven = [
        [0, 0, 0, 0, 0, 0, 0],
        [0, 200, 255, 255, 255, 230, 0],
        [0, 0, 0, 0, 120, 255, 0],
        [0, 0, 0, 0, 230, 140, 0],
        [0, 0, 0, 90, 255, 0, 0],
        [0, 0, 0, 220, 160, 0, 0],
        [0, 0, 40, 255, 60, 0, 0],
        [0, 0, 150, 220, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ]
    cases.append(("tiny_7x9_canvas", _rgba(tiny_seven), None))
    cases.append(("tiny_stroke", _bar((12, 10), (2, 10, 4, 7)), None))
    for name, end in (("a_dot", (140, 140)), ("a_short_dash", (155, 140))):  # the pad's brush: 22 px
        pad = Image.new("L", (280, 280), 0)
        ImageDraw.Draw(pad).line([(140, 140), end], fill=255, width=22)
        for x, y in {(140, 140), end}:
            ImageDraw.Draw(pad).ellipse((x - 11, y - 11, x + 11, y + 11), fill=255)
        cases.append((name, _rgba(np.asarray(pad)), None))
    tiny = np.zeros((16, 16), np.uint8)
    tiny[2:14, 3:5], tiny[2:5, 8:13], tiny[7:14, 9:11] = 255, 180, 255  # three pieces
    cases.append(("tiny_three_pieces", _rgba(tiny), None))
    # Crops whose scaling takes the special paths of the resizing.
    frame = np.zeros((40, 40), np.uint8)
    frame[10:30, 15:28] = 255
    frame[14:26, 19:24] = 0  # a ring, like a 0: a filled block would be too little ink
    cases.append(("exactly_20_tall", _rgba(frame), None))  # unchanged size: a copy
    cases.append(("round_half_to_even", _bar((60, 60), (10, 50, 20, 25)), None))  # 5 × 0.5 = 2.5 → 2
    cases.append(("round_half_to_even_up", _bar((60, 60), (10, 50, 20, 27)), None))  # 7 × 0.5 = 3.5 → 4
    cases.append(("one_pixel_wide", _bar((50, 50), (5, 45, 20, 21)), None))  # vertical pass only
    cases.append(("one_pixel_tall", _bar((50, 50), (25, 26, 5, 45)), None))  # horizontal pass only

    # Canvases that are not square.
    cases.append(("wide_canvas", _draw(2, rng, size=(400, 150)), None))
    cases.append(("tall_canvas", _draw(8, rng, size=(120, 360)), None))
    grey_paper = (230, 230, 230, 255)
    cases.append(("wide_canvas_dark_ink", _draw(6, rng, size=(333, 201), ink=(0, 0, 0), paper=grey_paper), None))

    # Transparent backgrounds, laid over paper that contrasts with the ink.
    cases.append(("black_on_transparent", _draw(1, rng, ink=(0, 0, 0), paper=(0, 0, 0, 0)), None))
    cases.append(("white_on_transparent", _draw(9, rng, ink=(255, 255, 255), paper=(255, 255, 255, 0)), None))
    faint = _draw(4, rng, ink=(0, 0, 0), paper=(0, 0, 0, 0))
    faint[..., 3] = faint[..., 3] // 2  # nothing is more than half opaque
    cases.append(("faint_on_transparent", faint, None))
    alpha_edges = _draw(0, rng, ink=(255, 255, 255), paper=(255, 255, 255, 0))
    alpha_edges[..., :3] = 90  # the drawing is only in the alpha channel
    cases.append(("grey_ink_in_alpha_only", alpha_edges, None))

    # The polarity forced, rightly and wrongly.
    dark_on_light = _draw(7, rng, ink=(10, 10, 10), paper=(245, 245, 245, 255))
    light_on_dark = _draw(2, rng)
    cases.append(("forced_dark_ink", dark_on_light, True))
    cases.append(("forced_light_ink", light_on_dark, False))
    cases.append(("wrongly_forced_dark_ink", dark_on_light, False))
    cases.append(("wrongly_forced_light_ink", light_on_dark, True))

    # Blank canvases.
    cases.append(("blank_black", _rgba(np.zeros((280, 280))), None))
    cases.append(("blank_white", _rgba(np.full((100, 150), 255)), None))
    cases.append(("blank_transparent", np.zeros((64, 64, 4), np.uint8), None))
    cases.append(("blank_with_faint_noise", _rgba(rng.integers(100, 110, (90, 90))), None))

    # No single digit: noise, a dark area, a patch of noise on paper, two digits.
    cases.append(("noise_filling_the_frame", _rgba(rng.integers(0, 256, (120, 120))), None))
    half_dark = np.full((90, 140), 255, np.uint8)
    half_dark[:, :60] = 0
    cases.append(("half_dark_page", _rgba(half_dark), None))
    patch = np.full((160, 160), 255, np.uint8)
    patch[50:110, 40:100] = rng.integers(0, 256, (60, 60))
    cases.append(("noise_patch_on_paper", _rgba(patch), None))
    cases.append(("two_digits_side_by_side", _rgba(np.concatenate([x_test[10], x_test[11]], axis=1)), None))
    touching = np.zeros((28, 48), np.uint8)
    touching[:, :28], touching[:, 20:] = x_test[12], np.maximum(touching[:, 20:], x_test[13])
    cases.append(("two_digits_touching_margins", _rgba(touching), None))
    seventeen = Image.new("L", (340, 300), 0)  # a slanted 1 and a 7 whose columns overlap, not touching
    pen = ImageDraw.Draw(seventeen)
    pen.line([(110, 40), (140, 260)], fill=255, width=20)
    pen.line([(160, 40), (300, 40), (200, 260)], fill=255, width=20, joint="curve")
    cases.append(("two_digits_columns_overlapping", _rgba(np.asarray(seventeen)), None))

    # Real digits by two sets of writers in every rendering the no-digit rules are checked on
    # (the tight crops touch 2 to 4 edges, where only scattered or solid ink is refused).
    from sklearn.datasets import load_digits

    optdigits = load_digits().images
    for index, rendering in enumerate(RENDERINGS):
        for source, ink in (("optdigits", optdigits[7 * index] / 16), ("mnist", x_test[40 + index] / 255)):
            cases.append((f"{source}_{_slug(rendering)}", _rgba(render_digit(ink, rendering)), None))
    return cases


def _slug(rendering: str) -> str:
    return rendering.replace(", ", "_").replace(" ", "_")


CASE_NAMES = [
    *(f"drawn_{digit}" for digit in range(10)),
    "drawn_5_with_specks", "drawn_7_with_specks", "blue_pen_on_white",
    *(f"photo_{index}" for index in range(8)), *(f"sweep_{index}" for index in range(SWEEP)),
    "mnist_8", "mnist_9",
    "tiny_7x9_canvas", "tiny_stroke", "a_dot", "a_short_dash", "tiny_three_pieces",
    "exactly_20_tall", "round_half_to_even", "round_half_to_even_up", "one_pixel_wide", "one_pixel_tall",
    "wide_canvas", "tall_canvas", "wide_canvas_dark_ink",
    "black_on_transparent", "white_on_transparent", "faint_on_transparent", "grey_ink_in_alpha_only",
    "forced_dark_ink", "forced_light_ink", "wrongly_forced_dark_ink", "wrongly_forced_light_ink",
    "blank_black", "blank_white", "blank_transparent", "blank_with_faint_noise",
    "noise_filling_the_frame", "half_dark_page", "noise_patch_on_paper", "two_digits_side_by_side",
    "two_digits_touching_margins", "two_digits_columns_overlapping",
    *(f"{source}_{_slug(rendering)}" for rendering in RENDERINGS for source in ("optdigits", "mnist")),
]  # fmt: skip
BLANK = {"wrongly_forced_dark_ink", "wrongly_forced_light_ink", "blank_black", "blank_white",
         "blank_transparent", "blank_with_faint_noise"}  # fmt: skip
NO_DIGIT = {"noise_filling_the_frame": "4 of the image's 4 edges and is scattered",
            "half_dark_page": "solid dark area reaches 3 of the image's 4 edges",
            "noise_patch_on_paper": "block of grey texture", "two_digits_side_by_side": "2 pieces side by side",
            "two_digits_touching_margins": "pieces side by side",
            "two_digits_columns_overlapping": "2 pieces side by side",
            "a_dot": "Too little ink to read", "a_short_dash": "Too little ink to read"}  # fmt: skip


def _python(rgba, invert):
    try:
        steps = format_steps(rgba, invert=invert)
    except ImageInputError as error:
        return {"error": str(error)}
    return {"result": steps.result, "inverted": steps.inverted, "box": list(steps.box), "scaled": steps.scaled}


def _javascript(cases, workdir):
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to run the web demo's JavaScript: install node (version 20 or later).")
    request = [
        {"name": name, "width": rgba.shape[1], "height": rgba.shape[0], "invert": invert,
         "rgba": base64.b64encode(np.ascontiguousarray(rgba, np.uint8).tobytes()).decode("ascii")}
        for name, rgba, invert in cases
    ]  # fmt: skip
    source, target = workdir / "cases.json", workdir / "results.json"
    source.write_text(json.dumps(request))
    run = subprocess.run([node, str(CLI), str(source), str(target)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"{CLI.name} failed:\n{run.stderr}"
    results = json.loads(target.read_text())
    for result in results:
        if "result" in result:
            result["result"] = np.array(result["result"], np.uint8).reshape(28, 28)
            scaled = result["scaled"]
            result["scaled"] = np.array(scaled["data"], np.float64).reshape(scaled["height"], scaled["width"])
    return results


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """For each case name: its RGBA input, Python's output and JavaScript's output."""
    cases = _build_cases()
    assert [name for name, _, _ in cases] == CASE_NAMES
    javascript = _javascript(cases, tmp_path_factory.mktemp("web"))
    return {
        name: (rgba, _python(rgba, invert), js)
        for (name, rgba, invert), js in zip(cases, javascript, strict=True)
    }


@pytest.mark.parametrize("name", CASE_NAMES)
def test_javascript_gives_the_same_28x28_image(outputs, name):
    _, python, javascript = outputs[name]
    assert javascript["name"] == name
    if "error" in python or "error" in javascript:
        assert javascript.get("error") == python.get("error")
        return
    assert javascript["inverted"] == python["inverted"]
    assert javascript["box"] == python["box"]
    np.testing.assert_array_equal(javascript["scaled"], python["scaled"])  # the same float32 values
    difference = np.abs(javascript["result"].astype(int) - python["result"].astype(int))
    assert difference.max() == 0, f"{np.count_nonzero(difference)} pixels differ, by up to {difference.max()}"


def test_the_cases_cover_every_branch(outputs):
    results = {name: python for name, (_, python, _) in outputs.items()}
    assert {name for name, result in results.items() if "error" in result} == BLANK | set(NO_DIGIT)
    for name in BLANK:
        assert "blank" in results[name]["error"]
    for name, reason in NO_DIGIT.items():
        assert reason in results[name]["error"]
        error = results[name]["error"]
        assert ("No single digit stands out" in error) != ("Draw a bigger digit" in error)
    inverted = {name for name, result in results.items() if result.get("inverted")}
    assert {"blue_pen_on_white", "black_on_transparent", "faint_on_transparent", "forced_dark_ink"} <= inverted
    assert not {"drawn_0", "white_on_transparent", "forced_light_ink", "mnist_8"} & inverted
    assert {f"photo_{index}" for index in range(0, 8, 2)} <= inverted  # dark ink on light paper
    assert not {f"photo_{index}" for index in range(1, 8, 2)} & inverted

    def scaled_shape(name):
        return results[name]["scaled"].shape

    top, bottom, _, _ = results["tiny_stroke"]["box"]
    assert bottom - top + 1 < 20 and scaled_shape("tiny_stroke") == (20, 8)  # enlarged: bilinear
    assert scaled_shape("drawn_1")[0] == 20 and scaled_shape("drawn_1")[1] < 20  # shrunk: box filter
    assert scaled_shape("exactly_20_tall") == (20, 13)  # unchanged size: Pillow returns a copy
    assert scaled_shape("round_half_to_even") == (20, 2)  # round(2.5) == 2
    assert scaled_shape("round_half_to_even_up") == (20, 4)  # round(3.5) == 4
    assert scaled_shape("one_pixel_wide") == (20, 1)  # Pillow skips the horizontal pass
    assert scaled_shape("one_pixel_tall") == (1, 20)  # Pillow skips the vertical pass

    # Pillow 13 resamples the columns first when the height shrinks by more than twice
    # as many pixels as the width; both orders must occur.
    orders = set()
    for name, result in results.items():
        if "box" in result:
            top, bottom, left, right = result["box"]
            (height, width), (new_height, new_width) = (bottom - top + 1, right - left + 1), scaled_shape(name)
            if height != new_height and width != new_width:
                columns_first = height - new_height > max(0, 2 * (width - new_width))
                orders.add("columns first" if columns_first else "rows first")
    assert orders == {"columns first", "rows first"}


def test_two_stroke_digits_keep_both_strokes_and_specks_are_dropped(outputs):
    for name in ("drawn_4", "drawn_5", "drawn_5_with_specks", "faint_on_transparent"):
        rgba, python, _ = outputs[name]
        top, bottom, left, right = python["box"]
        ink = format_steps(rgba).ink[top : bottom + 1, left : right + 1]
        _, pieces = ndimage.label(ink > 0, structure=np.ones((3, 3)))
        assert pieces >= 2, name  # two strokes that do not touch, both kept
    for name in ("drawn_5_with_specks", "drawn_7_with_specks"):
        top, bottom, left, right = outputs[name][1]["box"]
        assert top > 9 and bottom < 270 and left > 7 and right < 268, name  # the specks are outside the box
