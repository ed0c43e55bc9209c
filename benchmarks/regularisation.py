"""Section ``regularisation``: what dropout, weight decay and early stopping do to the MLP's train/validation gap.

The book's MLP (:data:`~mnist_utils.training.MLP_RECIPE`) fits its training images almost
perfectly and the validation images less well. Each :data:`VARIANTS` changes one thing in
its recipe; every variant is trained from each of :data:`REGULARISATION_SEEDS` on the same
split, and scored after training on the training and validation parts. The variant with the
best mean validation accuracy is chosen (:func:`choose`), and only then is the test set read:
once, for the chosen variant's runs and the baseline's, the comparison it needs.
"""

from __future__ import annotations

import dataclasses
import time

import keras

from mnist_utils.data import load_mnist, train_validation_split
from mnist_utils.evaluation import accuracy, predict_probabilities
from mnist_utils.models import build_original_mlp
from mnist_utils.training import MLP_RECIPE, TrainingConfig

from benchmarks.common import machine, smoke_config, spread, train_like_book

#: The seeds of every variant's runs: the book's first. A seed changes the initial weights and
#: the batches' order, not the split: every run holds out the validation images of the book's seed.
REGULARISATION_SEEDS: tuple[int, ...] = (MLP_RECIPE.seed, 1, 2)
#: Epochs without a lower validation loss after which the ``early_stopping`` variant stops.
EARLY_STOPPING_PATIENCE = 2
#: How many raw images a smoke run scores of the validation part and of the test set (as
#: :func:`benchmarks.common.scoring_split` does).
SMOKE_SCORED_IMAGES = 500


@dataclasses.dataclass(frozen=True)
class Variant:
    """One change to the book's MLP recipe: its name in the results, a label, and the change.

    The defaults are the book's recipe: no dropout, plain Adam, every epoch trained.
    """

    name: str
    label: str
    dropout: float = 0.0
    weight_decay: float = 0.0
    early_stopping: bool = False

    def settings(self) -> dict:
        """What the variant sets: ``dropout``, ``weight_decay`` and ``early_stopping``."""
        return {"dropout": self.dropout, "weight_decay": self.weight_decay, "early_stopping": self.early_stopping}


#: The variants, each one change from the book's recipe (``baseline``, first).
#:
#: Keras's AdamW shrinks every weight by ``learning rate × weight_decay`` of itself each step.
#: The recipe's learning rate starts at 1e-3 and decays to zero along a cosine (5e-4 on average)
#: over its 2,532 steps, so the weights shrink by a factor of about exp(-1.27 × weight_decay) in
#: all, less what the gradients restore: Keras's default of 0.004 would shrink them by 0.5 %,
#: which does nothing. Hence the deliberately large 0.1 (about 12 %) and 1.0 (about 72 %).
VARIANTS: tuple[Variant, ...] = (
    Variant("baseline", "the book's recipe"),
    Variant("dropout_0.2", "dropout of 0.2 after each hidden layer", dropout=0.2),
    Variant("dropout_0.5", "dropout of 0.5 after each hidden layer", dropout=0.5),
    Variant("weight_decay_0.1", "AdamW with a weight decay of 0.1", weight_decay=0.1),
    Variant("weight_decay_1.0", "AdamW with a weight decay of 1.0", weight_decay=1.0),
    Variant("early_stopping",
            f"early stopping on the validation loss (patience {EARLY_STOPPING_PATIENCE}, best weights restored)",
            early_stopping=True),
)


def run_config(seed: int, smoke: bool = False) -> TrainingConfig:
    """The book's MLP recipe from ``seed``, on the book's split (``split_seed`` is the recipe's seed).

    ``smoke`` shrinks it to one epoch on 1,000 images (:func:`benchmarks.common.smoke_config`).
    """
    config = dataclasses.replace(MLP_RECIPE, seed=seed, split_seed=MLP_RECIPE.seed)
    return smoke_config(config) if smoke else config


def train_variant(variant: Variant, config: TrainingConfig, training: tuple, validation: tuple
                  ) -> tuple[keras.Model, dict[str, list[float]], dict]:
    """Train the MLP with ``config`` and ``variant``'s change, as :func:`mnist_utils.training.train` would.

    ``training`` and ``validation`` are the raw ``(images, labels)`` parts of ``config``'s split
    (see :func:`benchmarks.common.train_like_book`). Returns the model, its history and, for early
    stopping, ``stopped_epoch`` (the epoch after which it stopped; ``None`` if it trained every
    epoch) and ``restored_epoch`` (the epoch whose weights it ends with), counted from 1; both
    are ``None`` for the other variants.
    """
    stopper = None
    if variant.early_stopping:
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=EARLY_STOPPING_PATIENCE,
                                                restore_best_weights=True)
    model, history = train_like_book(config, lambda: build_original_mlp(dropout=variant.dropout), training, validation,
                                     weight_decay=variant.weight_decay, callbacks=[stopper] if stopper else [])
    stopping = {"stopped_epoch": None, "restored_epoch": None}
    if stopper is not None:
        # Keras counts epochs from 0, and stopped_epoch stays 0 unless it stopped (never after epoch 0);
        # it restores the best weights at the end of training, whether or not it stopped early.
        stopping = {"stopped_epoch": stopper.stopped_epoch + 1 if stopper.stopped_epoch else None,
                    "restored_epoch": stopper.best_epoch + 1 if stopper.best_weights is not None else None}
    return model, history, stopping


def score(model: keras.Model, images, labels) -> float:
    """The accuracy of ``model`` on raw ``images``, as chapter 5 computes it (the most probable digit)."""
    return accuracy(labels, predict_probabilities(model, images).argmax(axis=1))


def choose(summary: dict) -> str:
    """The variant with the highest mean validation accuracy in ``summary``; a tie goes to the one listed first.

    ``summary`` maps each variant's name, in :data:`VARIANTS`' order (the baseline first, so
    that a change must do better to be chosen), to its ``validation_accuracy`` spread.
    """
    return max(summary, key=lambda name: summary[name]["validation_accuracy"]["mean"])


def regularisation_benchmark(seeds: tuple[int, ...] = REGULARISATION_SEEDS, smoke: bool = False, save=None) -> dict:
    """Train every one of :data:`VARIANTS` from each of ``seeds``; choose one on validation; test it and the baseline.

    Each run is scored after training, with the network's dropout off
    (:func:`~mnist_utils.evaluation.predict_probabilities`), on the training part and on the
    validation part; ``gap`` is the difference. History's training accuracy is the running
    average over each epoch's batches, taken while dropout is on, so it is kept only as the
    ``training_curve``. After every run the variant with the best mean validation accuracy is
    ``chosen`` (:func:`choose`), and only then is the test accuracy computed, for the chosen
    variant's runs and the baseline's: no other variant's test accuracy is computed, so the
    test set plays no part in the choice. ``smoke`` trains each variant once, from the first
    seed, for one epoch on 1,000 images, and scores 500 validation and 500 test images.
    ``save`` is called with the partial result after every run.
    """
    seeds = tuple(seeds[:1] if smoke else seeds)
    names = [variant.name for variant in VARIANTS]
    (x_all, y_all), (x_test, y_test) = load_mnist()
    base = run_config(seeds[0], smoke)
    training, validation = train_validation_split(x_all, y_all, validation_size=base.validation_size,
                                                  seed=base.validation_seed)
    scored_validation, test = validation, (x_test, y_test)
    if smoke:
        scored_validation = tuple(part[:SMOKE_SCORED_IMAGES] for part in validation)
        test = tuple(part[:SMOKE_SCORED_IMAGES] for part in test)
    result = {
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "smoke": smoke,
        "recipe": run_config(MLP_RECIPE.seed, smoke).as_dict(), "seeds": list(seeds),
        "variants": [{"name": variant.name, "label": variant.label, **variant.settings()} for variant in VARIANTS],
        "early_stopping": {"monitor": "val_loss", "patience": EARLY_STOPPING_PATIENCE, "restore_best_weights": True},
        "training_images": int(len(training[1])), "validation_images": int(len(scored_validation[1])),
        "runs": [], "summary": None, "chosen": None, "test": None,
    }
    models = {}
    for seed in seeds:
        config = run_config(seed, smoke)
        for variant in VARIANTS:
            print(f"regularisation, seed {seed}: {variant.label} ...", flush=True)
            started = time.perf_counter()
            model, history, stopping = train_variant(variant, config, training, validation)
            wall = time.perf_counter() - started
            models[variant.name, seed] = model
            training_accuracy, validation_accuracy = score(model, *training), score(model, *scored_validation)
            result["runs"].append({
                "variant": variant.name, "seed": seed,
                "training_accuracy": training_accuracy, "validation_accuracy": validation_accuracy,
                "gap": training_accuracy - validation_accuracy,
                "training_curve": [float(v) for v in history["accuracy"]],
                "validation_curve": [float(v) for v in history["val_accuracy"]],
                "validation_loss_curve": [float(v) for v in history["val_loss"]],
                "epochs_run": len(history["val_accuracy"]), **stopping, "wall_time_s": wall,
            })
            if save:
                save(result)
    result["summary"] = {
        name: {key: spread([run[key] for run in result["runs"] if run["variant"] == name])
               for key in ("validation_accuracy", "training_accuracy", "gap", "epochs_run", "wall_time_s")}
        for name in names
    }
    # The choice is made on the validation images alone; only then is the test set read.
    result["chosen"] = choose(result["summary"])
    result["test_images"] = int(len(test[1]))
    result["test"] = {}
    for name in dict.fromkeys(["baseline", result["chosen"]]):
        print(f"regularisation: the test accuracy of {name} ...", flush=True)
        runs = [{"seed": seed, "test_accuracy": score(models[name, seed], *test)} for seed in seeds]
        result["test"][name] = {"runs": runs, "test_accuracy": spread([run["test_accuracy"] for run in runs])}
    if save:
        save(result)
    return result


def record_regularisation(results: dict, seeds: tuple[int, ...], smoke: bool, write, **extra) -> None:
    """Run :func:`regularisation_benchmark` into ``results["regularisation"]`` (with ``extra``), calling ``write()`` after every run."""

    def keep(partial: dict) -> None:
        results["regularisation"] = dict(partial, **extra)
        write()

    keep(regularisation_benchmark(seeds, smoke=smoke, save=keep))
