"""One definition of each recipe: what a chapter trains is what ``train(config)`` trains.

Chapters 4 and 6 write their training code out in full, because it is the lesson. The
chapters that follow, the command line, the ONNX export and the tests load the saved model
under the recipe's fingerprint, or train it with ``train(config)`` when it is missing; so
the chapter's code and ``train(config)`` must give the same weights. These tests run each
chapter's own cells, up to and including its training cell, with a shortened recipe put
in place of the book's, and compare the weights with ``train(shortened recipe)``.
"""

from __future__ import annotations

import dataclasses
import io
import contextlib
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from mnist_utils import training

ROOT = Path(__file__).resolve().parents[1]
from tools.sync_repository import SETUP_MARKER

CASES = {
    # chapter, the recipe's name in mnist_utils.training, the end of the training cell, a short recipe
    "mlp": ("04_training_with_adam", "MLP_RECIPE", "wall_time = time.perf_counter() - started",
            dict(epochs=1, validation_size=50_000)),
    "cnn": ("06_convolutional_networks", "CNN_RECIPE", "cnn_time = time.perf_counter() - started",
            dict(epochs=1, validation_size=54_000)),
}


def _run_chapter_until_training(chapter: str, marker: str) -> dict:
    """Execute the chapter's code cells in order, up to the one that ends with ``marker``."""
    notebook = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    namespace: dict = {"__name__": f"chapter_{chapter}"}
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.source.startswith(SETUP_MARKER):
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(cell.source, f"{chapter}.ipynb", "exec"), namespace)  # noqa: S102
        plt.close("all")
        if marker in cell.source:
            return namespace
    raise AssertionError(f"{chapter} has no cell containing {marker!r}: update this test with the chapter")


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_the_chapter_trains_what_train_config_trains(name, monkeypatch):
    chapter, recipe_name, marker, changes = CASES[name]
    short = dataclasses.replace(getattr(training, recipe_name), **changes)
    monkeypatch.setattr(training, recipe_name, short)  # the chapter imports it from here
    namespace = _run_chapter_until_training(chapter, marker)
    in_chapter = namespace["model"].get_weights()
    trained, _ = training.train(short)
    expected = trained.get_weights()
    assert len(in_chapter) == len(expected)
    for got, want in zip(in_chapter, expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", CASES)
def test_the_chapter_reads_its_settings_from_the_recipe(name):
    """No setting of the recipe is written out as a literal in the chapter's code."""
    chapter, recipe_name, _, _ = CASES[name]
    recipe = getattr(training, recipe_name)
    code = "\n".join(cell.source for cell in nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4).cells
                     if cell.cell_type == "code")
    assert f"validation_size={recipe_name}.validation_size, seed={recipe_name}.seed" in code
    for literal in (f"validation_size={recipe.validation_size}", f"seed={recipe.seed}",
                    f"batch_size={recipe.batch_size}", f"epochs={recipe.epochs}"):
        assert literal not in code, f"{chapter} writes {literal} instead of reading {recipe_name}"
    assert "steps_per_execution=" in code, f"{chapter} leaves out the recipe's steps_per_execution"
