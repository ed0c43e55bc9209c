"""The Colab stand-in's packages: written from Google's published list, and the book's floors follow them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tools import colab_runtime
from tools.colab_runtime import BOOK_TOUCHES, CONSTRAINTS, PREINSTALLED, normalise, read_freeze, read_preinstalled

ROOT = Path(__file__).resolve().parents[1]

FREEZE = "\n".join([
    "# Do not modify this file directly",
    "absl-py==1.4.0",
    "google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz",
    "torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-manylinux_2_28_x86_64.whl",
    "jax-cuda12-plugin==0.7.2+cuda12",
    "Jupyter_Client==7.4.9",
    *[f"{name}==1.{index}" for index, name in enumerate(BOOK_TOUCHES) if name != "jupyter-client"],
])
OS_INFO = "# generated\nUbuntu 22.04.5 LTS\nPython 3.13.15\nR version 4.6.1\n"


def test_the_freeze_gives_every_installable_pin_by_normalised_name():
    pins = read_freeze(FREEZE)
    assert pins["jupyter-client"] == "7.4.9" and pins["absl-py"] == "1.4.0"
    assert "google-colab" not in pins and "torch" not in pins  # URLs: not from an index
    assert "jax-cuda12-plugin" not in pins  # a local version: not from an index
    assert colab_runtime.read_python(OS_INFO) == "3.13"


def test_refresh_writes_the_books_packages_and_the_constraints(tmp_path, monkeypatch, capsys):
    (tmp_path / "pip-freeze.txt").write_text(FREEZE)
    (tmp_path / "os-info.txt").write_text(OS_INFO)
    monkeypatch.setattr(colab_runtime, "PREINSTALLED", tmp_path / "preinstalled.txt")
    monkeypatch.setattr(colab_runtime, "CONSTRAINTS", tmp_path / "constraints.txt")
    assert colab_runtime.main([str(tmp_path / "pip-freeze.txt"), str(tmp_path / "os-info.txt"), "--source", "x"]) == 0
    python, pins = read_preinstalled(tmp_path / "preinstalled.txt")
    assert python == "3.13" and list(pins) == list(BOOK_TOUCHES) and pins["jupyter-client"] == "7.4.9"
    assert read_freeze((tmp_path / "constraints.txt").read_text()) == read_freeze(FREEZE)
    assert "now run make colab-test" in capsys.readouterr().out


@pytest.mark.parametrize(("freeze", "os_info", "fragment"), [
    ("not a freeze", OS_INFO, "has no 'name==version' line"),
    (FREEZE, "Ubuntu 22.04.5 LTS\n", "no 'Python 3.X.Y' line"),
    (FREEZE.replace("tensorflow==", "tensorflow-cpu=="), OS_INFO, "Colab's list lacks tensorflow"),
])
def test_refresh_says_what_is_wrong_with_its_files(tmp_path, monkeypatch, capsys, freeze, os_info, fragment):
    (tmp_path / "f").write_text(freeze)
    (tmp_path / "o").write_text(os_info)
    monkeypatch.setattr(colab_runtime, "PREINSTALLED", tmp_path / "preinstalled.txt")
    monkeypatch.setattr(colab_runtime, "CONSTRAINTS", tmp_path / "constraints.txt")
    with pytest.raises(SystemExit) as stop:
        colab_runtime.main([str(tmp_path / "f"), str(tmp_path / "o")])
    assert stop.value.code == 2 and fragment in capsys.readouterr().err
    assert not (tmp_path / "preinstalled.txt").exists()


def test_the_committed_packages_agree_with_their_constraints():
    _, pins = read_preinstalled()
    constraints = read_freeze(CONSTRAINTS.read_text())
    assert list(pins) == list(BOOK_TOUCHES)
    assert all(constraints[name] == version for name, version in pins.items())


def test_the_books_floors_are_colabs_versions():
    """pyproject.toml's oldest supported versions are exactly what make colab-test runs."""
    _, pins = read_preinstalled()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = normalise(requirement.name)
        assert str(requirement.specifier) == f">={pins[name]}", (name, pins[name])
    python, _ = read_preinstalled()
    assert f"Programming Language :: Python :: {python}" in project["classifiers"]
    assert PREINSTALLED.is_file()
