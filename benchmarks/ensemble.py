"""Section ``ensemble``: chapter 6's ensemble, member by member, with and without test-time shifts."""

from __future__ import annotations

import dataclasses
import time

from mnist_utils.ensemble import ENSEMBLE_RECIPE, TTA_SHIFTS, EnsembleRecipe, ensemble_probabilities, view_probabilities
from mnist_utils.training import save_model, train

from benchmarks.common import machine, timed_median, scoring_split, views_accuracy


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
        "recipe": recipe.as_dict() | {"shifts": [list(shift) for shift in shifts]},
        "validation_images": int(len(y_val)), "test_images": int(len(y_test)),
        "members": members, "ensembles": ensembles,
        "total_training_s": ensembles[-1]["training_s"],
        "inference_ms_per_image": {"one_member": 1000 * one / len(x_test),
                                   "ensemble": 1000 * whole / len(x_test)},
    }
