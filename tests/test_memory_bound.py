"""The memory bound that every nbval run enforces (root conftest.py), shown to pass and to fail."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    """A tiny project: the book's root conftest.py and a one-cell notebook."""
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), tmp_path / "tiny.ipynb")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the book's pyproject.toml
    return tmp_path


def nbval(project: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "tiny.ipynb"],
        cwd=project, capture_output=True, text=True, env=os.environ | env, timeout=300,
    )


def test_a_notebook_under_the_bound_passes_and_its_peak_is_recorded(project):
    result = nbval(project)
    assert result.returncode == 0, result.stdout[-2000:]
    record = json.loads((project / "artifacts" / "notebook-memory.json").read_text())
    assert 10e6 < record["tiny.ipynb"]["peak_bytes"] < record["tiny.ipynb"]["limit_bytes"] == 1_500_000_000


def test_a_notebook_over_the_bound_fails_with_its_peak(project):
    result = nbval(project, MNIST_BOOK_PEAK_MEMORY_LIMIT="1000000")
    assert result.returncode != 0
    assert "tiny.ipynb peaked at" in result.stdout and "over the book's bound of 0.0 GB" in result.stdout
