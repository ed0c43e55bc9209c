"""Reading the chapters' notebooks in tests: a code cell by what it holds, and the figures a page shows."""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def code_cell(chapter: str, *markers: str) -> str:
    """The source of the first code cell of ``chapters/<chapter>.ipynb`` that holds every marker."""
    notebook = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    return next(cell.source for cell in notebook.cells
                if cell.cell_type == "code" and all(marker in cell.source for marker in markers))


def shown_figures(path: Path) -> int:
    """Images a notebook's page shows: its stored image outputs, less those of removed cells."""
    notebook = nbformat.read(path, as_version=4)
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code" and not {"remove-cell", "remove-output"} & set(cell.metadata.get("tags", []))
        for output in cell.outputs
    )


def glued_values(path: Path) -> dict[str, str]:
    """The text each glue name of a notebook holds (its stored outputs), as its page renders it."""
    values = {}
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                values[name] = text[1:-1] if text[:1] in "'\"" and text[-1:] == text[:1] else text
    return values
