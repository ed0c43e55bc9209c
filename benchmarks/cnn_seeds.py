"""Sections ``cnn_seeds`` and ``cnn_frontier``: the CNN's recipe from several seeds, and for as many epochs as a time budget buys."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import keras
import numpy as np

from mnist_utils.ensemble import ENSEMBLE_RECIPE, NO_SHIFT, TTA_SHIFTS, view_probabilities
from mnist_utils.evaluation import accuracy, predict_probabilities
from mnist_utils.sample_pictures import load_other_writers, split_other_writers
from mnist_utils.training import CNN_RECIPE, TrainingConfig, train

from benchmarks.common import machine, scoring_split, views_accuracy, spread


#: The seeds from which the benchmark trains the CNN's recipe to measure its spread: the book's
#: own (42, chapter 6's model) and two that the ensemble's members (``ENSEMBLE_RECIPE.seeds``)
#: do not use, so that no run here is also one of the ensemble's.
CNN_SEEDS: tuple[int, ...] = (42, 3, 4)


def cnn_seeds_benchmark(config: TrainingConfig = CNN_RECIPE, seeds: tuple[int, ...] = CNN_SEEDS,
                        smoke: bool = False, pairs: bool = False) -> dict:
    """Train ``config`` from each of ``seeds`` as chapter 6 does, and score each run.

    Every run holds out the validation images of ``config`` (``split_seed`` fixed to its
    validation seed), so only the initial weights, the batches' order and the augmentation
    change with the seed. Each run is trained with :func:`mnist_utils.training.train` and
    timed; its models are not saved. Each run also reads chapter 7's digits by other writers
    (:func:`~mnist_utils.sample_pictures.load_other_writers`), which nothing here was chosen on:
    how well the recipe carries over to handwriting that is not MNIST's, in all and on each of
    the two fixed halves of :func:`~mnist_utils.sample_pictures.split_other_writers` (the
    validation half for choosing a recipe, the test half for reporting it). With ``pairs``, every
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
    halves = dict(zip(("other_writers_validation", "other_writers_test"), split_other_writers(other_images, other_labels)))
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
        for part, (x, y) in halves.items():
            run[f"{part}_accuracy"] = accuracy(y, predict_probabilities(model, x, batch_size=500).argmax(axis=1))
        runs.append(run)
        views.append(run_views)
        keras.backend.clear_session()
    section = {
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "smoke": smoke,
        "recipe": config.as_dict(), "seeds": list(seeds), "runs": runs,
        "validation_images": int(len(y_val)), "test_images": int(len(y_test)),
        "other_writers_images": int(len(other_labels)),
        **{f"{part}_images": int(len(y)) for part, (_, y) in halves.items()},
        **{f"{part}_accuracy": spread([run[f"{part}_accuracy"] for run in runs])
           for part in (*images, "other_writers", *halves)},
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


#: The frontier's budgets on the benchmark's machine: one CNN's training (5 minutes), and an ensemble's in all.
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
    so each pair is also scored as an ensemble (``"pairs"``, with its training time): what one
    network, and an ensemble of two, reach in those budgets on this machine. The book's
    recipe is chosen elsewhere, on validation. ``smoke`` trains one epoch on 1,000 images, without sizing.
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
