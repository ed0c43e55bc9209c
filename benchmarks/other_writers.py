"""Section ``other_writers``: what augmentation buys the CNN on digits by other writers, and what bounds it.

The CNN reads MNIST's test digits far better than chapter 7's digits by other writers
(scikit-learn's optdigits, :func:`~mnist_utils.sample_pictures.load_other_writers`). Each of
:data:`VARIANTS` adds one augmentation to the recipe's random shifts and rotations
(:data:`~mnist_utils.training.CNN_RECIPE`) and is trained from each of
:data:`~benchmarks.cnn_seeds.CNN_SEEDS`, the recipe itself included, in this run, so that their
training times compare. Every run is scored on MNIST's validation images and on the other
writers' **validation half** (:func:`~mnist_utils.sample_pictures.split_other_writers`). A
variant is chosen on those alone (:func:`choose`); only then are the test sets read (MNIST's
test images and the other writers' **test half**), for the chosen variant and the recipe.

What bounds it (``seen_writers``): the recipe is trained once more from the first seed with
one half of the other writers' validation half added to its training images, and scored on
the other half. If these writers' digits, not the network, are what is missing, that run
reads them far better. The test half is not read.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from mnist_utils.data import load_mnist, train_validation_split
from mnist_utils.evaluation import accuracy, predict_probabilities
from mnist_utils.models import build_cnn
from mnist_utils.sample_pictures import load_other_writers, split_other_writers
from mnist_utils.training import CNN_RECIPE, TrainingConfig

from benchmarks.cnn_seeds import CNN_SEEDS
from benchmarks.common import machine, smoke_config, spread, train_like_book

#: How many images a smoke run scores of each part (MNIST's validation and test images, each other-writers half).
SMOKE_SCORED_IMAGES = 200
#: A variant is chosen only if its mean MNIST validation accuracy is at most this far below the recipe's.
MNIST_TOLERANCE = 0.001
#: The seed of the ``seen_writers`` run's split of the other writers' validation half into two.
SEEN_WRITERS_SPLIT_SEED = 7


class ElasticDistortion(keras.layers.Layer):
    """In training, an elastic distortion (Simard et al., 2003), applied to each image with probability ``p``.

    Every pixel moves by a random displacement: noise uniform in [-1, 1], smoothed by a
    Gaussian of ``sigma`` pixels and scaled by ``alpha``, so that neighbouring pixels move
    together, as a hand's wobble moves a stroke. The image is resampled bilinearly; what
    comes from outside it is background (0). At inference the layer does nothing.
    """

    def __init__(self, alpha: float = 34.0, sigma: float = 4.0, p: float = 0.5, **kwargs) -> None:
        super().__init__(**kwargs)
        self.alpha, self.sigma, self.p = float(alpha), float(sigma), float(p)
        self.generator = keras.random.SeedGenerator()
        radius = int(3 * sigma)
        offsets = np.arange(-radius, radius + 1, dtype="float32")
        kernel = np.exp(-(offsets**2) / (2 * sigma**2))
        self.kernel = (kernel / kernel.sum()).astype("float32")

    def call(self, images, training=None):
        if not training:
            return images
        batch, size = tf.shape(images)[0], images.shape[1]
        noise = keras.random.uniform((2 * batch, size, size, 1), -1.0, 1.0, seed=self.generator)
        across = tf.constant(self.kernel.reshape(1, -1, 1, 1))
        down = tf.constant(self.kernel.reshape(-1, 1, 1, 1))
        field = tf.nn.conv2d(tf.nn.conv2d(noise, across, 1, "SAME"), down, 1, "SAME")[..., 0] * self.alpha
        rows, cols = tf.meshgrid(tf.range(size, dtype=tf.float32), tf.range(size, dtype=tf.float32), indexing="ij")
        moved = resample(images, rows + field[:batch], cols + field[batch:])
        chosen = keras.random.uniform((batch, 1, 1, 1), seed=self.generator) < self.p
        return tf.where(chosen, moved, images)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha, "sigma": self.sigma, "p": self.p}


class LowResolution(keras.layers.Layer):
    """In training, with probability ``p``, an image averaged down to ``s`` × ``s`` pixels and enlarged back.

    ``s`` is drawn for each batch between ``smallest`` and ``largest``: the blocky, blurred
    strokes of a digit stored at low resolution, as the other writers' 8 × 8 digits are. At
    inference the layer does nothing.
    """

    def __init__(self, p: float = 0.5, smallest: int = 8, largest: int = 14, **kwargs) -> None:
        super().__init__(**kwargs)
        self.p, self.smallest, self.largest = float(p), int(smallest), int(largest)
        self.generator = keras.random.SeedGenerator()

    def call(self, images, training=None):
        if not training:
            return images
        side = keras.random.randint((), self.smallest, self.largest + 1, seed=self.generator)
        size = images.shape[1:3]
        small = tf.image.resize(images, tf.stack([side, side]), method="area")
        back = tf.image.resize(small, size, method="bilinear")
        chosen = keras.random.uniform((tf.shape(images)[0], 1, 1, 1), seed=self.generator) < self.p
        return tf.where(chosen, back, images)

    def get_config(self) -> dict:
        return {**super().get_config(), "p": self.p, "smallest": self.smallest, "largest": self.largest}


class StrokeThickness(keras.layers.Layer):
    """In training, each image's strokes thickened (3 × 3 dilation) with probability ``p``, or thinned (3 × 3 erosion)
    with probability ``p``: a broader or finer pen. At inference the layer does nothing."""

    def __init__(self, p: float = 0.25, **kwargs) -> None:
        super().__init__(**kwargs)
        self.p = float(p)
        self.generator = keras.random.SeedGenerator()

    def call(self, images, training=None):
        if not training:
            return images
        thick = tf.nn.max_pool2d(images, 3, 1, "SAME")
        thin = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
        draw = keras.random.uniform((tf.shape(images)[0], 1, 1, 1), seed=self.generator)
        return tf.where(draw < self.p, thick, tf.where(draw < 2 * self.p, thin, images))

    def get_config(self) -> dict:
        return {**super().get_config(), "p": self.p}


def resample(images, rows, cols):
    """``images`` (n, h, w, 1) read bilinearly at the positions ``rows``, ``cols`` (n, h, w); 0 outside."""
    height, width = images.shape[1], images.shape[2]
    top, left = tf.floor(rows), tf.floor(cols)
    out = tf.zeros_like(rows)
    for down in (0.0, 1.0):
        for right in (0.0, 1.0):
            row, col = top + down, left + right
            weight = (1 - tf.abs(rows - row)) * (1 - tf.abs(cols - col))
            inside = (row >= 0) & (row <= height - 1) & (col >= 0) & (col <= width - 1)
            where = tf.stack([tf.cast(tf.clip_by_value(row, 0, height - 1), tf.int32),
                              tf.cast(tf.clip_by_value(col, 0, width - 1), tf.int32)], axis=-1)
            out += tf.gather_nd(images[..., 0], where, batch_dims=1) * weight * tf.cast(inside, images.dtype)
    return out[..., None]


@dataclasses.dataclass(frozen=True)
class Variant:
    """One augmentation added to the CNN's recipe: its name in the results, a label, and its layers (none: the recipe)."""

    name: str
    label: str
    layers: Callable[[], list[keras.layers.Layer]] = list

    def build(self, config: TrainingConfig) -> keras.Sequential:
        """The recipe's CNN with this variant's layers after its random shifts and rotations."""
        model = build_cnn(shift=config.augment_shift, rotation=config.augment_rotation)
        added = self.layers()
        if not added:
            return model
        augmentation = [layer for layer in model.layers if layer.name in ("random_shift", "random_rotation")]
        rest = model.layers[len(augmentation):]
        return keras.Sequential([keras.Input(shape=(28, 28, 1)), *augmentation, *added, *rest])


#: The recipe (first: a change must do better to be chosen), then each augmentation tried.
VARIANTS: tuple[Variant, ...] = (
    Variant("recipe", "the book's recipe (random shifts and rotations)"),
    Variant("elastic", "+ elastic distortion (alpha 34, sigma 4 pixels, half the images)",
            lambda: [ElasticDistortion(34.0, 4.0, 0.5)]),
    Variant("stroke_thickness", "+ stroke thickness (a pixel thicker or thinner, a quarter of the images each)",
            lambda: [StrokeThickness(0.25)]),
    Variant("slant_and_scale", "+ slant and scale (shear and zoom up to 15 %)",
            lambda: [keras.layers.RandomShear(0.15, 0.0, fill_mode="constant"),
                     keras.layers.RandomZoom(0.15, fill_mode="constant")]),
    Variant("low_resolution", "+ low resolution (8 to 14 pixels and back, half the images)",
            lambda: [LowResolution(0.5, 8, 14)]),
)


def run_config(seed: int, smoke: bool = False) -> TrainingConfig:
    """The CNN's recipe from ``seed``, on the split the ``cnn_seeds`` section holds out (``split_seed`` fixed).

    ``smoke`` shrinks it to one epoch on 1,000 images (:func:`benchmarks.common.smoke_config`).
    """
    config = dataclasses.replace(CNN_RECIPE, seed=seed, split_seed=CNN_RECIPE.validation_seed)
    return smoke_config(config) if smoke else config


def score(model: keras.Model, images, labels) -> float:
    """The accuracy of ``model`` on raw ``images``, as chapter 7 computes it (the most probable digit)."""
    return accuracy(labels, predict_probabilities(model, images, batch_size=500).argmax(axis=1))


def choose(summary: dict) -> str:
    """The variant with the best mean accuracy on the other writers' validation half, among those
    whose mean MNIST validation accuracy is at most :data:`MNIST_TOLERANCE` below the recipe's.

    ``summary`` maps each variant's name, in :data:`VARIANTS`' order (the recipe first, so that a
    tie keeps it), to its ``validation_accuracy`` and ``other_writers_validation_accuracy`` spreads.
    Training time is not part of the choice: whether the book adopts the chosen variant also
    depends on its time against the recipe's (``time_against_recipe``) and on its test result.
    """
    floor = summary["recipe"]["validation_accuracy"]["mean"] - MNIST_TOLERANCE
    allowed = [name for name in summary if summary[name]["validation_accuracy"]["mean"] >= floor]
    return max(allowed, key=lambda name: summary[name]["other_writers_validation_accuracy"]["mean"])


def summarise(result: dict) -> None:
    """Add to ``result`` each run's time against the recipe's, each variant's spreads, and the choice (:func:`choose`)."""
    recipe_times = {run["seed"]: run["wall_time_s"] for run in result["runs"] if run["variant"] == "recipe"}
    for run in result["runs"]:
        run["time_against_recipe"] = run["wall_time_s"] / recipe_times[run["seed"]]
    keys = ("validation_accuracy", "other_writers_validation_accuracy", "wall_time_s")
    names = [variant["name"] for variant in result["variants"]]
    result["summary"] = {name: {key: spread([run[key] for run in result["runs"] if run["variant"] == name])
                                for key in keys} for name in names}
    result["chosen"] = choose(result["summary"])


def other_writers_benchmark(seeds: tuple[int, ...] = CNN_SEEDS, smoke: bool = False, save=None) -> dict:
    """Train every one of :data:`VARIANTS` from each of ``seeds``; choose on validation; test the choice and the recipe.

    Runs are trained seed by seed, every variant for each seed in turn, so that the shared
    machine's drift touches them alike; each is timed (its ``wall_time_s``: the training, as
    :func:`mnist_utils.training.train` would do it) and scored on MNIST's validation images and
    the other writers' validation half. ``chosen`` (:func:`choose`) is then tested once, with the
    recipe, on MNIST's test images and the other writers' test half; no other variant's test
    accuracy is computed. ``seen_writers`` trains the recipe from the first seed with half the
    other writers' validation half added (:data:`SEEN_WRITERS_SPLIT_SEED`) and scores the other
    half. ``smoke`` trains each variant once, from the first seed, for one epoch on 1,000 images,
    and scores :data:`SMOKE_SCORED_IMAGES` of each part. ``save`` is called with the partial
    result after every run.
    """
    seeds = tuple(seeds[:1] if smoke else seeds)
    (x_all, y_all), (x_test, y_test) = load_mnist()
    base = run_config(seeds[0], smoke)
    training, validation = train_validation_split(x_all, y_all, validation_size=base.validation_size,
                                                  seed=base.validation_seed)
    other_validation, other_test = split_other_writers(*load_other_writers())
    parts = {"validation": validation, "test": (x_test, y_test),
             "other_writers_validation": other_validation, "other_writers_test": other_test}
    if smoke:
        parts = {name: tuple(part[:SMOKE_SCORED_IMAGES] for part in images) for name, images in parts.items()}
    result = {
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "smoke": smoke,
        "recipe": run_config(CNN_RECIPE.seed, smoke).as_dict(), "seeds": list(seeds),
        "variants": [{"name": variant.name, "label": variant.label} for variant in VARIANTS],
        "mnist_tolerance": MNIST_TOLERANCE,
        **{f"{name}_images": int(len(images[1])) for name, images in parts.items()},
        "runs": [], "summary": None, "chosen": None, "test": None, "seen_writers": None,
    }
    models = {}
    for seed in seeds:
        config = run_config(seed, smoke)
        for variant in VARIANTS:
            print(f"other writers, seed {seed}: {variant.label} ...", flush=True)
            started = time.perf_counter()
            model, history = train_like_book(config, lambda: variant.build(config), training, validation)
            wall = time.perf_counter() - started
            models[variant.name, seed] = model
            result["runs"].append({
                "variant": variant.name, "seed": seed, "wall_time_s": wall,
                **{f"{name}_accuracy": score(model, *parts[name]) for name in ("validation", "other_writers_validation")},
                "validation_curve": [float(v) for v in history["val_accuracy"]],
            })
            if save:
                save(result)
    # The choice is made on the validation images alone; only then are the test sets read.
    summarise(result)
    result["test"] = {}
    for name in dict.fromkeys(["recipe", result["chosen"]]):
        print(f"other writers: the test accuracy of {name} ...", flush=True)
        runs = [{"seed": seed, **{f"{part}_accuracy": score(models[name, seed], *parts[part])
                                  for part in ("test", "other_writers_test")}} for seed in seeds]
        result["test"][name] = {"runs": runs, **{key: spread([run[key] for run in runs])
                                                 for key in ("test_accuracy", "other_writers_test_accuracy")}}
    if save:
        save(result)
    seed = seeds[0]
    result["seen_writers"] = seen_writers_run(run_config(seed, smoke), models["recipe", seed], training, validation,
                                              parts["other_writers_validation"], parts["validation"])
    models.clear()
    keras.backend.clear_session()
    if save:
        save(result)
    return result


def seen_writers_run(config: TrainingConfig, recipe_model: keras.Model, training: tuple, validation: tuple,
                     other_validation: tuple, scored_validation: tuple) -> dict:
    """The recipe trained with half of ``other_validation`` added to ``training``, scored on the other half.

    The halves are drawn by :func:`~mnist_utils.data.train_validation_split` (stratified) with
    :data:`SEEN_WRITERS_SPLIT_SEED`. ``recipe_model``, the recipe trained from ``config``'s seed
    without them, is scored on the same unseen half, so that the two compare. Returns both
    accuracies on the unseen half and on MNIST's ``scored_validation`` images (``validation``, or
    part of it in a smoke run), the counts and the time.
    """
    seen, unseen = train_validation_split(*other_validation, validation_size=len(other_validation[1]) // 2,
                                          seed=SEEN_WRITERS_SPLIT_SEED)
    print(f"other writers, seed {config.seed}: the recipe with {len(seen[1])} of their digits added ...", flush=True)
    with_seen = tuple(np.concatenate([mnist, other]) for mnist, other in zip(training, seen))
    started = time.perf_counter()
    model, _ = train_like_book(config, lambda: VARIANTS[0].build(config), with_seen, validation)
    wall = time.perf_counter() - started
    return {"seed": config.seed, "seen_images": int(len(seen[1])), "unseen_images": int(len(unseen[1])),
            "training_images": int(len(with_seen[1])), "wall_time_s": wall,
            "without_unseen_accuracy": score(recipe_model, *unseen), "with_unseen_accuracy": score(model, *unseen),
            "without_validation_accuracy": score(recipe_model, *scored_validation),
            "with_validation_accuracy": score(model, *scored_validation)}


def record_other_writers(results: dict, smoke: bool, write, **extra) -> None:
    """Run :func:`other_writers_benchmark` into ``results["other_writers"]`` (with ``extra``), calling ``write()`` after every run."""

    def keep(partial: dict) -> None:
        results["other_writers"] = dict(partial, **extra)
        write()

    keep(other_writers_benchmark(smoke=smoke, save=keep))
