"""Build the files the book's web pages need, into ``_web/static`` (the book's static folder).

Usage: python -m tools.build_web_assets [--out _web/static]

``make book`` runs this after ``npm ci --prefix webdemo`` and before Jupyter Book, which
copies the folder to ``_build/html/_static``. Everything a page loads is served from the
book's own files, so the built site works offline:

- ``mathjax/``: MathJax 3, so that equations render without a CDN;
- ``demo/ort/``: ONNX Runtime Web (the WebAssembly build), for the "Draw a digit" page;
- ``demo/*.js``, ``demo/*.css``: that page's own code, from ``webdemo/src``;
- ``demo/models/``: the book's trained MLP and CNN exported to ONNX, and ``manifest.json``
  describing them: sizes, checksums, test accuracy and the Keras/ONNX Runtime parity
  measured on the whole MNIST test set. The build fails if the parity does not hold.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

from mnist_utils.files import write_text

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "webdemo" / "node_modules"
#: The ONNX Runtime Web files the page loads: the WebAssembly-only API module, the loader
#: it imports, and the WebAssembly binary itself (one build, for CPUs with SIMD).
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
#: Largest difference allowed between Keras's and ONNX Runtime's probabilities.
PARITY_TOLERANCE = 1e-5


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy_tree(source: Path, target: Path) -> None:
    if not source.is_dir():
        raise SystemExit(f"{source} is missing: run `npm ci --prefix webdemo` first (make book does).")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)


def copy_runtime(out: Path) -> list[dict]:
    """Copy MathJax, ONNX Runtime Web and the page's own code; describe the runtime files."""
    _copy_tree(NODE_MODULES / "mathjax" / "es5", out / "mathjax")
    ort_dist = NODE_MODULES / "onnxruntime-web" / "dist"
    (out / "demo" / "ort").mkdir(parents=True, exist_ok=True)
    files = []
    for name in ORT_FILES:
        if not (ort_dist / name).is_file():
            raise SystemExit(f"{ort_dist / name} is missing: run `npm ci --prefix webdemo` first.")
        shutil.copy2(ort_dist / name, out / "demo" / "ort" / name)
        files.append({"file": f"ort/{name}", "bytes": (ort_dist / name).stat().st_size})
    for source in sorted((ROOT / "webdemo" / "src").iterdir()):
        if source.suffix in (".js", ".css"):
            shutil.copy2(source, out / "demo" / source.name)
            files.append({"file": source.name, "bytes": source.stat().st_size})
    return files


def export_models(out: Path) -> list[dict]:
    """Export each trained model to ONNX and measure its parity with Keras on the test set."""
    import numpy as np
    import onnxruntime

    from mnist_utils.data import load_mnist, train_validation_split
    from mnist_utils.evaluation import (
        NOT_SURE_MIN_COVERAGE,
        NOT_SURE_TARGET,
        accuracy,
        choose_threshold,
        predict_probabilities,
    )
    from mnist_utils.export import check_parity, export_onnx
    from mnist_utils.training import MODEL_NAMES, RECIPES, load_or_train

    (x_train, y_train), (x_test, y_test) = load_mnist()
    described = []
    for name in MODEL_NAMES:
        recipe = RECIPES[name]
        model = load_or_train(recipe)  # the chapters' model: cached, or trained now
        # The pad says "not sure" below the confidence threshold chosen, as in chapter 7, on
        # the validation split the model was never trained on.
        _, (x_val, y_val) = train_validation_split(
            x_train, y_train, validation_size=recipe.validation_size, seed=recipe.validation_seed
        )
        val_probabilities = predict_probabilities(model, x_val)
        threshold = choose_threshold(val_probabilities, y_val, target_accuracy=NOT_SURE_TARGET)
        coverage = float(np.mean(val_probabilities.max(axis=1) >= threshold))
        if coverage < NOT_SURE_MIN_COVERAGE:
            raise SystemExit(
                f"The {name}'s not-sure threshold {threshold:.4f} answers only {coverage:.1%} of clean "
                f"validation digits (at least {NOT_SURE_MIN_COVERAGE:.0%} needed): lower NOT_SURE_TARGET."
            )
        path = export_onnx(model, out / "demo" / "models" / f"{name}.onnx")
        parity = check_parity(model, path, x_test)
        print(f"{name}: {path.stat().st_size:,} bytes; {parity}", flush=True)
        if not parity.holds(PARITY_TOLERANCE):
            raise SystemExit(
                f"ONNX export of {name} does not match Keras: {parity} (tolerance {PARITY_TOLERANCE})."
            )
        probabilities = predict_probabilities(model, x_test)
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        described.append(
            {
                "name": name,
                "file": f"models/{name}.onnx",
                "bytes": path.stat().st_size,
                "sha256": _sha256(path),
                "input_name": session.get_inputs()[0].name,
                "input_shape": [1, *model.input_shape[1:]],
                "parameters": int(model.count_params()),
                "test_accuracy": accuracy(y_test, probabilities.argmax(axis=1)),
                "not_sure": {
                    "below": threshold,
                    "target_accuracy": NOT_SURE_TARGET,
                    "validation_coverage": coverage,
                },
                "parity": {
                    "images": parity.images,
                    "max_abs_diff": parity.max_abs_diff,
                    "argmax_mismatches": parity.argmax_mismatches,
                    "tolerance": PARITY_TOLERANCE,
                },
            }
        )
    return described


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_web" / "static", help="output folder")
    args = parser.parse_args(argv)
    out: Path = args.out
    runtime = copy_runtime(out)
    models = export_models(out)
    versions = json.loads((NODE_MODULES / "onnxruntime-web" / "package.json").read_text())["version"]
    manifest = {"onnxruntime_web": versions, "runtime": runtime, "models": models}
    write_text(out / "demo" / "models" / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    print(f"Web assets written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
