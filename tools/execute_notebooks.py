"""Execute notebooks in a fresh kernel each; store clean outputs, or measure the run.

Usage: python tools/execute_notebooks.py chapters/*.ipynb    (make notebooks)

Outputs are what a reader should see, so stderr streams (TensorFlow's start-up
log lines, which differ between machines) are dropped, as are execution
timestamps. nbval compares the stored outputs with fresh ones.

:func:`run` is also what the Colab and Binder stand-ins (``tools/stand_in.py``) and the
memory measurement use: it executes a notebook in a fresh kernel of any kernel spec and
reports the wall time and the kernel's peak resident memory.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

#: The last cell :func:`run` appends: it prints the kernel's peak resident memory (Linux).
_PEAK_CELL = "print(next((line for line in open('/proc/self/status') if line.startswith('VmHWM:')), 'VmHWM: 0 kB'))"


@dataclasses.dataclass
class Run:
    """One notebook executed in a fresh kernel."""

    notebook: nbformat.NotebookNode
    seconds: float
    peak_bytes: int


def run(path: Path, *, kernel_name: str = "python3", timeout: int = 1800) -> Run:
    """Execute ``path`` top to bottom in a fresh kernel (from the notebook's own folder).

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises; the message holds the cell and its traceback.
    """
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_PEAK_CELL))
    started = time.perf_counter()
    NotebookClient(
        notebook, timeout=timeout, kernel_name=kernel_name, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    seconds = time.perf_counter() - started
    measured = notebook.cells.pop()
    text = "".join(output.get("text", "") for output in measured.outputs)
    peak_bytes = int(text.split()[1]) * 1024 if text.startswith("VmHWM:") else 0
    return Run(notebook, seconds, peak_bytes)


def execute(path: Path) -> None:
    """Execute ``path`` and store its outputs in place, without stderr or timestamps."""
    result = run(path)
    notebook = result.notebook
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        cell.outputs = [
            output
            for output in cell.outputs
            if not (output.output_type == "stream" and output.name == "stderr")
        ]
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    print(f"{path}: executed in {result.seconds:.0f} s, peak memory {result.peak_bytes / 1e9:.2f} GB")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for name in sys.argv[1:]:
        execute(Path(name))
