"""Peak memory of every chapter run alone in a fresh kernel, as Binder runs it.

Usage: python -m benchmarks.memory [--output benchmarks/memory.json]    (make memory)

Each chapter is executed top to bottom in a fresh kernel twice:

- ``saved``: the trained models are in the cache, as a Binder session starts
  (both networks of :data:`mnist_utils.training.RECIPES`, which ``binder/postBuild`` saves);
- ``none saved``: each run gets an empty cache, as when a reader opens a chapter before
  chapters 4 and 6 have saved the models. A chapter that needs a model then trains it in its
  own kernel (``load_or_train``). Binder sessions never start so: ``binder/postBuild`` trains
  them when the image is built.

For each run the kernel's peak resident memory (``VmHWM``) and the wall time are written to
the JSON file, with the bound the book keeps with the models saved (``PEAK_MEMORY_LIMIT_BYTES``
of the root ``conftest.py``, which also enforces it on every nbval run); the script fails if
a chapter passes it. The Performance appendix renders the file. Takes about 35 minutes on a
2-core CPU (``total_seconds`` in the file is the last run's).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from conftest import PEAK_MEMORY_LIMIT_BYTES
from mnist_utils.files import write_text
from tools.execute_notebooks import run

ROOT = Path(__file__).resolve().parent.parent


def measure(paths: list[Path], cache: Path | None) -> dict[str, dict]:
    """Run each notebook alone; return its kernel's peak bytes and its seconds.

    With ``cache``, every kernel uses that model cache; without, each gets a new empty one,
    so that no chapter finds a model an earlier one saved.
    """
    results = {}
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="mnist-book-empty-cache-") as empty:
            os.environ["MNIST_BOOK_CACHE"] = str(cache or empty)  # the kernel inherits it
            result = run(path)
        results[path.stem] = {"peak_bytes": result.peak_bytes, "seconds": round(result.seconds, 1)}
        print(f"{path.stem}: {result.peak_bytes / 1e9:.2f} GB, {result.seconds:.0f} s", flush=True)
    return results


def baseline() -> dict:
    """The peak of a fresh kernel that only imports TensorFlow: the floor under every chapter."""
    with tempfile.TemporaryDirectory(prefix="mnist-book-baseline-") as folder:
        path = Path(folder) / "import_tensorflow.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import tensorflow")]), path)
        result = run(path)
    print(f"a kernel that imports TensorFlow: {result.peak_bytes / 1e9:.2f} GB", flush=True)
    return {"peak_bytes": result.peak_bytes, "seconds": round(result.seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "memory.json")
    parser.add_argument("chapters", nargs="*", type=Path, help="notebooks (default: every chapter)")
    args = parser.parse_args(argv)
    paths = args.chapters or sorted((ROOT / "chapters").glob("*.ipynb"))
    saved_cache = Path(os.environ.get("MNIST_BOOK_CACHE") or ROOT / ".cache")

    from mnist_utils.training import RECIPES, load_or_train

    os.environ["MNIST_BOOK_CACHE"] = str(saved_cache)
    for recipe in RECIPES.values():
        load_or_train(recipe)  # the "saved" runs start as a Binder session: these models in the cache
    started = time.perf_counter()
    print("models saved:", flush=True)
    saved = measure(paths, saved_cache)
    print("no model saved:", flush=True)
    none_saved = measure(paths, None)
    import tensorflow as tf

    results = {
        "limit_bytes": PEAK_MEMORY_LIMIT_BYTES,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "tensorflow": tf.__version__},
        "total_seconds": round(time.perf_counter() - started),
        "import_tensorflow": baseline(),
        "chapters": {name: {"models_saved": saved[name], "no_model_saved": none_saved[name]} for name in saved},
    }
    write_text(args.output, json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.output}")
    # The bound holds with the models saved: how every Binder session starts (binder/postBuild
    # trains them). With none saved, a chapter carries a training's memory too: reported only.
    over = [name for name, runs in results["chapters"].items()
            if runs["models_saved"]["peak_bytes"] > PEAK_MEMORY_LIMIT_BYTES]
    if over:
        print(f"over the {PEAK_MEMORY_LIMIT_BYTES / 1e9:.1f} GB bound: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
