"""Section ``book_build``: the time of a clean and of a cached build of the book."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, timed_median


def book_build(repeats: int) -> dict:
    """Wall time of a clean build and of a cached rebuild of the book (``jupyter-book build``).

    The build renders the outputs stored in the notebooks and executes none of them; the
    web assets, with the exported models, are those ``make web`` built in ``_web``.
    """
    work = Path(tempfile.mkdtemp(prefix="mnist-book-bench-"))
    try:
        tree = work / "book"
        skip = shutil.ignore_patterns(".git", ".venv", "_build", ".cache", "artifacts", "node_modules")
        shutil.copytree(ROOT, tree, ignore=skip)  # keeps _web: the web assets `make web` built
        env = dict(os.environ, MNIST_BOOK_CACHE=str(work / "cache"))
        command = [str(Path(sys.executable).parent / "jupyter-book"), "build", "--warningiserror", "--nitpick",
                   "--keep-going", "."]

        def run() -> None:
            done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the book build failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

        clean, _ = timed_median(run, 1)
        cached, cached_times = timed_median(run, repeats)
        return {"clean_build_s": clean, "cached_rebuild_s": cached, "cached_rebuild_times_s": cached_times}
    finally:
        shutil.rmtree(work, ignore_errors=True)
