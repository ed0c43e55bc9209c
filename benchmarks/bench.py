"""Measure the book's training recipes against the recipes readers would otherwise copy.

Everything is measured in one run, on one machine, so that ratios hold on a noisy machine:

1. the machine's limit: float32 matrix-multiply throughput (TensorFlow and NumPy), measured
   at the start, after the step profiles, after the MLP's recipes and after the CNN's; every
   share of the peak is taken of the fastest of those (the machine's speed drifts);
2. the MLP: the original recipe (Keras defaults: batch 32, constant Adam 1e-3, no XLA)
   against the book's recipe, same architecture: time to a test-accuracy target, training
   samples per second, achieved GFLOP/s;
3. the CNN: the book's recipe against the keras-io "Simple MNIST convnet" recipe;
4. inference: images per second in batches, and single-image latency, in Keras and in
   ONNX Runtime (the models exported as for the book's Draw-a-digit page);
5. the book build: a clean build and a cached rebuild (rendering the stored outputs);
6. a profile of one MLP training step, from the bare matrix products up to Keras's ``fit``,
   which shows what bounds the MLP's throughput, and one of the CNN's step (the network
   alone, its augmentation, the whole step, ``fit``);
7. chapter 6's ensemble (:data:`~mnist_utils.ensemble.ENSEMBLE_RECIPE`): each member's
   training time and accuracy, and the ensembles of its first 1, 2, … members with and
   without test-time shifts, on the validation split they all hold out and on the test set;
8. TensorFlow's oneDNN kernels, which the book keeps off (:mod:`mnist_utils.reproducibility`):
   in child processes with ``TF_ENABLE_ONEDNN_OPTS`` 0 and 1, twice each, the MLP's recipe
   trained (its validation accuracy and a digest of its weights: whether each setting is
   repeatable, and whether the two agree), the CNN's step profile and the matrix product;
9. the CNN's recipe from each of :data:`CNN_SEEDS`: its training time, its validation and
   test accuracy, and its accuracy on chapter 7's digits by other writers (scikit-learn's
   optdigits), per seed, and their mean and spread (the same validation split every time);
10. the frontier of issue 11's goals on this machine: the CNN's recipe trained for as many
   epochs as :data:`CNN_BUDGET_S` buys (timed first), from the same seeds, and every two of
   those runs as an ensemble, about :data:`ENSEMBLE_BUDGET_S` of training;
11. an ablation of the MLP's accuracy: the same network, seed and validation split trained
   with the original recipe for one epoch, then with one field of the recipe changed at a
   time until it is the book's recipe (see ``ablation_steps``); the validation and test
   accuracy of each step, for each of ``--ablation-seeds``.

Each training recipe runs ``--train-repeats`` times (3 by default) from the same seed:
the accuracy curves are identical (the runs are deterministic), and times, samples per
second and GFLOP/s are the medians of the runs. Other timings are medians of ``--repeats``.

FLOPs per training sample are counted as 6 × parameters: 2 per parameter for the forward
pass's multiply-adds and 4 for the backward pass (gradients with respect to activations and
to weights). For the CNN, whose weights are reused across positions, the count comes from
the layers' multiply-adds instead (see ``conv_flops``).

Usage: python benchmarks/bench.py [--output FILE] [--repeats N] [--train-repeats N] [--smoke] [--skip-book]
                                  [--skip-ablation] [--skip-ensemble] [--skip-onednn] [--skip-cnn-seeds]
                                  [--skip-cnn-frontier]
                                  [--ablation-seeds SEED ...]
       python benchmarks/bench.py --only-book      (update the book build in an existing --output)
       python benchmarks/bench.py --only-ensemble  (update the ensemble in --output)
       python benchmarks/bench.py --only-ablation  (update the ablation in --output)
       python benchmarks/bench.py --only-onednn    (update the oneDNN comparison in --output)
       python benchmarks/bench.py --only-cnn-seeds (update the CNN's seeds in --output)
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import math
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

import mnist_utils  # noqa: E402, F401  (first: it sets TensorFlow up before TensorFlow loads)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mnist_utils.data import load_mnist, train_validation_split  # noqa: E402
from mnist_utils.ensemble import (  # noqa: E402
    ENSEMBLE_RECIPE,
    NO_SHIFT,
    TTA_SHIFTS,
    EnsembleRecipe,
    average_views,
    ensemble_probabilities,
    view_probabilities,
)
from mnist_utils.evaluation import accuracy, predict_probabilities  # noqa: E402
from mnist_utils.export import export_onnx  # noqa: E402
from mnist_utils.files import write_text  # noqa: E402
from mnist_utils.handwriting import load_other_writers  # noqa: E402
from mnist_utils.models import build_original_mlp  # noqa: E402
from mnist_utils.preprocessing import preprocess_for_cnn, preprocess_for_mlp  # noqa: E402
from mnist_utils.reproducibility import ONEDNN_VARIABLE, onednn_enabled  # noqa: E402
from mnist_utils.training import (  # noqa: E402
    CNN_RECIPE,
    MLP_RECIPE,
    ORIGINAL_RECIPE,
    TrainingConfig,
    build_model,
    compile_model,
    save_model,
    set_seed,
    train,
    training_batches,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_VERSION = 2


#: The CPU's instruction sets that decide which kernels oneDNN picks (and whether TensorFlow
#: turns it on by default: neural-network instructions such as AVX-512 VNNI), as /proc/cpuinfo names them.
INSTRUCTION_SETS: tuple[str, ...] = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def machine() -> dict:
    """What the numbers were measured on."""
    model_name = platform.processor()
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model_name == platform.processor():
                model_name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {
        "cpu": model_name,
        "instruction_sets": [name for name in INSTRUCTION_SETS if name in flags],
        "onednn": onednn_enabled(),
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "onnxruntime": _onnxruntime().__version__,
    }


def _onnxruntime():
    import onnxruntime

    return onnxruntime


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


def gradient_step(network: keras.Model, optimizer, loss, x, y, apply: bool) -> list:
    """One step's gradients of ``loss`` for ``network`` on the batch ``(x, y)``; with ``apply``, Adam's update too."""
    with tf.GradientTape() as tape:
        value = loss(y, network(x, training=True))
    gradients = tape.gradient(value, network.trainable_variables)
    if apply:
        optimizer.apply_gradients(zip(gradients, network.trainable_variables))
    return gradients


def time_levels(levels: dict, steps: int, repeats: int) -> dict[str, float]:
    """Milliseconds per call of each ``tf.function`` in ``levels``: the median over ``repeats`` of ``steps`` calls.

    Each is called once first (tracing and compiling); the last call's first result is read back,
    so that the timing waits for the computation.
    """
    rows = {}
    for name, function in levels.items():
        function()

        def run(function=function) -> None:
            for _ in range(steps):
                result = function()
            np.asarray(result[0])

        seconds, _ = timed_median(run, repeats)
        rows[name] = seconds / steps * 1000
    return rows


def profile_mlp_step(batch_size: int, repeats: int, steps: int = 20, epoch_size: int = 54_000) -> dict:
    """Where one training step of the MLP spends its time, from the matrix products up.

    Each level adds work to the one before, and is timed as the median over ``repeats``
    of ``steps`` steps (milliseconds per step):

    1. ``matmul``: the step's matrix products only, at the same shapes and one after
       another (per layer: the forward product, and the backward products for the weights'
       and, past the first layer, the inputs' gradients): the most the step can run at;
    2. ``forward_backward``: the model's forward pass, loss and gradients (adds biases,
       relu, softmax and cross-entropy, and the tape's bookkeeping);
    3. ``train_step``: plus Adam's update of the 850,586 weights (elementwise, memory-bound);
    4. ``train_step_xla``: the same step compiled by XLA (``jit_compile=True``), which fuses
       the elementwise work (Keras's ``fit`` will not use XLA while op determinism is on);
    5. ``keras_fit``: one epoch of Keras's ``fit`` on ``epoch_size`` in-memory samples, per
       step (adds batching, shuffling, the loss and accuracy metrics, and callbacks),
       returning to Python after every step;
    6. ``keras_fit_steps_per_execution``: the same with the book's ``steps_per_execution``,
       which runs that many steps per call into TensorFlow;
    7. ``keras_fit_training_batches``: the same again, fed by
       :func:`mnist_utils.training.training_batches` instead of arrays (the same batches,
       without tf.data's autotuner): the book's recipe as chapter 4 runs it.
    """
    set_seed(42)
    model = build_original_mlp()
    optimizer = keras.optimizers.Adam(1e-3)
    loss = keras.losses.SparseCategoricalCrossentropy()
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch_size, 784), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, batch_size))
    widths = [784] + [layer.units for layer in model.layers]
    activations = [tf.constant(rng.random((batch_size, width), dtype=np.float32)) for width in widths]
    kernels = [layer.kernel for layer in model.layers]

    @tf.function
    def matmul():
        products = [tf.zeros(())]
        for layer, (inputs, outputs, kernel) in enumerate(zip(activations, activations[1:], kernels)):
            shapes = [(inputs, kernel, False, False), (inputs, outputs, True, False)]
            if layer > 0:  # no gradient is needed for the input images themselves
                shapes.append((outputs, kernel, False, True))
            for a, b, transpose_a, transpose_b in shapes:
                # One after another, as in a real step (independent products would overlap).
                with tf.control_dependencies([products[-1]]):
                    products.append(tf.linalg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b))
        return products[1:]

    def step(apply: bool):
        return gradient_step(model, optimizer, loss, x, y, apply)

    levels = {
        "matmul": matmul,
        "forward_backward": tf.function(lambda: step(False)),
        "train_step": tf.function(lambda: step(True)),
        "train_step_xla": tf.function(lambda: step(True), jit_compile=True),
    }
    # GFLOP/s use the 6 × parameters convention, as for whole training runs; the products
    # above really cost (6 × kernel weights − 2 × the first layer's) per sample, 24 % less.
    flops = 6.0 * model.count_params() * batch_size
    kernel_weights = [int(np.prod(kernel.shape)) for kernel in kernels]
    actual = 2.0 * batch_size * (3 * sum(kernel_weights) - kernel_weights[0])
    rows = time_levels(levels, steps, repeats)

    # One epoch of the book's training part (54,000 images), so that the epoch's fixed costs
    # (a new iterator, shuffling, end-of-epoch callbacks) weigh as much as in real training.
    # A tensor, as the chapters hand fit (to_training_tensor): handed a NumPy array, every fit
    # call would first copy it into TensorFlow, and the arrays' levels would time that copy too.
    samples = tf.constant(rng.random((epoch_size, 784), dtype=np.float32))
    labels = rng.integers(0, 10, epoch_size)
    batches = int(np.ceil(epoch_size / batch_size))
    per_call = MLP_RECIPE.steps_per_execution
    fed = training_batches(samples, labels, dataclasses.replace(MLP_RECIPE, batch_size=batch_size))
    def fit_arrays():
        return model.fit(samples, labels, batch_size=batch_size, epochs=1, verbose=0)

    fits = {
        "keras_fit": (1, fit_arrays),
        "keras_fit_steps_per_execution": (per_call, fit_arrays),
        "keras_fit_training_batches": (per_call, lambda: model.fit(fed, epochs=1, shuffle=False, verbose=0)),
    }
    for name, (steps_per_call, fit) in fits.items():
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], steps_per_execution=steps_per_call)
        fit()  # trace
        seconds, _ = timed_median(fit, repeats)
        rows[name] = seconds / batches * 1000
    return {
        "batch_size": batch_size,
        "matmul_flops_per_step": actual,
        "convention_flops_per_step": flops,
        "ms_per_step": rows,
        "gflops": {name: flops / (ms / 1000) / 1e9 for name, ms in rows.items()},
    }


def profile_cnn_step(repeats: int, steps: int = 10, epoch_size: int = 54_000) -> dict:
    """Where one training step of the book's CNN spends its time, at its recipe's batch size.

    Each level is timed as the median over ``repeats`` of ``steps`` steps (milliseconds per step):

    1. ``forward_backward``: the network without its augmentation layers: forward pass, loss
       and gradients (the convolutions' and the dense layers' products, and everything between);
    2. ``augmentation``: the random shift and rotation of one batch, alone;
    3. ``train_step``: the whole network with augmentation, plus Adam's update;
    4. ``keras_fit``: one epoch of Keras's ``fit`` fed by :func:`~mnist_utils.training.training_batches`,
       with the recipe's settings, per step (the book's CNN as chapter 6 trains it); the median
       over ``repeats // 2`` epochs (at least one), as an epoch is long.

    GFLOP/s count 6 × the multiply-adds of the Conv2D and Dense layers (``conv_flops``).
    """
    config = CNN_RECIPE
    set_seed(config.seed)
    model = build_model(config)
    bare = build_model(dataclasses.replace(config, augment_shift=0.0, augment_rotation=0.0))
    augmentation = keras.Sequential([layer for layer in model.layers if layer.name.startswith("random_")])
    optimizer = keras.optimizers.Adam(1e-3)
    loss = keras.losses.SparseCategoricalCrossentropy()
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((config.batch_size, 28, 28, 1), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, config.batch_size))

    levels = {
        "forward_backward": tf.function(lambda: gradient_step(bare, optimizer, loss, x, y, False)),
        "augmentation": tf.function(lambda: [augmentation(x, training=True)]),
        "train_step": tf.function(lambda: gradient_step(model, optimizer, loss, x, y, True)),
    }
    rows = time_levels(levels, steps, repeats)
    samples = tf.constant(rng.random((epoch_size, 28, 28, 1), dtype=np.float32))
    labels = rng.integers(0, 10, epoch_size)
    compile_model(model, config, epoch_size)
    fed = training_batches(samples, labels, config)
    model.fit(fed, epochs=1, shuffle=False, verbose=0)  # trace
    seconds, _ = timed_median(lambda: model.fit(fed, epochs=1, shuffle=False, verbose=0), max(1, repeats // 2))
    rows["keras_fit"] = seconds / config.steps_per_epoch(epoch_size) * 1000
    flops = conv_flops(model) * config.batch_size
    return {
        "batch_size": config.batch_size,
        "convention_flops_per_step": flops,
        "ms_per_step": rows,
        "gflops": {name: flops / (ms / 1000) / 1e9 for name, ms in rows.items() if name != "augmentation"},
    }


#: The order in which the ablation changes the original recipe into the book's, one field per
#: step. Every field in which the two recipes differ must be here (``ablation_steps`` checks);
#: ``steps_per_execution`` changes only the speed, and its step measures that it changes nothing else.
ABLATION_ORDER: tuple[str, ...] = ("epochs", "batch_size", "schedule", "steps_per_execution")
#: The ablation's seeds: the book's, then two more, so that a step's effect can be told from
#: the spread between seeds (another seed also draws another validation split).
ABLATION_SEEDS: tuple[int, ...] = (MLP_RECIPE.seed, 1, 2)
#: What each step of the ablation changes, in words.
ABLATION_LABELS: dict[str, str] = {
    "epochs": "train for {new} epochs, not {old}",
    "batch_size": "batches of {new}, not {old}",
    "schedule": "{new} learning-rate schedule, not {old}",
    "steps_per_execution": "{new} steps per call into TensorFlow, not {old} (speed only)",
}


def ablation_steps(seed: int | None = None, order: tuple[str, ...] = ABLATION_ORDER) -> list[dict]:
    """The ablation's recipes: from the original recipe for one epoch to the book's recipe.

    Step 0 is :data:`ORIGINAL_RECIPE` trained for one epoch (Keras's default); each later
    step changes one field, in ``order``, to its value in :data:`MLP_RECIPE`, so the last
    step is :data:`MLP_RECIPE` itself (with ``seed``, if given). A field whose value does not
    change is skipped (the epochs, if the book's recipe had one epoch). Each step is a dict
    with ``factor`` (the field changed; ``None`` for step 0), ``label`` and ``config``.

    Raises
    ------
    ValueError
        If the two recipes differ in a field that ``order`` leaves out, as they would if one of
        them changed and the ablation did not: the last step would not be the book's recipe.
    """
    start = dataclasses.replace(ORIGINAL_RECIPE, epochs=1)
    target = MLP_RECIPE
    if seed is not None:
        start, target = (dataclasses.replace(config, seed=seed) for config in (start, target))
    missing = [field.name for field in dataclasses.fields(TrainingConfig)
               if getattr(start, field.name) != getattr(target, field.name) and field.name not in order]
    if missing:
        raise ValueError(f"ORIGINAL_RECIPE and MLP_RECIPE also differ in {missing}; add them to ABLATION_ORDER.")
    steps = [{"factor": None, "label": f"original recipe, {start.epochs} epoch", "config": start}]
    for field in order:
        config = steps[-1]["config"]
        old, new = getattr(config, field), getattr(target, field)
        if old != new:
            steps.append({"factor": field, "label": ABLATION_LABELS[field].format(old=old, new=new),
                          "config": dataclasses.replace(config, **{field: new})})
    assert steps[-1]["config"] == target, (steps[-1]["config"], target)
    return steps


def ablation_run(config: TrainingConfig, validation, test) -> dict:
    """Train ``config`` with :func:`mnist_utils.training.train`, the book's own training path.

    ``validation`` and ``test`` are ``(images, labels)`` pairs of raw images; their accuracy is
    computed as chapter 5 computes it (:func:`~mnist_utils.evaluation.predict_probabilities`,
    then the most probable digit).
    """
    started = time.perf_counter()
    model, history = train(config)
    wall = time.perf_counter() - started

    def score(images, labels) -> float:
        return accuracy(labels, predict_probabilities(model, images).argmax(axis=1))

    return {
        "config": config.as_dict(),
        "validation_accuracy": score(*validation),
        "test_accuracy": score(*test),
        "validation_curve": [float(v) for v in history["val_accuracy"]],
        "training_curve": [float(v) for v in history["accuracy"]],
        "wall_time_s": wall,
    }


def ablation(seeds: list[int], smoke: bool = False, save=None) -> dict:
    """The ablation (see :func:`ablation_steps`) for each seed, and the schedule changed before the batch.

    For each seed the main chain changes the fields in :data:`ABLATION_ORDER`; one more run
    changes the schedule before the batch size (the ``schedule`` step applied to the step
    before ``batch_size``), so that each of the two has been measured from both sides and the
    order's effect shows. ``smoke`` trains every step for one epoch only. ``save`` is called
    with the partial result after every run.
    """
    (x_all, y_all), test = load_mnist()
    result = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "smoke": smoke,
              "order": list(ABLATION_ORDER), "seeds": list(seeds), "runs": []}
    for seed in seeds:
        steps = ablation_steps(seed)
        if smoke:
            steps = [dict(step, config=dataclasses.replace(step["config"], epochs=1)) for step in steps]
        config = steps[0]["config"]
        _, validation = train_validation_split(x_all, y_all, validation_size=config.validation_size, seed=config.validation_seed)
        run = {"seed": seed, "steps": [], "schedule_first": None}
        result["runs"].append(run)
        for index, step in enumerate(steps):
            print(f"ablation, seed {seed}, step {index}: {step['label']} ...", flush=True)
            row = {"step": index, "factor": step["factor"], "label": step["label"]}
            run["steps"].append(dict(row, **ablation_run(step["config"], validation, test)))
            if save:
                save(result)
        factors = [step["factor"] for step in steps]
        before = factors.index("batch_size") - 1
        config = dataclasses.replace(steps[before]["config"], schedule=steps[-1]["config"].schedule)
        print(f"ablation, seed {seed}: the schedule before the batch size ...", flush=True)
        run["schedule_first"] = {"after_step": before, "factor": "schedule",
                                 "label": f"{config.schedule} schedule at batches of {config.batch_size}",
                                 **ablation_run(config, validation, test)}
        if save:
            save(result)
    return result


def record_ablation(results: dict, seeds: list[int], smoke: bool, write, **extra) -> None:
    """Run :func:`ablation` into ``results["ablation"]`` (with ``extra``), calling ``write()`` after every run."""

    def keep(partial: dict) -> None:
        results["ablation"] = dict(partial, **extra)
        write()

    keep(ablation(seeds, smoke=smoke, save=keep))


def scoring_split(config: TrainingConfig, smoke: bool) -> tuple[TrainingConfig, tuple, tuple]:
    """``config`` and the raw validation and test images its runs are scored on.

    The validation images are those ``config`` holds out. ``smoke`` shrinks ``config`` to one
    epoch on 1,000 training images (``validation_size`` is the rest) and keeps 500 images of each.
    """
    (x_all, y_all), (x_test, y_test) = load_mnist()
    if smoke:
        config = dataclasses.replace(config, epochs=1, validation_size=len(x_all) - 1000)
    _, (x_val, y_val) = train_validation_split(x_all, y_all, validation_size=config.validation_size,
                                               seed=config.validation_seed)
    if smoke:
        x_val, y_val, x_test, y_test = x_val[:500], y_val[:500], x_test[:500], y_test[:500]
    return config, (x_val, y_val), (x_test, y_test)


def views_accuracy(views: np.ndarray, labels: np.ndarray, shifted: bool) -> float:
    """Accuracy of the ensemble of the models in ``views`` (``view_probabilities``'s layout).

    The models' plain predictions, or with ``shifted`` those of every shift of
    :data:`~mnist_utils.ensemble.TTA_SHIFTS` as well, are averaged with ``average_views``.
    """
    assert TTA_SHIFTS[0] == (0, 0)  # so [:, :1] are the plain predictions
    return accuracy(labels, average_views(views[:, : len(TTA_SHIFTS) if shifted else 1]).argmax(axis=1))


def ensemble_benchmark(recipe: EnsembleRecipe = ENSEMBLE_RECIPE, smoke: bool = False, repeats: int = 3) -> dict:
    """Train every member of ``recipe`` as chapter 6 does, and score the ensembles of the first k.

    Each member is trained with :func:`mnist_utils.training.train` (the book's training path)
    and timed, then saved to the model cache, where chapter 6 finds it. Every member predicts
    the validation images (the split all members hold out) and the test images once per shift
    of :data:`~mnist_utils.ensemble.TTA_SHIFTS`; the ensembles of the first 1, 2, … members,
    with and without test-time shifts, are averages of those predictions
    (:func:`~mnist_utils.ensemble.average_views`). Inference is timed for one member without
    shifts and for the whole ensemble as ``recipe`` predicts (medians of ``repeats``).
    ``smoke`` trains two members for one epoch on 1,000 images and scores 500.
    """
    member, (x_val, y_val), (x_test, y_test) = scoring_split(recipe.member, smoke)
    if smoke:
        recipe = dataclasses.replace(recipe, member=member, seeds=recipe.seeds[:2])
    models, members = [], []
    for config in recipe.members():
        print(f"ensemble member, seed {config.seed} ...", flush=True)
        started = time.perf_counter()
        model, history = train(config)
        wall = time.perf_counter() - started
        if not smoke:
            save_model(model, config, history=history, wall_time=wall)
        models.append(model)
        members.append({"seed": config.seed, "wall_time_s": wall,
                        "validation_curve": [float(v) for v in history["val_accuracy"]]})
    shifts = TTA_SHIFTS
    views = {"validation": view_probabilities(models, x_val, shifts=shifts),
             "test": view_probabilities(models, x_test, shifts=shifts)}
    labels = {"validation": y_val, "test": y_test}

    def score(part: str, count: int, shifted: bool, first: int = 0) -> float:
        return views_accuracy(views[part][first : first + count], labels[part], shifted)

    for index, row in enumerate(members):
        for part in views:
            row[f"{part}_accuracy"] = score(part, 1, False, first=index)
            row[f"{part}_accuracy_shifted"] = score(part, 1, True, first=index)
    ensembles = [
        {"members": count, "training_s": sum(row["wall_time_s"] for row in members[:count]),
         **{f"{part}_accuracy{suffix}": score(part, count, shifted)
            for part in views for suffix, shifted in (("", False), ("_shifted", True))}}
        for count in range(1, len(models) + 1)
    ]
    one, _ = timed_median(lambda: ensemble_probabilities(models[:1], x_test), repeats)
    whole, _ = timed_median(lambda: ensemble_probabilities(models, x_test, shifts=recipe.shifts), repeats)
    return {
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "smoke": smoke,
        "recipe": {"member": recipe.member.as_dict(), "seeds": list(recipe.seeds),
                   "test_time_shifts": recipe.test_time_shifts, "shifts": [list(shift) for shift in shifts]},
        "validation_images": int(len(y_val)), "test_images": int(len(y_test)),
        "members": members, "ensembles": ensembles,
        "total_training_s": ensembles[-1]["training_s"],
        "inference_ms_per_image": {"one_member": 1000 * one / len(x_test),
                                   "ensemble": 1000 * whole / len(x_test)},
    }


#: The seeds from which the benchmark trains the CNN's recipe to measure its spread: the book's
#: own (42, chapter 6's model) and two that the ensemble's members (``ENSEMBLE_RECIPE.seeds``)
#: do not use, so that no run here is also one of the ensemble's.
CNN_SEEDS: tuple[int, ...] = (42, 3, 4)


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation, minimum and maximum of ``values``."""
    return {"mean": statistics.mean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def cnn_seeds_benchmark(config: TrainingConfig = CNN_RECIPE, seeds: tuple[int, ...] = CNN_SEEDS,
                        smoke: bool = False, pairs: bool = False) -> dict:
    """Train ``config`` from each of ``seeds`` as chapter 6 does, and score each run.

    Every run holds out the validation images of ``config`` (``split_seed`` fixed to its
    validation seed), so only the initial weights, the batches' order and the augmentation
    change with the seed. Each run is trained with :func:`mnist_utils.training.train` and
    timed; its models are not saved. Each run also reads chapter 7's digits by other writers
    (:func:`~mnist_utils.handwriting.load_other_writers`), which nothing here was chosen on:
    how well the recipe carries over to handwriting that is not MNIST's. With ``pairs``, every
    two runs are also scored as an ensemble of two, with and without the test-time shifts of
    :data:`~mnist_utils.ensemble.TTA_SHIFTS` (``"pairs"``). ``smoke`` trains two seeds for one
    epoch on 1,000 images and scores 500 (and 200 of the other writers' digits).
    """
    config, (x_val, y_val), (x_test, y_test) = scoring_split(
        dataclasses.replace(config, split_seed=config.validation_seed), smoke)
    other_images, other_labels = load_other_writers()
    if smoke:
        seeds = seeds[:2]
        other_images, other_labels = other_images[:200], other_labels[:200]
    images = {"validation": (x_val, y_val), "test": (x_test, y_test)}  # view_probabilities preprocesses
    runs, views = [], []
    for seed in seeds:
        print(f"CNN recipe ({config.epochs} epochs), seed {seed} ...", flush=True)
        started = time.perf_counter()
        model, history = train(dataclasses.replace(config, seed=seed))
        wall = time.perf_counter() - started
        run = {"seed": seed, "wall_time_s": wall, "validation_curve": [float(v) for v in history["val_accuracy"]]}
        run_views = {part: view_probabilities([model], x, shifts=TTA_SHIFTS if pairs else NO_SHIFT)
                     for part, (x, _) in images.items()}
        for part, (_, y) in images.items():
            run[f"{part}_accuracy"] = views_accuracy(run_views[part], y, shifted=False)
        run["other_writers_accuracy"] = accuracy(
            other_labels, predict_probabilities(model, other_images, batch_size=500).argmax(axis=1))  # as chapter 7
        runs.append(run)
        views.append(run_views)
        keras.backend.clear_session()
    section = {
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "smoke": smoke,
        "recipe": config.as_dict(), "seeds": list(seeds), "runs": runs,
        "validation_images": int(len(y_val)), "test_images": int(len(y_test)),
        "other_writers_images": int(len(other_labels)),
        **{f"{part}_accuracy": spread([run[f"{part}_accuracy"] for run in runs]) for part in (*images, "other_writers")},
        "wall_time_s": spread([run["wall_time_s"] for run in runs]),
    }
    if pairs:
        stacked = {part: np.concatenate([run_views[part] for run_views in views]) for part in images}
        section["shifts"] = [list(shift) for shift in TTA_SHIFTS]
        section["pairs"] = [
            {"seeds": [runs[i]["seed"], runs[j]["seed"]],
             "training_s": runs[i]["wall_time_s"] + runs[j]["wall_time_s"],
             **{f"{part}_accuracy{suffix}": views_accuracy(stacked[part][[i, j]], y, shifted)
                for part, (_, y) in images.items() for suffix, shifted in (("", False), ("_shifted", True))}}
            for i, j in itertools.combinations(range(len(runs)), 2)
        ]
    return section


#: Issue 11's budgets on the benchmark's machine: one CNN's training, and an ensemble's in all.
CNN_BUDGET_S = 300.0
ENSEMBLE_BUDGET_S = 600.0


#: The share of a budget the frontier's epochs may fill, so that a run's noise stays within it.
BUDGET_MARGIN = 0.95


def frontier_epochs(one_epoch_s: float, two_epochs_s: float, budget_s: float = CNN_BUDGET_S) -> int:
    """The most epochs that fit in ``BUDGET_MARGIN × budget_s``, from two timed trainings of 1 and 2 epochs.

    Their difference is the time of an epoch; the rest of the one-epoch run (building the
    network, tracing the step, loading the data) is paid once per run.
    """
    epoch_s = two_epochs_s - one_epoch_s
    if epoch_s <= 0:
        raise RuntimeError(f"two epochs ({two_epochs_s:.1f} s) did not take longer than one ({one_epoch_s:.1f} s)")
    overhead_s = max(0.0, one_epoch_s - epoch_s)
    return max(1, math.floor((BUDGET_MARGIN * budget_s - overhead_s) / epoch_s))


def cnn_frontier_benchmark(smoke: bool = False) -> dict:
    """The CNN's recipe trained for as many epochs as :data:`CNN_BUDGET_S` buys, from each of :data:`CNN_SEEDS`.

    The epochs are sized on this machine, now: the recipe is trained for 1 and for 2 epochs
    from the first seed and timed (:func:`frontier_epochs`). The cosine schedule stretches over
    the longer run; nothing else changes. Two runs together take about :data:`ENSEMBLE_BUDGET_S`,
    so each pair is also scored as an ensemble (``"pairs"``, with its training time). This is the frontier of issue 11's
    goals for the CNN and the ensemble on this machine; the book's recipe is chosen elsewhere,
    on validation. ``smoke`` trains one epoch on 1,000 images, without sizing.
    """
    epochs, pace = 1, None
    if not smoke:
        times = []
        for count in (1, 2):
            print(f"CNN recipe, {count} epoch(s) to time an epoch ...", flush=True)
            started = time.perf_counter()
            train(dataclasses.replace(CNN_RECIPE, epochs=count))
            times.append(time.perf_counter() - started)
            keras.backend.clear_session()
        epochs = frontier_epochs(*times)
        pace = {"one_epoch_s": times[0], "two_epochs_s": times[1], "margin": BUDGET_MARGIN}
    section = cnn_seeds_benchmark(dataclasses.replace(CNN_RECIPE, epochs=epochs), smoke=smoke, pairs=True)
    return dict(section, budget_s=CNN_BUDGET_S, ensemble_budget_s=ENSEMBLE_BUDGET_S, pace=pace)


def weights_digest(model: keras.Model) -> str:
    """SHA-256 of a model's weights, in order: equal digests mean bit-identical models."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def onednn_probe(repeats: int, smoke: bool = False) -> dict:
    """One child process's measurements, with the ``TF_ENABLE_ONEDNN_OPTS`` its parent set.

    Trains :data:`~mnist_utils.training.MLP_RECIPE` with :func:`~mnist_utils.training.train`
    (one epoch if ``smoke``) and records its validation accuracy, wall time and
    :func:`weights_digest`; then profiles the CNN's step (:func:`profile_cnn_step`) and times
    TensorFlow's matrix product (:func:`matmul_peak`).
    """
    config = dataclasses.replace(MLP_RECIPE, epochs=1) if smoke else MLP_RECIPE
    started = time.perf_counter()
    model, history = train(config)
    wall_time = time.perf_counter() - started
    return {
        "variable": os.environ.get(ONEDNN_VARIABLE),
        "onednn": onednn_enabled(),
        "mlp": {"validation_accuracy": history["val_accuracy"][-1], "wall_time_s": wall_time,
                "weights_sha256": weights_digest(model)},
        "cnn_ms_per_step": profile_cnn_step(repeats, steps=2 if smoke else 10,
                                            epoch_size=1024 if smoke else 60_000 - CNN_RECIPE.validation_size)["ms_per_step"],
        "tensorflow_matmul_gflops": matmul_peak(256 if smoke else 4096, repeats)["tensorflow_gflops"],
    }


#: The settings of ``TF_ENABLE_ONEDNN_OPTS`` the oneDNN comparison runs: the book's first.
ONEDNN_SETTINGS: tuple[str, ...] = ("0", "1")


def onednn_benchmark(repeats: int, smoke: bool = False, runs: int = 2) -> dict:
    """Run :func:`onednn_probe` ``runs`` times (once if ``smoke``) in a fresh process for each of :data:`ONEDNN_SETTINGS`.

    TensorFlow reads the variable once, at import, so each setting needs its own process.
    Reports, per setting, whether TensorFlow used oneDNN, whether its runs gave identical
    weights, and the medians of its timings; and whether the two settings' weights agree.
    """
    settings = {}
    runs = 1 if smoke else runs
    for value in ONEDNN_SETTINGS:
        runs_out = []
        for run in range(runs):
            print(f"oneDNN {ONEDNN_VARIABLE}={value}, run {run + 1} of {runs} ...", flush=True)
            command = [sys.executable, str(Path(__file__).resolve()), "--onednn-probe", "--repeats", str(repeats)]
            child = subprocess.run(command + (["--smoke"] if smoke else []), capture_output=True, text=True,
                                   env=dict(os.environ, **{ONEDNN_VARIABLE: value}), cwd=ROOT)
            if child.returncode:
                raise RuntimeError(f"the oneDNN probe with {ONEDNN_VARIABLE}={value} failed:\n{child.stderr[-3000:]}")
            runs_out.append(json.loads(child.stdout.strip().splitlines()[-1]))
        digests = {run["mlp"]["weights_sha256"] for run in runs_out}
        levels = runs_out[0]["cnn_ms_per_step"]
        settings[value] = {
            "onednn": runs_out[0]["onednn"],
            "runs": runs_out,
            "repeatable": len(digests) == 1,
            "mlp_validation_accuracy": runs_out[0]["mlp"]["validation_accuracy"],
            "mlp_wall_time_s": statistics.median(run["mlp"]["wall_time_s"] for run in runs_out),
            "cnn_ms_per_step": {level: statistics.median(run["cnn_ms_per_step"][level] for run in runs_out)
                                for level in levels},
            "tensorflow_matmul_gflops": statistics.median(run["tensorflow_matmul_gflops"] for run in runs_out),
        }
    off, on = (settings[value] for value in ONEDNN_SETTINGS)
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "smoke": smoke,
        "recipe": MLP_RECIPE.as_dict(),
        "settings": settings,
        "same_weights": off["runs"][0]["mlp"]["weights_sha256"] == on["runs"][0]["mlp"]["weights_sha256"],
        "cnn_steps_per_epoch": CNN_RECIPE.steps_per_epoch(60_000 - CNN_RECIPE.validation_size),
        "cnn_speedup": {level: off["cnn_ms_per_step"][level] / on["cnn_ms_per_step"][level]
                        for level in off["cnn_ms_per_step"]},
        "mlp_speedup": off["mlp_wall_time_s"] / on["mlp_wall_time_s"],
    }


def book_build(repeats: int) -> dict:
    """Wall time of a clean build and of a cached rebuild of the book (``jupyter-book build``).

    The build renders the outputs stored in the notebooks and executes none of them; the
    web assets, with the exported models, are those ``make web`` built in ``_web``.
    """
    work = Path(tempfile.mkdtemp(prefix="mnist-book-bench-"))
    try:
        tree = work / "book"
        skip = shutil.ignore_patterns(".git", ".venv", "_build", ".cache", "artifacts", "node_modules")
        shutil.copytree(ROOT, tree, ignore=skip)  # keeps _web: the web assets `make web` built
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
    parser.add_argument("--train-repeats", type=int, default=3, help="runs of each training recipe (median)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that only proves the benchmark works")
    parser.add_argument("--skip-book", action="store_true", help="do not time the book build")
    parser.add_argument("--only-book", action="store_true",
                        help="time only the book build and update it in an existing --output file")
    parser.add_argument("--skip-ablation", action="store_true", help="do not run the MLP's ablation")
    parser.add_argument("--only-ablation", action="store_true",
                        help="run only the MLP's ablation and update it in the --output file")
    parser.add_argument("--skip-ensemble", action="store_true", help="do not train and score chapter 6's ensemble")
    parser.add_argument("--only-ensemble", action="store_true",
                        help="train and score only chapter 6's ensemble and update it in the --output file")
    parser.add_argument("--skip-onednn", action="store_true", help="do not compare TensorFlow's oneDNN kernels")
    parser.add_argument("--only-onednn", action="store_true",
                        help="compare only TensorFlow's oneDNN kernels on and off, and update it in the --output file")
    parser.add_argument("--skip-cnn-seeds", action="store_true", help="do not train the CNN's recipe from other seeds")
    parser.add_argument("--only-cnn-seeds", action="store_true",
                        help="train only the CNN's recipe from each seed and update it in the --output file")
    parser.add_argument("--skip-cnn-frontier", action="store_true",
                        help="do not train the CNN's recipe for as many epochs as 300 s buy")
    parser.add_argument("--only-cnn-frontier", action="store_true",
                        help="train only the CNN's recipe for as many epochs as 300 s buy and update it in the --output file")
    parser.add_argument("--onednn-probe", action="store_true", help=argparse.SUPPRESS)  # a child of --only-onednn
    parser.add_argument("--ablation-seeds", type=int, nargs="+", default=list(ABLATION_SEEDS),
                        help="seeds of the ablation (the first is the book's); each adds a full set of runs")
    args = parser.parse_args(argv)
    ablation_seeds = args.ablation_seeds[:1] if args.smoke else args.ablation_seeds
    if args.only_ablation:
        results = json.loads(args.output.read_text()) if args.output.exists() else {"schema": SCHEMA_VERSION}
        record_ablation(results, ablation_seeds, args.smoke,
                        lambda: write_text(args.output, json.dumps(results, indent=1)),
                        separate_run="python benchmarks/bench.py --only-ablation")
        print(f"updated {args.output}")
        return results
    if args.onednn_probe:
        print(json.dumps(onednn_probe(args.repeats, args.smoke)))
        return {}
    def update(key: str, option: str, measure) -> dict:
        """Measure one section alone and replace it in --output, which keeps every other section."""
        results = json.loads(args.output.read_text()) if args.output.exists() else {"schema": SCHEMA_VERSION}
        results[key] = dict(measure(), separate_run=f"python benchmarks/bench.py {option}")
        write_text(args.output, json.dumps(results, indent=1))
        print(f"updated {args.output}")
        return results

    if args.only_onednn:
        return update("onednn", "--only-onednn", lambda: onednn_benchmark(args.repeats, args.smoke))
    if args.only_cnn_seeds:
        return update("cnn_seeds", "--only-cnn-seeds", lambda: cnn_seeds_benchmark(smoke=args.smoke))
    if args.only_cnn_frontier:
        return update("cnn_frontier", "--only-cnn-frontier", lambda: cnn_frontier_benchmark(smoke=args.smoke))
    if args.only_ensemble:
        return update("ensemble", "--only-ensemble", lambda: ensemble_benchmark(smoke=args.smoke, repeats=args.repeats))
    if args.only_book:
        results = json.loads(args.output.read_text())
        results["book_build"] = book_build(max(1, min(args.repeats, 3)))
        results["book_build"].update(date=time.strftime("%Y-%m-%d"), separate_run="python benchmarks/bench.py --only-book")
        write_text(args.output, json.dumps(results, indent=1))
        print(f"updated {args.output}")
        return results

    (x_all, y_all), (x_test, y_test) = load_mnist()
    (x_train, y_train), _ = train_validation_split(x_all, y_all, validation_size=MLP_RECIPE.validation_size,
                                                   seed=MLP_RECIPE.seed)
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]
    short = (lambda config: dataclasses.replace(config, epochs=1)) if args.smoke else (lambda config: config)

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

    # Sections this run does not measure keep their committed values (each records its own run).
    previous = json.loads(args.output.read_text()) if args.output.exists() and not args.smoke else {}
    kept = {key: previous[key] for key, skipped in (("ablation", args.skip_ablation), ("book_build", args.skip_book),
                                                    ("ensemble", args.skip_ensemble),
                                                    ("onednn", args.skip_onednn),
                                                    ("cnn_seeds", args.skip_cnn_seeds),
                                                    ("cnn_frontier", args.skip_cnn_frontier))
            if skipped and key in previous}
    results: dict = {"schema": SCHEMA_VERSION, "smoke": args.smoke, "machine": machine(),
                     "date": time.strftime("%Y-%m-%d"), "repeats": args.repeats,
                     "train_repeats": 1 if args.smoke else args.train_repeats,
                     "flops_formula": "MLP: 6 x parameters per training sample; CNN: 6 x multiply-adds "
                                      "of the Conv2D and Dense layers per training sample"}
    results.update(kept)
    # The machine's speed drifts (a shared host: other tenants, clock changes), so the peak is
    # measured before and after every group of measurements, and every share is taken of the
    # fastest of those: a slow moment at one measurement cannot inflate the shares.
    peaks: list[dict] = []

    def measure_peak(when: str) -> None:
        """Time the peak once more; every share measured so far is then taken of the fastest measurement."""
        print(f"matmul ({when}) ...", flush=True)
        peaks.append(dict(matmul_peak(256 if args.smoke else 4096, args.repeats), when=when))
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

    measure_peak("start")

    def run_group(recipes, data, target):
        rows = []
        for recipe in recipes:
            print(f"{recipe.name} ...", flush=True)
            row = train_to_target(recipe, data, target, results["train_repeats"])
            model = row.pop("model")
            row["inference"] = inference(model, data[1][0], args.repeats)
            rows.append(row)
        return rows

    def save() -> None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        write_text(args.output, json.dumps(results, indent=1))

    save()
    print("MLP step profile ...", flush=True)
    results["mlp_profile"] = [profile_mlp_step(batch, args.repeats, steps=2 if args.smoke else 20,
                                               epoch_size=len(x_train))
                              for batch in (32, MLP_RECIPE.batch_size)]
    print("CNN step profile ...", flush=True)
    results["cnn_profile"] = profile_cnn_step(args.repeats, steps=2 if args.smoke else 10,
                                              epoch_size=len(x_train))
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
    if not args.skip_cnn_seeds:
        save()
        results["cnn_seeds"] = cnn_seeds_benchmark(smoke=args.smoke)
    if not args.skip_cnn_frontier:
        save()
        results["cnn_frontier"] = cnn_frontier_benchmark(smoke=args.smoke)
    if not args.skip_ensemble:
        save()
        results["ensemble"] = ensemble_benchmark(smoke=args.smoke, repeats=args.repeats)
    if not args.skip_onednn:
        save()
        results["onednn"] = onednn_benchmark(args.repeats, args.smoke)
    if not args.skip_ablation:
        save()
        record_ablation(results, ablation_seeds, args.smoke, save)
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
