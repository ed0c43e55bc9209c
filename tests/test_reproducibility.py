"""The book's kernels on every CPU: importing mnist_utils turns TensorFlow's oneDNN kernels off
before TensorFlow loads, every notebook and script imports it first, and ``set_seed`` warns
when they are on anyway (mnist_utils/reproducibility.py)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mnist_utils.reproducibility import BOOK_ENVIRONMENT, ONEDNN_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*(ROOT / "chapters").glob("*.ipynb"), *(ROOT / "appendix").glob("*.ipynb")])
SCRIPTS = sorted([*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "tools").glob("*.py")])
#: Modules whose import loads TensorFlow.
TENSORFLOW_MODULES = {"tensorflow", "keras", "tf_keras", "tf2onnx"}

PROBE = """
import json, os, sys, warnings
{first}
from mnist_utils.reproducibility import OneDNNWarning, onednn_enabled
from mnist_utils.training import set_seed
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    set_seed(0)
print(json.dumps({{"variable": os.environ.get("{variable}"), "onednn": onednn_enabled(),
                  "warnings": [str(w.message) for w in caught if issubclass(w.category, OneDNNWarning)]}}))
"""


def probe(first: str, variable: str | None) -> dict:
    """Run :data:`PROBE` in a fresh Python, with ``first`` as its first import and the variable set or not."""
    env = {key: value for key, value in os.environ.items() if key != ONEDNN_VARIABLE}
    if variable is not None:
        env[ONEDNN_VARIABLE] = variable
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run([sys.executable, "-c", PROBE.format(first=first, variable=ONEDNN_VARIABLE)],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_mnist_utils_first_turns_onednn_off():
    seen = probe("import mnist_utils, tensorflow", None)
    assert seen == {"variable": BOOK_ENVIRONMENT[ONEDNN_VARIABLE], "onednn": False, "warnings": []}


def test_a_readers_own_setting_is_kept_and_set_seed_says_the_numbers_will_differ():
    seen = probe("import mnist_utils", "1")
    assert seen["variable"] == "1" and seen["onednn"] is True
    [message] = seen["warnings"]
    assert f"{ONEDNN_VARIABLE}=1 is set" in message and f"set {ONEDNN_VARIABLE}=0" in message


def test_set_seed_names_tensorflow_imported_first_as_the_cause():
    seen = probe("import tensorflow, mnist_utils", "1")
    [message] = seen["warnings"]
    assert "TensorFlow was imported before mnist_utils" in message
    assert "Import mnist_utils before TensorFlow and Keras" in message


def imports(tree: ast.Module) -> list[str]:
    """The top-level module names a cell or script imports, in order."""
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module.split(".")[0])
    return names


def parse(source: str) -> ast.Module:
    """A code cell's source as Python: IPython's magics and shell lines (``%``, ``!``) left out."""
    return ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))


def first_imports(path: Path) -> list[str]:
    """Every top-level import of a notebook's code cells or a script, in the order they run."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return [name for cell in notebook.cells if cell.cell_type == "code" for name in imports(parse(cell.source))]
    names = imports(ast.parse(path.read_text()))
    package = path.parent / "__init__.py"
    if path.name != "__init__.py" and package.is_file():  # a package's __init__ runs before its modules
        names = imports(ast.parse(package.read_text())) + names
    return names


@pytest.mark.parametrize("path", NOTEBOOKS + SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_mnist_utils_is_imported_before_tensorflow(path):
    names = first_imports(path)
    loads_tensorflow = [index for index, name in enumerate(names) if name in TENSORFLOW_MODULES]
    if loads_tensorflow:
        assert "mnist_utils" in names[: loads_tensorflow[0]], (
            f"{path.name} imports {names[loads_tensorflow[0]]} before mnist_utils, so TensorFlow's oneDNN "
            "kernels may be on and its numbers differ from the stored ones on some CPUs")


def test_the_import_order_check_can_fail():
    assert imports(parse("import keras\nfrom mnist_utils.data import load_mnist")) == ["keras", "mnist_utils"]
    assert imports(parse("%matplotlib inline\nimport mnist_utils\nimport keras")) == ["mnist_utils", "keras"]
