"""pytest configuration for the whole repository (nbval runs on chapters/, outside tests/)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mnist_utils.processes import peak_memory_bytes
from mnist_utils.files import write_text

ROOT = Path(__file__).resolve().parent
#: mybinder.org guarantees 1 GB and stops a session at 2 GB; the book keeps each chapter,
#: run alone in a fresh kernel, under this peak resident memory (README, "Where it runs").
PEAK_MEMORY_LIMIT_BYTES = 1_500_000_000
#: A lower bound for this run only, in bytes (the tests use it to show the check can fail).
LIMIT_VARIABLE = "MNIST_BOOK_PEAK_MEMORY_LIMIT"
#: Where each run of nbval records the kernels' peak memory, one entry per notebook.
MEMORY_RECORD = ROOT / "artifacts" / "notebook-memory.json"


def pytest_collectstart(collector):
    """Leave stderr out of nbval's comparison.

    TensorFlow and Keras write start-up log lines and warnings to stderr, which differ
    between machines and library builds; the stored notebooks keep no stderr at all.
    """
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


def _kernel_peak_bytes(notebook) -> int | None:
    """Peak resident memory (``VmHWM``) of the kernel nbval started for ``notebook``."""
    kernel = getattr(notebook, "kernel", None)
    pid = getattr(getattr(getattr(kernel, "km", None), "provisioner", None), "pid", None)
    return None if pid is None else peak_memory_bytes(pid)  # None also off Linux (no /proc)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a notebook's last cell, record its kernel's peak memory and enforce the bound.

    nbval runs each notebook in a fresh kernel, so the peak is the chapter's own, from its
    first import to its last cell. It is read before nbval's teardown stops the kernel. A
    chapter over the bound fails at the teardown of its last cell, with the figure in the
    message.
    """
    notebook = item.parent
    last_cell = str(item.fspath).endswith(".ipynb") and (nextitem is None or nextitem.parent is not notebook)
    peak = _kernel_peak_bytes(notebook) if last_cell else None
    result = yield
    if peak is None:
        return result
    limit = int(os.environ.get(LIMIT_VARIABLE, PEAK_MEMORY_LIMIT_BYTES))
    name = Path(str(item.fspath)).relative_to(ROOT).as_posix()
    record = json.loads(MEMORY_RECORD.read_text()) if MEMORY_RECORD.is_file() else {}
    record[name] = {"peak_bytes": peak, "limit_bytes": limit}
    MEMORY_RECORD.parent.mkdir(parents=True, exist_ok=True)
    write_text(MEMORY_RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")
    if peak > limit:
        raise AssertionError(
            f"{name} peaked at {peak / 1e9:.2f} GB of resident memory, over the book's bound of "
            f"{limit / 1e9:.1f} GB (Binder stops a session at 2 GB): "
            "reduce what the chapter holds in memory at once."
        )
    return result
