"""Section ``recipes``: the machine's matrix-multiply peak, one training step profiled, and the book's MLP and CNN
recipes against the ones readers would otherwise copy, with their inference speed."""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_utils.data import load_mnist, train_validation_split
from mnist_utils.evaluation import accuracy
from mnist_utils.export import export_onnx
from mnist_utils.preprocessing import preprocess_for_cnn, preprocess_for_mlp
from mnist_utils.training import (
    CNN_RECIPE, MLP_RECIPE, ORIGINAL_RECIPE, TrainingConfig, build_model, compile_model, set_seed, training_batches,
)

from benchmarks.common import _onnxruntime, matmul_peak, timed_median


#: The keras-io "Simple MNIST convnet" example's recipe: batch 128, 15 epochs, constant Adam 1e-3
#: (its architecture is :func:`build_kerasio`; the example holds out 10 % for validation).
KERAS_IO_RECIPE = dataclasses.replace(
    CNN_RECIPE, batch_size=128, epochs=15, learning_rate=1e-3, schedule="constant",
    augment_shift=0.0, augment_rotation=0.0, steps_per_execution=1,
)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A named training recipe: a :class:`TrainingConfig` and the network it trains."""

    name: str
    config: TrainingConfig
    kerasio: bool = False  # the keras-io convnet instead of the book's CNN
    #: How the training images reach ``fit``: ``"arrays"``, as the original write-up's and the
    #: keras-io example's code hand them over, or ``"training_batches"``, as the book does (the
    #: same batches, without tf.data's autotuner; see :func:`mnist_utils.training.training_batches`).
    feed: str = "training_batches"

    def build(self) -> keras.Model:
        return build_kerasio() if self.kerasio else build_model(self.config)

    def describe(self) -> dict:
        """The recipe as the results record it: its name, every field of its config, and the network."""
        config = self.config
        return {"name": self.name, **config.as_dict(), "network": "kerasio" if self.kerasio else config.model,
                "feed": self.feed}


def build_kerasio() -> keras.Model:
    """The keras-io "Simple MNIST convnet", verbatim architecture."""
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


class EpochClock(keras.callbacks.Callback):
    """Times each epoch of one ``fit`` call, then scores the test set outside the timed span."""

    def __init__(self, test) -> None:
        super().__init__()
        self.test, self.epoch_times, self.accuracies = test, [], []

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epoch_times.append(time.perf_counter() - self.started)
        images, labels = self.test
        self.accuracies.append(accuracy(labels, self.model.predict(images, batch_size=1000, verbose=0).argmax(axis=1)))


def train_once(recipe: Recipe, data, target: float) -> dict:
    """Train as the recipe's ``fit`` call does (one call, every epoch), timing training only.

    The test set is scored after each epoch, outside the timed span. Handing ``fit`` all the
    epochs at once, as the chapters do, matters: a ``fit`` call per epoch would also time,
    every epoch, the copy of the arrays into TensorFlow and a new input pipeline.
    """
    (x_train, y_train), test = data
    config = recipe.config
    set_seed(config.seed)
    model = compile_model(recipe.build(), config, len(x_train))  # as training.train compiles it
    clock = EpochClock(test)
    if recipe.feed == "arrays":
        model.fit(x_train, y_train, batch_size=config.batch_size, epochs=config.epochs, verbose=0, callbacks=[clock])
    else:
        model.fit(training_batches(x_train, y_train, config), epochs=config.epochs, shuffle=False, verbose=0,
                  callbacks=[clock])
    epoch_times, accuracies = clock.epoch_times, clock.accuracies
    cumulative = np.cumsum(epoch_times)
    reached = next((float(t) for t, a in zip(cumulative, accuracies) if a >= target), None)
    # The first epoch includes graph tracing and compilation: throughput uses the others.
    steady = epoch_times[1:] or epoch_times
    return {
        "model": model,
        "epoch_times_s": epoch_times,
        "test_accuracy": accuracies,
        "time_to_target_s": reached,
        "samples_per_s": len(x_train) / statistics.median(steady),
    }


def train_to_target(recipe: Recipe, data, target: float, repeats: int = 1) -> dict:
    """Run :func:`train_once` ``repeats`` times; report the medians and every run."""
    runs = [train_once(recipe, data, target) for _ in range(repeats)]
    model = runs[-1]["model"]
    flops = 6.0 * model.count_params() if recipe.config.model == "mlp" else conv_flops(model)
    cumulative = np.median([np.cumsum(run["epoch_times_s"]) for run in runs], axis=0)
    reached = [run["time_to_target_s"] for run in runs]
    samples_per_s = statistics.median(run["samples_per_s"] for run in runs)
    return {
        "recipe": recipe.describe(),
        "jit_compile_effective": bool(getattr(model, "jit_compile", False)),
        "parameters": model.count_params(),
        "flops_per_sample": flops,
        "target_accuracy": target,
        "runs": repeats,
        "time_to_target_s": None if None in reached else statistics.median(reached),
        "time_to_target_runs_s": reached,
        "epoch_times_s": list(np.median([run["epoch_times_s"] for run in runs], axis=0)),
        "cumulative_time_s": list(cumulative),
        "test_accuracy": runs[0]["test_accuracy"],
        "identical_accuracy_across_runs": all(run["test_accuracy"] == runs[0]["test_accuracy"] for run in runs),
        "final_test_accuracy": runs[0]["test_accuracy"][-1],
        "samples_per_s": samples_per_s,
        "samples_per_s_runs": [run["samples_per_s"] for run in runs],
        "gflops": samples_per_s * flops / 1e9,
        "model": model,
    }


def inference(model: keras.Model, images: np.ndarray, repeats: int) -> dict:
    """Images per second in batches of 1,000, and one image's latency: Keras and ONNX Runtime."""
    batch_time, _ = timed_median(lambda: model.predict(images, batch_size=1000, verbose=0), repeats)
    single = images[:1]
    model(single, training=False)
    latency, _ = timed_median(lambda: model(single, training=False), max(50, repeats * 20))

    with tempfile.TemporaryDirectory() as folder:
        session = _onnxruntime().InferenceSession(
            str(export_onnx(model, Path(folder) / "model.onnx")), providers=["CPUExecutionProvider"]
        )
    name = session.get_inputs()[0].name

    def onnx_batches() -> None:
        for start in range(0, len(images), 1000):
            session.run(None, {name: images[start : start + 1000]})

    onnx_batches()
    onnx_batch_time, _ = timed_median(onnx_batches, repeats)
    onnx_latency, _ = timed_median(lambda: session.run(None, {name: single}), max(50, repeats * 20))
    return {
        "images_per_s_batched": len(images) / batch_time,
        "single_image_latency_ms": latency * 1000,
        "onnxruntime_images_per_s_batched": len(images) / onnx_batch_time,
        "onnxruntime_single_image_latency_ms": onnx_latency * 1000,
    }


#: What the ``recipes`` section writes: the matrix-multiply peak, the step profiles and both
#: networks' recipes, measured together so that every share of the peak holds within one run.
RECIPE_KEYS: tuple[str, ...] = ("matmul", "mlp_profile", "cnn_profile", "mlp", "mlp_speedup_to_98", "cnn")


def measure_recipes(results: dict, *, repeats: int, train_repeats: int, smoke: bool, save) -> None:
    """Measure the ``recipes`` section into ``results`` (the keys of :data:`RECIPE_KEYS`), calling ``save()`` between steps.

    The machine's speed drifts (a shared host: other tenants, clock changes), so the peak is
    measured before and after every group of measurements, and every share is taken of the
    fastest of those: a slow moment at one measurement cannot inflate the shares.
    """
    from benchmarks.profiles import profile_cnn_step, profile_mlp_step

    for key in RECIPE_KEYS:
        results.pop(key, None)
    (x_all, y_all), (x_test, y_test) = load_mnist()
    (x_train, y_train), _ = train_validation_split(x_all, y_all, validation_size=MLP_RECIPE.validation_size,
                                                   seed=MLP_RECIPE.seed)
    if smoke:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]
    short = (lambda config: dataclasses.replace(config, epochs=1)) if smoke else (lambda config: config)

    mlp_data = (preprocess_for_mlp(x_train), y_train), (preprocess_for_mlp(x_test), y_test)
    cnn_data = (preprocess_for_cnn(x_train), y_train), (preprocess_for_cnn(x_test), y_test)
    mlp_recipes = [
        Recipe("original (batch 32, Adam 1e-3, no XLA)", short(ORIGINAL_RECIPE), feed="arrays"),
        Recipe(f"book (batch {MLP_RECIPE.batch_size}, cosine, {MLP_RECIPE.steps_per_execution} steps per call)",
               short(MLP_RECIPE)),
    ]
    cnn_recipes = [
        Recipe("keras-io simple convnet (batch 128, Adam 1e-3)", short(KERAS_IO_RECIPE), kerasio=True, feed="arrays"),
        Recipe("book CNN (batch 128, cosine, augmentation)", short(CNN_RECIPE)),
    ]
    peaks: list[dict] = []

    def measure_peak(when: str) -> None:
        """Time the peak once more; every share measured so far is then taken of the fastest measurement."""
        print(f"matmul ({when}) ...", flush=True)
        peaks.append(dict(matmul_peak(256 if smoke else 4096, repeats), when=when))
        fastest = max(peaks, key=lambda measured: measured["peak_gflops"])
        results["matmul"] = dict(fastest, measurements=[{"when": measured["when"], "peak_gflops": measured["peak_gflops"]}
                                                        for measured in peaks])
        peak = fastest["peak_gflops"]
        for row in results.get("mlp", []) + results.get("cnn", []):
            row["share_of_peak"] = row["gflops"] / peak
        profiles = list(results.get("mlp_profile", []))
        if "cnn_profile" in results:
            profiles.append(results["cnn_profile"])
        for profile in profiles:
            profile["share_of_peak"] = {name: gflops / peak for name, gflops in profile["gflops"].items()}

    def run_group(recipes, data, target):
        rows = []
        for recipe in recipes:
            print(f"{recipe.name} ...", flush=True)
            row = train_to_target(recipe, data, target, train_repeats)
            model = row.pop("model")
            row["inference"] = inference(model, data[1][0], repeats)
            rows.append(row)
        return rows

    measure_peak("start")
    save()
    print("MLP step profile ...", flush=True)
    results["mlp_profile"] = [profile_mlp_step(batch, repeats, steps=2 if smoke else 20, epoch_size=len(x_train))
                              for batch in (32, MLP_RECIPE.batch_size)]
    print("CNN step profile ...", flush=True)
    results["cnn_profile"] = profile_cnn_step(repeats, steps=2 if smoke else 10, epoch_size=len(x_train))
    measure_peak("after the step profiles")
    save()
    results["mlp"] = run_group(mlp_recipes, mlp_data, 0.98)
    original, book = results["mlp"]
    if original["time_to_target_s"] and book["time_to_target_s"]:
        results["mlp_speedup_to_98"] = original["time_to_target_s"] / book["time_to_target_s"]
    measure_peak("after the MLP recipes")
    save()
    results["cnn"] = run_group(cnn_recipes, cnn_data, 0.992)
    for row in results["cnn"]:
        hit = [t for t, a in zip(row["cumulative_time_s"], row["test_accuracy"]) if a >= 0.995]
        row["time_to_99_5_s"] = hit[0] if hit else None
    measure_peak("after the CNN recipes")
