"""Seeding, the book's training recipe, and a cache of trained models.

Chapter 4 trains the MLP in plain sight and saves it with :func:`save_model`.
Any later chapter asks :func:`load_or_train` for it: the saved model is loaded
if it exists, and otherwise trained here with exactly the same recipe, so a
chapter can be run on its own, in any order, in a fresh kernel.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import tensorflow as tf

from ._validation import check_bool, check_choice, check_float, check_int, check_model, check_path
from .data import default_cache_dir, load_mnist, train_validation_split
from .errors import InputTypeError, InputValueError, ModelFileError
from .models import build_cnn, build_original_mlp
from .preprocessing import to_training_tensor
from .reproducibility import warn_if_onednn
from .saving import load_model, read_record, write_model

__all__ = [
    "CNN_RECIPE",
    "MLP_RECIPE",
    "RECIPES",
    "MODEL_NAMES",
    "ORIGINAL_RECIPE",
    "SCHEDULES",
    "TrainingConfig",
    "build_model",
    "compile_model",
    "fit_on_split",
    "make_optimizer",
    "load_or_train",
    "load_record",
    "model_path",
    "save_model",
    "set_seed",
    "train",
    "training_batches",
    "training_record",
]


#: The networks this module can train.
MODEL_NAMES: tuple[str, ...] = ("mlp", "cnn")
#: The learning-rate schedules a recipe can use.
SCHEDULES: tuple[str, ...] = ("cosine", "constant")


def set_seed(seed: int) -> None:
    """Make Keras, TensorFlow, NumPy and Python's ``random`` reproducible.

    Seeds all global generators with ``keras.utils.set_random_seed`` and
    asks TensorFlow for deterministic kernels. Results are then identical
    from run to run with the same TensorFlow version and machine. Every processor
    runs the same kernels as long as TensorFlow's oneDNN kernels are off, as
    importing ``mnist_utils`` first makes them (:mod:`mnist_utils.reproducibility`);
    another processor can still change the last decimal places. If the oneDNN
    kernels are on, it warns with :class:`~mnist_utils.reproducibility.OneDNNWarning`.

    Raises
    ------
    InputTypeError
        If ``seed`` is not an integer (NumPy integers are accepted).
    InputValueError
        If ``seed`` is outside ``0 .. 2**32 - 1``, the range NumPy's generator takes.
    """
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    warn_if_onednn()


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """A complete training recipe: everything that decides the trained weights.

    Attributes
    ----------
    model:
        Which network to train: ``"mlp"`` or ``"cnn"``.
    batch_size:
        Examples per gradient step.
    epochs:
        Passes over the training part.
    learning_rate:
        Adam's learning rate: the initial one, if ``schedule`` is ``"cosine"``.
    jit_compile:
        Ask Keras to compile each training step with XLA. Keras ignores this (with a
        warning) while TensorFlow's deterministic ops are enabled, as :func:`set_seed`
        does, so the book's recipes leave it off.
    steps_per_execution:
        Training steps Keras runs in each call into TensorFlow's compiled graph. More
        steps per call means less Python bookkeeping per step; the arithmetic, and so
        the trained weights, are the same.
    validation_size:
        Training images held out for validation.
    seed:
        Seed for the split, the initial weights and the shuffling.
    augment_shift:
        Largest random shift of a training image, as a fraction of its size (CNN only).
    augment_rotation:
        Largest random rotation of a training image, as a fraction of a full turn (CNN only).
    schedule:
        ``"cosine"``: the learning rate decays from ``learning_rate`` to zero along a cosine
        over the whole run (the book's recipes); ``"constant"``: it stays at
        ``learning_rate`` (Keras's default, as in the original write-up).
    split_seed:
        Seed of the training/validation split; ``None`` (the book's single networks) uses
        ``seed``. The members of an ensemble share one split, so that the ensemble can be
        validated on images none of its members trained on.
    """

    model: str = "mlp"
    batch_size: int = 256
    epochs: int = 12
    learning_rate: float = 1e-3
    jit_compile: bool = False
    steps_per_execution: int = 32
    validation_size: int = 6000
    seed: int = 42
    augment_shift: float = 0.0
    augment_rotation: float = 0.0
    schedule: str = "cosine"
    split_seed: int | None = None

    def __post_init__(self) -> None:
        # Check every field, and store NumPy scalars as the Python numbers they equal.
        check = {
            "model": lambda v, n: check_choice(v, n, MODEL_NAMES),
            "batch_size": lambda v, n: check_int(v, n, minimum=1, maximum=60000),
            "epochs": lambda v, n: check_int(v, n, minimum=1, maximum=10000),
            "learning_rate": lambda v, n: check_float(v, n, low=0.0, high=1.0, low_open=True, high_open=True),
            "jit_compile": check_bool,
            "steps_per_execution": lambda v, n: check_int(v, n, minimum=1, maximum=10000),
            "validation_size": lambda v, n: check_int(v, n, minimum=10, maximum=59990),
            "seed": lambda v, n: check_int(v, n, minimum=0, maximum=2**32 - 1),
            "augment_shift": lambda v, n: check_float(v, n, low=0.0, high=0.5, high_open=True),
            "augment_rotation": lambda v, n: check_float(v, n, low=0.0, high=0.5, high_open=True),
            "schedule": lambda v, n: check_choice(v, n, SCHEDULES),
            "split_seed": lambda v, n: None if v is None else check_int(v, n, minimum=0, maximum=2**32 - 1),
        }
        for field, checker in check.items():
            object.__setattr__(self, field, checker(getattr(self, field), field))
        if self.model == "mlp" and (self.augment_shift or self.augment_rotation):
            raise InputValueError(
                "augmentation is only implemented for the CNN; set augment_shift and "
                "augment_rotation to 0.0 for the MLP."
            )

    @property
    def validation_seed(self) -> int:
        """The seed of the training/validation split, which is ``split_seed``, or ``seed`` if that is ``None``."""
        return self.seed if self.split_seed is None else self.split_seed

    def as_dict(self) -> dict:
        """The fields as a dict, as saved records and the benchmark keep them.

        ``split_seed`` is left out while it is ``None``, so that a recipe written before the
        field existed keeps its dict and its :meth:`fingerprint` (and its saved model).
        """
        fields = dataclasses.asdict(self)
        if fields["split_seed"] is None:
            del fields["split_seed"]
        return fields

    def __repr__(self) -> str:
        """One field a line, so that a notebook shows the recipe within its column."""
        lines = [f"    {field.name}={getattr(self, field.name)!r}," for field in dataclasses.fields(self)]
        return "\n".join([f"{type(self).__name__}(", *lines, ")"])

    def fingerprint(self) -> str:
        """A short hash of the recipe and the Keras/TensorFlow versions.

        A saved model is reused only by a recipe with the same fingerprint.
        """
        payload = dict(self.as_dict(), keras=keras.__version__, tf=tf.__version__)
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]

    def steps_per_epoch(self, n_examples: int) -> int:
        """Gradient steps in one epoch over ``n_examples`` (the last batch may be partial)."""
        return math.ceil(n_examples / self.batch_size)


#: The recipe chapter 4 teaches for the original MLP.
MLP_RECIPE = TrainingConfig()

#: The original write-up's recipe for the same network, which is Keras's defaults (batch 32,
#: a constant Adam learning rate of 1e-3, one step per call), for 12 epochs. The benchmark
#: measures the book's recipe against it.
ORIGINAL_RECIPE = TrainingConfig(
    model="mlp", batch_size=32, epochs=12, learning_rate=1e-3, steps_per_execution=1, schedule="constant"
)


def _split(config: TrainingConfig):
    (x, y), _ = load_mnist()
    return train_validation_split(x, y, validation_size=config.validation_size, seed=config.validation_seed)


def build_model(config: TrainingConfig) -> keras.Model:
    """The untrained network of ``config``: the original MLP, or the CNN with its augmentation.

    Call :func:`set_seed` first: the initial weights come from Keras's global seed.
    """
    _require_config(config)
    if config.model == "mlp":
        return build_original_mlp()
    return build_cnn(shift=config.augment_shift, rotation=config.augment_rotation)


def make_optimizer(config: TrainingConfig, total_steps: int, *, weight_decay: float = 0.0) -> keras.optimizers.Adam:
    """Adam with ``config``'s learning rate: cosine-decayed to zero over ``total_steps``, or constant.

    ``weight_decay`` above 0 makes it AdamW (:class:`keras.optimizers.AdamW`, a kind of
    Adam), which also shrinks every weight by ``learning rate × weight_decay`` of itself
    each step; the benchmark's ``regularisation`` section measures it. The book's recipes
    leave it at 0: plain Adam.

    Raises
    ------
    InputTypeError
        If ``config`` is not a :class:`TrainingConfig`, or ``total_steps`` or ``weight_decay``
        is not a number.
    InputValueError
        If ``total_steps`` is below 1, or ``weight_decay`` is negative or not finite.
    """
    _require_config(config)
    total_steps = check_int(total_steps, "total_steps", minimum=1)
    weight_decay = check_float(weight_decay, "weight_decay", low=0.0)
    rate = config.learning_rate
    if config.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(initial_learning_rate=rate, decay_steps=total_steps)
    if weight_decay:
        return keras.optimizers.AdamW(learning_rate=rate, weight_decay=weight_decay)
    return keras.optimizers.Adam(learning_rate=rate)


def compile_model(model: keras.Model, config: TrainingConfig, n_train: int, *, weight_decay: float = 0.0) -> keras.Model:
    """Compile ``model`` as ``config`` says, for training on ``n_train`` examples; return it.

    Adam with ``config.learning_rate`` (cosine-decayed to zero over ``config.epochs`` epochs
    of ``n_train`` examples, or constant), sparse categorical cross-entropy, accuracy as the
    metric, and ``config``'s XLA and steps-per-call settings. Chapters 4 and 6 write the
    same call out in full; a test proves that they train the same weights as :func:`train`.
    ``weight_decay`` above 0 makes the optimizer AdamW (see :func:`make_optimizer`); the
    book's recipes leave it at 0.
    """
    check_model(model)
    config = _require_config(config)
    n_train = check_int(n_train, "n_train", minimum=1)
    model.compile(
        optimizer=make_optimizer(config, config.epochs * config.steps_per_epoch(n_train), weight_decay=weight_decay),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution,
    )
    return model


def training_batches(images, labels, config: TrainingConfig) -> tf.data.Dataset:
    """The shuffled batches ``model.fit(images, labels, batch_size=...)`` would train on, as a dataset.

    Handed arrays, Keras's ``fit`` builds a ``tf.data`` pipeline: each epoch it shuffles the
    indices, slices them into batches of ``config.batch_size`` and gathers each batch's rows.
    This function builds that very pipeline (with Keras's own code, so the same batches in the
    same order: training on it gives the same weights, bit for bit, which a test checks) and
    turns off ``tf.data``'s autotuner. The autotuner runs the gathering on extra threads that it
    sizes while training runs; on a machine with few cores those threads compete with the
    training step for the cores (the appendix *Performance* measures what that costs). Without
    it, one thread keeps the next batch ready.

    Hand the dataset to ``fit`` with ``shuffle=False`` (its batches are shuffled already, and
    Keras warns otherwise) and ``validation_batch_size=config.batch_size`` (the batch size that
    ``fit`` would otherwise have taken from its ``batch_size`` argument for validation).

    Parameters
    ----------
    images:
        The training inputs: a NumPy array or tensor whose first axis is the example.
    labels:
        One label per image.
    config:
        The recipe; its ``batch_size`` is used.

    Raises
    ------
    InputTypeError
        If ``config`` is not a :class:`TrainingConfig`, or ``images`` or ``labels`` has no length.
    InputValueError
        If ``images`` and ``labels`` differ in length, or are empty.
    """
    # Keras's own array pipeline (not part of its public API; the pinned Keras version and a
    # test that compares the trained weights with fit's own keep it honest).
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    config = _require_config(config)
    lengths = []
    for value, name in ((images, "images"), (labels, "labels")):
        try:
            lengths.append(len(value))
        except TypeError:
            raise InputTypeError(f"{name} must be an array or tensor of examples, got {type(value).__name__}.") from None
    if lengths[0] != lengths[1] or not lengths[0]:
        raise InputValueError(
            f"images and labels must hold the same number of examples, at least one; got {lengths[0]:,} "
            f"images and {lengths[1]:,} labels."
        )
    dataset = ArrayDataAdapter(images, labels, batch_size=config.batch_size, shuffle=True).get_tf_dataset()
    # State the number of batches, which fit would otherwise learn by running out of them.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(config.steps_per_epoch(lengths[0])))
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def _require_config(config: object) -> TrainingConfig:
    if not isinstance(config, TrainingConfig):
        raise InputTypeError(
            f"config must be a TrainingConfig, got {type(config).__name__}; for example "
            "dataclasses.replace(MLP_RECIPE, epochs=3)."
        )
    return config


#: The recipe chapter 6 teaches for the CNN.
#:
#: A larger candidate was measured against it and not adopted (two 5×5 convolutions of 32 and
#: 64 filters, a 256-unit dense layer, dropout 0.3, 20 epochs): a small gain on MNIST's images,
#: within the spread of the seeds, but worse on chapter 7's digits by other writers, for a
#: third more epochs. Its run was not kept in the benchmark's record, so the book quotes none
#: of its numbers.
CNN_RECIPE = TrainingConfig(
    model="cnn",
    batch_size=128,
    epochs=15,
    learning_rate=3e-3,
    jit_compile=False,
    steps_per_execution=1,  # a CNN step is ~30× longer than the MLP's: little to save
    augment_shift=0.08,
    augment_rotation=0.03,
)

#: The book's recipe for each model name.
RECIPES: dict[str, TrainingConfig] = {"mlp": MLP_RECIPE, "cnn": CNN_RECIPE}


def train(config: TrainingConfig, *, verbose: int = 0) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train the network ``config.model`` with ``config``, as chapter 4 (MLP) and chapter 6 (CNN) do.

    Splits the training images as ``config`` says, seeds everything with ``config.seed``,
    builds the network, compiles it with Adam and ``config``'s learning-rate schedule, and
    fits it on the training part, validating on the held-out part after every epoch.
    ``verbose=1`` shows a progress bar.

    Returns
    -------
    tuple
        The trained model and its history (loss and accuracy per epoch, on the training and
        validation parts).

    Raises
    ------
    InputTypeError
        If ``config`` is not a :class:`TrainingConfig`.
    InputValueError
        If ``verbose`` is not 0, 1 or 2.
    """
    _require_config(config)
    check_choice(verbose, "verbose", (0, 1, 2))
    return fit_on_split(config, lambda: build_model(config), *_split(config), verbose=verbose)


def fit_on_split(
    config: TrainingConfig,
    build: Callable[[], keras.Model],
    training: tuple,
    validation: tuple,
    *,
    weight_decay: float = 0.0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train the network ``build()`` returns on ``training``, as :func:`train` trains ``config``'s.

    ``training`` and ``validation`` are raw ``(images, labels)`` parts, turned into tensors
    with :func:`~mnist_utils.preprocessing.to_training_tensor`; then :func:`set_seed`,
    ``build()``, :func:`compile_model` (with ``weight_decay``: AdamW), and ``fit`` on
    :func:`training_batches`, validating after every epoch. :func:`train` is this function
    with ``config``'s own network and split; the benchmark calls it for networks, optimizers
    and callbacks that the recipes do not have. Returns the model and its history.
    """
    (x_train, y_train), (x_val, y_val) = training, validation
    x_train, x_val = to_training_tensor(x_train, config.model), to_training_tensor(x_val, config.model)
    set_seed(config.seed)
    model = build()
    compile_model(model, config, len(x_train), weight_decay=weight_decay)
    history = model.fit(
        training_batches(x_train, y_train, config),
        epochs=config.epochs,
        validation_data=(x_val, y_val),
        validation_batch_size=config.batch_size,
        shuffle=False,  # training_batches has shuffled them
        callbacks=list(callbacks),
        verbose=verbose,
    )
    return model, history.history


def model_path(config: TrainingConfig, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the model trained with ``config`` is saved: ``<cache>/<model>-<fingerprint>.keras``.

    ``cache_dir`` defaults to ``$MNIST_BOOK_CACHE/models`` (or ``~/.cache/mnist-book/models``).
    """
    _require_config(config)
    folder = check_path(cache_dir, "cache_dir") if cache_dir is not None else default_cache_dir() / "models"
    return folder / f"{config.model}-{config.fingerprint()}.keras"


def save_model(
    model: keras.Model,
    config: TrainingConfig,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    history: dict[str, list[float]] | None = None,
    wall_time: float | None = None,
) -> Path:
    """Save a model trained with ``config`` in Keras format, with its record, atomically.

    The record (the recipe, the training history, the training wall time, the Keras and
    TensorFlow versions) is kept inside the ``.keras`` file (see
    :func:`mnist_utils.saving.write_model`), so model and record are written, replaced
    and read together; :func:`load_record` reads it.

    Returns
    -------
    pathlib.Path
        The path of the saved ``.keras`` file.

    Raises
    ------
    InputTypeError
        If ``model`` is not a Keras model, or ``history``/``wall_time`` have the wrong type.
    FileWriteError
        If the cache folder cannot be written.
    """
    check_model(model)
    record = training_record(config, history=history, wall_time=wall_time)
    return write_model(model, model_path(config, cache_dir), record, name="the model cache")


def training_record(
    config: TrainingConfig, *, history: dict[str, list[float]] | None = None, wall_time: float | None = None
) -> dict:
    """The record kept inside a saved model: recipe, history, wall time, Keras and TensorFlow versions.

    Raises
    ------
    InputTypeError
        If ``config`` is not a :class:`TrainingConfig` or ``history`` is not a dict of lists of numbers.
    InputValueError
        If ``wall_time`` is negative or not finite.
    """
    _require_config(config)
    if history is not None and not isinstance(history, dict):
        raise InputTypeError(f"history must be a dict of lists (History.history), got {type(history).__name__}.")
    try:
        history = {str(key): [float(v) for v in values] for key, values in (history or {}).items()}
    except (TypeError, ValueError) as error:
        raise InputTypeError(f"history must map names to lists of numbers ({error}).") from None
    return {
        "config": config.as_dict(),
        "history": history,
        "wall_time_s": None if wall_time is None else check_float(wall_time, "wall_time", low=0.0),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }


def load_record(
    config: TrainingConfig, cache_dir: str | os.PathLike[str] | None = None
) -> dict | None:
    """The record :func:`save_model` kept inside the model trained with ``config``.

    Returns
    -------
    dict or None
        Keys ``config``, ``history``, ``wall_time_s``, ``keras`` and ``tensorflow``;
        ``None`` if the model was not saved, was saved without a record, or cannot be read.
    """
    try:
        return read_record(model_path(config, cache_dir))
    except ModelFileError:
        return None


def load_or_train(
    config: TrainingConfig = MLP_RECIPE,
    cache_dir: str | os.PathLike[str] | None = None,
) -> keras.Model:
    """Return the model trained with ``config``: loaded if saved, else trained and saved.

    Training is seeded and deterministic, so the model is the same either
    way (on the same hardware and TensorFlow version). A saved file that
    cannot be loaded is reported with a warning and replaced. Training happens in this
    process: a separate one would hold a second copy of TensorFlow while this one waits,
    and Binder limits the memory of all of a session's processes together.

    Raises
    ------
    FileWriteError
        If the model cache cannot be written (checked before training starts).
    """
    path = model_path(config, cache_dir)
    if path.is_file():
        try:
            return load_model(path, check=False)
        except ModelFileError as error:  # a truncated or foreign file: retrain
            warnings.warn(f"{error} Training it again.", RuntimeWarning, stacklevel=2)
    from .files import check_writable

    check_writable(path, name="the model cache")
    started = time.perf_counter()
    model, history = train(config)
    save_model(model, config, cache_dir, history=history, wall_time=time.perf_counter() - started)
    return model


def main() -> None:
    """``python -m mnist_utils.training``: every model of :data:`RECIPES`, loaded if saved, else trained and saved.

    Binder's ``postBuild`` runs it, so that every session starts with the book's models saved
    in the cache, where the chapters look; each line says whether the model was found there or
    trained.
    """
    for config in RECIPES.values():
        path = model_path(config)
        found = path.is_file()
        load_or_train(config)
        print(f"{config.model}: {'found in the cache' if found else 'trained and saved'} at {path}", flush=True)


if __name__ == "__main__":
    main()
