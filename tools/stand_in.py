"""Run chapters where readers run them: Colab and Binder, stood in for on this machine.

Usage:
    python -m tools.stand_in colab [--python /path/to/python3.13]  (make colab-test)
    python -m tools.stand_in binder --python /path/to/python3.11    (make binder-test)

``colab``
    A fresh virtual environment on Colab's Python (the version named in
    ``tests/colab/preinstalled.txt``, found on the PATH or in pyenv unless ``--python`` names
    it) holding only what Google Colab preinstalls: ``tests/colab/preinstalled.txt`` with
    ``tests/colab/constraints.txt``, Colab's versions of the packages the chapters touch and of
    all they depend on, never this book's pins (``python -m tools.colab_runtime`` writes both
    files from Google's published list). Then a stand-in
    ``google.colab`` module imported at kernel start as Colab's kernel does, and the chapters'
    Colab set-up cell pointed at this checkout (``MNIST_BOOK_SOURCE=file://…``) instead of
    GitHub. Chapters 1, 3, 5 and 9 then run top to bottom, each in a fresh kernel after the
    environment is put back as Colab provides it, and chapter 8's set-up cell installs the
    ONNX tools. Every preinstalled package must keep its version: TensorFlow and Keras above
    all. Chapter 5 trains its model on Colab's TensorFlow, so its hidden accuracy floors are
    checked on that version too.
``binder``
    A fresh virtual environment on Python 3.11, ``pip install -r binder/requirements.txt``
    and ``binder/postBuild``, as repo2docker does. ``postBuild`` must leave both models where
    the chapters look for them; JupyterLab (what Binder opens) must start; and chapters 1, 3
    and 8 (which loads both models, exports them and checks them) run in it. The models ``make test`` has just trained
    (``$MNIST_BOOK_CACHE``) are copied into the stand-in's cache first, so postBuild loads them
    instead of training them again: this proves that postBuild installs the helpers and finds
    every model where the chapters look; that the recipes train, and what they reach, is
    ``make test``'s (chapters 4 and 6 under nbval). Run alone on a fresh clone, postBuild
    trains both, as on Binder.

Each chapter's wall time and peak memory are printed; the last line counts what passed.
Nothing here reaches the network except pip, for packages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from tools.colab_runtime import CONSTRAINTS, PREINSTALLED, read_preinstalled
from tools.execute_notebooks import run
from tools.sync_repository import SOURCE_VARIABLE

ROOT = Path(__file__).resolve().parent.parent
COLAB_CHAPTERS = ["01_data_exploration", "03_model_definition", "05_evaluation", "09_distributed_training"]
#: Chapter 1 (the data, shipped with the helpers), 3 (Keras and the plots) and 8 (both saved
#: models, the ONNX tools). Chapter 9 needs nothing more of Binder's environment: it runs in
#: `make test` on the same pins, and in the Colab stand-in on other ones.
BINDER_CHAPTERS = ["01_data_exploration", "03_model_definition", "08_draw_a_digit"]
KERNEL_NAME = "stand-in"
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def step(message: str) -> None:
    print(f"[stand-in] {message}", flush=True)


def tracked_copy(folder: Path) -> Path:
    """The files git tracks, as they are in the working tree, copied into ``folder``.

    What pip gets from ``git+https://…`` is the repository's tracked files; installing from
    this copy also keeps pip's build folders out of the checkout.
    """
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, names.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    return folder


def find_python(version: str) -> str:
    """The first ``python3.X`` that runs: on the PATH, then in pyenv's versions (a pyenv shim may exist and fail)."""
    candidates = [shutil.which(f"python{version}"),
                  *sorted(map(str, Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}")), reverse=True)]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return candidate
    raise SystemExit(f"Colab runs Python {version}, and no python{version} runs here: install it "
                     "(for example with pyenv) or pass --python.")


def make_venv(python: str, folder: Path) -> Path:
    """A fresh virtual environment in ``folder``; returns its Python."""
    if not python or not Path(python).is_file():
        raise SystemExit(f"--python must name a Python executable, got {python!r}.")
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(folder)], check=True)
    venv_python = folder / "bin" / "python"
    subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True, env=os.environ | QUIET)
    return venv_python


def packages(python: Path) -> dict[str, str]:
    """``name -> version`` of every distribution installed in ``python``'s environment."""
    code = (
        "import json, re; from importlib import metadata; "
        "print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version "
        "for d in metadata.distributions() if d.metadata['Name']}))"
    )
    # Run outside the checkout, whose mnist_utils.egg-info would otherwise be found on sys.path.
    result = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True, cwd=python.parent)
    return json.loads(result.stdout)


def register_kernel(python: Path, home: Path, env: dict[str, str]) -> None:
    """A kernel spec named :data:`KERNEL_NAME` that runs ``python`` with ``env``."""
    spec = home / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "stand-in", "language": "python", "env": env,
    }))
    os.environ["JUPYTER_PATH"] = str(home)


def chapter(name: str) -> Path:
    return ROOT / "chapters" / f"{name}.ipynb"


def run_notebooks(paths: list[Path]) -> list[str]:
    """Run each notebook in a fresh stand-in kernel; return the names of those that failed."""
    failures = []
    for path in paths:
        name = path.stem
        try:
            result = run(path, kernel_name=KERNEL_NAME)
        except Exception as error:  # a failing cell: report it and go on with the next chapter
            failures.append(name)
            step(f"FAILED {name}: {str(error)[-3000:]}")
            continue
        step(f"passed {name}: {result.seconds:.0f} s, peak memory {result.peak_bytes / 1e9:.2f} GB")
    return failures


def colab(python: str | None, work: Path) -> list[str]:
    venv = work / "colab-venv"
    colab_python, pins = read_preinstalled()
    python = python or find_python(colab_python)
    step(f"fresh Python {colab_python} environment with Colab's packages ({PREINSTALLED.relative_to(ROOT)})")
    venv_python = make_venv(python, venv)
    version = subprocess.run([str(venv_python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    if version != colab_python:
        raise SystemExit(f"Colab runs Python {colab_python}; {python} is {version}.")
    subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", "-r", str(PREINSTALLED),
                    "--constraint", str(CONSTRAINTS)], check=True, env=os.environ | QUIET)
    colab_packages = packages(venv_python)
    wrong = {name: colab_packages.get(name) for name, version in pins.items() if colab_packages.get(name) != version}
    if wrong:
        raise SystemExit(f"The Colab stand-in did not install Colab's versions: {wrong}.")
    if "mnist-utils" in colab_packages or "myst-nb" in colab_packages:
        raise SystemExit("The Colab stand-in must not start with the book's helpers or myst-nb installed.")
    # google.colab, as a namespace beside protobuf's google/, imported at kernel start.
    site = Path(subprocess.run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (site / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Google Colab\'s module (tools/stand_in.py)."""\n')
    startup = work / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-colab.py").write_text("import google.colab  # Colab's kernel has it imported\n")
    register_kernel(venv_python, work / "jupyter", QUIET | {
        "IPYTHONDIR": str(work / "ipython"),
        "MNIST_BOOK_CACHE": str(work / "cache"),
        SOURCE_VARIABLE: tracked_copy(work / "repository").as_uri(),
    })

    def restore() -> list[str]:
        """Put the environment back as Colab provides it; return the packages that changed."""
        now = packages(venv_python)
        added = sorted(set(now) - set(colab_packages))
        if added:
            subprocess.run([str(venv_python), "-m", "pip", "uninstall", "--quiet", "-y", *added], check=True)
        return [f"{name} {version} -> {now.get(name)}" for name, version in colab_packages.items() if now.get(name) != version]

    # Chapter 8 needs the ONNX tools: its set-up cell alone, then the imports.
    onnx_check = work / "08_draw_a_digit_set_up_cell.ipynb"
    chapter8 = nbformat.read(chapter("08_draw_a_digit"), as_version=4)
    setup = next(cell for cell in chapter8.cells if cell.cell_type == "code")
    chapter8.cells = [setup, nbformat.v4.new_code_cell("import onnx, onnxruntime, tf2onnx\nimport mnist_utils.export")]
    nbformat.write(chapter8, onnx_check)
    failures = []
    for path in [*map(chapter, COLAB_CHAPTERS), onnx_check]:
        failures += run_notebooks([path])
        changed = restore()
        if changed:
            failures.append(path.stem)
            step(f"FAILED {path.stem} changed Colab's packages: {', '.join(changed)}")
    return sorted(set(failures))


def reuse_models(cache: Path) -> list[str]:
    """Copy the models ``make test`` trained (``$MNIST_BOOK_CACHE``) into the stand-in's cache; their names.

    Binder's build trains them once per image; here ``make test`` has just trained the same
    recipes with the same packages, so postBuild finds them instead of training them again
    (its training path, ``load_or_train``, is the one the chapters and the unit tests use).
    Run alone, with no trained model, postBuild trains both.
    """
    trained = os.environ.get("MNIST_BOOK_CACHE")
    if not trained:
        return []
    from mnist_utils.training import RECIPES, model_path

    reused = []
    for recipe in RECIPES.values():
        path = model_path(recipe, Path(trained) / "models")
        if path.is_file():
            (cache / "models").mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, cache / "models" / path.name)
            reused.append(path.name)
    return reused


def binder(python: str, work: Path) -> list[str]:
    requirements = ROOT / "binder" / "requirements.txt"
    local = [line for line in requirements.read_text().splitlines() if line.startswith(("-", ".", "/", "file:"))]
    if local:
        raise SystemExit(f"binder/requirements.txt must hold no local reference, found {local}.")
    step("fresh Python 3.11 environment: pip install -r binder/requirements.txt, then binder/postBuild")
    venv_python = make_venv(python, work / "binder-venv")
    subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
                   check=True, env=os.environ | QUIET)
    # repo2docker runs postBuild from the repository with the environment's bin/ first on PATH.
    cache = work / "cache"  # Binder's is ~/.cache/mnist-book, shared by the build and the sessions
    env = os.environ | QUIET | {"PATH": f"{venv_python.parent}{os.pathsep}{os.environ['PATH']}",
                                "MNIST_BOOK_CACHE": str(cache)}
    reused = reuse_models(cache)
    started = time.perf_counter()
    built = subprocess.run(["bash", str(ROOT / "binder" / "postBuild")], check=True, cwd=ROOT, env=env,
                           capture_output=True, text=True).stdout
    print(built, end="", flush=True)
    step(f"postBuild: {time.perf_counter() - started:.0f} s (installs the helpers; "
         + (f"loads {', '.join(reused)}, which make test trained, and trains what is missing)" if reused
            else "trains both models)"))
    check = ("from mnist_utils.training import RECIPES, model_path; "
             "print(all(model_path(recipe).is_file() for recipe in RECIPES.values()))")
    saved = subprocess.run([str(venv_python), "-c", check], capture_output=True, text=True, env=env, cwd=work)
    if saved.stdout.strip() != "True" or built.count(" at ") != 2:
        step(f"FAILED postBuild did not save every model where the chapters look: {saved.stderr[-2000:]}")
        return ["postBuild"]
    lab = subprocess.run([str(venv_python.parent / "jupyter-lab"), "--version"], capture_output=True, text=True, env=env)
    if lab.returncode != 0:
        step(f"FAILED jupyter-lab does not start: {lab.stderr[-2000:]}")
        return ["jupyter-lab"]
    step(f"JupyterLab {lab.stdout.strip()} installed")
    register_kernel(venv_python, work / "jupyter", QUIET | {"MNIST_BOOK_CACHE": str(cache)})
    return run_notebooks([chapter(name) for name in BINDER_CHAPTERS])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("where", choices=["colab", "binder"])
    parser.add_argument("--python", help="the interpreter for the fresh environment (colab: found by version "
                        "if not given; binder: required)")
    parser.add_argument("--keep", action="store_true", help="keep the environment afterwards (in .stand-in/)")
    args = parser.parse_args(argv)
    if args.where == "binder" and not args.python:
        parser.error("binder needs --python, the Python 3.11 that Binder's runtime.txt names")
    started = time.perf_counter()
    work = ROOT / ".stand-in" / args.where if args.keep else Path(tempfile.mkdtemp(prefix=f"stand-in-{args.where}-"))
    try:
        failures = colab(args.python, work) if args.where == "colab" else binder(args.python, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    total = len(COLAB_CHAPTERS) + 1 if args.where == "colab" else len(BINDER_CHAPTERS)
    step(f"{args.where}: {time.perf_counter() - started:.0f} s in all")
    print(f"{args.where}: {total - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
