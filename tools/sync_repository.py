"""Write the repository's address, from ``_config.yml``, everywhere a reader follows it.

Usage: python -m tools.sync_repository [--check]

The book's GitHub repository and branch are set in one place, ``repository.url`` and
``repository.branch`` in ``_config.yml``. Jupyter Book builds the Binder and Colab launch
buttons from them; this tool writes the two things that cannot read ``_config.yml`` at
run time:

- the first code cell of every chapter, the **Colab set-up cell**. Colab installs nothing
  from the repository a notebook comes from, so in Colab this cell installs the book's
  helpers (``mnist_utils``) from the repository at the book's branch, with the extras of
  ``pyproject.toml`` that the chapter's imports need (``myst-nb``, the ONNX tools). Every
  package Colab already has is pinned at its installed version, so Colab's TensorFlow and
  Keras are never replaced. Outside Colab the cell does nothing. It is hidden from the
  rendered page (tag ``remove-cell``).
- the block of links in ``README.md``, and the clone command on the book's front page
  (``intro.md``), each between the two ``repository links`` markers.

A fork changes ``_config.yml`` and runs ``make sync-repository``. ``--check`` changes nothing
and exits with 1 if a file is out of date; the tests run it.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import yaml

from mnist_utils.files import write_text

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
README = ROOT / "README.md"
INTRO = ROOT / "intro.md"
BEGIN = "<!-- BEGIN repository links: written by `make sync-repository` from _config.yml -->"
END = "<!-- END repository links -->"
#: The first line of every set-up cell; the tests find the cell by it.
SETUP_MARKER = "# Colab set-up (hidden from the rendered book; does nothing outside Google Colab)."
#: Environment variable that points the set-up cell at another source of the helpers, a pip
#: URL such as ``file:///path/to/checkout``: the Colab test uses it for the local checkout.
SOURCE_VARIABLE = "MNIST_BOOK_SOURCE"
#: Extras of ``pyproject.toml`` that a chapter needs when it imports one of these modules.
EXTRA_FOR_MODULE = {
    "myst_nb": "book",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "tf2onnx": "onnx",
    "mnist_utils.export": "onnx",
}


def repository() -> tuple[str, str, str]:
    """The GitHub owner, repository name and branch set in ``_config.yml``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    parts = urlsplit(config["url"])
    match = re.fullmatch(r"/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?", parts.path)
    if parts.netloc != "github.com" or not match:
        raise SystemExit(f"_config.yml: repository.url must be https://github.com/OWNER/REPO, got {config['url']!r}.")
    return match[1], match[2], str(config.get("branch") or "main")


def imported_modules(notebook: nbformat.NotebookNode) -> set[str]:
    """Every module a notebook's code cells import, by its full dotted name."""
    modules = set()
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.source.startswith(SETUP_MARKER):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module)
    return modules


def extras_for(notebook: nbformat.NotebookNode) -> list[str]:
    """The extras of ``mnist-utils`` that a chapter's imports need."""
    modules = imported_modules(notebook)
    return sorted(
        {extra for module, extra in EXTRA_FOR_MODULE.items() if any(m == module or m.startswith(module + ".") for m in modules)}
    )


def setup_cell_source(notebook: nbformat.NotebookNode) -> str:
    """The Colab set-up cell for ``notebook``."""
    owner, name, branch = repository()
    extras = extras_for(notebook)
    requirement = "mnist-utils" + (f"[{','.join(extras)}]" if extras else "")
    return f'''{SETUP_MARKER}
# Colab installs nothing from the book's repository: this installs the book's helpers and
# what this chapter needs that Colab lacks. What Colab has keeps its version (TensorFlow too).
import sys

if "google.colab" in sys.modules:
    import importlib, os, re, subprocess, tempfile
    from importlib import metadata
    from packaging.version import InvalidVersion, Version

    source = os.environ.get("{SOURCE_VARIABLE}", "git+https://github.com/{owner}/{name}@{branch}")
    installed = {{}}
    for dist in metadata.distributions():
        key = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        try:
            Version(dist.version)  # pins that pip could not read are left out
        except InvalidVersion:
            continue
        if key and key != "mnist-utils":
            installed.setdefault(key, dist.version)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
        pins.writelines(f"{{key}}=={{version}}\\n" for key, version in installed.items())
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--constraint", pins.name,
                        f"{requirement} @ {{source}}"], check=True)
    finally:
        os.remove(pins.name)
    importlib.invalidate_caches()'''


def readme_block() -> str:
    """The README's links to the published book, Binder, Colab and the repository."""
    owner, name, branch = repository()
    first = CHAPTERS[0].relative_to(ROOT).as_posix()
    return "\n".join(
        [
            BEGIN,
            f"- **Read it online:** <https://{owner.lower()}.github.io/{name}/> (published from `{branch}` by"
            " `.github/workflows/book.yml`).",
            f"- **Run it in Binder:** [![Binder](https://mybinder.org/badge_logo.svg)]"
            f"(https://mybinder.org/v2/gh/{owner}/{name}/{branch}?urlpath=lab/tree/{first}) (JupyterLab, with the"
            " book's exact package versions from `binder/`).",
            f"- **Run it in Colab:** [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/{first}) (each chapter's first"
            " cell installs the book's helpers; Colab's own TensorFlow and Keras are kept).",
            f"- **Work on it:** `git clone https://github.com/{owner}/{name}.git`",
            END,
        ]
    )


def intro_block() -> str:
    """The book's front page: how to clone and run it."""
    owner, name, _ = repository()
    return "\n".join(
        [
            BEGIN,
            "```bash",
            f"git clone https://github.com/{owner}/{name}.git",
            f"cd {name}",
            "make lab    # creates .venv, installs the pinned requirements, opens JupyterLab",
            "```",
            END,
        ]
    )


def sync(check: bool) -> list[str]:
    """Bring every chapter's set-up cell and the README up to date; return what was (or is) stale."""
    stale = []
    for path in CHAPTERS:
        notebook = nbformat.read(path, as_version=4)
        source = setup_cell_source(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        if code and code[0].source.startswith(SETUP_MARKER):
            cell = code[0]
            if cell.source == source and cell.metadata.get("tags") == ["remove-cell"]:
                continue
            cell.source = source
        else:
            # A new first code cell: every later cell's execution count moves up by one.
            for other in code:
                if other.execution_count is not None:
                    other.execution_count += 1
            cell = nbformat.v4.new_code_cell(source, execution_count=1)
            position = notebook.cells.index(code[0]) if code else len(notebook.cells)
            notebook.cells.insert(position, cell)
        cell.metadata["tags"] = ["remove-cell"]
        cell.outputs = []
        stale.append(str(path.relative_to(ROOT)))
        if not check:
            nbformat.write(notebook, path)
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    for path, block in ((README, readme_block()), (INTRO, intro_block())):
        text = path.read_text()
        if not pattern.search(text):
            raise SystemExit(f"{path.name} has no block between {BEGIN!r} and {END!r}.")
        updated = pattern.sub(lambda _: block, text)
        if updated != text:
            stale.append(path.name)
            if not check:
                write_text(path, updated)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    stale = sync(args.check)
    if args.check and stale:
        print("Out of date with _config.yml (run make sync-repository):", ", ".join(stale), file=sys.stderr)
        return 1
    for name in stale:
        print(f"updated {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
