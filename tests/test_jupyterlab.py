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


@pytest.fixture
def lab(tmp_path):
    """JupyterLab started by `make lab` on a copy of chapter 1; yields (url, token, folder)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(CHAPTER, folder / CHAPTER.name)
    # Lab's own settings for this run: render every cell (JupyterLab 4 otherwise attaches only
    # the cells in view) and no announcements fetched from the internet.
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
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
        os.killpg(process.pid, signal.SIGTERM)  # make, jupyter lab and its kernels
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_a_chapter_runs_in_jupyterlab(lab, browser):
    url, token, folder = lab
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside = []

    def route(request_route) -> None:
        if request_route.request.url.startswith(url) or request_route.request.url.startswith(("data:", "blob:", "ws://127.0.0.1")):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{url}/lab/tree/{CHAPTER.name}?token={token}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        code_cells = page.locator(".jp-Notebook .jp-CodeCell").count()
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        # Every input prompt numbered ("[7]:"), none waiting or running ("[*]:"), kernel idle.
        page.wait_for_function(
            """(count) => {
                const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
                return prompts.length === count && prompts.every(p => /\\[\\d+\\]/.test(p.textContent))
                    && document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']") !== null;
            }""",
            arg=code_cells,
            timeout=300_000,
        )
        shown_errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count()
        figures = page.locator(".jp-OutputArea-output img").count()
        page.click(".lm-MenuBar-itemLabel:text-is('File')")
        page.click(".lm-Menu-itemLabel:text-is('Save Notebook')")
        page.wait_for_function("() => !document.title.startsWith('*')", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-chapter-1.png"))
    finally:
        context.close()

    saved = nbformat.read(folder / CHAPTER.name, as_version=4)
    stored = nbformat.read(CHAPTER, as_version=4)
    ran = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert len(ran) == code_cells > 5
    assert all(cell.execution_count for cell in ran), "a code cell did not run"
    assert [output.ename for cell in ran for output in cell.outputs if output.output_type == "error"] == []
    assert shown_errors == 0 and errors == [], errors
    expected_figures = sum("image/png" in output.get("data", {}) for cell in stored.cells for output in cell.get("outputs", []))
    assert expected_figures > 0 and figures == expected_figures
    assert outside == [], f"JupyterLab's page asked for other hosts: {outside}"
