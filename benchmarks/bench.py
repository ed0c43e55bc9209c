"""Measure the book's training recipes against the recipes readers would otherwise copy.

Everything is measured in one run, on one machine, so that ratios hold on a noisy machine:

1. the machine's limit: float32 matrix-multiply throughput (TensorFlow and NumPy);
2. the MLP: the original recipe (Keras defaults: batch 32, constant Adam 1e-3, no XLA)
   against the book's recipe, same architecture: time to a test-accuracy target, training
   samples per second, achieved GFLOP/s;
3. the CNN: the book's recipe against the keras-io "Simple MNIST convnet" recipe;
4. inference: images per second in batches, and single-image latency;
5. the book build: a clean build and a cached rebuild.

FLOPs per training sample are counted as 6 × parameters: 2 per parameter for the forward
pass's multiply-adds and 4 for the backward pass (gradients with respect to activations and
to weights). For the CNN, whose weights are reused across positions, the count comes from
the layers' multiply-adds instead (see ``conv_flops``).

Usage: python benchmarks/bench.py [--output FILE] [--repeats N] [--smoke] [--skip-book]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mnist_utils.data import load_mnist, train_validation_split  # noqa: E402
from mnist_utils.models import build_cnn, build_original_mlp  # noqa: E402
from mnist_utils.preprocessing import preprocess_for_cnn, preprocess_for_mlp  # noqa: E402
from mnist_utils.training import CNN_RECIPE, MLP_RECIPE, set_seed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_VERSION = 1


def machine() -> dict:
    """What the numbers were measured on."""
    model_name = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model_name,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def timed_median(function, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def matmul_peak(size: int, repeats: int) -> dict:
    """Float32 matrix-multiply throughput: 2·n³ FLOPs per product."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    ta, tb = tf.constant(a), tf.constant(b)
    tf.linalg.matmul(ta, tb).numpy()  # warm-up
    a @ b
    flops = 2 * size**3
    tf_time, tf_times = timed_median(lambda: tf.linalg.matmul(ta, tb).numpy(), repeats)
    np_time, np_times = timed_median(lambda: a @ b, repeats)
    return {
        "size": size,
        "repeats": repeats,
        "tensorflow_gflops": flops / tf_time / 1e9,
        "numpy_gflops": flops / np_time / 1e9,
        "peak_gflops": max(flops / tf_time, flops / np_time) / 1e9,
        "tensorflow_times_s": tf_times,
        "numpy_times_s": np_times,
    }


@dataclasses.dataclass
class Recipe:
    """A training recipe as a reader would write it."""

    name: str
    model: str  # "mlp", "cnn" or "kerasio"
    batch_size: int
    epochs: int
    learning_rate: float
    cosine: bool
    jit_compile: bool
    shift: float = 0.0
    rotation: float = 0.0


def build(recipe: Recipe) -> keras.Model:
    if recipe.model == "mlp":
        return build_original_mlp()
    if recipe.model == "cnn":
        return build_cnn(shift=recipe.shift, rotation=recipe.rotation)
    # keras-io "Simple MNIST convnet", verbatim architecture
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])


def conv_flops(model: keras.Model) -> float:
    """Training FLOPs per sample for a model: 3 × 2 × multiply-adds of its Conv2D and Dense layers."""
    macs = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            macs += h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            macs += int(np.prod(layer.kernel.shape))
    return 6.0 * macs


def train_to_target(recipe: Recipe, data, target: float) -> dict:
    """Train epoch by epoch, timing training only, and evaluate the test set after each epoch."""
    (x_train, y_train), (x_test, y_test) = data
    set_seed(42)
    model = build(recipe)
    steps = recipe.epochs * int(np.ceil(len(x_train) / recipe.batch_size))
    rate = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, steps) if recipe.cosine else recipe.learning_rate
    model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=recipe.jit_compile)
    flops = 6.0 * model.count_params() if recipe.model == "mlp" else conv_flops(model)
    epoch_times, accuracies, elapsed, reached = [], [], 0.0, None
    for epoch in range(recipe.epochs):
        started = time.perf_counter()
        model.fit(x_train, y_train, batch_size=recipe.batch_size, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        epoch_times.append(time.perf_counter() - started)
        elapsed += epoch_times[-1]
        accuracies.append(float(model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1]))
        if reached is None and accuracies[-1] >= target:
            reached = elapsed
    # The first epoch includes graph tracing and compilation: throughput uses the others.
    steady = epoch_times[1:] or epoch_times
    samples_per_s = len(x_train) / statistics.median(steady)
    return {
        "recipe": dataclasses.asdict(recipe),
        "jit_compile_effective": bool(getattr(model, "jit_compile", False)),
        "parameters": model.count_params(),
        "flops_per_sample": flops,
        "target_accuracy": target,
        "time_to_target_s": reached,
        "epoch_times_s": epoch_times,
        "cumulative_time_s": list(np.cumsum(epoch_times)),
        "test_accuracy": accuracies,
        "final_test_accuracy": accuracies[-1],
        "samples_per_s": samples_per_s,
        "gflops": samples_per_s * flops / 1e9,
        "model": model,
    }


def inference(model: keras.Model, images: np.ndarray, repeats: int) -> dict:
    batch_time, _ = timed_median(lambda: model.predict(images, batch_size=1000, verbose=0), repeats)
    single = images[:1]
    model(single, training=False)
    latency, _ = timed_median(lambda: model(single, training=False), max(50, repeats * 20))
    return {"images_per_s_batched": len(images) / batch_time, "single_image_latency_ms": latency * 1000}


def book_build(repeats: int) -> dict:
    """Wall time of a clean build (executing every notebook) and of a cached rebuild."""
    work = Path(tempfile.mkdtemp(prefix="mnist-book-bench-"))
    try:
        tree = work / "book"
        shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", "_build", ".cache", "artifacts"))
        env = dict(os.environ, MNIST_BOOK_CACHE=str(work / "cache"))
        command = [str(Path(sys.executable).parent / "jupyter-book"), "build", "--warningiserror", "--nitpick",
                   "--keep-going", "."]

        def run() -> None:
            done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the book build failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

        clean, _ = timed_median(run, 1)
        cached, cached_times = timed_median(run, repeats)
        return {"clean_build_s": clean, "cached_rebuild_s": cached, "cached_rebuild_times_s": cached_times}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each timed measurement (median)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that only proves the benchmark works")
    parser.add_argument("--skip-book", action="store_true", help="do not time the book build")
    parser.add_argument("--only-book", action="store_true",
                        help="time only the book build and update it in an existing --output file")
    args = parser.parse_args(argv)
    if args.only_book:
        results = json.loads(args.output.read_text())
        results["book_build"] = book_build(max(1, min(args.repeats, 3)))
        results["book_build"].update(date=time.strftime("%Y-%m-%d"), separate_run="python benchmarks/bench.py --only-book")
        args.output.write_text(json.dumps(results, indent=1))
        print(f"updated {args.output}")
        return results

    (x_all, y_all), (x_test, y_test) = load_mnist()
    (x_train, y_train), _ = train_validation_split(x_all, y_all, validation_size=MLP_RECIPE.validation_size,
                                                   seed=MLP_RECIPE.seed)
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]
    epochs = (lambda n: 1) if args.smoke else (lambda n: n)

    mlp_data = (preprocess_for_mlp(x_train), y_train), (preprocess_for_mlp(x_test), y_test)
    cnn_data = (preprocess_for_cnn(x_train), y_train), (preprocess_for_cnn(x_test), y_test)
    mlp_recipes = [
        Recipe("original (batch 32, Adam 1e-3, no XLA)", "mlp", 32, epochs(12), 1e-3, False, False),
        Recipe("book (batch 256, cosine schedule)", "mlp", MLP_RECIPE.batch_size, epochs(MLP_RECIPE.epochs),
               MLP_RECIPE.learning_rate, True, MLP_RECIPE.jit_compile),
    ]
    cnn_recipes = [
        Recipe("keras-io simple convnet (batch 128, Adam 1e-3)", "kerasio", 128, epochs(15), 1e-3, False, False),
        Recipe("book CNN (batch 128, cosine, augmentation)", "cnn", CNN_RECIPE.batch_size, epochs(CNN_RECIPE.epochs),
               CNN_RECIPE.learning_rate, True, CNN_RECIPE.jit_compile,
               CNN_RECIPE.augment_shift, CNN_RECIPE.augment_rotation),
    ]

    results: dict = {"schema": SCHEMA_VERSION, "smoke": args.smoke, "machine": machine(),
                     "date": time.strftime("%Y-%m-%d"), "repeats": args.repeats,
                     "flops_formula": "MLP: 6 x parameters per training sample; CNN: 6 x multiply-adds "
                                      "of the Conv2D and Dense layers per training sample"}
    print("matmul ...", flush=True)
    results["matmul"] = matmul_peak(256 if args.smoke else 4096, args.repeats)
    peak = results["matmul"]["peak_gflops"]

    def run_group(recipes, data, target):
        rows = []
        for recipe in recipes:
            print(f"{recipe.name} ...", flush=True)
            row = train_to_target(recipe, data, target)
            model = row.pop("model")
            row["share_of_peak"] = row["gflops"] / peak
            row["inference"] = inference(model, data[1][0], args.repeats)
            rows.append(row)
        return rows

    def save() -> None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=1))

    save()
    results["mlp"] = run_group(mlp_recipes, mlp_data, 0.98)
    original, book = results["mlp"]
    if original["time_to_target_s"] and book["time_to_target_s"]:
        results["mlp_speedup_to_98"] = original["time_to_target_s"] / book["time_to_target_s"]
    save()
    results["cnn"] = run_group(cnn_recipes, cnn_data, 0.992)
    for row in results["cnn"]:
        hit = [t for t, a in zip(row["cumulative_time_s"], row["test_accuracy"]) if a >= 0.995]
        row["time_to_99_5_s"] = hit[0] if hit else None
    if not args.skip_book and not args.smoke:
        print("book build ...", flush=True)
        save()
        try:
            results["book_build"] = book_build(max(1, min(args.repeats, 3)))
        except RuntimeError as error:
            results["book_build"] = {"error": str(error)}
    save()
    print(f"wrote {args.output}")
    return results


if __name__ == "__main__":
    main()
