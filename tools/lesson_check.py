"""Read the chapters as a newcomer meets them: prose length, names from hidden cells, long lines.

Usage: python -m tools.lesson_check [NOTEBOOK ...]   (default: the chapters and the appendix notebooks)

Prints, for each notebook, its prose words (the words of its markdown cells), the visible
code and output lines longer than :data:`MAX_LINE` characters, and each name a visible cell uses that
only a hidden cell defines. Exits 1 if any chapter is over :data:`MAX_PROSE_WORDS` words or
has a long line or a name from a hidden cell. ``tests/test_lessons.py`` holds the same rules.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
#: The most prose words a chapter may have (DEVELOPERS.md: "at most 2,000 words of prose").
MAX_PROSE_WORDS = 2000
#: The longest visible code line, in characters: what the content column shows at 1280 px
#: without scrolling (and Ruff's and Black's default line length).
MAX_LINE = 88
#: Cells a reader never sees; `hide-input` is not among them (the reader can open it).
HIDDEN_TAGS = frozenset({"remove-cell", "remove-input"})
#: Names IPython gives every notebook.
KERNEL_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit"})


def notebooks() -> list[Path]:
    """The book's notebooks: every chapter, then the appendix notebooks."""
    return sorted((ROOT / "chapters").glob("*.ipynb")) + sorted((ROOT / "appendix").glob("*.ipynb"))


def _plain_text(markdown: str) -> str:
    """Markdown as read: without comments, link targets, directive options and labels."""
    text = re.sub(r"<!--.*?-->", " ", markdown, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # [words](target): the target is not read
    text = re.sub(r"^\s*:[\w-]+:.*$", " ", text, flags=re.M)  # :name: fig-x, :alt: ... options
    text = re.sub(r"^\s*\(([\w-]+)\)=\s*$", " ", text, flags=re.M)  # (label)= targets
    text = re.sub(r"^\s*(```|~~~).*$", " ", text, flags=re.M)  # fences and directive names
    return text


def prose_words(path: Path) -> int:
    """The words of a notebook's markdown cells, as a reader reads them."""
    notebook = nbformat.read(path, as_version=4)
    text = "\n".join(_plain_text(cell.source) for cell in notebook.cells if cell.cell_type == "markdown")
    return sum(1 for word in text.split() if re.search(r"[A-Za-z0-9]", word))


def is_hidden(cell) -> bool:
    """Whether the page shows none of this cell's code."""
    return bool(HIDDEN_TAGS & set(cell.metadata.get("tags", [])))


def _defined_and_used(source: str) -> tuple[set[str], set[str]]:
    """The names a cell binds, and those it reads before binding them itself."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    defined: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, (ast.Store, ast.Del)) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):  # a function's or a lambda's parameters
            defined.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            defined.update(node.names)
    return defined, used


def names_from_hidden_cells(path: Path) -> list[str]:
    """Each name a visible cell reads that, before it, only hidden cells defined."""
    notebook = nbformat.read(path, as_version=4)
    seen: set[str] = set(dir(builtins)) | KERNEL_NAMES
    hidden_only: set[str] = set()
    problems = []
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        defined, used = _defined_and_used(cell.source)
        if is_hidden(cell):
            hidden_only |= defined - seen
            continue
        for name in sorted((used & hidden_only) - defined):
            first_line = cell.source.strip().splitlines()[0][:60]
            problems.append(f"{path.name}, cell {number} ({first_line!r}): `{name}` is defined only in a hidden cell")
        seen |= defined
        hidden_only -= defined
    return problems


def long_lines(path: Path) -> list[str]:
    """Each visible code line longer than :data:`MAX_LINE` characters."""
    notebook = nbformat.read(path, as_version=4)
    return [
        f"{path.name}, cell {number}: {len(line)} characters: {line[:50]}…"
        for number, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and not is_hidden(cell)
        for line in cell.source.splitlines()
        if len(line) > MAX_LINE
    ]


def _shown_text(output) -> str:
    """The text a page shows for one stored output ('' for pictures, tables and glue)."""
    if output.output_type == "stream":
        return output.text
    data = output.get("data", {})
    if output.output_type in ("execute_result", "display_data") and "text/plain" in data:
        if not {"text/html", "image/png", "text/markdown", "text/latex"} & set(data):
            return data["text/plain"]
    return ""


def long_output_lines(path: Path) -> list[str]:
    """Each line of stored text output longer than :data:`MAX_LINE` that the page shows."""
    notebook = nbformat.read(path, as_version=4)
    hidden_output = HIDDEN_TAGS | {"remove-output"}
    return [
        f"{path.name}, cell {number} output: {len(line)} characters: {line[:50]}…"
        for number, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and not hidden_output & set(cell.metadata.get("tags", []))
        for output in cell.outputs
        for line in _shown_text(output).splitlines()
        if len(line) > MAX_LINE
    ]


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or notebooks()
    failed = False
    for path in paths:
        words = prose_words(path)
        problems = long_lines(path) + long_output_lines(path) + names_from_hidden_cells(path)
        over = words > MAX_PROSE_WORDS and path.parent.name == "chapters"
        failed |= over or bool(problems)
        print(f"{path.name}: {words:,} prose words{' (over ' + format(MAX_PROSE_WORDS, ',') + ')' if over else ''}")
        for problem in problems:
            print(f"  {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
