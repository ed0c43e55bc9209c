"""Wait until the book's trained models are saved, or until the notebooks' run has ended.

Usage: python -m tools.wait_for_models [--done artifacts/notebooks.done] [--timeout 3600]

``make test`` runs strict nbval on the chapters beside the unit tests: chapter 4 saves the
MLP and chapter 6 the CNN in the model cache. The book build exports both to ONNX, so once
the unit tests are done it waits here for them and then builds the book while the last
chapters still run. If the notebooks' run ends first (``--done`` exists, written when nbval
ends, passed or failed), it waits no longer: the export then trains what is missing, and
``make test`` fails anyway if a chapter failed. Prints what it waited for, and how long.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mnist_utils.training import RECIPES, model_path

ROOT = Path(__file__).resolve().parent.parent


def missing_models() -> list[Path]:
    """The saved models of :data:`mnist_utils.training.RECIPES` that are not in the cache yet."""
    return [path for path in (model_path(recipe) for recipe in RECIPES.values()) if not path.is_file()]


def wait(done: Path, timeout: float, poll: float = 2.0) -> list[Path]:
    """Wait until no model is missing, ``done`` exists or ``timeout`` seconds pass; return what is still missing."""
    deadline = time.monotonic() + timeout
    while (missing := missing_models()) and not done.exists() and time.monotonic() < deadline:
        time.sleep(poll)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--done", type=Path, default=ROOT / "artifacts" / "notebooks.done",
                        help="the file the notebooks' run writes when it ends")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait at most")
    args = parser.parse_args(argv)
    started = time.monotonic()
    missing = wait(args.done, args.timeout)
    waited = f"after {time.monotonic() - started:.0f} s"
    if missing:
        print(f"still not saved {waited}: {', '.join(path.name for path in missing)}; the export trains them",
              flush=True)
    else:
        print(f"both models saved by the chapters ({waited})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
