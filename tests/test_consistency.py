"""One set of numbers: a quantity quoted on several pages reads the same on each of them.

Every number in the prose is glued from the code (myst-nb ``glue``), so the quantities a
reader meets on several pages can be found by name in the notebooks' stored outputs:

- a glue name used by several notebooks must hold the same value in each;
- each headline quantity below, glued under different names on different pages, and kept
  by the drawing pad's manifest, must read the same everywhere;
- the built page shows the value that its notebook glued.

Numbers of *another* run (the benchmark's record, on the day and machine each page names)
are other quantities and are not listed here; the pages say which run they show.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict

import pytest

from browser import ROOT, SITE
from chapters import glued_values

NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb")) + sorted((ROOT / "appendix").glob("*.ipynb"))
MANIFEST = SITE / "_static" / "demo" / "models" / "manifest.json"

#: Headline quantities: where each page glues it, and how the pad's manifest keeps it.
HEADLINES = {
    "the MLP's test accuracy": {
        "glued": {"05_evaluation": "test_accuracy", "07_your_own_handwriting": "mnist_mlp"},
        "manifest": ("mlp", "test_accuracy"),
    },
    "the CNN's test accuracy": {
        "glued": {"06_convolutional_networks": "cnn_accuracy", "07_your_own_handwriting": "mnist_cnn"},
        "manifest": ("cnn", "test_accuracy"),
    },
    "the CNN's not-sure threshold": {
        "glued": {"07_your_own_handwriting": "threshold"},
        "manifest": ("cnn", "not_sure", "below"),
    },
    "the accuracy asked of the answers": {
        "glued": {"07_your_own_handwriting": "not_sure_target"},
        "manifest": ("cnn", "not_sure", "target_accuracy"),
    },
    "the share of validation digits the CNN answers": {
        "glued": {"07_your_own_handwriting": "val_coverage"},
        "manifest": ("cnn", "not_sure", "validation_coverage"),
    },
    # Two benchmark sections (cnn_seeds, other_writers) train the same recipe from the same seeds on
    # the same split; training is deterministic, so a page may quote either, and they must agree.
    "the CNN recipe's accuracy on the other writers' validation half (3 seeds)": {
        "glued": {"performance": "cnn_seeds_other_validation", "07_your_own_handwriting": "ow_recipe_other"},
    },
    "the CNN recipe's accuracy on the other writers' test half (3 seeds)": {
        "glued": {"performance": "cnn_seeds_other_test", "07_your_own_handwriting": "ow_test_recipe"},
    },
    "the CNN's training time in the benchmark": {
        "glued": {"06_convolutional_networks": "cnn_bench_time", "performance": "cnn_total"},
    },
}


GLUED = {path.stem: glued_values(path) for path in NOTEBOOKS}


def _same(text: str) -> str:
    """A number as read: without the space some pages put before %."""
    return re.sub(r"\s+%", "%", text.strip())


def test_a_glue_name_holds_one_value_in_every_notebook():
    by_name = defaultdict(dict)
    for page, values in GLUED.items():
        for name, value in values.items():
            by_name[name][page] = _same(value)
    disagreements = {name: pages for name, pages in by_name.items() if len(set(pages.values())) > 1}
    assert disagreements == {}, "the same glue name, different values: give one a name of its own or one source"


@pytest.mark.parametrize("quantity", HEADLINES)
def test_each_headline_quantity_reads_the_same_in_every_notebook(quantity):
    where = HEADLINES[quantity]["glued"]
    found = {page: GLUED[page].get(name) for page, name in where.items()}
    assert None not in found.values(), f"{quantity}: not glued where listed: {found}"
    assert len({_same(value) for value in found.values()}) == 1, f"{quantity} disagrees between pages: {found}"


@pytest.mark.book
@pytest.mark.parametrize("quantity", [q for q, spec in HEADLINES.items() if "manifest" in spec])
def test_the_pads_manifest_agrees_with_the_chapters(quantity):
    if not MANIFEST.is_file():
        pytest.fail(f"No {MANIFEST.relative_to(ROOT)}: run `make book` first (`make test` does).")
    spec = HEADLINES[quantity]
    name, *keys = spec["manifest"]
    value = next(model for model in json.loads(MANIFEST.read_text())["models"] if model["name"] == name)
    for key in keys:
        value = value[key]
    glued = _same(next(GLUED[page][glue] for page, glue in spec["glued"].items()))
    decimals = len(glued.rstrip("%").partition(".")[2])
    assert f"{100 * value:.{decimals}f}%" == glued, f"{quantity}: the pad's manifest has {value}, the chapters {glued}"


@pytest.mark.book
@pytest.mark.parametrize("quantity", HEADLINES)
def test_each_page_shows_the_headline_value_it_glued(quantity):
    for page, name in HEADLINES[quantity]["glued"].items():
        built = next(SITE.rglob(f"{page}.html"), None)
        assert built is not None, f"{page}.html is not built: run `make book` first (`make test` does)"
        shown = {
            _same(html.unescape(text))
            for text in re.findall(r'<span class="pasted-text">([^<]*)</span>', built.read_text(encoding="utf-8"))
        }
        assert _same(GLUED[page][name]) in shown, f"{page} does not show {quantity} ({GLUED[page][name]})"


def test_the_headline_list_names_glue_that_exists():
    for quantity, spec in HEADLINES.items():
        for page, name in spec["glued"].items():
            assert page in GLUED and name in GLUED[page], f"{quantity}: {page} glues no {name!r}"
