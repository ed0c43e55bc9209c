"""Execute notebooks in place, in a fresh kernel each, and store clean outputs.

Usage: python tools/execute_notebooks.py chapters/*.ipynb

Outputs are what a reader should see, so stderr streams (TensorFlow's start-up
log lines, which differ between machines) are dropped, as are execution
timestamps. nbval compares the stored outputs with fresh ones.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(
        notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
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
    print(f"{path}: executed in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for name in sys.argv[1:]:
        execute(Path(name))
