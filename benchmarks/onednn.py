"""Section ``onednn``: TensorFlow's oneDNN kernels off (the book's setting) and on, each in its own process."""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mnist_utils.evaluation import accuracy
from mnist_utils.reproducibility import ONEDNN_VARIABLE, onednn_enabled
from mnist_utils.saving import weights_digest
from mnist_utils.training import CNN_RECIPE, MLP_RECIPE, train

from benchmarks.common import ROOT, machine, matmul_peak, smoke_config
from benchmarks.profiles import profile_cnn_step


def onednn_probe(repeats: int, smoke: bool = False) -> dict:
    """One child process's measurements, with the ``TF_ENABLE_ONEDNN_OPTS`` its parent set.

    Trains :data:`~mnist_utils.training.MLP_RECIPE` with :func:`~mnist_utils.training.train`
    (one epoch on 1,000 images if ``smoke``) and records its validation accuracy, wall time and
    :func:`weights_digest`; then profiles the CNN's step (:func:`profile_cnn_step`) and times
    TensorFlow's matrix product (:func:`matmul_peak`).
    """
    config = smoke_config(MLP_RECIPE) if smoke else MLP_RECIPE
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
            command = [sys.executable, "-m", "benchmarks", "--onednn-probe", "--repeats", str(repeats)]
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
