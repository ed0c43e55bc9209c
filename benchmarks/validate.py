"""Check ``benchmarks/results.json`` before anything renders it: every section whole and consistent.

:func:`validate` is run by the benchmark on what it has just written and by the tests on the
committed file. It checks the file's own consistency (each section's date, machine and
recipe; curves as long as the epochs they record; spreads that are the spread of their runs;
an ablation whose steps change one field each; regularisation variants that change one thing
each, a choice the validation images support and a test set read for that choice and the
baseline only; shares of the peak taken of the fastest measurement), not that the recipes still equal the code's: a recipe may change after a run,
and the pages that render a section then say so (:func:`mnist_utils.benchmark.which_run`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from mnist_utils.training import TrainingConfig

from benchmarks.common import SCHEMA_VERSION, spread

#: The matrix-multiply peak's measurements, in the order the ``recipes`` section takes them.
PEAK_MOMENTS = ("start", "after the step profiles", "after the MLP recipes", "after the CNN recipes")


class Problem(Exception):
    """One inconsistency in the results."""


def need(condition: object, message: str) -> None:
    if not condition:
        raise Problem(message)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def fraction(value: object) -> bool:
    return isinstance(value, (int, float)) and 0 <= value <= 1


def recipe(fields: dict, what: str) -> TrainingConfig:
    try:
        return TrainingConfig(**fields)
    except (TypeError, ValueError) as error:
        raise Problem(f"{what} is not a valid TrainingConfig ({error})") from None


def changed(a: dict, b: dict) -> set[str]:
    return {key for key in a if a[key] != b.get(key)}


def check_run_record(section: dict) -> None:
    """Every section that is one run: its date, machine and smoke flag."""
    need(isinstance(section.get("date"), str), "no date")
    need(isinstance(section.get("machine"), dict) and "cpu" in section["machine"], "no machine")
    need(isinstance(section.get("smoke"), bool), "no smoke flag")


def check_ablation(section: dict) -> None:
    check_run_record(section)
    need(section["seeds"] == [run["seed"] for run in section["runs"]], "seeds differ from the runs'")
    need(len(set(section["seeds"])) == len(section["seeds"]), "a seed repeats")
    for run in section["runs"]:
        steps = run["steps"]
        need([step["step"] for step in steps] == list(range(len(steps))), f"seed {run['seed']}: steps out of order")
        need(steps[0]["factor"] is None, f"seed {run['seed']}: the first step changes something")
        need([step["factor"] for step in steps[1:]] == section["order"], f"seed {run['seed']}: steps not in its order")
        for before, after in zip(steps, steps[1:]):
            # A smoke run trains every step for one epoch, so its epochs step changes nothing.
            allowed = [{after["factor"]}, set()] if section["smoke"] and after["factor"] == "epochs" else [{after["factor"]}]
            need(changed(before["config"], after["config"]) in allowed,
                 f"seed {run['seed']}, step {after['step']} changes more than {after['factor']}")
        for row in [*steps, run["schedule_first"]]:
            config = recipe(row["config"], f"seed {run['seed']}, {row['label']}")
            need(config.seed == run["seed"], f"seed {run['seed']}, {row['label']}: another seed")
            need(fraction(row["validation_accuracy"]) and fraction(row["test_accuracy"]), f"{row['label']}: accuracy")
            need(len(row["validation_curve"]) == len(row["training_curve"]) == config.epochs,
                 f"seed {run['seed']}, {row['label']}: curves not one point per epoch")
            need(close(row["validation_curve"][-1], row["validation_accuracy"]),
                 f"seed {run['seed']}, {row['label']}: the curve ends at another validation accuracy")
            need(row["wall_time_s"] > 0, f"{row['label']}: no time")
        alternate, factors = run["schedule_first"], [step["factor"] for step in steps]
        before, after = steps[alternate["after_step"]], steps[factors.index("schedule")]
        need(factors[alternate["after_step"] + 1] == "batch_size" and alternate["factor"] == "schedule",
             f"seed {run['seed']}: the schedule-first run is not before the batch size")
        need(changed(before["config"], alternate["config"]) == {"schedule"}
             and changed(alternate["config"], after["config"]) == {"batch_size"},
             f"seed {run['seed']}: the schedule-first run changes more than the schedule")


def check_ensemble(section: dict) -> None:
    check_run_record(section)
    seeds = section["recipe"]["seeds"]
    recipe(section["recipe"]["member"], "the member recipe")
    need([row["seed"] for row in section["members"]] == seeds, "members differ from the recipe's seeds")
    need([row["members"] for row in section["ensembles"]] == list(range(1, len(seeds) + 1)),
         "ensembles are not of the first 1, 2, … members")
    whole = section["ensembles"][-1]
    need(section["recipe"]["test_time_shifts"] == (whole["validation_accuracy_shifted"] > whole["validation_accuracy"]),
         "the recorded choice of test-time shifts is not the one the validation images support")
    if not section["smoke"]:
        need(section["validation_images"] == section["recipe"]["member"]["validation_size"],
             "not scored on every validation image")


def check_onednn(section: dict) -> None:
    check_run_record(section)
    recipe(section["recipe"], "the recipe")
    need(list(section["settings"]) == ["0", "1"], "settings are not 0 (the book's) then 1")
    need([row["onednn"] for row in section["settings"].values()] == [False, True], "oneDNN was not off, then on")
    for value, row in section["settings"].items():
        digests = {run["mlp"]["weights_sha256"] for run in row["runs"]}
        need(row["repeatable"] == (len(digests) == 1), f"setting {value}: 'repeatable' disagrees with its runs")


def check_seeds(section: dict) -> None:
    check_run_record(section)
    config = recipe(section["recipe"], "the recipe")
    need(config.split_seed is not None, "the runs hold out different validation images (no split_seed)")
    need(section["seeds"] == [run["seed"] for run in section["runs"]], "seeds differ from the runs'")
    for run in section["runs"]:
        need(len(run["validation_curve"]) == config.epochs and run["wall_time_s"] > 0,
             f"seed {run['seed']}: the curve is not one point per epoch")
        if section["validation_images"] == config.validation_size:  # a smoke run scores 500 of them
            need(close(run["validation_curve"][-1], run["validation_accuracy"]),
                 f"seed {run['seed']}: the curve ends at another validation accuracy")
    other = ("other_writers_accuracy",) if "other_writers_images" in section else ()
    if "other_writers_validation_images" in section:  # measured since 2026-12-05: the two fixed halves
        other += ("other_writers_validation_accuracy", "other_writers_test_accuracy")
        need(section["other_writers_validation_images"] + section["other_writers_test_images"]
             == section["other_writers_images"], "the other writers' halves do not add up to the whole")
    for key in ("validation_accuracy", "test_accuracy", *other, "wall_time_s"):
        expected = spread([run[key] for run in section["runs"]])
        need(all(close(section[key][name], expected[name]) for name in expected), f"{key} is not its runs' spread")


def check_frontier(section: dict) -> None:
    from benchmarks.cnn_seeds import frontier_epochs

    check_seeds(section)
    pace = section["pace"]
    if pace is not None:
        need(section["recipe"]["epochs"] == frontier_epochs(pace["one_epoch_s"], pace["two_epochs_s"],
                                                              budget_s=section["budget_s"]),
             "the epochs are not those its own pace and budget buy")
    runs = {run["seed"]: run for run in section["runs"]}
    need([pair["seeds"] for pair in section["pairs"]] == [
        [a, b] for index, a in enumerate(section["seeds"]) for b in section["seeds"][index + 1:]],
        "the pairs are not every two runs, once each")
    for pair in section["pairs"]:
        need(close(pair["training_s"], sum(runs[seed]["wall_time_s"] for seed in pair["seeds"])),
             f"pair {pair['seeds']}: its time is not its runs' sum")
        for key in ("validation_accuracy", "validation_accuracy_shifted", "test_accuracy", "test_accuracy_shifted"):
            need(fraction(pair[key]), f"pair {pair['seeds']}: {key}")


def check_spreads(section: dict, runs: list[dict], keys: tuple[str, ...], what: str = "") -> None:
    """``section[key]`` is the spread (:func:`~benchmarks.common.spread`) of ``run[key]`` over ``runs``, for each key."""
    for key in keys:
        expected = spread([run[key] for run in runs])
        need(all(close(section[key][name], expected[name]) for name in expected), f"{what}{key} is not its runs' spread")


def check_regularisation(section: dict) -> None:
    check_run_record(section)
    config = recipe(section["recipe"], "the recipe")
    need(config.split_seed is not None, "the runs hold out different validation images (no split_seed)")
    seeds, variants = section["seeds"], section["variants"]
    need(seeds and len(set(seeds)) == len(seeds) and all(isinstance(seed, int) for seed in seeds),
         "the seeds are not a list of distinct integers")
    names = [variant["name"] for variant in variants]
    need(len(set(names)) == len(names), "a variant's name repeats")
    need(names[0] == "baseline", "the first variant is not the baseline")
    settings = [{key: value for key, value in variant.items() if key not in ("name", "label")} for variant in variants]
    for name, setting in zip(names[1:], settings[1:]):
        need(len(changed(setting, settings[0])) == 1, f"variant {name} does not change exactly one thing")
    by_variant = {name: [run for run in section["runs"] if run["variant"] == name] for name in names}
    need(len(section["runs"]) == len(names) * len(seeds)
         and all([run["seed"] for run in runs] == seeds for runs in by_variant.values()),
         "the runs are not every variant from every seed, once each")
    early = {variant["name"]: variant["early_stopping"] for variant in variants}
    for run in section["runs"]:
        what = f"{run['variant']}, seed {run['seed']}"
        need(all(fraction(run[key]) for key in ("training_accuracy", "validation_accuracy")), f"{what}: accuracy")
        need(close(run["gap"], run["training_accuracy"] - run["validation_accuracy"]),
             f"{what}: the gap is not training minus validation accuracy")
        need("test_accuracy" not in run, f"{what}: a test accuracy outside the test block")
        epochs = run["epochs_run"]
        need(1 <= epochs <= config.epochs and (early[run["variant"]] or epochs == config.epochs),
             f"{what}: {epochs} epochs run, of {config.epochs}")
        need(len(run["training_curve"]) == len(run["validation_curve"]) == len(run["validation_loss_curve"]) == epochs,
             f"{what}: curves not one point per epoch")
        need(all(fraction(value) for value in run["training_curve"] + run["validation_curve"]), f"{what}: a curve's accuracy")
        if early[run["variant"]]:
            need(run["stopped_epoch"] in (None, epochs) and (run["stopped_epoch"] is not None or epochs == config.epochs),
                 f"{what}: stopped_epoch is not the last epoch run")
            need(isinstance(run["restored_epoch"], int) and 1 <= run["restored_epoch"] <= epochs,
                 f"{what}: the restored epoch is not one of those run")
        else:
            need(run["stopped_epoch"] is None and run["restored_epoch"] is None, f"{what}: early stopping recorded")
        if section["validation_images"] == config.validation_size:  # a smoke run scores 500 of them
            final = run["restored_epoch"] or epochs
            need(close(run["validation_curve"][final - 1], run["validation_accuracy"]),
                 f"{what}: the curve's epoch {final} is another validation accuracy")
        need(run["wall_time_s"] > 0, f"{what}: no time")
    need(list(section["summary"]) == names, "the summary is not of every variant")
    for name, runs in by_variant.items():
        check_spreads(section["summary"][name], runs,
                      ("validation_accuracy", "training_accuracy", "gap", "epochs_run", "wall_time_s"), f"{name}: ")
    chosen = section["chosen"]
    need(chosen in names, f"the chosen variant {chosen!r} is not one of the variants")
    best = max(names, key=lambda name: section["summary"][name]["validation_accuracy"]["mean"])
    need(chosen == best, f"the chosen variant is {chosen}, but {best} has the best mean validation accuracy")
    test = section["test"]
    need(set(test) == {"baseline", chosen}, "the test set was read for other variants than the chosen one and the baseline")
    for name, block in test.items():
        need([run["seed"] for run in block["runs"]] == seeds, f"test of {name}: not one run per seed")
        need(all(fraction(run["test_accuracy"]) for run in block["runs"]), f"test of {name}: accuracy")
        check_spreads(block, block["runs"], ("test_accuracy",), f"test of {name}: ")


def check_batchnorm(section: dict) -> None:
    check_run_record(section)
    config = recipe(section["recipe"], "the recipe")
    need(config.model == "cnn", "the recipe is not the CNN's")
    need(config.split_seed is not None, "the runs hold out different validation images (no split_seed)")
    seeds = section["seeds"]
    need(seeds and len(set(seeds)) == len(seeds) and seeds == [run["seed"] for run in section["runs"]],
         "seeds differ from the runs'")
    for run in section["runs"]:
        need(fraction(run["validation_accuracy"]), f"seed {run['seed']}: accuracy")
        need(len(run["validation_curve"]) == config.epochs and run["wall_time_s"] > 0,
             f"seed {run['seed']}: the curve is not one point per epoch")
        need(isinstance(run["trainable_parameters"], int) and run["trainable_parameters"] > 0,
             f"seed {run['seed']}: no parameter count")
        if section["validation_images"] == config.validation_size:  # a smoke run scores 500 of them
            need(close(run["validation_curve"][-1], run["validation_accuracy"]),
                 f"seed {run['seed']}: the curve ends at another validation accuracy")
    check_spreads(section, section["runs"], ("validation_accuracy", "wall_time_s"))
    without = section["without_batch_norm"]
    need((without is None) == ("without_batch_norm_missing" in section),
         "neither the runs without batch normalisation nor why they are missing")
    if without is not None:
        need(without["source"] == "cnn_seeds" and isinstance(without["date"], str), "the runs without: no source")
        need([row["seed"] for row in without["runs"]] == seeds, "the runs without batch normalisation are of other seeds")
        need(all(fraction(row["validation_accuracy"]) and row["wall_time_s"] > 0 for row in without["runs"]),
             "the runs without batch normalisation: accuracy or time")
        check_spreads(without, without["runs"], ("validation_accuracy", "wall_time_s"), "without batch normalisation: ")


def check_other_writers(section: dict) -> None:
    check_run_record(section)
    config = recipe(section["recipe"], "the recipe")
    need(config.model == "cnn" and config.split_seed is not None, "the recipe is not the CNN's on one fixed split")
    seeds, names = section["seeds"], [variant["name"] for variant in section["variants"]]
    need(seeds and len(set(seeds)) == len(seeds), "the seeds are not distinct")
    need(names and names[0] == "recipe" and len(set(names)) == len(names), "the first variant is not the recipe")
    runs = section["runs"]
    need([(run["seed"], run["variant"]) for run in runs] == [(seed, name) for seed in seeds for name in names],
         "the runs are not every variant from every seed, seed by seed")
    recipe_times = {run["seed"]: run["wall_time_s"] for run in runs if run["variant"] == "recipe"}
    for run in runs:
        what = f"{run['variant']}, seed {run['seed']}"
        need(all(fraction(run[key]) for key in ("validation_accuracy", "other_writers_validation_accuracy")),
             f"{what}: accuracy")
        need(not any(key.startswith(("test", "other_writers_test")) for key in run), f"{what}: a test accuracy outside the test block")
        need(len(run["validation_curve"]) == config.epochs and run["wall_time_s"] > 0, f"{what}: curve or time")
        need(close(run["time_against_recipe"], run["wall_time_s"] / recipe_times[run["seed"]]),
             f"{what}: the time against the recipe is not its ratio")
    need(list(section["summary"]) == names, "the summary is not of every variant")
    for name in names:
        check_spreads(section["summary"][name], [run for run in runs if run["variant"] == name],
                      ("validation_accuracy", "other_writers_validation_accuracy", "wall_time_s"), f"{name}: ")
    summary, chosen = section["summary"], section["chosen"]
    floor = summary["recipe"]["validation_accuracy"]["mean"] - section["mnist_tolerance"]
    allowed = [name for name in names if summary[name]["validation_accuracy"]["mean"] >= floor]
    best = max(allowed, key=lambda name: summary[name]["other_writers_validation_accuracy"]["mean"])
    need(chosen == best, f"the chosen variant is {chosen}, but the rule chooses {best}")
    test = section["test"]
    need(set(test) == {"recipe", chosen}, "the test sets were read for other variants than the chosen one and the recipe")
    for name, block in test.items():
        need([run["seed"] for run in block["runs"]] == seeds, f"test of {name}: not one run per seed")
        need(all(fraction(run[key]) for run in block["runs"] for key in ("test_accuracy", "other_writers_test_accuracy")),
             f"test of {name}: accuracy")
        check_spreads(block, block["runs"], ("test_accuracy", "other_writers_test_accuracy"), f"test of {name}: ")
    seen = section["seen_writers"]
    need(seen["seed"] == seeds[0] and seen["seen_images"] + seen["unseen_images"] == section["other_writers_validation_images"],
         "seen_writers: not the first seed, or its halves do not make up the validation half")
    need(all(fraction(seen[key]) for key in ("with_unseen_accuracy", "without_unseen_accuracy",
                                              "with_validation_accuracy", "without_validation_accuracy")),
         "seen_writers: accuracy")


def check_recipes(results: dict) -> None:
    matmul = results["matmul"]
    measured = [row["peak_gflops"] for row in matmul["measurements"]]
    need([row["when"] for row in matmul["measurements"]] == list(PEAK_MOMENTS),
         "the peak was not measured at the start and after each group")
    need(matmul["peak_gflops"] == max(measured) > 0, "the peak is not the fastest measurement")
    for row in results["mlp"] + results["cnn"]:
        need(close(row["share_of_peak"], row["gflops"] / matmul["peak_gflops"]), f"{row['recipe']['name']}: share")
    for profile in [*results["mlp_profile"], results["cnn_profile"]]:
        need(all(close(profile["share_of_peak"][level], gflops / matmul["peak_gflops"])
                 for level, gflops in profile["gflops"].items()), "a profile's share is not of the peak")


#: Each section's check, by its key in the results.
CHECKS: dict[str, Callable[[dict], None]] = {
    "ablation": check_ablation,
    "ensemble": check_ensemble,
    "onednn": check_onednn,
    "cnn_seeds": check_seeds,
    "cnn_frontier": check_frontier,
    "regularisation": check_regularisation,
    "cnn_batchnorm": check_batchnorm,
    "other_writers": check_other_writers,
}


def validate(results: dict) -> list[str]:
    """Every inconsistency in ``results`` as ``"section: what is wrong"``; an empty list if there is none."""
    problems = []
    if not isinstance(results, dict):
        return ["the results must be a JSON object"]
    if results.get("schema") != SCHEMA_VERSION:
        problems.append(f"schema: {results.get('schema')!r}, not {SCHEMA_VERSION}")
    sections = [(name, lambda name=name: CHECKS[name](results[name])) for name in CHECKS if name in results]
    if "matmul" in results:
        sections.insert(0, ("recipes", lambda: check_recipes(results)))
    for name, check in sections:
        try:
            check()
        except Problem as problem:
            problems.append(f"{name}: {problem}")
        except (KeyError, TypeError, IndexError, ValueError) as error:
            problems.append(f"{name}: malformed ({type(error).__name__}: {error})")
    return problems
