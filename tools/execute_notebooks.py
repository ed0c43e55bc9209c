"""Execute notebooks in a fresh kernel each; store clean outputs, or measure the run.

Usage: python -m tools.execute_notebooks chapters/*.ipynb    (make notebooks)

Outputs are what a reader should see, so stderr streams (TensorFlow's start-up
log lines, which differ between machines) are dropped, as are execution
timestamps. nbval compares the stored outputs with fresh ones.

:func:`run` is also what the Colab and Binder stand-ins (``tools/stand_in.py``) and the
memory measurement use: it executes a notebook in a fresh kernel of any kernel spec and
reports the wall time and the kernel's peak resident memory. Each figure it stores records
the size of its smallest text (:data:`FONT_KEY`), which the site test checks.
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

#: PNG text keys that say how large a stored figure's smallest text is; the site test reads
#: them to check that every figure's text is readable in the page's content column.
FONT_KEY = "mnist-book:smallest-font-pt"
DPI_KEY = "mnist-book:dpi"

#: The first cell :func:`run` inserts (and removes again): from then on every figure the
#: kernel saves as PNG carries, in two text chunks, the size in points of the smallest text
#: it draws and the resolution it is saved at. Fonts are recorded as matplotlib draws them,
#: so tick labels, legends, annotations and titles all count, and hidden ones do not.
_FIGURE_CELL = f"""
def _record_smallest_font():
    import matplotlib.text
    from matplotlib.backend_bases import FigureCanvasBase

    sizes = None
    draw_text, print_figure = matplotlib.text.Text.draw, FigureCanvasBase.print_figure

    def draw(text, renderer):
        if sizes is not None and text.get_visible() and text.get_text().strip():
            sizes.append(text.get_fontsize())
        return draw_text(text, renderer)

    def record(canvas, filename, *args, **kwargs):
        nonlocal sizes
        if kwargs.get("format", "png") != "png":
            return print_figure(canvas, filename, *args, **kwargs)
        sizes = []
        try:
            canvas.figure.draw_without_rendering()
        finally:
            found, sizes = sizes, None
        metadata = dict(kwargs.get("metadata") or {{}})
        metadata[{DPI_KEY!r}] = str(kwargs.get("dpi") or canvas.figure.dpi)
        if found:
            metadata[{FONT_KEY!r}] = str(min(found))
        return print_figure(canvas, filename, *args, **{{**kwargs, "metadata": metadata}})

    matplotlib.text.Text.draw, FigureCanvasBase.print_figure = draw, record

_record_smallest_font()
del _record_smallest_font
"""


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
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_FIGURE_CELL))
    notebook.cells.append(nbformat.v4.new_code_cell(_PEAK_CELL))
    started = time.perf_counter()
    NotebookClient(
        notebook, timeout=timeout, kernel_name=kernel_name, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    seconds = time.perf_counter() - started
    measured = notebook.cells.pop()
    notebook.cells.pop(0)
    _renumber(notebook)
    text = "".join(output.get("text", "") for output in measured.outputs)
    peak_bytes = int(text.split()[1]) * 1024 if text.startswith("VmHWM:") else 0
    return Run(notebook, seconds, peak_bytes)


def _renumber(notebook: nbformat.NotebookNode) -> None:
    """Number the code cells 1, 2, 3, ... again, as if the inserted first cell had not run."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.execution_count:
            cell.execution_count -= 1
            for output in cell.outputs:
                if output.get("execution_count"):
                    output.execution_count -= 1


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
