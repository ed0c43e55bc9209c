"""Ensembles: several networks' averaged probabilities, and test-time shifts.

An ensemble averages the softmax outputs of networks trained alike but from different
seeds (so different initial weights, shuffles and augmentations); their mistakes partly
differ, and the average can make fewer. **Test-time augmentation** averages one
network's outputs over shifted copies of each image. Chapter 6 teaches both;
:data:`ENSEMBLE_RECIPE` is the ensemble the chapter, the benchmark and the tests read.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validation import check_bool, check_images, check_int, check_model, check_probabilities
from .errors import InputTypeError, InputValueError
from .evaluation import predict_probabilities
from .training import CNN_RECIPE, TrainingConfig, load_or_train

__all__ = [
    "ENSEMBLE_RECIPE",
    "NO_SHIFT",
    "TTA_SHIFTS",
    "EnsembleRecipe",
    "average_views",
    "ensemble_probabilities",
    "load_or_train_ensemble",
    "shift_images",
    "view_probabilities",
]

#: The unshifted image only, which is no test-time augmentation.
NO_SHIFT: tuple[tuple[int, int], ...] = ((0, 0),)
#: The image and its four one-pixel shifts (down, up, right, left) for test-time augmentation.
TTA_SHIFTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


def shift_images(images: Any, down: int, right: int) -> np.ndarray:
    """Move raw ``(n, 28, 28)`` ``uint8`` images by whole pixels, filling with blank paper (0).

    Pixels pushed past an edge are dropped. MNIST's digits sit inside a blank 4-pixel
    border, so a shift of up to 4 pixels loses no ink.

    Raises
    ------
    InputValueError
        If the images are not ``(n, 28, 28)``, or a shift is outside ``-4 .. 4``.
    InputTypeError
        If the images are not ``uint8`` or a shift is not an integer.
    """
    images = check_images(images, flat=False, normalized=False)
    down = check_int(down, "down", minimum=-4, maximum=4)
    right = check_int(right, "right", minimum=-4, maximum=4)
    shifted = np.zeros_like(images)
    rows_to = slice(max(down, 0), 28 + min(down, 0))
    rows_from = slice(max(-down, 0), 28 + min(-down, 0))
    cols_to = slice(max(right, 0), 28 + min(right, 0))
    cols_from = slice(max(-right, 0), 28 + min(-right, 0))
    shifted[:, rows_to, cols_to] = images[:, rows_from, cols_from]
    return shifted


def _check_shifts(shifts: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(shifts, (list, tuple)) or not shifts:
        raise InputValueError(
            "shifts must be a non-empty sequence of (down, right) pixel pairs, such as "
            f"NO_SHIFT or TTA_SHIFTS; got {shifts!r}."
        )
    checked = []
    for index, pair in enumerate(shifts):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InputValueError(f"shifts[{index}] must be a (down, right) pair of integers, got {pair!r}.")
        checked.append(
            (
                check_int(pair[0], f"shifts[{index}][0]", minimum=-4, maximum=4),
                check_int(pair[1], f"shifts[{index}][1]", minimum=-4, maximum=4),
            )
        )
    return tuple(checked)


def view_probabilities(
    models: Sequence[Any], images: Any, *, shifts: Sequence[tuple[int, int]] = NO_SHIFT
) -> np.ndarray:
    """The softmax outputs of every model for every shifted copy of ``images``.

    Parameters
    ----------
    models:
        One or more of the book's trained networks.
    images:
        Raw ``(n, 28, 28)`` ``uint8`` images.
    shifts:
        ``(down, right)`` pixel shifts (see :func:`shift_images`): :data:`NO_SHIFT` (default)
        or :data:`TTA_SHIFTS`.

    Returns
    -------
    numpy.ndarray
        ``(len(models), len(shifts), n, 10)`` ``float32``: entry ``[m, s]`` is
        :func:`mnist_utils.evaluation.predict_probabilities` of model ``m`` for the images
        moved by shift ``s``. :func:`average_views` of any slice along the first two axes is
        the prediction of that smaller ensemble, so that each model predicts only once.

    Raises
    ------
    InputValueError
        If ``models`` is empty, the images are not ``(n, 28, 28)``, or a shift is not a pair
        of integers in ``-4 .. 4``.
    InputTypeError
        If ``models`` is not a list or tuple of Keras models, or the images are not ``uint8``.
    """
    if not isinstance(models, (list, tuple)):
        raise InputTypeError(
            f"models must be a list or tuple of Keras models, got {type(models).__name__}. "
            "For one model, pass [model]."
        )
    if not models:
        raise InputValueError("models is empty; pass at least one trained model.")
    for index, model in enumerate(models):
        check_model(model, f"models[{index}]")
    images = check_images(images, flat=False, normalized=False)
    shifts = _check_shifts(shifts)
    views = [images if shift == (0, 0) else shift_images(images, *shift) for shift in shifts]
    return np.stack([np.stack([predict_probabilities(model, view) for view in views]) for model in models])


def average_views(views: Any) -> np.ndarray:
    """The ``(n, 10)`` mean of ``(models, shifts, n, 10)`` probabilities: every (model, shift) pair counts equally.

    Raises
    ------
    InputValueError
        If ``views`` is not a non-empty 4-D array of ``(n, 10)`` probability rows.
    """
    views = np.asarray(views)
    if views.ndim != 4 or views.shape[-1] != 10 or 0 in views.shape:
        raise InputValueError(
            f"views must have shape (models, shifts, n, 10), as view_probabilities returns, got {views.shape}."
        )
    mean = views.mean(axis=(0, 1), dtype="float64").astype("float32")
    return check_probabilities(mean, name="the averaged views")


def ensemble_probabilities(
    models: Sequence[Any], images: Any, *, shifts: Sequence[tuple[int, int]] = NO_SHIFT
) -> np.ndarray:
    """The ``(n, 10)`` mean of the softmax outputs of ``models`` over the shifted ``images``.

    :func:`average_views` of :func:`view_probabilities`: each model sees each image once per
    shift in ``shifts``, and every (model, shift) pair counts equally. One model with
    :data:`NO_SHIFT` gives exactly :func:`mnist_utils.evaluation.predict_probabilities`.

    Raises
    ------
    InputValueError, InputTypeError
        As :func:`view_probabilities`.
    """
    return average_views(view_probabilities(models, images, shifts=shifts))


@dataclasses.dataclass(frozen=True)
class EnsembleRecipe:
    """Several networks trained with one recipe from different seeds, and how they predict.

    Attributes
    ----------
    member:
        The recipe of every member; its ``seed`` is replaced by each of ``seeds``. Its
        ``split_seed`` must be set: the members then hold out the same validation images,
        on which the ensemble itself can be validated.
    seeds:
        One seed per member, in the order members are added.
    test_time_shifts:
        Whether the ensemble predicts with :data:`TTA_SHIFTS` (else :data:`NO_SHIFT`).
    """

    member: TrainingConfig
    seeds: tuple[int, ...]
    test_time_shifts: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.member, TrainingConfig):
            raise InputTypeError(
                f"member must be a TrainingConfig, such as CNN_RECIPE, got {type(self.member).__name__}."
            )
        if self.member.split_seed is None:
            raise InputValueError(
                "member.split_seed is None, so each member would hold out different validation images "
                "and no image could validate the ensemble; set it, for example "
                "dataclasses.replace(CNN_RECIPE, split_seed=CNN_RECIPE.seed)."
            )
        if not isinstance(self.seeds, tuple) or not self.seeds:
            raise InputValueError(f"seeds must be a non-empty tuple of integers, got {self.seeds!r}.")
        seeds = tuple(check_int(seed, "seeds", minimum=0, maximum=2**32 - 1) for seed in self.seeds)
        if len(set(seeds)) != len(seeds):
            raise InputValueError(f"seeds must all differ (each gives one member), got {seeds!r}.")
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(self, "test_time_shifts", check_bool(self.test_time_shifts, "test_time_shifts"))

    @property
    def shifts(self) -> tuple[tuple[int, int], ...]:
        """:data:`TTA_SHIFTS` or :data:`NO_SHIFT`."""
        return TTA_SHIFTS if self.test_time_shifts else NO_SHIFT

    def as_dict(self) -> dict:
        """The recipe as plain JSON values, as the benchmark records it: ``member``, ``seeds``, ``test_time_shifts``."""
        return {"member": self.member.as_dict(), "seeds": list(self.seeds), "test_time_shifts": self.test_time_shifts}

    def members(self) -> tuple[TrainingConfig, ...]:
        """The recipe of each member: ``member`` with each seed."""
        return tuple(dataclasses.replace(self.member, seed=seed) for seed in self.seeds)


#: The ensemble chapter 6 teaches. Three more runs of the CNN recipe, from other seeds, each
#: holding out the validation images of :data:`~mnist_utils.training.CNN_RECIPE`.
#:
#: Chosen for 600 s of training on the benchmark's 2-core machine, measured there on
#: 2026-12-04 (one run each, not by the benchmark). Ensembles of the first 2, 3 and 4 runs of
#: the full recipe, and three runs of more epochs, scored within a few validation images of
#: one another, too close to choose among them. The budget chose instead: three full runs fit
#: in it, four did not. (An earlier ensemble of two shorter runs had been sized on a day when
#: the machine ran far slower.) With the shifted copies, every ensemble of full runs scored
#: fewer validation images right, so the ensemble predicts without them. The benchmark
#: re-measures the ensemble's training time and accuracy, with and without the shifts (the
#: Performance appendix shows them), and a test holds ``test_time_shifts`` to it.
ENSEMBLE_RECIPE = EnsembleRecipe(
    member=dataclasses.replace(CNN_RECIPE, split_seed=CNN_RECIPE.seed),
    seeds=(1, 2, 5),
    test_time_shifts=False,
)


def load_or_train_ensemble(
    recipe: EnsembleRecipe = ENSEMBLE_RECIPE,
    count: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> list[Any]:
    """The first ``count`` members of ``recipe`` (all by default), each loaded or trained and saved.

    Each member is :func:`mnist_utils.training.load_or_train` of its recipe, so it is trained
    once and shared by every chapter, test and the benchmark that asks for it.

    Raises
    ------
    InputTypeError
        If ``recipe`` is not an :class:`EnsembleRecipe`.
    InputValueError
        If ``count`` is not between 1 and the number of seeds.
    """
    if not isinstance(recipe, EnsembleRecipe):
        raise InputTypeError(f"recipe must be an EnsembleRecipe, such as ENSEMBLE_RECIPE, got {type(recipe).__name__}.")
    members = recipe.members()
    count = len(members) if count is None else check_int(count, "count", minimum=1, maximum=len(members))
    return [load_or_train(config, cache_dir) for config in members[:count]]
