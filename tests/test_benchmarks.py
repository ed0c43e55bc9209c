"""The benchmark: a tiny smoke run still writes valid JSON (no timing is asserted), and the
committed ablation of the MLP's recipe is well-formed and built from the book's recipes."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_utils.ensemble import ENSEMBLE_RECIPE
from mnist_utils.training import CNN_RECIPE, MLP_RECIPE, ORIGINAL_RECIPE, TrainingConfig

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
#: Fields that change only the speed of training, never the trained weights.
SPEED_ONLY = {"steps_per_execution"}


@pytest.fixture(scope="module")
def bench():
    """benchmarks/bench.py, imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def changed_fields(a: dict, b: dict) -> set[str]:
    return {key for key in a if a[key] != b[key]}


def check_run(run: dict, epochs_of: callable = lambda config: config["epochs"]) -> None:
    """One seed's ablation: each step changes its named field only, and the accuracies are fractions."""
    steps = run["steps"]
    assert [step["step"] for step in steps] == list(range(len(steps)))
    assert steps[0]["factor"] is None
    for before, after in zip(steps, steps[1:]):
        assert changed_fields(before["config"], after["config"]) == {after["factor"]}, after["label"]
    for row in [*steps, run["schedule_first"]]:
        TrainingConfig(**row["config"])  # a valid recipe
        assert row["config"]["seed"] == run["seed"] and row["label"]
        for key in ("validation_accuracy", "test_accuracy"):
            assert 0 <= row[key] <= 1, (row["label"], key)
        assert len(row["validation_curve"]) == len(row["training_curve"]) == epochs_of(row["config"])
        assert all(0 <= v <= 1 for v in row["validation_curve"] + row["training_curve"])
        # The curve's last point is the same validation accuracy, computed by Keras in float32.
        assert row["validation_curve"][-1] == pytest.approx(row["validation_accuracy"], abs=1e-6)
        assert row["wall_time_s"] > 0
    # The schedule changed before the batch size: one field from the step before the batch
    # size's, one field (the batch size) from the schedule's step.
    alternate = run["schedule_first"]
    factors = [step["factor"] for step in steps]
    before, after = steps[alternate["after_step"]], steps[factors.index("schedule")]
    assert factors[alternate["after_step"] + 1] == "batch_size" and alternate["factor"] == "schedule"
    assert changed_fields(before["config"], alternate["config"]) == {"schedule"}
    assert changed_fields(alternate["config"], after["config"]) == {"batch_size"}


def test_ablation_steps_go_from_the_original_recipe_to_the_books_one_field_at_a_time(bench):
    steps = bench.ablation_steps()
    configs = [step["config"] for step in steps]
    assert configs[0] == dataclasses.replace(ORIGINAL_RECIPE, epochs=1)
    assert configs[-1] == MLP_RECIPE  # the book's recipe object itself, not a restatement
    assert ORIGINAL_RECIPE in configs  # the original recipe for the book's epochs
    assert [step["factor"] for step in steps] == [None, *bench.ABLATION_ORDER]
    for before, after, step in zip(configs, configs[1:], steps[1:]):
        assert changed_fields(dataclasses.asdict(before), dataclasses.asdict(after)) == {step["factor"]}
    seeded = bench.ablation_steps(seed=7)
    assert seeded[-1]["config"] == dataclasses.replace(MLP_RECIPE, seed=7)
    assert all(step["config"].seed == 7 for step in seeded)


def test_ablation_refuses_a_difference_it_would_not_measure(bench, monkeypatch):
    """Were the book's recipe to change a field the ablation does not step through, it fails loudly."""
    monkeypatch.setattr(bench, "MLP_RECIPE", dataclasses.replace(MLP_RECIPE, learning_rate=3e-3))
    with pytest.raises(ValueError, match="learning_rate"):
        bench.ablation_steps()


def test_committed_ablation_is_well_formed_and_built_from_the_books_recipes(bench):
    results = json.loads(RESULTS.read_text())
    ablation = results["ablation"]
    assert ablation["smoke"] is False
    assert {"cpu", "cores", "tensorflow", "keras", "numpy"} <= set(ablation["machine"])
    assert ablation["order"] == list(bench.ABLATION_ORDER)
    assert ablation["seeds"][0] == MLP_RECIPE.seed  # the book's seed first
    assert [run["seed"] for run in ablation["runs"]] == ablation["seeds"]
    assert len(set(ablation["seeds"])) == len(ablation["seeds"])
    for run in ablation["runs"]:
        check_run(run)
        # The recipes are those ablation_steps builds from ORIGINAL_RECIPE and MLP_RECIPE today.
        expected = bench.ablation_steps(run["seed"])
        assert [step["config"] for step in run["steps"]] == [step["config"].as_dict() for step in expected]
        assert [step["factor"] for step in run["steps"]] == [step["factor"] for step in expected]
        # A speed-only step changes nothing the model learns: the same accuracies, bit for bit.
        for before, after in zip(run["steps"], run["steps"][1:]):
            if after["factor"] in SPEED_ONLY:
                for key in ("validation_accuracy", "test_accuracy", "validation_curve"):
                    assert after[key] == before[key], (after["label"], key)
    book = ablation["runs"][0]["steps"][-1]["config"]
    assert book == MLP_RECIPE.as_dict()
    assert ablation["runs"][0]["steps"][1]["config"] == ORIGINAL_RECIPE.as_dict()


def test_committed_ensemble_is_the_chapters_recipe_and_chose_its_shifts_on_validation():
    ensemble = json.loads(RESULTS.read_text())["ensemble"]
    assert ensemble["smoke"] is False
    assert ensemble["recipe"]["member"] == ENSEMBLE_RECIPE.member.as_dict()
    assert ensemble["recipe"]["seeds"] == list(ENSEMBLE_RECIPE.seeds)
    assert [row["seed"] for row in ensemble["members"]] == list(ENSEMBLE_RECIPE.seeds)
    assert [row["members"] for row in ensemble["ensembles"]] == list(range(1, len(ENSEMBLE_RECIPE.seeds) + 1))
    whole = ensemble["ensembles"][-1]
    assert ENSEMBLE_RECIPE.test_time_shifts == (whole["validation_accuracy_shifted"] > whole["validation_accuracy"])
    assert ensemble["validation_images"] == ENSEMBLE_RECIPE.member.validation_size


def test_committed_onednn_comparison_is_the_mlp_recipe_with_the_books_setting_first():
    onednn = json.loads(RESULTS.read_text())["onednn"]
    assert onednn["smoke"] is False and onednn["recipe"] == MLP_RECIPE.as_dict()
    assert list(onednn["settings"]) == ["0", "1"]  # the book's setting, then oneDNN's
    assert [row["onednn"] for row in onednn["settings"].values()] == [False, True]
    for row in onednn["settings"].values():
        assert len(row["runs"]) == 2 and row["repeatable"] == (len({run["mlp"]["weights_sha256"] for run in row["runs"]}) == 1)
    assert onednn["cnn_steps_per_epoch"] == CNN_RECIPE.steps_per_epoch(60_000 - CNN_RECIPE.validation_size)


def check_cnn_seeds(section: dict, bench, seeds: list[int]) -> None:
    """The CNN's seeds: the runs asked for, each scored on the split every run holds out, and their spread."""
    assert section["seeds"] == seeds == [run["seed"] for run in section["runs"]]
    recipe = TrainingConfig(**section["recipe"])
    assert recipe.split_seed == CNN_RECIPE.validation_seed  # one validation split for every seed
    for run in section["runs"]:
        assert len(run["validation_curve"]) == recipe.epochs and run["wall_time_s"] > 0
        if section["validation_images"] == recipe.validation_size:  # a smoke run scores only 500 of them
            # Keras's own validation accuracy after the last epoch is the one scored afterwards.
            assert run["validation_curve"][-1] == pytest.approx(run["validation_accuracy"], abs=1e-6)
    # Sections measured before the other writers' digits were added lack them (the frontier's, until re-run).
    other = ("other_writers_accuracy",) if "other_writers_images" in section else ()
    for key in ("validation_accuracy", "test_accuracy", *other, "wall_time_s"):
        assert section[key] == bench.spread([run[key] for run in section["runs"]]), key
        assert section[key]["min"] <= section[key]["mean"] <= section[key]["max"]


def test_committed_cnn_seeds_are_the_chapters_recipe(bench):
    section = json.loads(RESULTS.read_text())["cnn_seeds"]
    assert section["smoke"] is False
    assert section["recipe"] == dataclasses.replace(CNN_RECIPE, split_seed=CNN_RECIPE.validation_seed).as_dict()
    assert section["validation_images"] == CNN_RECIPE.validation_size and section["test_images"] == 10_000
    assert section["other_writers_images"] == 1794  # chapter 7's kept digits
    check_cnn_seeds(section, bench, list(bench.CNN_SEEDS))
    assert CNN_RECIPE.seed in bench.CNN_SEEDS  # the chapter's own model is one of them
    assert not set(bench.CNN_SEEDS) & set(ENSEMBLE_RECIPE.seeds)  # none of them is an ensemble member


def check_pairs(section: dict) -> None:
    """Every two of the section's runs, once each, as an ensemble trained for the sum of their times."""
    runs = {run["seed"]: run for run in section["runs"]}
    assert [pair["seeds"] for pair in section["pairs"]] == [
        [a, b] for index, a in enumerate(section["seeds"]) for b in section["seeds"][index + 1 :]]
    assert section["shifts"][0] == [0, 0]
    for pair in section["pairs"]:
        assert pair["training_s"] == pytest.approx(sum(runs[seed]["wall_time_s"] for seed in pair["seeds"]))
        for key in ("validation_accuracy", "validation_accuracy_shifted", "test_accuracy", "test_accuracy_shifted"):
            assert 0 <= pair[key] <= 1, key


def test_frontier_epochs_fit_the_budget_with_its_margin(bench, monkeypatch):
    monkeypatch.setattr(bench, "BUDGET_MARGIN", 1.0)
    # 10 s per epoch, 5 s once per run: 29 epochs take 295 s, 30 would take 305 s.
    assert bench.frontier_epochs(15.0, 25.0, budget_s=300.0) == 29
    assert bench.frontier_epochs(15.0, 25.0, budget_s=305.0) == 30
    assert bench.frontier_epochs(15.0, 25.0, budget_s=1.0) == 1
    monkeypatch.setattr(bench, "BUDGET_MARGIN", 0.5)
    assert bench.frontier_epochs(15.0, 25.0, budget_s=300.0) == 14
    with pytest.raises(RuntimeError, match="did not take longer"):
        bench.frontier_epochs(25.0, 25.0)


def test_committed_cnn_frontier_is_the_chapters_recipe_for_the_epochs_its_budget_buys(bench):
    section = json.loads(RESULTS.read_text())["cnn_frontier"]
    assert section["smoke"] is False and section["budget_s"] == bench.CNN_BUDGET_S
    assert section["ensemble_budget_s"] == bench.ENSEMBLE_BUDGET_S
    # Only the epochs differ from the chapter's recipe.
    longer = dataclasses.replace(CNN_RECIPE, split_seed=CNN_RECIPE.validation_seed, epochs=section["recipe"]["epochs"])
    assert section["recipe"] == longer.as_dict() and longer.epochs > CNN_RECIPE.epochs
    pace = section["pace"]  # the epochs were sized on the same machine, just before the runs
    assert pace["margin"] == bench.BUDGET_MARGIN
    assert longer.epochs == bench.frontier_epochs(pace["one_epoch_s"], pace["two_epochs_s"])
    assert section["validation_images"] == CNN_RECIPE.validation_size and section["test_images"] == 10_000
    check_cnn_seeds(section, bench, list(bench.CNN_SEEDS))
    check_pairs(section)


def test_spread_is_mean_sample_sd_min_and_max(bench):
    assert bench.spread([1.0, 2.0, 6.0]) == {"mean": 3.0, "sd": pytest.approx(2.6457513), "min": 1.0, "max": 6.0}
    assert bench.spread([0.5]) == {"mean": 0.5, "sd": 0.0, "min": 0.5, "max": 0.5}


def check_peak(results: dict) -> None:
    """The peak is the fastest of the run's matrix-product measurements, and every share is taken of it."""
    matmul = results["matmul"]
    measured = [row["peak_gflops"] for row in matmul["measurements"]]
    assert [row["when"] for row in matmul["measurements"]] == [
        "start", "after the step profiles", "after the MLP recipes", "after the CNN recipes"]
    assert matmul["peak_gflops"] == max(measured) > 0
    for row in results["mlp"] + results["cnn"]:
        assert row["share_of_peak"] == pytest.approx(row["gflops"] / matmul["peak_gflops"])
    for profile in [*results["mlp_profile"], results["cnn_profile"]]:
        assert profile["share_of_peak"] == pytest.approx(
            {level: gflops / matmul["peak_gflops"] for level, gflops in profile["gflops"].items()})


def test_committed_peak_is_the_fastest_measurement_and_every_share_is_of_it():
    check_peak(json.loads(RESULTS.read_text()))


@pytest.mark.slow  # a real (tiny) benchmark run; left out of `make unit`
def test_benchmark_smoke_run_writes_valid_json(tmp_path, bench):
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
    check_peak(results)
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
    check_cnn_seeds(cnn_seeds, bench, list(bench.CNN_SEEDS[:2]))
    frontier = results["cnn_frontier"]  # the same two seeds, one epoch each, and their pair
    assert frontier["smoke"] is True and frontier["recipe"]["epochs"] == 1 and len(frontier["pairs"]) == 1
    assert frontier["pace"] is None  # a smoke run does not size its epochs
    check_cnn_seeds(frontier, bench, list(bench.CNN_SEEDS[:2]))
    check_pairs(frontier)
    onednn = results["onednn"]  # one child process per setting, one epoch of the MLP each
    assert onednn["smoke"] is True and [row["onednn"] for row in onednn["settings"].values()] == [False, True]
    assert all(len(row["runs"]) == 1 and 0 <= row["mlp_validation_accuracy"] <= 1 for row in onednn["settings"].values())
    assert results["machine"]["onednn"] is False  # the benchmark imports mnist_utils first
