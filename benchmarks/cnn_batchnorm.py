"""Section ``cnn_batchnorm``: the book's CNN with batch normalisation after each convolution, against the CNN without it.

A design decision, made on the validation images: the CNN's recipe
(:data:`~mnist_utils.training.CNN_RECIPE`) is trained from each of
:data:`~benchmarks.cnn_seeds.CNN_SEEDS` with ``build_cnn(batch_norm=True)`` and nothing else
changed. The runs without batch normalisation are not trained again: they are the
``cnn_seeds`` section's, when it trained the same recipe on the same split. No test accuracy
is computed.
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from mnist_utils.data import load_mnist, train_validation_split
from mnist_utils.evaluation import accuracy, predict_probabilities
from mnist_utils.models import build_cnn
from mnist_utils.training import CNN_RECIPE, TrainingConfig

from benchmarks.cnn_seeds import CNN_SEEDS
from benchmarks.common import machine, smoke_config, spread, train_like_book

#: How many validation images a smoke run scores (as :func:`benchmarks.common.scoring_split` does).
SMOKE_SCORED_IMAGES = 500


def batchnorm_config(smoke: bool = False) -> TrainingConfig:
    """The CNN's recipe on the validation split that the ``cnn_seeds`` section holds out (``split_seed`` fixed).

    ``smoke`` shrinks it to one epoch on 1,000 images (:func:`benchmarks.common.smoke_config`),
    as the ``cnn_seeds`` section's smoke run does.
    """
    config = dataclasses.replace(CNN_RECIPE, split_seed=CNN_RECIPE.validation_seed)
    return smoke_config(config) if smoke else config


def trainable_parameters(model: keras.Model) -> int:
    """The number of ``model``'s trainable parameters (a batch normalisation's moving statistics are not)."""
    return int(sum(np.prod(weight.shape) for weight in model.trainable_weights))


def without_batch_norm(reference: dict | None, config: TrainingConfig, seeds: tuple[int, ...],
                       smoke: bool) -> tuple[dict | None, str | None]:
    """The runs without batch normalisation: those of the ``cnn_seeds`` section ``reference``, if comparable.

    They are comparable if ``reference`` trained ``config`` (the same recipe and split), in a
    run of the same kind (``smoke`` or not), from every one of ``seeds``. Returns the
    comparison (its source, date and machine, each seed's validation accuracy and training
    time, and their spreads) and ``None``, or ``None`` and why there is none.
    """
    if not reference:
        return None, "the results have no cnn_seeds section"
    if reference.get("recipe") != config.as_dict():
        return None, f"the cnn_seeds section of {reference.get('date')} trained another recipe"
    if reference.get("smoke") != smoke:
        return None, f"the cnn_seeds section of {reference.get('date')} is {'not ' if smoke else ''}a smoke run"
    runs = {run["seed"]: run for run in reference.get("runs", [])}
    missing = [seed for seed in seeds if seed not in runs]
    if missing:
        return None, f"the cnn_seeds section of {reference.get('date')} has no run from seed(s) {missing}"
    rows = [{"seed": seed, "validation_accuracy": runs[seed]["validation_accuracy"],
             "wall_time_s": runs[seed]["wall_time_s"]} for seed in seeds]
    return {
        "source": "cnn_seeds", "date": reference["date"], "machine": reference["machine"],
        "validation_images": reference["validation_images"], "runs": rows,
        **{key: spread([row[key] for row in rows]) for key in ("validation_accuracy", "wall_time_s")},
    }, None


def cnn_batchnorm_benchmark(seeds: tuple[int, ...] = CNN_SEEDS, smoke: bool = False,
                            reference: dict | None = None) -> dict:
    """Train the CNN's recipe with batch normalisation from each of ``seeds``; compare it with the runs without.

    Each run is trained as :func:`mnist_utils.training.train` trains the recipe (the same
    split, seed, schedule, batches and augmentation; :func:`benchmarks.common.train_like_book`),
    but with ``build_cnn(..., batch_norm=True)``, timed, and scored on the validation images
    (:func:`~mnist_utils.evaluation.predict_probabilities`, which runs batch normalisation with
    its moving statistics). ``reference`` is the results' ``cnn_seeds`` section, whose runs are
    the comparison without batch normalisation (:func:`without_batch_norm`); nothing is
    trained for it. ``smoke`` trains the first seed only, for one epoch on 1,000 images, and
    scores 500 validation images.
    """
    seeds = tuple(seeds[:1] if smoke else seeds)
    config = batchnorm_config(smoke)
    (x_all, y_all), _ = load_mnist()
    training, validation = train_validation_split(x_all, y_all, validation_size=config.validation_size,
                                                  seed=config.validation_seed)
    scored = tuple(part[:SMOKE_SCORED_IMAGES] for part in validation) if smoke else validation
    runs = []
    for seed in seeds:
        print(f"CNN recipe with batch normalisation ({config.epochs} epochs), seed {seed} ...", flush=True)
        started = time.perf_counter()
        model, history = train_like_book(
            dataclasses.replace(config, seed=seed),
            lambda: build_cnn(shift=config.augment_shift, rotation=config.augment_rotation, batch_norm=True),
            training, validation)
        wall = time.perf_counter() - started
        runs.append({
            "seed": seed,
            "validation_accuracy": accuracy(scored[1], predict_probabilities(model, scored[0]).argmax(axis=1)),
            "validation_curve": [float(v) for v in history["val_accuracy"]],
            "wall_time_s": wall, "trainable_parameters": trainable_parameters(model),
        })
        keras.backend.clear_session()
    without, missing = without_batch_norm(reference, config, seeds, smoke)
    return {
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "smoke": smoke,
        "recipe": config.as_dict(), "seeds": list(seeds), "validation_images": int(len(scored[1])), "runs": runs,
        **{key: spread([run[key] for run in runs]) for key in ("validation_accuracy", "wall_time_s")},
        "trainable_parameters_without_batch_norm": trainable_parameters(
            build_cnn(shift=config.augment_shift, rotation=config.augment_rotation)),
        "without_batch_norm": without,
        **({"without_batch_norm_missing": missing} if missing else {}),
    }
