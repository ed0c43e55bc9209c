"""Write ``binder/requirements.txt``: every package a reader's session needs, pinned exactly.

Usage: python -m tools.binder_requirements [--check]

Binder (repo2docker) reuses its package layer from one commit to the next only when the
requirements file holds no local reference (``-e .``, ``-c constraints.txt``). So the file
lists, fully pinned at the versions of ``constraints.txt``, the direct requirements of
``requirements.txt`` that a reader's session uses and everything they depend on (read from
the installed packages' metadata). Tools that only build or test the book are left out;
``binder/postBuild`` installs the book's helpers without dependencies. ``make lock`` runs
this; ``--check`` exits with 1 if the file is out of date (the tests run it).
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mnist_utils.files import write_text

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "binder" / "requirements.txt"
#: Direct requirements that build or test the book and that no reader's session needs.
NOT_FOR_READERS = {"jupyter-book", "pytest", "nbval", "playwright", "pypdf", "check-jsonschema", "zizmor"}
#: Packaging tools that every environment already has and that ``pip freeze`` leaves out.
PACKAGING_TOOLS = {"pip", "setuptools", "wheel"}
HEADER = """\
# Binder's environment: the book's run-time packages and all they depend on, pinned exactly
# (the versions of constraints.txt, which the tests run with). No local references, so Binder
# reuses its package layer from one commit to the next; binder/postBuild adds the helpers.
# Written by tools/binder_requirements.py (make lock): do not edit by hand.
"""


def _pins(path: Path) -> dict[str, tuple[str, str]]:
    """``canonical name -> (name, version)`` for every ``name==version`` line of a file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = (requirement.name, str(requirement.specifier)[2:])
    return pins


def closure(roots: list[str]) -> set[str]:
    """``roots`` and every package they need, by canonical name, from the installed metadata."""
    # Binder's interpreter, not this one, decides which conditional requirements apply.
    version = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    environment = default_environment() | {"extra": "", "python_version": version, "python_full_version": f"{version}.0"}
    seen: set[str] = set()
    pending = [canonicalize_name(name) for name in roots]
    while pending:
        name = pending.pop()
        if name in seen or name in PACKAGING_TOOLS:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pending.append(canonicalize_name(requirement.name))
    return seen


def render() -> str:
    direct = _pins(ROOT / "requirements.txt")
    locked = _pins(ROOT / "constraints.txt")
    roots = [name for name in direct if name not in NOT_FOR_READERS]
    lines = []
    for name in sorted(closure(roots)):
        if name not in locked:
            raise SystemExit(f"{name} is installed but not in constraints.txt: run `make lock`.")
        lines.append("{}=={}".format(*locked[name]))
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run `make lock`.", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    write_text(OUTPUT, text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
