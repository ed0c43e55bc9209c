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

import numpy as np
import pytest

from benchmarks import ablation as bench_ablation
from benchmarks import cnn_batchnorm as bench_batchnorm
from benchmarks import cnn_seeds as bench_seeds
from benchmarks import other_writers as bench_other
from benchmarks import regularisation as bench_regularisation
from benchmarks.__main__ import SECTIONS, sections
from benchmarks.common import smoke_config, spread
from benchmarks.validate import validate
from mnist_utils.ensemble import ENSEMBLE_RECIPE
from mnist_utils.training import CNN_RECIPE, MLP_RECIPE, ORIGINAL_RECIPE

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
    assert all(results[name]["smoke"] is False for name in (
        "ablation", "ensemble", "onednn", "cnn_seeds", "cnn_frontier", "regularisation", "cnn_batchnorm",
        "other_writers"))
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
    (("regularisation", "chosen"), "dropout_0.9", "regularisation", "not one of the variants"),
    (("regularisation", "runs", 0, "gap"), 0.5, "regularisation", "training minus validation"),
    (("cnn_batchnorm", "runs", 0, "validation_accuracy"), 1.5, "cnn_batchnorm", "accuracy"),
    (("cnn_batchnorm", "without_batch_norm", "runs"), lambda runs: runs[:1], "cnn_batchnorm", "other seeds"),
    (("other_writers", "chosen"), "elastic", "other_writers", "the rule chooses"),
    (("other_writers", "runs", 1, "time_against_recipe"), 0.5, "other_writers", "not its ratio"),
    (("other_writers", "test", "elastic"), {"runs": []}, "other_writers", "other variants than"),
    (("other_writers", "runs", 0, "test_accuracy"), 0.99, "other_writers", "outside the test block"),
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


def test_regularisation_variants_change_one_thing_each_from_the_books_recipe():
    variants = bench_regularisation.VARIANTS
    names = [variant.name for variant in variants]
    assert names == ["baseline", "dropout_0.2", "dropout_0.5", "weight_decay_0.1", "weight_decay_1.0", "early_stopping"]
    baseline = variants[0].settings()
    assert baseline == {"dropout": 0.0, "weight_decay": 0.0, "early_stopping": False}  # the recipe as it is
    for variant in variants[1:]:
        assert len(changed_fields(variant.settings(), baseline)) == 1, variant
    # Every run is the book's recipe from its seed, on the book's split.
    for seed in bench_regularisation.REGULARISATION_SEEDS:
        config = bench_regularisation.run_config(seed)
        assert config == dataclasses.replace(MLP_RECIPE, seed=seed, split_seed=MLP_RECIPE.seed)
        assert config.validation_seed == MLP_RECIPE.seed
    assert bench_regularisation.REGULARISATION_SEEDS[0] == MLP_RECIPE.seed
    assert bench_regularisation.run_config(1, smoke=True) == smoke_config(bench_regularisation.run_config(1))


def test_train_like_book_trains_the_weights_train_trains():
    """The benchmark's own training path (for dropout, AdamW, BN, early stopping) is the book's, bit for bit."""
    from benchmarks.common import train_like_book
    from mnist_utils.data import load_mnist, train_validation_split
    from mnist_utils.training import build_model, train

    config = smoke_config(dataclasses.replace(MLP_RECIPE, seed=3, split_seed=MLP_RECIPE.seed))  # 1,000 images, 1 epoch
    model, history = train(config)
    (x_all, y_all), _ = load_mnist()
    parts = train_validation_split(x_all, y_all, validation_size=config.validation_size, seed=config.validation_seed)
    other, other_history = train_like_book(config, lambda: build_model(config), *parts)
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert history == other_history


#: The fake runs' validation accuracy, by variant: dropout 0.2 is the best.
FAKE_VALIDATION = {"baseline": 0.980, "dropout_0.2": 0.984, "dropout_0.5": 0.982, "weight_decay_0.1": 0.981,
                   "weight_decay_1.0": 0.979, "early_stopping": 0.983}


@dataclasses.dataclass
class FakeModel:
    name: str
    seed: int
    validation: float


def fake_regularisation(monkeypatch, validation: dict[str, float] = FAKE_VALIDATION) -> tuple[dict, list, list]:
    """The regularisation section with its training and scoring faked: the section, the runs trained, the test reads.

    Every run's validation accuracy is ``validation[variant]`` (plus a little per seed); early
    stopping stops after epoch 5 and restores epoch 3.
    """
    parts = {name: (np.zeros(1), np.zeros(n)) for name, n in (("training", 54_000), ("validation", 6000), ("test", 10_000))}
    trained, tested = [], []

    def split(x, y, *, validation_size, seed):
        assert validation_size == 6000 and seed == MLP_RECIPE.seed  # the same split for every run
        return parts["training"], parts["validation"]

    def train(variant, config, training, validation_part):
        trained.append((variant.name, config))
        epochs, restored = (5, 3) if variant.early_stopping else (config.epochs, None)
        model = FakeModel(variant.name, config.seed, validation[variant.name] + config.seed * 1e-5)
        curve = [0.9] * epochs
        curve[(restored or epochs) - 1] = model.validation
        history = {"accuracy": [0.99] * epochs, "val_accuracy": curve, "val_loss": [0.1] * epochs}
        return model, history, {"stopped_epoch": 5 if restored else None, "restored_epoch": restored}

    def score(model, images, labels):
        if images is parts["test"][0]:
            tested.append((model.name, model.seed))
            return 0.97 + model.seed * 1e-4
        return {id(parts["training"][0]): 1.0, id(parts["validation"][0]): model.validation}[id(images)]

    monkeypatch.setattr(bench_regularisation, "load_mnist", lambda: ((None, None), parts["test"]))
    monkeypatch.setattr(bench_regularisation, "train_validation_split", split)
    monkeypatch.setattr(bench_regularisation, "train_variant", train)
    monkeypatch.setattr(bench_regularisation, "score", score)
    monkeypatch.setattr(bench_regularisation, "machine", lambda: {"cpu": "a test"})
    saved = []
    section = bench_regularisation.regularisation_benchmark(save=saved.append)
    assert len(saved) == len(trained) + 1  # after every run, and once chosen and tested
    return section, trained, tested


def test_regularisation_chooses_on_validation_then_reads_the_test_set_for_the_choice_and_the_baseline(monkeypatch):
    section, trained, tested = fake_regularisation(monkeypatch)
    seeds = list(bench_regularisation.REGULARISATION_SEEDS)
    names = [variant.name for variant in bench_regularisation.VARIANTS]
    assert [(name, config) for name, config in trained] == [
        (name, dataclasses.replace(MLP_RECIPE, seed=seed, split_seed=MLP_RECIPE.seed)) for seed in seeds for name in names]
    assert section["chosen"] == "dropout_0.2"
    assert tested == [("baseline", seed) for seed in seeds] + [("dropout_0.2", seed) for seed in seeds]
    assert set(section["test"]) == {"baseline", "dropout_0.2"}
    assert section["test"]["baseline"]["test_accuracy"]["mean"] == pytest.approx(0.97 + sum(seeds) / len(seeds) * 1e-4)
    assert all("test_accuracy" not in run for run in section["runs"])
    early = [run for run in section["runs"] if run["variant"] == "early_stopping"]
    assert all(run["epochs_run"] == 5 and run["stopped_epoch"] == 5 and run["restored_epoch"] == 3 for run in early)
    assert all(run["gap"] == pytest.approx(1.0 - run["validation_accuracy"]) for run in section["runs"])
    assert validate({"schema": 2, "regularisation": section}) == []


def test_regularisation_reads_the_test_set_once_if_the_baseline_is_chosen(monkeypatch):
    section, _, tested = fake_regularisation(monkeypatch, dict(FAKE_VALIDATION, baseline=0.99))
    assert section["chosen"] == "baseline" and list(section["test"]) == ["baseline"]
    assert tested == [("baseline", seed) for seed in bench_regularisation.REGULARISATION_SEEDS]
    assert validate({"schema": 2, "regularisation": section}) == []


def test_a_tie_goes_to_the_variant_listed_first():
    summary = {name: {"validation_accuracy": {"mean": 0.98}} for name in ("baseline", "dropout_0.2")}
    assert bench_regularisation.choose(summary) == "baseline"
    summary["dropout_0.2"]["validation_accuracy"]["mean"] = 0.981
    assert bench_regularisation.choose(summary) == "dropout_0.2"


def _other_variants_tested(section: dict) -> None:
    section["test"]["dropout_0.5"] = copy.deepcopy(section["test"]["baseline"])


def _two_changes(section: dict) -> None:
    section["variants"][1]["weight_decay"] = 0.1


def _restored_too_late(section: dict) -> None:
    next(run for run in section["runs"] if run["variant"] == "early_stopping")["restored_epoch"] = 9


@pytest.mark.parametrize(("breaking", "fragment"), [
    (lambda section: section.update(chosen="dropout_0.9"), "'dropout_0.9' is not one of the variants"),
    (lambda section: section.update(chosen="early_stopping"), "but dropout_0.2 has the best mean validation accuracy"),
    (_other_variants_tested, "the test set was read for other variants"),
    (lambda section: section["test"].pop("baseline"), "the test set was read for other variants"),
    (_two_changes, "variant dropout_0.2 does not change exactly one thing"),
    (_restored_too_late, "the restored epoch is not one of those run"),
    (lambda section: section["runs"][0].update(test_accuracy=0.97), "a test accuracy outside the test block"),
    (lambda section: section["runs"][1].update(training_accuracy=1.2), "dropout_0.2, seed 42: accuracy"),
    (lambda section: section["summary"]["baseline"]["gap"].update(mean=0.5), "baseline: gap is not its runs' spread"),
    (lambda section: section.update(seeds=[42, 1, 1]), "not a list of distinct integers"),
    (lambda section: section["runs"].pop(), "not every variant from every seed"),
    (lambda section: section.pop("chosen"), "malformed"),
])
def test_validation_of_the_regularisation_section_names_it_and_what_is_wrong(monkeypatch, breaking, fragment):
    section, _, _ = fake_regularisation(monkeypatch)
    breaking(section)
    problems = validate({"schema": 2, "regularisation": section})
    assert len(problems) == 1 and problems[0].startswith("regularisation: ") and fragment in problems[0], problems


def test_batch_norm_is_compared_with_the_cnn_seeds_runs_only_when_they_trained_the_same_recipe():
    config = bench_batchnorm.batchnorm_config()
    assert config == dataclasses.replace(CNN_RECIPE, split_seed=CNN_RECIPE.seed)
    runs = [{"seed": seed, "validation_accuracy": 0.99 + seed * 1e-4, "wall_time_s": 100.0 + seed, "test_accuracy": 0.995}
            for seed in bench_seeds.CNN_SEEDS]
    reference = {"date": "2026-12-04", "machine": {"cpu": "a test"}, "smoke": False, "recipe": config.as_dict(),
                 "validation_images": 6000, "runs": runs}
    without, missing = bench_batchnorm.without_batch_norm(reference, config, bench_seeds.CNN_SEEDS, smoke=False)
    assert missing is None and without["date"] == "2026-12-04" and without["source"] == "cnn_seeds"
    assert without["runs"] == [{key: run[key] for key in ("seed", "validation_accuracy", "wall_time_s")} for run in runs]
    assert without["validation_accuracy"] == spread([run["validation_accuracy"] for run in runs])
    for changed, fragment in [({"recipe": dict(config.as_dict(), epochs=20)}, "trained another recipe"),
                              ({"smoke": True}, "is a smoke run"),
                              ({"runs": runs[:1]}, "has no run from seed(s) [3, 4]")]:
        without, missing = bench_batchnorm.without_batch_norm(
            dict(reference, **changed), config, bench_seeds.CNN_SEEDS, smoke=False)
        assert without is None and fragment in missing, missing
    assert bench_batchnorm.without_batch_norm(None, config, (42,), smoke=False) == (
        None, "the results have no cnn_seeds section")


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
    assert cnn_seeds["other_writers_validation_images"] == cnn_seeds["other_writers_test_images"] == 100
    assert cnn_seeds["seeds"] == list(bench_seeds.CNN_SEEDS[:2])
    frontier = results["cnn_frontier"]  # the same two seeds, one epoch each, and their pair
    assert frontier["smoke"] is True and frontier["recipe"]["epochs"] == 1 and len(frontier["pairs"]) == 1
    assert frontier["pace"] is None  # a smoke run does not size its epochs
    assert frontier["seeds"] == list(bench_seeds.CNN_SEEDS[:2])
    onednn = results["onednn"]  # one child process per setting, one epoch of the MLP each
    assert onednn["smoke"] is True and [row["onednn"] for row in onednn["settings"].values()] == [False, True]
    assert all(len(row["runs"]) == 1 and 0 <= row["mlp_validation_accuracy"] <= 1 for row in onednn["settings"].values())
    assert results["machine"]["onednn"] is False  # the benchmark imports mnist_utils first
    regularisation = results["regularisation"]  # every variant once, from the book's seed, one epoch on 1,000 images
    assert regularisation["smoke"] is True and regularisation["seeds"] == [MLP_RECIPE.seed]
    assert [run["variant"] for run in regularisation["runs"]] == [v.name for v in bench_regularisation.VARIANTS]
    assert regularisation["training_images"] == 1000 and regularisation["validation_images"] == 500
    assert set(regularisation["test"]) == {"baseline", regularisation["chosen"]}
    for run in regularisation["runs"]:
        assert run["epochs_run"] == 1 and 0 <= run["gap"] + run["validation_accuracy"] <= 1
    batchnorm = results["cnn_batchnorm"]  # the first seed, one epoch on 1,000 images, against cnn_seeds' run
    assert batchnorm["smoke"] is True and batchnorm["seeds"] == list(bench_seeds.CNN_SEEDS[:1])
    assert batchnorm["runs"][0]["trainable_parameters"] == batchnorm["trainable_parameters_without_batch_norm"] + 96
    assert batchnorm["without_batch_norm"]["runs"][0]["validation_accuracy"] == cnn_seeds["runs"][0]["validation_accuracy"]
    other = results["other_writers"]  # every variant once, from the first seed, one epoch on 1,000 images
    assert other["smoke"] is True and other["seeds"] == list(bench_seeds.CNN_SEEDS[:1])
    assert [run["variant"] for run in other["runs"]] == [variant.name for variant in bench_other.VARIANTS]
    assert other["other_writers_validation_images"] == other["other_writers_test_images"] == 200
    assert set(other["test"]) == {"recipe", other["chosen"]}
    assert other["seen_writers"]["seen_images"] == other["seen_writers"]["unseen_images"] == 100
    assert other["seen_writers"]["training_images"] == 1100


def test_other_writers_variants_add_augmentation_only_to_the_recipes_cnn():
    """Each variant is the recipe's network with layers added after its shifts and rotations:
    the same weights to learn, and at inference the same function of the image."""
    import keras

    from mnist_utils.models import build_cnn

    config = bench_other.run_config(CNN_RECIPE.seed)
    assert dataclasses.replace(config, split_seed=CNN_RECIPE.split_seed) == CNN_RECIPE
    recipe = build_cnn(shift=config.augment_shift, rotation=config.augment_rotation)
    assert bench_other.VARIANTS[0].name == "recipe" and not bench_other.VARIANTS[0].layers()
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    for variant in bench_other.VARIANTS[1:]:
        model = variant.build(config)
        names = [layer.name for layer in model.layers]
        assert names[:2] == ["random_shift", "random_rotation"], variant.name
        assert len(model.layers) == len(recipe.layers) + len(variant.layers()), variant.name
        assert model.count_params() == recipe.count_params(), variant.name
        model.set_weights(recipe.get_weights())
        np.testing.assert_array_equal(model.predict(images, verbose=0), recipe.predict(images, verbose=0))
        keras.backend.clear_session()


@pytest.mark.parametrize("layer", [
    lambda: bench_other.ElasticDistortion(34.0, 4.0, 1.0),
    lambda: bench_other.StrokeThickness(0.5),
    lambda: bench_other.LowResolution(1.0, 8, 14),
], ids=["elastic", "thickness", "low_resolution"])
def test_augmentation_layers_change_images_in_training_only_and_keep_them_in_range(layer):
    from mnist_utils.data import load_mnist

    (x, _), _ = load_mnist()
    images = (x[:16, :, :, None] / 255).astype("float32")
    augment = layer()
    np.testing.assert_array_equal(np.asarray(augment(images, training=False)), images)
    changed = np.asarray(augment(images, training=True))
    assert changed.shape == images.shape
    assert changed.min() >= 0 and changed.max() <= 1 + 1e-6
    assert np.abs(changed - images).mean() > 0.01  # they do change the images
    # The digit stays where it was: its centre moves by a few pixels at most, not across the image.
    rows = np.arange(28)[None, :, None, None]
    centre = lambda a: (a * rows).sum(axis=(1, 2, 3)) / a.sum(axis=(1, 2, 3))  # noqa: E731
    assert np.abs(centre(changed) - centre(images)).max() < 3


def test_resample_reads_the_image_at_the_positions_given():
    import tensorflow as tf

    images = np.random.default_rng(1).random((2, 28, 28, 1)).astype("float32")
    rows, cols = np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij")
    grid = lambda a: tf.constant(np.broadcast_to(a, (2, 28, 28)).astype("float32"))  # noqa: E731
    np.testing.assert_allclose(bench_other.resample(images, grid(rows), grid(cols)).numpy(), images, atol=1e-6)
    moved = bench_other.resample(images, grid(rows), grid(cols + 1)).numpy()  # each pixel reads its right neighbour
    np.testing.assert_allclose(moved[:, :, :-1], images[:, :, 1:], atol=1e-6)
    assert np.all(moved[:, :, -1] == 0)  # from outside the image: background
    half = bench_other.resample(images, grid(rows + 0.5), grid(cols)).numpy()
    np.testing.assert_allclose(half[:, :-1], (images[:, :-1] + images[:, 1:]) / 2, atol=1e-6)


def test_other_writers_choice_keeps_mnist_within_its_tolerance():
    def summary(**rows):
        return {name: {"validation_accuracy": {"mean": mnist}, "other_writers_validation_accuracy": {"mean": other}}
                for name, (mnist, other) in rows.items()}

    tolerance = bench_other.MNIST_TOLERANCE
    assert bench_other.choose(summary(recipe=(0.99, 0.95), a=(0.99 - 2 * tolerance, 0.97), b=(0.99, 0.96))) == "b"
    assert bench_other.choose(summary(recipe=(0.99, 0.95), a=(0.99 - tolerance / 2, 0.97))) == "a"
    assert bench_other.choose(summary(recipe=(0.99, 0.95), a=(0.995, 0.95))) == "recipe"  # a tie keeps the recipe
