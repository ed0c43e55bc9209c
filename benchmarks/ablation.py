"""Section ``ablation``: the MLP's recipe changed one setting at a time, from the original write-up's to the book's."""

from __future__ import annotations

import dataclasses
import time

from mnist_utils.data import load_mnist, train_validation_split
from mnist_utils.evaluation import accuracy, predict_probabilities
from mnist_utils.training import MLP_RECIPE, ORIGINAL_RECIPE, TrainingConfig, train

from benchmarks.common import machine, smoke_config, spread


#: The order in which the ablation changes the original recipe into the book's, one field per
#: step. Every field in which the two recipes differ must be here (``ablation_steps`` checks);
#: ``steps_per_execution`` changes only the speed, and its step measures that it changes nothing else.
ABLATION_ORDER: tuple[str, ...] = ("epochs", "batch_size", "schedule", "steps_per_execution")
#: The ablation's seeds: the book's, then two more, so that a step's effect can be told from
#: the spread between seeds (another seed also draws another validation split).
ABLATION_SEEDS: tuple[int, ...] = (MLP_RECIPE.seed, 1, 2)
#: What each step of the ablation changes, in words.
ABLATION_LABELS: dict[str, str] = {
    "epochs": "train for {new} epochs, not {old}",
    "batch_size": "batches of {new}, not {old}",
    "schedule": "{new} learning-rate schedule, not {old}",
    "steps_per_execution": "{new} steps per call into TensorFlow, not {old} (speed only)",
}


def ablation_steps(seed: int | None = None, order: tuple[str, ...] = ABLATION_ORDER) -> list[dict]:
    """The ablation's recipes: from the original recipe for one epoch to the book's recipe.

    Step 0 is :data:`ORIGINAL_RECIPE` trained for one epoch (Keras's default); each later
    step changes one field, in ``order``, to its value in :data:`MLP_RECIPE`, so the last
    step is :data:`MLP_RECIPE` itself (with ``seed``, if given). A field whose value does not
    change is skipped (the epochs, if the book's recipe had one epoch). Each step is a dict
    with ``factor`` (the field changed; ``None`` for step 0), ``label`` and ``config``.

    Raises
    ------
    ValueError
        If the two recipes differ in a field that ``order`` leaves out, as they would if one of
        them changed and the ablation did not: the last step would not be the book's recipe.
    """
    start = dataclasses.replace(ORIGINAL_RECIPE, epochs=1)
    target = MLP_RECIPE
    if seed is not None:
        start, target = (dataclasses.replace(config, seed=seed) for config in (start, target))
    missing = [field.name for field in dataclasses.fields(TrainingConfig)
               if getattr(start, field.name) != getattr(target, field.name) and field.name not in order]
    if missing:
        raise ValueError(f"ORIGINAL_RECIPE and MLP_RECIPE also differ in {missing}; add them to ABLATION_ORDER.")
    steps = [{"factor": None, "label": f"original recipe, {start.epochs} epoch", "config": start}]
    for field in order:
        config = steps[-1]["config"]
        old, new = getattr(config, field), getattr(target, field)
        if old != new:
            steps.append({"factor": field, "label": ABLATION_LABELS[field].format(old=old, new=new),
                          "config": dataclasses.replace(config, **{field: new})})
    assert steps[-1]["config"] == target, (steps[-1]["config"], target)
    return steps


def ablation_run(config: TrainingConfig, validation, test) -> dict:
    """Train ``config`` with :func:`mnist_utils.training.train`, the book's own training path.

    ``validation`` and ``test`` are ``(images, labels)`` pairs of raw images; their accuracy is
    computed as chapter 5 computes it (:func:`~mnist_utils.evaluation.predict_probabilities`,
    then the most probable digit).
    """
    started = time.perf_counter()
    model, history = train(config)
    wall = time.perf_counter() - started

    def score(images, labels) -> float:
        return accuracy(labels, predict_probabilities(model, images).argmax(axis=1))

    return {
        "config": config.as_dict(),
        "validation_accuracy": score(*validation),
        "test_accuracy": score(*test),
        "validation_curve": [float(v) for v in history["val_accuracy"]],
        "training_curve": [float(v) for v in history["accuracy"]],
        "wall_time_s": wall,
    }


def ablation(seeds: list[int], smoke: bool = False, save=None) -> dict:
    """The ablation (see :func:`ablation_steps`) for each seed, and the schedule changed before the batch.

    For each seed the main chain changes the fields in :data:`ABLATION_ORDER`; one more run
    changes the schedule before the batch size (the ``schedule`` step applied to the step
    before ``batch_size``), so that each of the two has been measured from both sides and the
    order's effect shows. ``smoke`` trains every step for one epoch on 1,000 images only. ``save`` is called
    with the partial result after every run.
    """
    (x_all, y_all), test = load_mnist()
    result = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "smoke": smoke,
              "order": list(ABLATION_ORDER), "seeds": list(seeds), "runs": []}
    for seed in seeds:
        steps = ablation_steps(seed)
        if smoke:
            steps = [dict(step, config=smoke_config(step["config"])) for step in steps]
        config = steps[0]["config"]
        _, validation = train_validation_split(x_all, y_all, validation_size=config.validation_size, seed=config.validation_seed)
        run = {"seed": seed, "steps": [], "schedule_first": None}
        result["runs"].append(run)
        for index, step in enumerate(steps):
            print(f"ablation, seed {seed}, step {index}: {step['label']} ...", flush=True)
            row = {"step": index, "factor": step["factor"], "label": step["label"]}
            run["steps"].append(dict(row, **ablation_run(step["config"], validation, test)))
            if save:
                save(result)
        factors = [step["factor"] for step in steps]
        before = factors.index("batch_size") - 1
        config = dataclasses.replace(steps[before]["config"], schedule=steps[-1]["config"].schedule)
        print(f"ablation, seed {seed}: the schedule before the batch size ...", flush=True)
        run["schedule_first"] = {"after_step": before, "factor": "schedule",
                                 "label": f"{config.schedule} schedule at batches of {config.batch_size}",
                                 **ablation_run(config, validation, test)}
        if save:
            save(result)
    return result


def record_ablation(results: dict, seeds: list[int], smoke: bool, write, **extra) -> None:
    """Run :func:`ablation` into ``results["ablation"]`` (with ``extra``), calling ``write()`` after every run."""

    def keep(partial: dict) -> None:
        results["ablation"] = dict(partial, **extra)
        write()

    keep(ablation(seeds, smoke=smoke, save=keep))
