"""Each chapter reads as a lesson: within the prose budget, with code a reader can run as shown.

The rules live in ``tools/lesson_check.py`` (``python -m tools.lesson_check`` prints the
same report while editing); these tests hold every chapter to them, and check that the
rules themselves catch what they are meant to.
"""

from __future__ import annotations

import nbformat
import pytest

from tools.lesson_check import (
    MAX_LINE,
    MAX_PROSE_WORDS,
    long_lines,
    long_output_lines,
    names_from_hidden_cells,
    notebooks,
    prose_words,
)

NOTEBOOKS = notebooks()
CHAPTERS = [path for path in NOTEBOOKS if path.parent.name == "chapters"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_is_within_the_prose_budget(path):
    words = prose_words(path)
    assert words <= MAX_PROSE_WORDS, (
        f"{path.name} has {words:,} prose words (at most {MAX_PROSE_WORDS:,}): move what serves "
        "building or testing the book to an appendix, and say the rest in fewer words"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_visible_cell_uses_a_name_only_a_hidden_cell_defines(path):
    assert names_from_hidden_cells(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_visible_code_line_is_wider_than_the_column(path):
    assert long_lines(path) == [], f"wrap these lines at {MAX_LINE} characters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_printed_output_line_is_wider_than_the_column(path):
    assert long_output_lines(path) == [], f"print these in lines of at most {MAX_LINE} characters"


def _notebook(tmp_path, *cells):
    notebook = nbformat.v4.new_notebook()
    for kind, source, tags in cells:
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source, metadata={"tags": tags}))
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook, path)
    return path


def test_the_hidden_name_rule_sees_through_visible_definitions(tmp_path):
    path = _notebook(
        tmp_path,
        ("code", "import numpy as np\nsecret = 3\nshared = 1", ["remove-cell"]),
        ("code", "shared = 2\nprint(shared, np.pi, len([x for x in range(3)]))", []),
        ("code", "def f(a, *rest, key=None):\n    return a + secret\n", []),
        ("code", "glue('x', secret, display=False)", ["remove-cell"]),
        ("code", "%matplotlib inline\nresult = (lambda k: k)(1)", []),
    )
    problems = names_from_hidden_cells(path)
    # `np` and `secret` came only from the hidden cell; `shared` was defined again in view.
    assert [problem.split("`")[1] for problem in problems] == ["np", "secret"]


def test_the_prose_count_skips_targets_options_and_comments(tmp_path):
    path = _notebook(
        tmp_path,
        ("markdown", "(fig-label)=\n```{figure} x.png\n:name: fig-x\n:alt: a b c\nOne two.\n```", []),
        ("markdown", "<!-- not read -->Three [four](https://example.org/five-six) — 7 %.", []),
        ("code", "these are not prose words", []),
    )
    assert prose_words(path) == 5  # One two. Three four 7 (the dash and "%." are not words)


def test_long_output_lines_are_found_where_the_page_shows_them(tmp_path):
    path = _notebook(tmp_path, ("code", "print(...)", []), ("code", "print(...)", ["remove-output"]))
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="w" * 100 + "\nshort\n")]
    notebook.cells[0].outputs.append(nbformat.v4.new_output("display_data", data={"text/plain": "t" * 90}))
    notebook.cells[0].outputs.append(
        nbformat.v4.new_output("display_data", data={"text/plain": "p" * 90, "image/png": ""})
    )
    nbformat.write(notebook, path)
    assert [problem.split(": ")[1] for problem in long_output_lines(path)] == ["100 characters", "90 characters"]


def test_long_lines_are_found_in_visible_cells_only(tmp_path):
    wide = "x = " + "1 + " * 30 + "1"
    path = _notebook(tmp_path, ("code", wide, []), ("code", wide, ["remove-cell"]), ("code", wide, ["hide-input"]))
    assert len(long_lines(path)) == 2  # hide-input code can be opened by the reader
