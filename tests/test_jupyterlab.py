"""`make lab`, tried as a reader would: JupyterLab in headless Chromium runs a chapter.

The test starts JupyterLab with the README's own command (`make lab`) on 127.0.0.1, on a
free port and with a token, serving a copy of chapter 1 (the helpers import, the data
loads, figures are drawn). Chromium opens the notebook, runs every cell through
JupyterLab's menu (Run → Run All Cells), waits for the kernel, and saves the notebook with
File → Save. Every code cell must have run, none may show an error, and every figure of
the stored chapter must be drawn again. JupyterLab and every process it started are
stopped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from browser import ARTIFACTS, ROOT

pytestmark = pytest.mark.book
CHAPTER = ROOT / "chapters" / "01_data_exploration.ipynb"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


BROKEN = "broken.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started by `make lab` on a copy of chapter 1; yields (url, token, folder).

    The folder also holds :data:`BROKEN`, chapter 1 with a last cell that raises, to show
    that the checks below do catch an error.
    """
    tmp_path = tmp_path_factory.mktemp("lab")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(CHAPTER, folder / CHAPTER.name)
    broken = nbformat.read(CHAPTER, as_version=4)
    broken.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("a broken cell")'))
    nbformat.write(broken, folder / BROKEN)
    # Lab's own settings for this run: render every cell (JupyterLab 4 otherwise attaches only
    # the cells in view) and no announcements fetched from the internet.
    settings = tmp_path / "settings" / "@jupyterlab"
    for extension, name, values in (
        ("notebook-extension", "tracker", {"windowingMode": "none"}),
        ("apputils-extension", "notification", {"fetchNews": "false"}),
    ):
        (settings / extension).mkdir(parents=True)
        (settings / extension / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    args = (
        f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token} "
        "--ServerApp.port_retries=0 --LabApp.news_url=None "
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"
    )
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    log = (tmp_path / "lab.log").open("w")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-s", "lab", f"LAB_DIR={folder}", f"LAB_ARGS={args}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, token, folder
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen) -> None:
    """End `make`, JupyterLab and every kernel it started: the whole process group."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass  # already gone
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def run_all_cells(browser, lab, name: str) -> dict:
    """Open ``name`` in JupyterLab, Run → Run All Cells, File → Save; report what happened."""
    url, token, folder = lab
    expected = nbformat.read(folder / name, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in expected.cells)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside, page_errors = [], []

    def route(request_route) -> None:
        if request_route.request.url.startswith((url, "data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        # A workspace of its own, so that no notebook opened before is restored beside it.
        page.goto(f"{url}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}", wait_until="domcontentloaded")
        page.wait_for_function(
            "(count) => document.querySelectorAll('.jp-Notebook .jp-CodeCell').length === count",
            arg=code_cells, timeout=120_000,
        )
        # The kernel's session is connected when the status bar names the kernel as idle.
        page.wait_for_function(
            "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent ?? '')",
            timeout=120_000,
        )
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        # Every input prompt numbered ("[7]:"), none waiting or running ("[*]:"), kernel idle.
        # A failing cell stops Run All: the cells after it keep an empty prompt.
        done = """(count) => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
            const error = document.querySelector(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']");
            return prompts.length === count && (error !== null || prompts.every(p => /^\\[\\d+\\]/.test(p.textContent.trim())))
                && document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']") !== null;
        }"""
        deadline = time.monotonic() + 300
        while not page.evaluate(done, code_cells):
            if time.monotonic() > deadline:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "jupyterlab-timeout.png"))
                prompts = page.evaluate("[...document.querySelectorAll('.jp-InputPrompt')].map(p => p.textContent)")
                pytest.fail(f"the cells did not all run within 300 s: prompts {prompts}")
            time.sleep(1)
        # JupyterLab shows errors, and anything written to stderr, as "stderr" outputs;
        # chapter 1 writes nothing there.
        shown_errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
        figures = page.locator(".jp-OutputArea-output img").count()
        page.click(".lm-MenuBar-itemLabel:text-is('File')")
        page.click(".lm-Menu-itemLabel:text-is('Save Notebook')")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"jupyterlab-{Path(name).stem}.png"))
        deadline = time.monotonic() + 30
        while True:  # saved when the file on disk holds the run's first execution count
            saved = nbformat.read(folder / name, as_version=4)
            if next(cell for cell in saved.cells if cell.cell_type == "code").execution_count:
                break
            assert time.monotonic() < deadline, "JupyterLab did not save the notebook"
            time.sleep(0.5)
    finally:
        context.close()
    ran = [cell for cell in saved.cells if cell.cell_type == "code"]
    return {
        "code_cells": code_cells,
        "ran": sum(bool(cell.execution_count) for cell in ran),
        "saved_errors": [output.ename for cell in ran for output in cell.outputs if output.output_type == "error"],
        "shown_errors": shown_errors,
        "figures": figures,
        "page_errors": page_errors,
        "outside": outside,
    }


def test_a_chapter_runs_in_jupyterlab(lab, browser):
    result = run_all_cells(browser, lab, CHAPTER.name)
    assert result["code_cells"] > 5 and result["ran"] == result["code_cells"], result
    assert result["saved_errors"] == [] and result["shown_errors"] == 0, result
    assert result["page_errors"] == [], result
    stored = nbformat.read(CHAPTER, as_version=4)
    expected_figures = sum("image/png" in output.get("data", {}) for cell in stored.cells for output in cell.get("outputs", []))
    assert expected_figures > 0 and result["figures"] == expected_figures, result
    assert result["outside"] == [], f"JupyterLab's page asked for other hosts: {result['outside']}"


def test_an_error_in_a_cell_is_caught(lab, browser):
    result = run_all_cells(browser, lab, BROKEN)
    assert result["saved_errors"] == ["RuntimeError"] and result["shown_errors"] == 1, result
