"""Tests of mnist_utils.ensemble: shifts, averaged probabilities, the recipe and its checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bad_inputs import dense
from mnist_utils import ensemble
from mnist_utils.ensemble import (
    ENSEMBLE_RECIPE,
    NO_SHIFT,
    TTA_SHIFTS,
    EnsembleRecipe,
    average_views,
    ensemble_probabilities,
    load_or_train_ensemble,
    shift_images,
    view_probabilities,
)
from mnist_utils.errors import InputTypeError, InputValueError
from mnist_utils.evaluation import predict_probabilities
from mnist_utils.training import CNN_RECIPE, MLP_RECIPE, set_seed


#: A member recipe whose split is shared, as an ensemble's must be.
SHARED = dataclasses.replace(CNN_RECIPE, split_seed=CNN_RECIPE.seed)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    batch = np.zeros((7, 28, 28), dtype="uint8")
    batch[:, 4:24, 4:24] = rng.integers(0, 256, size=(7, 20, 20), dtype="uint8")  # ink inside MNIST's blank border
    return batch


@pytest.fixture(scope="module")
def two_cnns():
    set_seed(0)
    return [dense((28, 28, 1), 10, "softmax"), dense((28, 28, 1), 10, "softmax")]


def test_shift_moves_every_pixel_and_fills_with_zeros(images):
    down = shift_images(images, 2, 0)
    assert np.array_equal(down[:, 2:], images[:, :-2]) and not down[:, :2].any()
    left = shift_images(images, 0, -3)
    assert np.array_equal(left[:, :, :-3], images[:, :, 3:]) and not left[:, :, -3:].any()
    assert np.array_equal(shift_images(images, 0, 0), images)
    assert shift_images(images, 1, 1).dtype == np.uint8


def test_shifts_within_the_blank_border_lose_no_ink(images):
    for down, right in TTA_SHIFTS:
        back = shift_images(shift_images(images, down, right), -down, -right)
        assert np.array_equal(back, images)


@pytest.mark.parametrize(
    ("args", "error", "fragment"),
    [
        ((5, 0), InputValueError, "down must be between -4 and 4"),
        ((0, -5), InputValueError, "right must be between -4 and 4"),
        ((1.5, 0), InputTypeError, "down"),
    ],
)
def test_shift_refuses_bad_shifts(images, args, error, fragment):
    with pytest.raises(error, match=fragment):
        shift_images(images, *args)


def test_shift_refuses_normalised_images(images):
    with pytest.raises(InputTypeError, match="uint8"):
        shift_images(images / 255.0, 1, 0)


def test_one_model_without_shifts_is_predict_probabilities(images, two_cnns):
    np.testing.assert_array_equal(
        ensemble_probabilities(two_cnns[:1], images), predict_probabilities(two_cnns[0], images)
    )


def test_the_ensemble_averages_every_model_over_every_shift(images, two_cnns):
    expected = np.mean(
        [predict_probabilities(model, shift_images(images, *shift)) for model in two_cnns for shift in TTA_SHIFTS],
        axis=0,
    )
    got = ensemble_probabilities(two_cnns, images, shifts=TTA_SHIFTS)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    assert got.dtype == np.float32 and got.shape == (len(images), 10)


def test_slices_of_the_views_are_the_smaller_ensembles(images, two_cnns):
    views = view_probabilities(two_cnns, images, shifts=TTA_SHIFTS)
    assert views.shape == (2, len(TTA_SHIFTS), len(images), 10) and views.dtype == np.float32
    assert TTA_SHIFTS[0] == (0, 0)  # so views[:, :1] are the unshifted images
    np.testing.assert_array_equal(average_views(views[:1, :1]), ensemble_probabilities(two_cnns[:1], images))
    np.testing.assert_array_equal(average_views(views), ensemble_probabilities(two_cnns, images, shifts=TTA_SHIFTS))


@pytest.mark.parametrize("shape", [(2, 7, 10), (1, 1, 7, 3), (0, 1, 7, 10)])
def test_average_views_refuses_other_shapes(shape):
    with pytest.raises(InputValueError, match=r"views must have shape \(models, shifts, n, 10\)"):
        average_views(np.full(shape, 0.1, dtype="float32"))


@pytest.mark.parametrize(
    ("models", "shifts", "error", "fragment"),
    [
        ([], NO_SHIFT, InputValueError, "models is empty"),
        ("model", NO_SHIFT, InputTypeError, "models must be a list or tuple"),
        ([object()], NO_SHIFT, InputTypeError, r"models\[0\] must be a keras.Model"),
        (None, (), InputValueError, "shifts must be a non-empty sequence"),
        (None, ((0, 0, 0),), InputValueError, r"shifts\[0\] must be a \(down, right\) pair"),
        (None, ((0, 9),), InputValueError, r"shifts\[0\]\[1\] must be between -4 and 4"),
    ],
)
def test_ensemble_probabilities_refuses_bad_input(images, two_cnns, models, shifts, error, fragment):
    with pytest.raises(error, match=fragment):
        ensemble_probabilities(two_cnns if models is None else models, images, shifts=shifts)


def test_the_recipe_gives_one_cnn_recipe_per_seed():
    members = ENSEMBLE_RECIPE.members()
    assert [member.seed for member in members] == list(ENSEMBLE_RECIPE.seeds)
    assert all(dataclasses.replace(member, seed=0) == dataclasses.replace(ENSEMBLE_RECIPE.member, seed=0)
               for member in members)  # fmt: skip
    assert ENSEMBLE_RECIPE.member.model == "cnn"
    # Only the seeds differ from the chapter's CNN (chapter 6 says so); every member holds out
    # the chapter's validation images, so the ensemble can be validated on them.
    assert dataclasses.replace(ENSEMBLE_RECIPE.member, split_seed=None) == CNN_RECIPE
    assert all(member.validation_seed == CNN_RECIPE.seed for member in members)
    assert CNN_RECIPE.seed not in ENSEMBLE_RECIPE.seeds
    assert ENSEMBLE_RECIPE.shifts == (TTA_SHIFTS if ENSEMBLE_RECIPE.test_time_shifts else NO_SHIFT)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"member": "cnn", "seeds": (1,)}, InputTypeError, "member must be a TrainingConfig"),
        ({"member": CNN_RECIPE, "seeds": (1, 2)}, InputValueError, "member.split_seed is None"),
        ({"member": SHARED, "seeds": ()}, InputValueError, "seeds must be a non-empty tuple"),
        ({"member": SHARED, "seeds": [1, 2]}, InputValueError, "seeds must be a non-empty tuple"),
        ({"member": SHARED, "seeds": (1, 1)}, InputValueError, "seeds must all differ"),
        ({"member": SHARED, "seeds": (-1,)}, InputValueError, "seeds"),
        ({"member": SHARED, "seeds": (1,), "test_time_shifts": "yes"}, InputTypeError, "test_time_shifts"),
    ],
)
def test_the_recipe_refuses_bad_fields(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        EnsembleRecipe(**kwargs)


@pytest.mark.parametrize(
    ("recipe", "count", "error", "fragment"),
    [
        (MLP_RECIPE, None, InputTypeError, "recipe must be an EnsembleRecipe"),
        (ENSEMBLE_RECIPE, 0, InputValueError, "count must be between 1 and"),
        (ENSEMBLE_RECIPE, len(ENSEMBLE_RECIPE.seeds) + 1, InputValueError, "count must be between 1 and"),
    ],
)
def test_load_or_train_ensemble_refuses_bad_input_before_training(recipe, count, error, fragment, monkeypatch):
    monkeypatch.setattr(ensemble, "load_or_train", lambda *args: pytest.fail("trained despite bad input"))
    with pytest.raises(error, match=fragment):
        load_or_train_ensemble(recipe, count)


def test_load_or_train_ensemble_asks_for_each_member_in_order(monkeypatch, tmp_path):
    asked = []
    monkeypatch.setattr(ensemble, "load_or_train", lambda config, cache_dir: asked.append((config, cache_dir)) or config.seed)
    assert load_or_train_ensemble(ENSEMBLE_RECIPE, 2, tmp_path) == list(ENSEMBLE_RECIPE.seeds[:2])
    assert asked == [(config, tmp_path) for config in ENSEMBLE_RECIPE.members()[:2]]
