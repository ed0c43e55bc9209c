"""The benchmark (``python -m benchmarks``): its ablation's steps, its budgets, the validation of
its results (the committed file is well-formed; broken ones are caught), and a tiny smoke run
that writes valid JSON (no timing is asserted)."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import ablation as bench_ablation
from benchmarks import cnn_seeds as bench_seeds
from benchmarks.__main__ import SECTIONS, sections
from benchmarks.common import spread
from benchmarks.validate import validate
from mnist_utils.ensemble import ENSEMBLE_RECIPE
from mnist_utils.training import MLP_RECIPE, ORIGINAL_RECIPE

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"


def changed_fields(a: dict, b: dict) -> set[str]:
    return {key for key in a if a[key] != b[key]}


def test_ablation_steps_go_from_the_original_recipe_to_the_books_one_field_at_a_time():
    steps = bench_ablation.ablation_steps()
    configs = [step["config"] for step in steps]
    assert configs[0] == dataclasses.replace(ORIGINAL_RECIPE, epochs=1)
    assert configs[-1] == MLP_RECIPE  # the book's recipe object itself, not a restatement
    assert ORIGINAL_RECIPE in configs  # the original recipe for the book's epochs
    assert [step["factor"] for step in steps] == [None, *bench_ablation.ABLATION_ORDER]
    for before, after, step in zip(configs, configs[1:], steps[1:]):
        assert changed_fields(dataclasses.asdict(before), dataclasses.asdict(after)) == {step["factor"]}
    seeded = bench_ablation.ablation_steps(seed=7)
    assert seeded[-1]["config"] == dataclasses.replace(MLP_RECIPE, seed=7)
    assert all(step["config"].seed == 7 for step in seeded)


def test_ablation_refuses_a_difference_it_would_not_measure(monkeypatch):
    """Were the book's recipe to change a field the ablation does not step through, it fails loudly."""
    monkeypatch.setattr(bench_ablation, "MLP_RECIPE", dataclasses.replace(MLP_RECIPE, learning_rate=3e-3))
    with pytest.raises(ValueError, match="learning_rate"):
        bench_ablation.ablation_steps()


def test_frontier_epochs_fit_the_budget_with_its_margin(monkeypatch):
    monkeypatch.setattr(bench_seeds, "BUDGET_MARGIN", 1.0)
    # 10 s per epoch, 5 s once per run: 29 epochs take 295 s, 30 would take 305 s.
    assert bench_seeds.frontier_epochs(15.0, 25.0, budget_s=300.0) == 29
    assert bench_seeds.frontier_epochs(15.0, 25.0, budget_s=305.0) == 30
    assert bench_seeds.frontier_epochs(15.0, 25.0, budget_s=1.0) == 1
    monkeypatch.setattr(bench_seeds, "BUDGET_MARGIN", 0.5)
    assert bench_seeds.frontier_epochs(15.0, 25.0, budget_s=300.0) == 14
    with pytest.raises(RuntimeError, match="did not take longer"):
        bench_seeds.frontier_epochs(25.0, 25.0)


def test_spread_is_mean_sample_sd_min_and_max():
    assert spread([1.0, 2.0, 6.0]) == {"mean": 3.0, "sd": pytest.approx(2.6457513), "min": 1.0, "max": 6.0}
    assert spread([0.5]) == {"mean": 0.5, "sd": 0.0, "min": 0.5, "max": 0.5}


def committed() -> dict:
    return json.loads(RESULTS.read_text())


def test_committed_results_are_well_formed_full_runs():
    """What the book renders: every section consistent, none of them a smoke run."""
    results = committed()
    assert validate(results) == []
    assert results["smoke"] is False
    assert all(results[name]["smoke"] is False for name in ("ablation", "ensemble", "onednn", "cnn_seeds", "cnn_frontier"))
    assert results["ablation"]["seeds"][0] == MLP_RECIPE.seed  # the book's seed first


def test_the_benchmarks_seeds_include_the_chapters_and_none_of_the_ensembles():
    from mnist_utils.training import CNN_RECIPE

    assert CNN_RECIPE.seed in bench_seeds.CNN_SEEDS
    assert not set(bench_seeds.CNN_SEEDS) & set(ENSEMBLE_RECIPE.seeds)


def _break(path: tuple, value) -> dict:
    results = copy.deepcopy(committed())
    target = results
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return results


@pytest.mark.parametrize(("path", "value", "section", "fragment"), [
    (("schema",), 1, "schema", "not 2"),
    (("ablation", "runs", 0, "steps", 2, "config", "learning_rate"), 0.5, "ablation", "changes more than"),
    (("ablation", "runs", 0, "steps", 1, "validation_curve"), lambda curve: curve[:-1], "ablation", "one point per epoch"),
    (("ensemble", "recipe", "test_time_shifts"), True, "ensemble", "test-time shifts"),
    (("cnn_seeds", "test_accuracy", "mean"), 0.5, "cnn_seeds", "not its runs' spread"),
    (("cnn_seeds", "recipe", "epochs"), 0, "cnn_seeds", "not a valid TrainingConfig"),
    (("cnn_frontier", "pace", "two_epochs_s"), lambda seconds: seconds * 3, "cnn_frontier", "its own pace and budget"),
    (("matmul", "peak_gflops"), 1.0, "recipes", "not the fastest"),
    (("onednn", "settings", "0", "repeatable"), False, "onednn", "disagrees with its runs"),
    (("ensemble", "members"), None, "ensemble", "malformed"),
])
def test_validation_names_the_section_and_what_is_wrong(path, value, section, fragment):
    problems = validate(_break(path, value))
    assert len(problems) == 1 and problems[0].startswith(f"{section}: ") and fragment in problems[0], problems


def test_a_recipe_changed_since_the_run_is_not_a_problem():
    """Changing CNN_RECIPE needs `make notebooks` and `make test`, not the two-hour benchmark."""
    results = committed()
    changed = dict(results["cnn_seeds"]["recipe"], epochs=results["cnn_seeds"]["recipe"]["epochs"] + 5)
    from mnist_utils.benchmark import which_run

    assert validate(results) == []
    text = which_run(results["cnn_seeds"], changed)
    assert text.startswith("run on ") and " on a 2-core " in text and " with TensorFlow " in text
    assert "the recipe has changed since (epochs was 15, is now 20)" in text and "`make bench` would" in text
    assert "changed" not in which_run(results["cnn_seeds"], results["cnn_seeds"]["recipe"])
    assert which_run({"date": "2026-12-04", "machine": {"cores": 2, "cpu": "AMD EPYC", "tensorflow": "2.21.0"}}) == (
        "run on 4 December 2026, on a 2-core AMD EPYC with TensorFlow 2.21.0")


def test_sections_are_chosen_by_name_in_the_runs_order():
    assert sections("ablation,ensemble") == ["ensemble", "ablation"]
    assert sections("all") == list(SECTIONS)
    for bad in ("ensembles", ""):
        with pytest.raises(Exception, match="choose from recipes, cnn_seeds"):
            sections(bad)


@pytest.mark.slow  # a real (tiny) benchmark run; left out of `make unit`
def test_benchmark_smoke_run_writes_valid_json(tmp_path):
    output = tmp_path / "results.json"
    env = dict(os.environ, MNIST_BOOK_CACHE=str(tmp_path / "cache"), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--repeats", "1", "--output", str(output)],
        capture_output=True, text=True, env=env, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["smoke"] is True and results["schema"] == 2 and results["train_repeats"] == 1
    assert {"cpu", "cores", "tensorflow", "keras", "numpy", "onnxruntime"} <= set(results["machine"])
    assert validate(results) == []  # the benchmark checked it too, before it exited 0
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
    # The original and keras-io recipes hand fit arrays, as their code does; the book's use training_batches.
    assert [row["recipe"]["feed"] for row in results["mlp"] + results["cnn"]] == [
        "arrays", "training_batches", "arrays", "training_batches"]
    ablation = results["ablation"]  # one seed, every step trained for one epoch
    assert ablation["smoke"] is True and ablation["seeds"] == [MLP_RECIPE.seed] and len(ablation["runs"]) == 1
    run = ablation["runs"][0]
    assert len(run["steps"]) == 5
    for before, after in zip(run["steps"], run["steps"][1:]):
        if after["factor"] != "epochs":  # every step has one epoch in a smoke run
            assert changed_fields(before["config"], after["config"]) == {after["factor"]}
    for row in [*run["steps"], run["schedule_first"]]:
        assert row["config"]["epochs"] == 1 and len(row["validation_curve"]) == 1
        assert 0 <= row["validation_accuracy"] <= 1 and 0 <= row["test_accuracy"] <= 1
    assert results["mlp"][0]["flops_per_sample"] == 6 * 850_586
    levels = ["matmul", "forward_backward", "train_step", "train_step_xla", "keras_fit", "keras_fit_steps_per_execution",
              "keras_fit_training_batches"]
    assert [profile["batch_size"] for profile in results["mlp_profile"]] == [32, 256]
    for profile in results["mlp_profile"]:
        assert list(profile["ms_per_step"]) == levels and all(v > 0 for v in profile["ms_per_step"].values())
        assert profile["convention_flops_per_step"] == 6 * 850_586 * profile["batch_size"]
        assert profile["matmul_flops_per_step"] < profile["convention_flops_per_step"]
    ensemble = results["ensemble"]  # two members, one epoch on 1,000 images each
    assert ensemble["smoke"] is True and ensemble["recipe"]["seeds"] == list(ENSEMBLE_RECIPE.seeds[:2])
    assert [row["seed"] for row in ensemble["members"]] == list(ENSEMBLE_RECIPE.seeds[:2])
    assert [row["members"] for row in ensemble["ensembles"]] == [1, 2]
    for row in ensemble["members"] + ensemble["ensembles"]:
        for key in ("validation_accuracy", "validation_accuracy_shifted", "test_accuracy", "test_accuracy_shifted"):
            assert 0 <= row[key] <= 1, key
    # The ensemble of one member is that member; the whole ensemble's training is every member's.
    assert {key: ensemble["ensembles"][0][key] for key in ("validation_accuracy", "test_accuracy_shifted")} == {
        key: ensemble["members"][0][key] for key in ("validation_accuracy", "test_accuracy_shifted")}
    assert ensemble["total_training_s"] == pytest.approx(sum(row["wall_time_s"] for row in ensemble["members"]))
    assert all(value > 0 for value in ensemble["inference_ms_per_image"].values())
    assert not list((tmp_path / "cache").glob("models/cnn-*.keras"))  # a smoke run leaves the model cache alone
    cnn_seeds = results["cnn_seeds"]  # two seeds, one epoch on 1,000 images each
    assert cnn_seeds["smoke"] is True and cnn_seeds["test_images"] == 500 and cnn_seeds["other_writers_images"] == 200
    assert cnn_seeds["seeds"] == list(bench_seeds.CNN_SEEDS[:2])
    frontier = results["cnn_frontier"]  # the same two seeds, one epoch each, and their pair
    assert frontier["smoke"] is True and frontier["recipe"]["epochs"] == 1 and len(frontier["pairs"]) == 1
    assert frontier["pace"] is None  # a smoke run does not size its epochs
    assert frontier["seeds"] == list(bench_seeds.CNN_SEEDS[:2])
    onednn = results["onednn"]  # one child process per setting, one epoch of the MLP each
    assert onednn["smoke"] is True and [row["onednn"] for row in onednn["settings"].values()] == [False, True]
    assert all(len(row["runs"]) == 1 and 0 <= row["mlp_validation_accuracy"] <= 1 for row in onednn["settings"].values())
    assert results["machine"]["onednn"] is False  # the benchmark imports mnist_utils first
