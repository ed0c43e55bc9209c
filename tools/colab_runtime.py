"""Refresh the Colab stand-in's packages from Google's published list of Colab's runtime.

Usage (``make colab-refresh FREEZE=… OS_INFO=…`` runs the same)::

    python -m tools.colab_runtime path/to/pip-freeze.txt path/to/os-info.txt

Google publishes what Colab's runtime holds in the public repository
``googlecolab/backend-info``: ``pip-freeze.txt`` (every Python package, as ``pip freeze``
prints it) and ``os-info.txt`` (the Ubuntu and Python versions). Given those two files, this
writes the two files ``make colab-test`` installs into a fresh virtual environment:

``tests/colab/preinstalled.txt``
    The packages the book's chapters touch (:data:`BOOK_TOUCHES`), at Colab's versions, and
    in its header the Python version (``# python: 3.13``), which the stand-in checks.
``tests/colab/constraints.txt``
    Every package of the list that pip can install by version (``name==version``), as pip
    constraints: whatever the packages above depend on is then installed at Colab's version
    too (``traitlets``, ``tornado``, ``h5py``, …), not at the newest one.

Then run ``make colab-test`` and, if it passes, raise the floors in ``pyproject.toml`` to
the versions in ``preinstalled.txt`` (a test holds them together). Nothing here reaches the
network.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLAB = ROOT / "tests" / "colab"
PREINSTALLED = COLAB / "preinstalled.txt"
CONSTRAINTS = COLAB / "constraints.txt"

#: The packages of Colab's runtime that the chapters import or that run them (the kernel),
#: by their normalised names. Their versions are the book's oldest supported ones.
BOOK_TOUCHES = (
    "tensorflow", "keras", "numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "seaborn",
    "pillow", "protobuf", "requests", "ipython", "ipykernel", "jupyter-client", "sphinx", "docutils",
)

_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*$")
_PYTHON = re.compile(r"^Python (3)\.(\d+)\.(\d+)\s*$", re.MULTILINE)


def normalise(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503): ``Jupyter_Client`` -> ``jupyter-client``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_freeze(text: str) -> dict[str, str]:
    """``normalised name -> version`` of every ``name==version`` line of a ``pip freeze``.

    Lines that name a URL, a file or a git commit (``torch @ https://…``) and versions with a
    local part (``2.8.0+cu126``) are left out: pip cannot install them from an index.

    Raises
    ------
    ValueError
        If no line pins a version: the text is not a ``pip freeze``.
    """
    pins = {}
    for line in text.splitlines():
        match = _PINNED.match(line.strip())
        if match and "+" not in match.group(2):
            pins[normalise(match.group(1))] = match.group(2)
    if not pins:
        raise ValueError("the freeze file has no 'name==version' line; pass Colab's pip-freeze.txt.")
    return pins


def read_python(text: str) -> str:
    """``"3.13"`` from an ``os-info.txt`` line such as ``Python 3.13.15``.

    Raises
    ------
    ValueError
        If no line gives a Python 3 version.
    """
    match = _PYTHON.search(text)
    if match is None:
        raise ValueError("the os-info file has no 'Python 3.X.Y' line; pass Colab's os-info.txt.")
    return f"{match.group(1)}.{match.group(2)}"


def render(pins: dict[str, str], python: str, source: str) -> tuple[str, str]:
    """The texts of ``preinstalled.txt`` and ``constraints.txt``.

    Raises
    ------
    ValueError
        If a package of :data:`BOOK_TOUCHES` is not in the freeze.
    """
    missing = [name for name in BOOK_TOUCHES if name not in pins]
    if missing:
        raise ValueError(f"Colab's list lacks {', '.join(missing)}; the book needs them: check the file, "
                         "or remove them from BOOK_TOUCHES if the chapters no longer touch them.")
    header = (
        "# Written by `python -m tools.colab_runtime` from Google's published list of Colab's runtime\n"
        f"# ({source}): do not edit by hand.\n"
    )
    preinstalled = (
        header
        + "# What Colab preinstalls of the packages the chapters touch: the book's oldest supported\n"
        "# versions (pyproject.toml). `make colab-test` installs exactly this, with constraints.txt,\n"
        f"# into a fresh environment on Colab's Python.\n# python: {python}\n"
        + "".join(f"{name}=={pins[name]}\n" for name in BOOK_TOUCHES)
    )
    constraints = (
        header
        + "# Every package of that list pip can install by version: what preinstalled.txt depends on\n"
        "# is installed at Colab's version too.\n"
        + "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    )
    return preinstalled, constraints


def read_preinstalled(path: Path = PREINSTALLED) -> tuple[str, dict[str, str]]:
    """The Python version and the ``name -> version`` pins of a written ``preinstalled.txt``."""
    text = path.read_text()
    python = re.search(r"^# python: (3\.\d+)$", text, re.MULTILINE)
    if python is None:
        raise ValueError(f"{path} has no '# python: 3.X' line; write it with python -m tools.colab_runtime.")
    return python.group(1), read_freeze(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("freeze", type=Path, help="Colab's pip-freeze.txt (googlecolab/backend-info)")
    parser.add_argument("os_info", type=Path, help="Colab's os-info.txt, beside it")
    parser.add_argument("--source", default="googlecolab/backend-info",
                        help="where the files came from, for the header (say the commit and its date)")
    args = parser.parse_args(argv)
    try:
        pins = read_freeze(args.freeze.read_text())
        python = read_python(args.os_info.read_text())
        preinstalled, constraints = render(pins, python, args.source)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    PREINSTALLED.write_text(preinstalled)
    CONSTRAINTS.write_text(constraints)
    print(f"Colab's runtime: Python {python}, " + ", ".join(f"{name} {pins[name]}" for name in BOOK_TOUCHES[:3]))
    print(f"wrote {PREINSTALLED} and {CONSTRAINTS} ({len(pins)} packages); "
          "now run make colab-test, then raise the floors in pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
