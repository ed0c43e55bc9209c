"""House rules for the chapters: structure, stored outputs, and justified nbval exemptions."""

from __future__ import annotations

from pathlib import Path

import subprocess
import sys

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
#: The cell metadata key that says why nbval does not compare a cell's output; readers never see it.
REASON_KEY = "nbval-reason"
from tools.sync_repository import SETUP_MARKER, extras_for


def test_every_chapter_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {entry["file"] for part in toc["parts"] for entry in part["chapters"]}
    assert CHAPTERS and {f"chapters/{path.stem}" for path in CHAPTERS} <= listed


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_structure_and_stored_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "**In this chapter you will learn**" in markdown
    assert "## Summary" in markdown
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    # Executed top to bottom in one fresh kernel: execution counts 1, 2, 3, ...
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code:
        for output in cell.outputs:
            assert output.get("name") != "stderr", f"stored stderr in {path.name}: run make notebooks"
            assert output.output_type != "error" or "raises-exception" in cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_nbval_exemption_says_why(path):
    """Each exempted cell gives its reason in its metadata, outside the reader's view."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        exempt = "nbval-ignore-output" in tags or "nbval-skip" in tags
        reason = cell.metadata.get(REASON_KEY, "")
        if exempt:
            assert isinstance(reason, str) and len(reason.split()) >= 5, f"no reason in {REASON_KEY}: {cell.source[:200]}"
        else:
            assert not reason, f"{REASON_KEY} on a cell nbval compares: {cell.source[:200]}"
        assert "NBVAL_IGNORE_OUTPUT" not in cell.source and "NBVAL_SKIP" not in cell.source
        assert "not compared by nbval" not in cell.source, "the reason belongs in the cell's metadata"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_accuracy_floors_are_hidden_asserts(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        floors = [line for line in cell.source.splitlines() if line.startswith("assert") and ">=" in line]
        if cell.cell_type == "code" and floors:
            assert "remove-cell" in cell.metadata.get("tags", []), floors


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_opens_with_the_hidden_colab_set_up_cell(path):
    notebook = nbformat.read(path, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.source.startswith(SETUP_MARKER)
    assert first.metadata.get("tags") == ["remove-cell"] and first.outputs == []
    assert 'if "google.colab" in sys.modules:' in first.source  # nothing happens outside Colab
    assert "book" in extras_for(notebook)  # every chapter glues its numbers with myst-nb


def test_chapter_8_installs_the_onnx_tools_in_colab():
    notebook = nbformat.read(ROOT / "chapters" / "08_draw_a_digit.ipynb", as_version=4)
    assert extras_for(notebook) == ["book", "onnx"]
    assert "mnist-utils[book,onnx] @" in notebook.cells[[c.cell_type for c in notebook.cells].index("code")].source


@pytest.mark.parametrize("tool", ["sync_repository.py", "binder_requirements.py"])
def test_generated_files_are_up_to_date(tool):
    """The Colab cells and README links follow _config.yml; binder/ follows constraints.txt."""
    if tool == "binder_requirements.py" and sys.version_info[:2] != (3, 11):
        pytest.skip("binder/requirements.txt is the closure of the locked Python 3.11 environment")
    result = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_binder_requirements_are_fully_pinned_with_no_local_reference():
    lines = [line for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines and all("==" in line and not line.startswith(("-", ".", "/")) for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"tensorflow", "keras", "jupyterlab", "myst-nb", "onnxruntime"} <= names
    assert not names & {"pytest", "nbval", "jupyter-book", "playwright"}
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert post_build.startswith("#!/bin/bash") and "set -e" in post_build and "--no-deps -e ." in post_build
    # Sessions start with both models saved: postBuild loads or trains every recipe.
    assert "\npython -m mnist_utils.training\n" in post_build
    # make test trains nothing before nbval: chapter 4 trains the MLP and chapter 6 the CNN.
    makefile = (ROOT / "Makefile").read_text()
    test_recipe = makefile[makefile.index("\ntest:"):makefile.index("\nunit:")]
    assert "mnist_utils.training" not in test_recipe and "mnist_utils.ensemble" not in test_recipe


def test_a_fork_changes_the_address_in_one_place(tmp_path, monkeypatch):
    """A new repository.url in _config.yml: the check fails until the sync rewrites every copy."""
    import shutil

    from tools import sync_repository

    for name in ("_config.yml", "README.md", "intro.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "chapters", tmp_path / "chapters")
    config = (tmp_path / "_config.yml").read_text()
    (tmp_path / "_config.yml").write_text(config.replace(yaml.safe_load(config)["repository"]["url"], "https://github.com/a-reader/my-fork"))
    monkeypatch.setattr(sync_repository, "ROOT", tmp_path)
    monkeypatch.setattr(sync_repository, "README", tmp_path / "README.md")
    monkeypatch.setattr(sync_repository, "INTRO", tmp_path / "intro.md")
    monkeypatch.setattr(sync_repository, "CHAPTERS", sorted((tmp_path / "chapters").glob("*.ipynb")))
    assert len(sync_repository.sync(check=True)) == len(CHAPTERS) + 2  # every chapter, README and intro
    sync_repository.sync(check=False)
    assert sync_repository.sync(check=True) == []
    first = next(c for c in nbformat.read(tmp_path / "chapters" / CHAPTERS[0].name, as_version=4).cells if c.cell_type == "code")
    assert "git+https://github.com/a-reader/my-fork@main" in first.source
    assert "https://a-reader.github.io/my-fork/" in (tmp_path / "README.md").read_text()
    assert "git clone https://github.com/a-reader/my-fork.git" in (tmp_path / "intro.md").read_text()


@pytest.mark.parametrize("path", CHAPTERS + [ROOT / "appendix" / "performance.ipynb"], ids=lambda p: p.stem)
def test_no_cell_exempt_from_nbval_holds_a_number_the_prose_quotes(path):
    """An exempt cell holds only what varies from run to run (wall times); it glues nothing."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and ("nbval-ignore-output" in tags or "nbval-skip" in tags):
            assert "glue(" not in cell.source, f"{path.name}: an exempt cell glues: {cell.source[:200]}"


def test_chapter_6_fetches_the_benchmark_record_in_colab(tmp_path, monkeypatch):
    """Colab opens chapter 6 alone: its hidden set-up cell brings the benchmark's record along."""
    import types
    import urllib.request

    notebook = nbformat.read(ROOT / "chapters" / "06_convolutional_networks.ipynb", as_version=4)
    cell = next(cell for cell in notebook.cells if cell.cell_type == "code"
                and "results.json" in cell.source and 'if "google.colab" in sys.modules' in cell.source)
    assert cell.metadata.get("tags") == ["remove-cell"]
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.chdir(content)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    # A checkout, as the Colab stand-in installs from: the record is copied from it.
    exec(cell.source, {"sys": sys, "source": f"git+file://{ROOT}"})
    copied = tmp_path / "benchmarks" / "results.json"
    assert copied.read_bytes() == (ROOT / "benchmarks" / "results.json").read_bytes()
    # GitHub, as on Colab itself: the raw file of the same repository and branch.
    fetched = []
    monkeypatch.setattr(urllib.request, "urlretrieve", lambda url, path: fetched.append((url, str(path))))
    exec(cell.source, {"sys": sys, "source": "git+https://github.com/owner/book@main"})
    assert fetched == [("https://raw.githubusercontent.com/owner/book/main/benchmarks/results.json",
                        "../benchmarks/results.json")]
