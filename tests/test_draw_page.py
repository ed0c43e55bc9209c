"""The "Draw a digit" page in headless Chromium: strokes in, predictions out.

The tests draw the ten digits with mouse events (and one with touch events), then check
what the page computed against Python:

- the page's 28×28 image equals ``to_mnist_format`` of the same canvas pixels, to within
  one grey level per pixel (the JavaScript is a port of the Python; the tolerance allows
  for a rounding tie broken differently);
- the page's probabilities equal the Keras model's for that 28×28 image to within 1e-4;
- the predicted digit is the one drawn, for both networks.

In-browser inference time and the bytes the page downloads are written to
``artifacts/draw-digit.json``; they are measurements, not assertions.
"""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pytest

from browser import ARTIFACTS, open_context

#: Runs after nbval and the book build (`make test`, second phase).
pytestmark = pytest.mark.book

PAGE = "chapters/08_draw_a_digit"
#: Largest allowed difference between the page's and Keras's probabilities.
PROBABILITY_TOLERANCE = 1e-4
#: Largest allowed difference between the page's and Python's 28×28 image, in grey levels.
PIXEL_TOLERANCE = 1


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 24):
    """Points on an ellipse; angles in degrees, 0 to the right, 90 downwards (screen axes)."""
    return [
        (cx + rx * math.cos(math.radians(start + (end - start) * i / n)),
         cy + ry * math.sin(math.radians(start + (end - start) * i / n)))
        for i in range(n + 1)
    ]


#: Each digit as strokes, each stroke a polyline in the pad's unit square.
STROKES = {
    0: [_arc(0.5, 0.5, 0.2, 0.32, -90, 270)],
    1: [[(0.45, 0.2), (0.55, 0.15), (0.52, 0.5), (0.5, 0.85)]],
    2: [_arc(0.5, 0.33, 0.2, 0.18, 180, 380, 16) + [(0.3, 0.82), (0.75, 0.82)]],
    3: [_arc(0.48, 0.32, 0.18, 0.16, 200, 450, 16) + _arc(0.48, 0.65, 0.2, 0.18, -90, 150, 16)],
    4: [[(0.55, 0.15), (0.25, 0.6), (0.75, 0.6)], [(0.6, 0.35), (0.6, 0.88)]],
    5: [[(0.7, 0.17), (0.35, 0.17), (0.32, 0.45)] + _arc(0.5, 0.62, 0.21, 0.2, -110, 150, 18)],
    6: [[(0.62, 0.15), (0.4, 0.4)] + _arc(0.5, 0.65, 0.18, 0.2, 200, 560, 24)],
    7: [[(0.27, 0.2), (0.73, 0.2), (0.42, 0.85)]],
    8: [_arc(0.5, 0.31, 0.15, 0.16, 90, 450, 20) + _arc(0.5, 0.66, 0.19, 0.19, -90, 270, 24)[::-1]],
    9: [_arc(0.5, 0.33, 0.18, 0.16, 0, 360, 20) + [(0.68, 0.33), (0.63, 0.87)]],
}


def _points(stroke, steps: int = 2):
    """The stroke with ``steps`` pointer positions per segment, as a hand moves."""
    points = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        points += [(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(1, steps + 1)]
    return points


@pytest.fixture(scope="module")
def demo(site, browser):
    """The page, loaded and ready, with a fresh context (touch enabled)."""
    context, visit = open_context(browser, site, has_touch=True)
    page = context.new_page()
    page.goto(site.page_url(PAGE), wait_until="load")
    page.evaluate("window.drawDigitReady")
    yield page, visit
    context.close()


@pytest.fixture(scope="module")
def keras_models():
    from mnist_utils.training import RECIPES, load_or_train

    return {name: load_or_train(recipe) for name, recipe in RECIPES.items()}


def _canvas_box(page):
    """The pad's position in the viewport, after scrolling it fully into view."""
    page.locator(".dd-canvas").scroll_into_view_if_needed()
    box = page.locator(".dd-canvas").bounding_box()
    return box["x"], box["y"], box["width"], box["height"]


def draw_with_mouse(page, strokes) -> None:
    page.click(".dd-clear")
    x, y, width, height = _canvas_box(page)
    for stroke in strokes:
        points = _points(stroke)
        page.mouse.move(x + points[0][0] * width, y + points[0][1] * height)
        page.mouse.down()
        for px, py in points[1:]:
            page.mouse.move(x + px * width, y + py * height)
        page.mouse.up()
    page.evaluate("drawDigit.idle()")


def draw_with_touch(page, strokes) -> None:
    """Real touch events through the Chrome DevTools Protocol, as a finger makes them."""
    page.click(".dd-clear")
    x, y, width, height = _canvas_box(page)
    session = page.context.new_cdp_session(page)
    for stroke in strokes:
        points = [{"x": x + px * width, "y": y + py * height} for px, py in _points(stroke)]
        session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
        for point in points[1:]:
            session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()
    page.evaluate("drawDigit.idle()")


def page_state(page) -> dict:
    return page.evaluate(
        "({digit: drawDigit.last.digit && Array.from(drawDigit.last.digit),"
        " probabilities: drawDigit.last.probabilities, prediction: drawDigit.last.prediction,"
        " model: drawDigit.last.model, canvas: drawDigit.canvasRGBA(),"
        " status: document.querySelector('.dd-status').textContent})"
    )


def canvas_pixels(state: dict) -> np.ndarray:
    """The page's canvas as an (h, w, 4) uint8 array."""
    canvas = state["canvas"]
    data = np.frombuffer(base64.b64decode(canvas["rgba"]), dtype=np.uint8)
    return data.reshape(canvas["height"], canvas["width"], 4)


def check_against_python(state: dict, keras_models) -> tuple[int, float]:
    """Compare the page's image and probabilities with Python's; return the differences."""
    from mnist_utils.handwriting import to_mnist_format
    from mnist_utils.preprocessing import preprocess_for_model

    rgba = canvas_pixels(state)
    expected = to_mnist_format(rgba).astype(int)
    digit = np.array(state["digit"], dtype=np.uint8).reshape(28, 28)
    pixel_diff = int(np.abs(digit.astype(int) - expected).max())
    assert pixel_diff <= PIXEL_TOLERANCE, "the page's 28×28 image differs from to_mnist_format's"

    model = keras_models[state["model"]]
    keras_probabilities = model.predict(preprocess_for_model(model, digit[None]), verbose=0)[0]
    probability_diff = float(np.abs(np.array(state["probabilities"]) - keras_probabilities).max())
    assert probability_diff <= PROBABILITY_TOLERANCE, "the page's probabilities differ from Keras's"
    return pixel_diff, probability_diff


def test_the_page_starts_with_an_empty_pad_and_its_facts_filled(demo):
    page, visit = demo
    assert page.evaluate("drawDigit.last.prediction") is None
    assert page.locator(".dd-bar-row").count() == 10
    facts = page.locator("[data-manifest]")
    assert facts.count() >= 4
    for index in range(facts.count()):
        text = facts.nth(index).inner_text()
        assert text and text != "…", f"fact {facts.nth(index).get_attribute('data-manifest')} not filled"
    assert visit.problems() == []


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_drawn_digits_are_read_correctly_and_match_python(demo, keras_models, model):
    page, visit = demo
    page.evaluate(f"drawDigit.setModel('{model}')")
    predictions, pixel_diffs, probability_diffs = {}, [], []
    for digit, strokes in STROKES.items():
        draw_with_mouse(page, strokes)
        state = page_state(page)
        assert state["model"] == model, f"no prediction for a drawn {digit}: {state['status']}"
        pixel_diff, probability_diff = check_against_python(state, keras_models)
        pixel_diffs.append(pixel_diff)
        probability_diffs.append(probability_diff)
        predictions[digit] = state["prediction"]
        # Answered, or below the model's confidence threshold: either way the best guess is shown.
        assert (f"reads it as {state['prediction']} (" in state["status"]
                or f"is not sure: its best guess, {state['prediction']}, has" in state["status"]), state["status"]
    assert predictions == {digit: digit for digit in STROKES}
    assert visit.problems() == []
    _record(f"parity_{model}", {"max_pixel_diff": max(pixel_diffs), "max_probability_diff": max(probability_diffs)})


def test_a_digit_drawn_with_a_finger(demo, keras_models):
    page, visit = demo
    page.evaluate("drawDigit.setModel('cnn')")
    draw_with_touch(page, STROKES[4])
    state = page_state(page)
    check_against_python(state, keras_models)
    assert state["prediction"] == 4
    assert visit.problems() == []


@pytest.mark.parametrize("width, height", [(390, 844), (360, 740)])
def test_on_a_phone_the_probabilities_stay_in_view_while_drawing(site, browser, width, height):
    """On a phone-sized screen, the bars sit beside the pad, not below it, out of view."""
    context, visit = open_context(browser, site, has_touch=True, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(site.page_url(PAGE), wait_until="load")
        page.evaluate("window.drawDigitReady")
        x, y, pad_width, pad_height = _canvas_box(page)
        bars = page.locator(".dd-bars").bounding_box()
        assert pad_width >= 150, f"the pad is only {pad_width:.0f} px wide on a {width} px screen"
        assert bars["x"] >= x + pad_width - 1, "the bars are not beside the pad"
        assert bars["x"] + bars["width"] <= width, "the bars run off the screen"
        assert y >= 0 and bars["y"] >= 0 and max(y + pad_height, bars["y"] + bars["height"]) <= height, (
            "the pad and its bars do not fit on the screen together"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
        draw_with_touch(page, STROKES[4])
        assert page_state(page)["prediction"] == 4
        status = page.locator(".dd-status").bounding_box()
        assert status["y"] >= 0 and status["y"] + status["height"] <= height, "the answer is out of view"
        assert "reads it as 4" in page.locator(".dd-status").inner_text()
        covered = page.evaluate(
            "Array.from(document.querySelectorAll('.dd-bar-row')).filter(row => {"
            " const box = row.getBoundingClientRect();"
            " const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);"
            " return !(top && row.contains(top)); }).map(row => row.querySelector('.dd-bar-label').textContent)"
        )
        assert covered == [], f"something covers the bars of {covered}"
        assert visit.problems() == []
    finally:
        context.close()


#: Records the pad's top edge, in the viewport, each time the status line's text changes.
WATCH_THE_PAD = """() => {
  const canvas = document.querySelector('.dd-canvas'), status = document.querySelector('.dd-status');
  window.padTops = [{top: canvas.getBoundingClientRect().top, status: status.textContent}];
  new MutationObserver(() => window.padTops.push({top: canvas.getBoundingClientRect().top,
                                                  status: status.textContent}))
    .observe(status, {childList: true, characterData: true, subtree: true});
}"""
#: Each kind of message the status line shows while a reader draws.
STATUS_KINDS = {
    "too little ink": "Draw a bigger digit",
    "answer": "reads it as",
    "not sure": "is not sure",
    "two digits": "side by side",
}


@pytest.mark.parametrize("width, height", [(390, 844), (1280, 900)])
def test_the_pad_stays_put_while_the_status_line_changes(site, browser, width, height):
    """On a phone the status line sits above the pad: if a longer message made it grow, the
    pad moved down under the finger mid-stroke, and a dot became a vertical line read as 1."""
    context, visit = open_context(browser, site, has_touch=True, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(site.page_url(PAGE), wait_until="load")
        page.evaluate("window.drawDigitReady")
        _canvas_box(page)
        page.evaluate(WATCH_THE_PAD)
        draw_with_touch(page, [[(0.5, 0.5), (0.502, 0.5)]])  # a dot: too little ink
        dot = page_state(page)
        draw_with_touch(page, STROKES[6])
        draw_with_touch(page, [[(0.3, 0.2), (0.3, 0.8)], [(0.7, 0.2), (0.7, 0.8)]])  # 11: two digits
        for model, strokes in (("cnn", [[(0.3, 0.3), (0.7, 0.7)], [(0.7, 0.3), (0.3, 0.7)]]),
                               ("mlp", HARD_CASES["letter A"])):  # not sure, for the networks of now
            page.evaluate(f"drawDigit.setModel('{model}')")
            draw_with_touch(page, strokes)
        # The longest "not sure", whatever the networks make of the drawings above.
        page.evaluate("drawDigit.showProbabilities([0.3].concat(Array(9).fill(0.7 / 9)))")
        records = page.evaluate("window.padTops")
        start = records[0]["top"]
        moved = [f"{r['top'] - start:+.0f} px after {r['status']!r}" for r in records if abs(r["top"] - start) > 0.5]
        assert moved == [], f"at {width} px the pad moved {len(moved)} times as the status changed: {moved[:4]}"
        seen = {kind for kind, text in STATUS_KINDS.items() if any(text in r["status"] for r in records)}
        assert seen == set(STATUS_KINDS), f"the drawings gave no {set(STATUS_KINDS) - seen} message"
        assert dot["prediction"] is None, f"the dot was read as {dot['prediction']}: the pad moved mid-stroke"
        status = page.locator(".dd-status").bounding_box()
        assert status["y"] >= 0 and status["y"] + status["height"] <= height, "the status is out of view"
        page.locator("#draw-digit").screenshot(path=ARTIFACTS / "screenshots" / f"draw-digit-status-{width}.png")
        assert visit.problems() == []
    finally:
        context.close()


def test_the_pad_says_not_sure_below_the_threshold_chosen_on_validation(demo, keras_models):
    from mnist_utils.data import load_mnist, train_validation_split
    from mnist_utils.evaluation import (
        NOT_SURE_MIN_COVERAGE,
        NOT_SURE_TARGET,
        choose_threshold,
        predict_probabilities,
    )
    from mnist_utils.training import RECIPES

    page, visit = demo
    (x_train, y_train), _ = load_mnist()
    for name, model in keras_models.items():
        recipe = RECIPES[name]
        _, (x_val, y_val) = train_validation_split(x_train, y_train, validation_size=recipe.validation_size,
                                                   seed=recipe.seed)
        probabilities = predict_probabilities(model, x_val)
        expected = choose_threshold(probabilities, y_val, target_accuracy=NOT_SURE_TARGET)
        answered = float(np.mean(probabilities.max(axis=1) >= expected))
        page.evaluate(f"drawDigit.setModel('{name}')")
        described = page.evaluate(f"drawDigit.model('{name}').not_sure")
        assert described == {"below": pytest.approx(expected), "target_accuracy": NOT_SURE_TARGET,
                             "validation_coverage": pytest.approx(answered)}
        assert answered >= NOT_SURE_MIN_COVERAGE, f"the {name} answers only {answered:.1%} of clean digits"
        draw_with_mouse(page, STROKES[4])  # a clear 4 is answered
        state = page_state(page)
        assert max(state["probabilities"]) >= described["below"] and "reads it as 4 (" in state["status"]
        flat = [0.3] + [0.7 / 9] * 9  # a best guess of 30 %: far below any threshold worth having
        page.evaluate(f"drawDigit.showProbabilities({flat})")
        status = page.locator(".dd-status").text_content()
        assert status.startswith(f"The {name.upper()} is not sure: its best guess, 0, has 30.0 %"), status
        assert f"below the {100 * described['below']:.1f} %" in status, status
        assert page.locator(".draw-digit.dd-unsure").count() == 1
        shown = re.findall(r"\d+(?:\.\d+)? %", status + page.locator(".dd-bars").inner_text())
        assert shown and all(re.fullmatch(r"\d+(\.\d)? %", value) for value in shown), shown  # one decimal
    assert visit.problems() == []


def test_too_little_ink_asks_for_a_bigger_digit(demo):
    page, visit = demo
    for strokes in ([[(0.5, 0.5), (0.502, 0.5)]], [[(0.47, 0.5), (0.53, 0.5)]]):  # a dot, a short dash
        draw_with_mouse(page, strokes)
        state = page_state(page)
        assert state["prediction"] is None and "Draw a bigger digit" in state["status"], state["status"]
        assert page.locator(".dd-best").count() == 0
    assert visit.problems() == []


#: Pictures that are not one of MNIST's digits as MNIST's writers wrote them: what a reader tries.
HARD_CASES = {
    "European 1": [[(0.33, 0.35), (0.57, 0.13), (0.55, 0.87)]],  # a long flag, no base
    "crossed 7": [STROKES[7][0], [(0.36, 0.52), (0.68, 0.52)]],
    "letter A": [[(0.25, 0.85), (0.5, 0.15), (0.75, 0.85)], [(0.36, 0.58), (0.64, 0.58)]],
}


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_hard_cases_get_an_answer_python_agrees_with(demo, keras_models, model):
    """A European 1, a crossed 7 and the letter A: the pad's answers, recorded for the book's note.

    No digit classifier can refuse a letter without having seen examples of what to refuse
    (chapter 7), so the test does not assert which digit the networks name; it asserts that the
    page's image and probabilities are Python's and that the status says what the page computed.
    """
    page, visit = demo
    page.evaluate(f"drawDigit.setModel('{model}')")
    answers = {}
    for name, strokes in HARD_CASES.items():
        draw_with_mouse(page, strokes)
        state = page_state(page)
        assert state["model"] == model, f"no answer for the {name}: {state['status']}"
        check_against_python(state, keras_models)
        best = 100 * max(state["probabilities"])
        assert f"{state['prediction']}" in state["status"] and f"{best:.1f} %" in state["status"], state["status"]
        answers[name] = state["status"]
    assert visit.problems() == []
    _record(f"hard_cases_{model}", answers)


def test_clear_empties_the_pad(demo):
    page, _ = demo
    draw_with_mouse(page, STROKES[7])
    assert page.evaluate("drawDigit.last.prediction") == 7
    page.click(".dd-clear")
    page.evaluate("drawDigit.idle()")
    assert page.evaluate("drawDigit.last.prediction") is None
    assert canvas_pixels(page_state(page))[..., :3].max() == 0  # black again
    assert page.locator(".dd-best").count() == 0


def test_measure_inference_time_and_download_size(demo):
    """Measurements for the book's note (100 runs of each network); not a timed assertion."""
    page, _ = demo
    draw_with_mouse(page, STROKES[3])
    times = {name: page.evaluate(f"drawDigit.timeInference(100, '{name}')") for name in ("cnn", "mlp")}
    assert all(value["mean"] > 0 for value in times.values())
    resources = page.evaluate(
        "performance.getEntriesByType('resource').map(r => ({url: r.name, bytes: r.encodedBodySize}))"
    )
    demo_files = [r for r in resources if "/_static/demo/" in r["url"]]
    assert any(r["url"].endswith(".wasm") for r in demo_files)
    page.locator("#draw-digit").screenshot(path=ARTIFACTS / "screenshots" / "draw-digit-3.png")
    _record(
        "measurements",
        {
            "inference_ms": times,
            "demo_files": demo_files,
            "demo_bytes": sum(r["bytes"] for r in demo_files),
            "page_bytes": sum(r["bytes"] for r in resources),
            "user_agent": page.evaluate("navigator.userAgent"),
        },
    )


def _record(key: str, value) -> None:
    path = ARTIFACTS / "draw-digit.json"
    ARTIFACTS.mkdir(exist_ok=True)
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=1))

