"""What every section of the benchmark shares: the machine it ran on, timing, the matrix-multiply peak, the split runs are scored on, the book's training path for a network the recipes do not build."""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_utils.data import load_mnist, train_validation_split
from mnist_utils.ensemble import TTA_SHIFTS, average_views, view_probabilities
from mnist_utils.evaluation import accuracy
from mnist_utils.reproducibility import onednn_enabled
from mnist_utils.training import TrainingConfig, fit_on_split


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


#: How many images a smoke run trains on: enough to prove the code runs, in seconds.
SMOKE_TRAINING_IMAGES = 1000


def smoke_config(config: TrainingConfig) -> TrainingConfig:
    """``config`` shrunk for a smoke run: one epoch on :data:`SMOKE_TRAINING_IMAGES` training images.

    ``validation_size`` becomes the rest of MNIST's 60,000 training images.
    """
    return dataclasses.replace(config, epochs=1, validation_size=60_000 - SMOKE_TRAINING_IMAGES)


def scoring_split(config: TrainingConfig, smoke: bool) -> tuple[TrainingConfig, tuple, tuple]:
    """``config`` and the raw validation and test images its runs are scored on.

    The validation images are those ``config`` holds out. ``smoke`` shrinks ``config`` to one
    epoch on 1,000 training images (``validation_size`` is the rest) and keeps 500 images of each.
    """
    (x_all, y_all), (x_test, y_test) = load_mnist()
    if smoke:
        config = smoke_config(config)
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


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation, minimum and maximum of ``values``."""
    return {"mean": statistics.mean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def train_like_book(config: TrainingConfig, build: Callable[[], keras.Model], training: tuple, validation: tuple, *,
                    weight_decay: float = 0.0, callbacks: Sequence[keras.callbacks.Callback] = ()
                    ) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train the network ``build()`` returns exactly as :func:`mnist_utils.training.train` trains ``config``'s.

    For a network, optimizer or callback the recipes do not have; ``training`` and
    ``validation`` are the raw ``(images, labels)`` parts of ``config``'s split. It is
    :func:`mnist_utils.training.fit_on_split`, the function ``train`` itself calls, so with
    ``build`` returning ``build_model(config)`` and the defaults the weights are those of
    ``train(config)``, bit for bit (a test checks). Returns the model and its history.
    """
    return fit_on_split(config, build, training, validation, weight_decay=weight_decay, callbacks=callbacks)
