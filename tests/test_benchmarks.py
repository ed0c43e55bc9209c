"""A tiny smoke run of the benchmark: it still runs and writes valid JSON (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a real (tiny) benchmark run; left out of `make unit`
def test_benchmark_smoke_run_writes_valid_json(tmp_path):
    output = tmp_path / "results.json"
    env = dict(os.environ, MNIST_BOOK_CACHE=str(tmp_path / "cache"), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--smoke", "--repeats", "1", "--output", str(output)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["smoke"] is True and results["schema"] == 2 and results["train_repeats"] == 1
    assert {"cpu", "cores", "tensorflow", "keras", "numpy", "onnxruntime"} <= set(results["machine"])
    assert results["matmul"]["peak_gflops"] > 0
    for group in ("mlp", "cnn"):
        assert len(results[group]) == 2
        for row in results[group]:
            assert row["samples_per_s"] > 0 and row["gflops"] > 0
            assert len(row["epoch_times_s"]) == len(row["test_accuracy"]) == 1
            assert 0 <= row["final_test_accuracy"] <= 1
            assert row["runs"] == 1 and len(row["time_to_target_runs_s"]) == 1
            assert row["identical_accuracy_across_runs"] is True
            for key in ("images_per_s_batched", "single_image_latency_ms",
                        "onnxruntime_images_per_s_batched", "onnxruntime_single_image_latency_ms"):
                assert row["inference"][key] > 0, key
    assert results["mlp"][0]["recipe"]["batch_size"] == 32
    assert results["mlp"][0]["flops_per_sample"] == 6 * 850_586
    levels = ["matmul", "forward_backward", "train_step", "train_step_xla", "keras_fit", "keras_fit_steps_per_execution"]
    assert [profile["batch_size"] for profile in results["mlp_profile"]] == [32, 256]
    for profile in results["mlp_profile"]:
        assert list(profile["ms_per_step"]) == levels and all(v > 0 for v in profile["ms_per_step"].values())
        assert profile["convention_flops_per_step"] == 6 * 850_586 * profile["batch_size"]
        assert profile["matmul_flops_per_step"] < profile["convention_flops_per_step"]
