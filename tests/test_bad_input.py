"""Bad input, table by table: every public function of mnist_utils, and what it must say.

Each case names the call, the bad input, the exception class that must be raised and a
fragment its message must contain. The classes are the package's own
(:mod:`mnist_utils.errors`); no other exception may escape for bad input. Fuzzed image
files and damaged archives are generated from fixed seeds.

The command line has its own tables in ``tests/test_cli.py``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from bad_inputs import FOREIGN_MODELS, png_claiming
from bad_inputs import dense as _dense

from mnist_utils import (
    data, evaluation, export, files, handwriting, models, plotting, preprocessing, sample_pictures, saving, training,
)
from mnist_utils.errors import (
    DatasetError,
    FileWriteError,
    ImageInputError,
    InputTypeError,
    InputValueError,
    MnistUtilsError,
    ModelFileError,
    NoDigitError,
)

U8 = np.uint8
GOOD_IMAGES = np.zeros((2, 28, 28), U8)
GOOD_IMAGES[:, 8:20, 12:16] = 255


def _case(call, error, fragment, *, id):  # noqa: A002 (pytest's name)
    return pytest.param(call, error, fragment, id=id)


def _check(call, error, fragment):
    with pytest.raises(MnistUtilsError) as caught:
        call()
    assert isinstance(caught.value, error), f"{type(caught.value).__name__}: {caught.value}"
    assert fragment in str(caught.value), str(caught.value)


# ------------------------------------------------------------------------------------
# Images given to the preprocessing functions: each bad batch, for each function.
# ------------------------------------------------------------------------------------

BAD_BATCHES = [
    ("None", None, InputTypeError, "must be a NumPy array, got NoneType"),
    ("a string", "digits", InputTypeError, "must be a NumPy array, got str"),
    ("an int", 7, InputTypeError, "must be a NumPy array, got int"),
    ("a dict", {"x": 1}, InputTypeError, "must be a NumPy array, got dict"),
    ("a ragged list", [[0] * 784, [0] * 783], InputValueError, "ragged list"),
    ("empty batch", np.zeros((0, 28, 28), U8), InputValueError, "is empty"),
    ("one image without batch axis", np.zeros((28, 28), U8), InputValueError, "image[np.newaxis]"),
    ("27 rows", np.zeros((2, 27, 28), U8), InputValueError, "must have shape (n, 28, 28) or (n, 784)"),
    ("785 values", np.zeros((2, 785), U8), InputValueError, "got (2, 785)"),
    ("a channel axis", np.zeros((2, 28, 28, 1), U8), InputValueError, "got (2, 28, 28, 1)"),
    ("booleans", np.zeros((2, 28, 28), bool), InputTypeError, "must hold numbers, got dtype bool"),
    ("strings", np.full((2, 28, 28), "x"), InputTypeError, "must hold numbers"),
    ("objects", np.full((2, 28, 28), None, dtype=object), InputTypeError, "must hold numbers"),
    ("complex numbers", np.zeros((2, 28, 28), complex), InputTypeError, "must hold numbers"),
    ("grey level 300", np.full((2, 28, 28), 300, np.int32), InputValueError, "grey levels in 0..255"),
    ("grey level -1", np.full((2, 28, 28), -1, np.int8), InputValueError, "got values in [-1, -1]"),
    ("NaN", np.full((2, 28, 28), np.nan, np.float32), InputValueError, "NaN or infinite"),
    ("infinity", np.full((2, 28, 28), np.inf), InputValueError, "NaN or infinite"),
]
PREPROCESSORS = [
    ("normalize_images", preprocessing.normalize_images),
    ("flatten_images", preprocessing.flatten_images),
    ("preprocess_for_mlp", preprocessing.preprocess_for_mlp),
    ("preprocess_for_cnn", preprocessing.preprocess_for_cnn),
    ("to_training_tensor", lambda images: preprocessing.to_training_tensor(images, "mlp")),
]
ALREADY_NORMALISED = np.full((2, 28, 28), 0.5, np.float32)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        _case(lambda f=f, bad=bad: f(bad), error, fragment, id=f"{name}: {label}")
        for name, f in PREPROCESSORS
        for label, bad, error, fragment in BAD_BATCHES
        if not (name == "flatten_images" and label in ("785 values",))  # flatten refuses it the same way
    ]
    + [
        _case(lambda f=f: f(ALREADY_NORMALISED), InputTypeError, "must be raw uint8", id=f"{name}: normalised twice")
        for name, f in PREPROCESSORS
        if name != "flatten_images"
    ]
    + [
        _case(lambda: preprocessing.flatten_images(np.zeros((2, 784), U8)), InputValueError,
              "must have shape (n, 28, 28)", id="flatten_images: already flat"),
        _case(lambda: preprocessing.to_training_tensor(GOOD_IMAGES, "rnn"), InputValueError,
              "model must be one of 'mlp', 'cnn'; got 'rnn'", id="to_training_tensor: unknown model"),
        _case(lambda: preprocessing.to_training_tensor(GOOD_IMAGES, None), InputValueError,
              "model must be one of", id="to_training_tensor: model None"),
        _case(lambda: preprocessing.preprocess_for_model(object(), GOOD_IMAGES), InputValueError,
              "the book's models take (None, 784)", id="preprocess_for_model: not a model"),
    ],
)
def test_preprocessing(call, error, fragment):
    _check(call, error, fragment)


# ------------------------------------------------------------------------------------
# Metrics.
# ------------------------------------------------------------------------------------

Y = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
BAD_LABELS = [
    ("None", None, InputTypeError, "must be a NumPy array"),
    ("a set", {1, 2}, InputTypeError, "got set"),
    ("floats", Y.astype(float), InputTypeError, "must be integers 0..9, got dtype float64"),
    ("booleans", Y > 4, InputTypeError, "must be integers"),
    ("strings", Y.astype(str), InputTypeError, "must be integers"),
    ("one-hot rows", np.eye(10, dtype=int), InputValueError, "take .argmax(axis=1) first"),
    ("empty", np.array([], int), InputValueError, "is empty"),
    ("digit 10", Y + 1, InputValueError, "must be digits 0..9, got values in [1, 10]"),
    ("digit -1", Y - 1, InputValueError, "got values in [-1, 8]"),
    ("too short", Y[:-1], InputValueError, "has 9 entries but 10 were expected"),
    ("a scalar", np.int64(3), InputTypeError, "got int64"),
]
METRICS = [
    ("accuracy", evaluation.accuracy),
    ("confusion_matrix", evaluation.confusion_matrix),
    ("per_class_report", evaluation.per_class_report),
]


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        _case(lambda f=f, bad=bad: f(Y, bad), error, fragment.replace("labels", "y_pred"), id=f"{name}(y_pred={label})")
        for name, f in METRICS
        for label, bad, error, fragment in BAD_LABELS
    ]
    + [
        _case(lambda f=f, bad=bad: f(bad, Y), error, fragment, id=f"{name}(y_true={label})")
        for name, f in METRICS
        for label, bad, error, fragment in BAD_LABELS
        if label != "too short"
    ]
    + [
        _case(lambda bad=bad: evaluation.confusion_matrix(Y, Y, normalize=bad), InputValueError,
              "normalize must be one of None, 'true', 'pred', 'all'", id=f"confusion_matrix(normalize={bad!r})")
        for bad in ("bogus", "rows", True, 1, "TRUE")
    ]
    + [
        _case(lambda bad=bad: evaluation.predict_digits(bad), error, fragment, id=f"predict_digits({label})")
        for label, bad, error, fragment in [
            ("rows summing to 5", np.full((2, 10), 0.5), InputValueError, "row 0 sums to 5"),
            ("rows summing to 0", np.zeros((2, 10)), InputValueError, "row 0 sums to 0"),
            ("one row of logits", np.array([np.linspace(-3, 3, 10)]), InputValueError, "logits"),
            ("9 classes", np.full((2, 9), 1 / 9), InputValueError, "must have shape (n, 10)"),
            ("3 classes", np.full((1, 3), 1 / 3), InputValueError, "got (1, 3)"),
            ("1-D", np.full(10, 0.1), InputValueError, "must have shape (n, 10)"),
            ("empty", np.zeros((0, 10)), InputValueError, "is empty"),
            ("integers", np.eye(10, dtype=int), InputTypeError, "must be floats"),
            ("NaN", np.full((1, 10), np.nan), InputValueError, "NaN"),
            ("a list of strings", ["a"] * 10, InputValueError, "must have shape (n, 10)"),
            ("None", None, InputTypeError, "must be a NumPy array"),
        ]
    ]
    + [
        _case(lambda bad=bad, top=top: evaluation.most_confused_pairs(bad, top), error, fragment,
              id=f"most_confused_pairs({label})")
        for label, bad, top, error, fragment in [
            ("9×9", np.zeros((9, 9), int), 5, InputValueError, "must be 10×10, got shape (9, 9)"),
            ("fractions", np.full((10, 10), 0.1), 5, InputTypeError, "integer counts"),
            ("negative counts", -np.ones((10, 10), int), 5, InputValueError, "0 or more"),
            ("booleans", np.eye(10, dtype=bool), 5, InputTypeError, "integer counts"),
            ("a string", "matrix", 5, InputTypeError, "must be a 10×10 array, got str"),
            ("ragged", [[1] * 10] * 9 + [[1] * 9], 5, InputValueError, "ragged"),
            ("top=0", np.eye(10, dtype=int), 0, InputValueError, "top must be a positive integer, got 0"),
            ("top=2.5", np.eye(10, dtype=int), 2.5, InputTypeError, "top must be an integer, got 2.5"),
            ("top='3'", np.eye(10, dtype=int), "3", InputTypeError, "top must be an integer"),
            ("top=True", np.eye(10, dtype=int), True, InputTypeError, "top must be an integer"),
        ]
    ],
)
def test_metrics(call, error, fragment):
    _check(call, error, fragment)


def test_metrics_accept_numpy_scalars():
    table = evaluation.most_confused_pairs(evaluation.confusion_matrix(Y, np.roll(Y, 1)), np.int64(3))
    assert len(table) == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"model": "not a model"}, InputTypeError, "model must be a Keras model, got str"),
        ({"model": None}, InputTypeError, "got NoneType"),
        ({"images": np.zeros((3, 784), U8)}, InputValueError, "must have shape (n, 28, 28)"),
        ({"images": np.zeros((3, 28, 28), np.float32)}, InputTypeError, "must be raw uint8"),
        ({"batch_size": 0}, InputValueError, "batch_size must be a positive integer, got 0"),
        ({"batch_size": -5}, InputValueError, "batch_size must be a positive integer"),
        ({"batch_size": "100"}, InputTypeError, "batch_size must be an integer, got '100'"),
        ({"chunk_size": 1.5}, InputTypeError, "chunk_size must be an integer, got 1.5"),
        ({"batch_size": 300, "chunk_size": 1000}, InputValueError, "must be a multiple of batch_size"),
    ],
)
def test_predict_probabilities(tiny_mlp, kwargs, error, fragment):
    arguments = {"model": tiny_mlp, "images": GOOD_IMAGES, **kwargs}
    _check(lambda: evaluation.predict_probabilities(**arguments), error, fragment)


def test_predict_probabilities_accepts_numpy_integers(tiny_mlp):
    out = evaluation.predict_probabilities(tiny_mlp, GOOD_IMAGES, batch_size=np.int64(2), chunk_size=np.int32(2))
    assert out.shape == (2, 10)


# ------------------------------------------------------------------------------------
# Figures.
# ------------------------------------------------------------------------------------

HISTORY = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [1.1, 0.6], "val_accuracy": [0.5, 0.7]}


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, ncols=0), InputValueError, "ncols must be a positive integer",
              id="plot_digits(ncols=0)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, ncols=2.0), InputTypeError, "ncols must be an integer",
              id="plot_digits(ncols=2.0)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, size=-1), InputValueError, "size must be a finite number in [0.1, 10]",
              id="plot_digits(size=-1)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, size=1e6), InputValueError, "size must be", id="plot_digits(size=1e6)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, size="big"), InputTypeError, "size must be a number",
              id="plot_digits(size='big')"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, title=3), InputTypeError, "title must be a string",
              id="plot_digits(title=3)"),
        _case(lambda: plotting.plot_digits(np.zeros((401, 28, 28), U8)), InputValueError, "at most 400",
              id="plot_digits(401 images)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, [1]), InputValueError, "has 1 entries but 2 were expected",
              id="plot_digits(too few labels)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, [1, 2], predictions=[1, 12]), InputValueError,
              "predictions must be digits 0..9", id="plot_digits(prediction 12)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, [1, 2], predictions=[1, 2], confidences=[0.5, 2.0]),
              InputValueError, "probabilities in [0, 1]", id="plot_digits(confidence 2)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, [1, 2], predictions=[1, 2], confidences=["a", "b"]),
              InputTypeError, "confidences must be numbers", id="plot_digits(confidences strings)"),
        _case(lambda: plotting.plot_digits(GOOD_IMAGES, [1, 2], predictions=[1, 2], confidences=[0.5]),
              InputValueError, "confidences must have shape (2,)", id="plot_digits(one confidence)"),
        _case(lambda: plotting.plot_digits("images"), InputTypeError, "must be a NumPy array", id="plot_digits('images')"),
        _case(lambda: plotting.plot_learning_curves(None), InputTypeError, "history must be a dict of lists, got NoneType",
              id="plot_learning_curves(None)"),
        _case(lambda: plotting.plot_learning_curves(keras.callbacks.History()), InputTypeError,
              "Pass history.history", id="plot_learning_curves(a History)"),
        _case(lambda: plotting.plot_learning_curves({"loss": [1.0]}), InputValueError, "history lacks",
              id="plot_learning_curves(missing curves)"),
        _case(lambda: plotting.plot_learning_curves({**HISTORY, "val_loss": [1.0]}), InputValueError,
              "all of the same length", id="plot_learning_curves(uneven lengths)"),
        _case(lambda: plotting.plot_learning_curves({k: [] for k in HISTORY}), InputValueError,
              "one number per epoch", id="plot_learning_curves(empty)"),
        _case(lambda: plotting.plot_learning_curves({**HISTORY, "loss": [1.0, float("nan")]}), InputValueError,
              "training diverged", id="plot_learning_curves(NaN)"),
        _case(lambda: plotting.plot_learning_curves({**HISTORY, "loss": ["a", "b"]}), InputTypeError,
              "history['loss'] must be numbers", id="plot_learning_curves(strings)"),
        _case(lambda: plotting.plot_learning_curves({**HISTORY, "loss": [[1.0], [2.0]]}), InputValueError,
              "one number per epoch", id="plot_learning_curves(nested)"),
        _case(lambda: plotting.plot_learning_curves(HISTORY, title=None), InputTypeError, "title must be a string",
              id="plot_learning_curves(title=None)"),
        _case(lambda: plotting.plot_confusion_matrix(np.full((10, 10), 1000), normalized=True), InputValueError,
              "so it holds counts", id="plot_confusion_matrix(counts, normalized=True)"),
        _case(lambda: plotting.plot_confusion_matrix(np.full((10, 10), 0.1)), InputValueError,
              "Pass normalized=True", id="plot_confusion_matrix(fractions, normalized=False)"),
        _case(lambda: plotting.plot_confusion_matrix(np.zeros((9, 9))), InputValueError, "must be 10×10",
              id="plot_confusion_matrix(9×9)"),
        _case(lambda: plotting.plot_confusion_matrix(-np.ones((10, 10))), InputValueError, "0 or more",
              id="plot_confusion_matrix(negative)"),
        _case(lambda: plotting.plot_confusion_matrix(np.full((10, 10), np.nan)), InputValueError, "no NaN",
              id="plot_confusion_matrix(NaN)"),
        _case(lambda: plotting.plot_confusion_matrix(np.full((10, 10), "1")), InputTypeError, "must hold numbers",
              id="plot_confusion_matrix(strings)"),
        _case(lambda: plotting.plot_confusion_matrix("matrix"), InputTypeError, "must be a 10×10 array, got str",
              id="plot_confusion_matrix('matrix')"),
        _case(lambda: plotting.plot_confusion_matrix(np.eye(10, dtype=int), normalized="yes"), InputTypeError,
              "normalized must be True or False, got 'yes'", id="plot_confusion_matrix(normalized='yes')"),
        _case(lambda: plotting.plot_confusion_matrix(np.eye(10, dtype=int), ax="axes"), InputTypeError,
              "ax must be matplotlib Axes", id="plot_confusion_matrix(ax='axes')"),
        _case(lambda: plotting.plot_confusion_matrix(np.eye(10, dtype=int), title=5), InputTypeError,
              "title must be a string", id="plot_confusion_matrix(title=5)"),
    ],
)
def test_plotting(call, error, fragment):
    try:
        _check(call, error, fragment)
    finally:
        plt.close("all")


# ------------------------------------------------------------------------------------
# Models, recipes, seeds.
# ------------------------------------------------------------------------------------

CONFIG_CASES = [
    ("model", "resnet", InputValueError, "model must be one of 'mlp', 'cnn'; got 'resnet'"),
    ("model", None, InputValueError, "model must be one of"),
    ("model", "MLP", InputValueError, "got 'MLP'"),
    ("batch_size", 0, InputValueError, "batch_size must be between 1 and 60000, got 0"),
    ("batch_size", 10**9, InputValueError, "got 1000000000"),
    ("batch_size", 32.0, InputTypeError, "batch_size must be an integer, got 32.0 (float). Pass a whole number"),
    ("batch_size", "32", InputTypeError, "batch_size must be an integer, got '32' (str)"),
    ("batch_size", True, InputTypeError, "got True (bool)"),
    ("epochs", 0, InputValueError, "epochs must be between 1 and 10000"),
    ("epochs", -3, InputValueError, "got -3"),
    ("epochs", np.float32(3), InputTypeError, "epochs must be an integer"),
    ("epochs", None, InputTypeError, "got None (NoneType)"),
    ("learning_rate", 0, InputValueError, "learning_rate must be a finite number in (0, 1), got 0.0"),
    ("learning_rate", 1, InputValueError, "got 1.0"),
    ("learning_rate", -1e-3, InputValueError, "got -0.001"),
    ("learning_rate", float("nan"), InputValueError, "got nan"),
    ("learning_rate", float("inf"), InputValueError, "got inf"),
    ("learning_rate", "1e-3", InputTypeError, "learning_rate must be a number, got '1e-3' (str)"),
    ("learning_rate", True, InputTypeError, "learning_rate must be a number, got True"),
    ("jit_compile", "no", InputTypeError, "jit_compile must be True or False, got 'no' (str)"),
    ("jit_compile", 0, InputTypeError, "jit_compile must be True or False, got 0 (int)"),
    ("jit_compile", None, InputTypeError, "jit_compile must be True or False"),
    ("steps_per_execution", 0, InputValueError, "steps_per_execution must be between 1 and 10000"),
    ("steps_per_execution", 1.5, InputTypeError, "steps_per_execution must be an integer"),
    ("validation_size", 1, InputValueError, "validation_size must be between 10 and 59990, got 1"),
    ("validation_size", 60000, InputValueError, "got 60000"),
    ("validation_size", 0.1, InputTypeError, "validation_size must be an integer"),
    ("seed", -1, InputValueError, "seed must be between 0 and 4294967295, got -1"),
    ("seed", 2**32, InputValueError, "got 4294967296"),
    ("seed", "42", InputTypeError, "seed must be an integer"),
    ("seed", 4.2, InputTypeError, "seed must be an integer, got 4.2"),
    ("augment_shift", 0.5, InputValueError, "augment_shift must be a finite number in [0, 0.5), got 0.5"),
    ("augment_shift", -0.1, InputValueError, "got -0.1"),
    ("augment_shift", "0.1", InputTypeError, "augment_shift must be a number"),
    ("augment_rotation", 2.0, InputValueError, "augment_rotation must be a finite number in [0, 0.5)"),
    ("augment_rotation", None, InputTypeError, "augment_rotation must be a number, got None"),
]


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        _case(lambda field=field, bad=bad: training.TrainingConfig(**{"model": "cnn", field: bad}), error, fragment,
              id=f"TrainingConfig({field}={bad!r})")
        for field, bad, error, fragment in CONFIG_CASES
    ]
    + [
        _case(lambda: training.TrainingConfig(augment_shift=0.1), InputValueError,
              "augmentation is only implemented for the CNN", id="TrainingConfig(mlp, augment_shift=0.1)"),
        _case(lambda: training.set_seed(-1), InputValueError, "seed must be between 0 and 4294967295",
              id="set_seed(-1)"),
        _case(lambda: training.set_seed(2**32), InputValueError, "got 4294967296", id="set_seed(2**32)"),
        _case(lambda: training.set_seed(1.0), InputTypeError, "seed must be an integer, got 1.0", id="set_seed(1.0)"),
        _case(lambda: training.set_seed(None), InputTypeError, "got None", id="set_seed(None)"),
        _case(lambda: training.set_seed("7"), InputTypeError, "got '7' (str)", id="set_seed('7')"),
        _case(lambda: training.set_seed(True), InputTypeError, "got True (bool)", id="set_seed(True)"),
        _case(lambda: training.train("mlp"), InputTypeError, "config must be a TrainingConfig, got str",
              id="train('mlp')"),
        _case(lambda: training.train(None), InputTypeError, "config must be a TrainingConfig", id="train(None)"),
        _case(lambda: training.train({"epochs": 1}), InputTypeError, "config must be a TrainingConfig, got dict",
              id="train(dict)"),
        _case(lambda: training.train(training.MLP_RECIPE, verbose=5), InputValueError,
              "verbose must be one of 0, 1, 2; got 5", id="train(verbose=5)"),
        _case(lambda: training.train(training.CNN_RECIPE, verbose="yes"), InputValueError, "verbose must be one of",
              id="train(verbose='yes')"),
        _case(lambda: training.model_path("mlp"), InputTypeError, "config must be a TrainingConfig",
              id="model_path('mlp')"),
        _case(lambda: training.model_path(training.MLP_RECIPE, 5), InputTypeError,
              "cache_dir must be a file path (str or pathlib.Path), got 5 (int)", id="model_path(cache_dir=5)"),
        _case(lambda: training.model_path(training.MLP_RECIPE, ""), InputValueError, "cache_dir is an empty path",
              id="model_path(cache_dir='')"),
        _case(lambda: training.save_model("model", training.MLP_RECIPE), InputTypeError,
              "model must be a keras.Model, got str", id="save_model('model')"),
        _case(lambda: models.build_cnn(shift=0.7), InputValueError, "shift must be a finite number in [0, 0.5)",
              id="build_cnn(shift=0.7)"),
        _case(lambda: models.build_cnn(rotation=-1), InputValueError, "rotation must be", id="build_cnn(rotation=-1)"),
        _case(lambda: models.build_cnn(shift="a"), InputTypeError, "shift must be a number", id="build_cnn(shift='a')"),
        _case(lambda: models.build_cnn(batch_norm="yes"), InputTypeError, "batch_norm must be True or False",
              id="build_cnn(batch_norm='yes')"),
        _case(lambda: models.build_original_mlp(dropout=1.0), InputValueError,
              "dropout must be a finite number in [0, 1)", id="build_original_mlp(dropout=1.0)"),
        _case(lambda: models.build_original_mlp(dropout=-0.1), InputValueError, "dropout must be",
              id="build_original_mlp(dropout=-0.1)"),
        _case(lambda: models.build_original_mlp(dropout="0.5"), InputTypeError, "dropout must be a number",
              id="build_original_mlp(dropout='0.5')"),
        _case(lambda: training.make_optimizer(training.MLP_RECIPE, 10, weight_decay=-1.0), InputValueError,
              "weight_decay must be a finite number in [0, inf]", id="make_optimizer(weight_decay=-1)"),
        _case(lambda: training.make_optimizer(training.MLP_RECIPE, 10, weight_decay=None), InputTypeError,
              "weight_decay must be a number", id="make_optimizer(weight_decay=None)"),
    ],
)
def test_training(call, error, fragment):
    _check(call, error, fragment)


def test_save_model_checks_its_record(tiny_mlp, tmp_path):
    _check(lambda: training.save_model(tiny_mlp, training.MLP_RECIPE, tmp_path, history=[1, 2]), InputTypeError,
           "history must be a dict of lists")
    _check(lambda: training.save_model(tiny_mlp, training.MLP_RECIPE, tmp_path, history={"loss": ["a"]}),
           InputTypeError, "history must map names to lists of numbers")
    _check(lambda: training.save_model(tiny_mlp, training.MLP_RECIPE, tmp_path, wall_time=-1.0), InputValueError,
           "wall_time must be a finite number in [0, inf]")
    assert list(tmp_path.iterdir()) == []  # nothing written


# ------------------------------------------------------------------------------------
# The MNIST archive: damaged, truncated, foreign, hostile.
# ------------------------------------------------------------------------------------


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _small_mnist_like():
    return {"x_train": np.zeros((60000, 28, 28), U8), "y_train": np.zeros(60000, U8),
            "x_test": np.zeros((10000, 28, 28), U8), "y_test": np.zeros(10000, U8)}  # fmt: skip


def _huge_header(archive: dict) -> bytes:
    """An .npz whose x_train header claims a 1 TB array (its data is not there)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for key, value in archive.items():
            member = io.BytesIO()
            if key == "x_train":
                np.lib.format.write_array_header_1_0(
                    member, {"descr": "|u1", "fortran_order": False, "shape": (10**6, 1000, 1000)}
                )
            else:
                np.save(member, value)
            out.writestr(f"{key}.npy", member.getvalue())
    return buffer.getvalue()


ARCHIVE_CASES = [
    ("an empty file", lambda a: b"", "it is empty"),
    ("an HTML page", lambda a: b"<!DOCTYPE html><html><body>Sign in</body></html>", "the server answered with an HTML page"),
    ("a single .npy", lambda a: (lambda b: (np.save(b, np.zeros(3)), b.getvalue())[1])(io.BytesIO()),
     "a single .npy array"),
    ("plain text", lambda a: b"hello world\n" * 100, "truncated or corrupted"),
    ("half of the archive", lambda a: a[: len(a) // 2], "truncated or corrupted"),
    ("the first 100 bytes", lambda a: a[:100], "truncated or corrupted"),
    ("all but the last byte", lambda a: a[:-1], "truncated or corrupted"),
    ("arrays missing", lambda a: _npz(x_train=np.zeros(1)), "lacks the array(s) ['y_train', 'x_test', 'y_test']"),
    ("a pickled object array", lambda a: _npz(**{**_small_mnist_like(), "y_test": np.array([{}] * 3, dtype=object)}),
     "'y_test' has shape (3,) and dtype object"),
    ("int64 labels", lambda a: _npz(**{**_small_mnist_like(), "y_train": np.zeros(60000, np.int64)}),
     "'y_train' has shape (60000,) and dtype int64"),
    ("Fortran order", lambda a: _npz(**{**_small_mnist_like(), "x_test": np.asfortranarray(np.zeros((10000, 28, 28), U8))}),
     "Fortran order"),
    ("a header claiming 1 TB", lambda a: _huge_header(_small_mnist_like()), "has shape (1000000, 1000, 1000)"),
    ("the right shapes, other data", lambda a: _npz(**_small_mnist_like()), "the data was altered or is not MNIST"),
]


@pytest.mark.parametrize(("make", "fragment"), [pytest.param(m, f, id=label) for label, m, f in ARCHIVE_CASES])
def test_damaged_archives(tmp_path, archive_bytes, make, fragment):
    path = tmp_path / "mnist.npz"
    path.write_bytes(make(archive_bytes))
    _check(lambda: data.read_mnist_npz(path), DatasetError, fragment)


@pytest.mark.parametrize("seed", range(24))
def test_flipped_bytes_are_caught(tmp_path, archive_bytes, seed):
    """A byte flipped anywhere (zip headers, array headers, compressed data) is a DatasetError."""
    rng = np.random.default_rng(seed)
    damaged = bytearray(archive_bytes)
    # Half the flips land in the first and last 4 KiB, where the zip and .npy headers are.
    position = int(rng.integers(0, len(damaged))) if seed % 2 else int(rng.choice([rng.integers(0, 4096),
                                                                                 len(damaged) - 1 - rng.integers(0, 4096)]))
    damaged[position] ^= 1 << int(rng.integers(0, 8))
    path = tmp_path / "mnist.npz"
    path.write_bytes(bytes(damaged))
    with pytest.raises(DatasetError) as caught:
        data.read_mnist_npz(path)
    assert any(s in str(caught.value) for s in ("truncated or corrupted", "altered", "lacks the array", "has shape")), \
        str(caught.value)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        _case(lambda: data.read_mnist_npz(None), InputTypeError, "path must be a file path (str or pathlib.Path), got None",
              id="read_mnist_npz(None)"),
        _case(lambda: data.read_mnist_npz(3), InputTypeError, "got 3 (int)", id="read_mnist_npz(3)"),
        _case(lambda: data.read_mnist_npz(""), InputValueError, "path is an empty path", id="read_mnist_npz('')"),
        _case(lambda: data.read_mnist_npz("a\0b"), InputValueError, "NUL character", id="read_mnist_npz(NUL)"),
        _case(lambda: data.read_mnist_npz(b"mnist.npz"), InputTypeError, "got b'mnist.npz' (bytes)",
              id="read_mnist_npz(bytes)"),
        _case(lambda: data.read_mnist_npz("/nonexistent/mnist.npz"), DatasetError, "MNIST archive not found at",
              id="read_mnist_npz(missing)"),
        _case(lambda: data.read_mnist_npz("/"), DatasetError, "MNIST archive not found", id="read_mnist_npz(a folder)"),
        _case(lambda: data.read_mnist_npz("/tmp/" + "a" * 300 + ".npz"), DatasetError, "File name too long",
              id="read_mnist_npz(300-character name)"),
        _case(lambda: data.download_mnist("/tmp/x.npz", url=5), InputTypeError, "url must be a string",
              id="download_mnist(url=5)"),
        _case(lambda: data.download_mnist("/tmp/x.npz", timeout=0), InputValueError,
              "timeout must be a finite number in (0, inf]", id="download_mnist(timeout=0)"),
        _case(lambda: data.download_mnist("/tmp/x.npz", timeout="10"), InputTypeError, "timeout must be a number",
              id="download_mnist(timeout='10')"),
        _case(lambda: data.download_mnist(None), InputTypeError, "destination must be a file path",
              id="download_mnist(None)"),
        _case(lambda: data.download_mnist("/etc/hostname/mnist.npz", url="http://127.0.0.1:9/"), FileWriteError,
              "cannot write destination /etc/hostname/mnist.npz", id="download_mnist(under a file)"),
        _case(lambda: data.download_mnist("/tmp/x.npz", url="ftp2://x"), DatasetError, "Could not download MNIST",
              id="download_mnist(unknown scheme)"),
        _case(lambda: data.download_mnist("/tmp/x.npz", url="not a url"), DatasetError, "Could not download",
              id="download_mnist('not a url')"),
        _case(lambda: data.load_mnist(cache_dir=3), InputTypeError, "cache_dir must be a file path",
              id="load_mnist(cache_dir=3)"),
        _case(lambda: data.load_mnist(path=3), InputTypeError, "path must be a file path", id="load_mnist(path=3)"),
    ],
)
def test_data_arguments(call, error, fragment):
    _check(call, error, fragment)


def test_downloads_have_a_size_cap(local_server, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", 1000)
    url = local_server.serve("/big", b"x" * 5000)
    _check(lambda: data.download_mnist(tmp_path / "mnist.npz", url=url), DatasetError,
           "is 5,000 bytes; MNIST's archive is about 11 MB and at most 1,000 are accepted")
    url = local_server.serve("/undeclared", b"x" * 5000, declared_length=-1)  # no Content-Length: counted
    _check(lambda: data.download_mnist(tmp_path / "mnist.npz", url=url), DatasetError,
           "passed 1,000 bytes and was stopped")
    assert list(tmp_path.iterdir()) == []


def test_an_html_page_as_the_download_is_named(local_server, tmp_path):
    url = local_server.serve("/page", b"<!DOCTYPE html><title>Sign in</title>")
    _check(lambda: data.download_mnist(tmp_path / "mnist.npz", url=url), DatasetError,
           "the server answered with an HTML page")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"validation_size": 1}, InputValueError, "validation_size must be between 10 and 990, got 1"),
        ({"validation_size": 995}, InputValueError, "got 995"),
        ({"validation_size": 100.0}, InputTypeError, "validation_size must be an integer"),
        ({"validation_size": "100"}, InputTypeError, "validation_size must be an integer, got '100'"),
        ({"seed": -1}, InputValueError, "seed must be between 0 and 4294967295"),
        ({"seed": 1.5}, InputTypeError, "seed must be an integer"),
        ({"labels": np.zeros(999, U8)}, InputValueError, "differ in length (1000 vs 999)"),
        ({"labels": np.zeros(1000, float)}, InputTypeError, "labels must be integers"),
        ({"images": np.zeros((1000, 5, 5), U8)}, InputValueError, "must have shape (n, 28, 28)"),
        ({"labels": np.r_[np.zeros(999, int), [7]]}, InputValueError, "only one image of digit 7"),
    ],
)
def test_train_validation_split(kwargs, error, fragment):
    arguments = {"images": np.zeros((1000, 28, 28), U8), "labels": np.arange(1000) % 10, "validation_size": 100,
                 **kwargs}
    _check(lambda: data.train_validation_split(**arguments), error, fragment)


def test_split_accepts_numpy_integers():
    (x, _), (xv, _) = data.train_validation_split(np.zeros((100, 28, 28), U8), np.arange(100) % 10,
                                                  validation_size=np.int64(20), seed=np.uint32(3))
    assert len(xv) == 20 and len(x) == 80


# ------------------------------------------------------------------------------------
# Images of handwriting: arrays, PIL images, files (fuzzed), sizes, no digit.
# ------------------------------------------------------------------------------------

def _digit_page(shape=(120, 90)) -> np.ndarray:
    page = np.full(shape, 255, U8)
    page[20:100, 40:52] = 0  # a dark "1" on white paper
    return page


IMAGE_CASES = [
    ("None", None, InputTypeError, "image must be a file path, a PIL image or a NumPy array, got NoneType"),
    ("a list", [[0, 1], [1, 0]], InputTypeError, "got list"),
    ("bytes", b"\x89PNG", InputTypeError, "got bytes"),
    ("an empty path", "", InputValueError, "image is an empty path"),
    ("a missing file", "/nonexistent/digit.png", ImageInputError, "No image file at /nonexistent/digit.png"),
    ("a folder", "/tmp", ImageInputError, "it is a folder, not an image file"),
    ("a 300-character name", "/tmp/" + "d" * 300 + ".png", ImageInputError, "File name too long"),
    ("an empty array", np.zeros((0, 5)), ImageInputError, "empty"),
    ("2 channels", np.zeros((5, 5, 2)), ImageInputError, "must have shape (h, w), (h, w, 3) or (h, w, 4)"),
    ("4-D", np.zeros((2, 5, 5, 3)), ImageInputError, "must have shape (h, w)"),
    ("strings", np.full((5, 5), "x"), InputTypeError, "must hold real numbers"),
    ("complex", np.zeros((5, 5), complex), InputTypeError, "must hold real numbers"),
    ("NaN", np.full((50, 50), np.nan), ImageInputError, "NaN"),
    ("floats above 1", np.full((50, 50), 2.0), ImageInputError, "values in [0, 1]"),
    ("grey level 999", np.full((50, 50), 999, np.int32), ImageInputError, "0..255"),
    ("negative grey levels", np.full((50, 50), -3, np.int16), ImageInputError, "0..255"),
    ("blank white", np.full((50, 50), 255, U8), ImageInputError, "blank"),
    ("blank black", np.zeros((50, 50), U8), ImageInputError, "blank"),
    ("too many pixels", np.zeros((5001, 5000), U8), ImageInputError, "at most 25,000,000 are accepted"),
    ("uniform noise", np.random.default_rng(0).random((100, 100)), NoDigitError, "4 of the image's 4 edges"),
    ("black-and-white noise", (np.random.default_rng(1).random((64, 64)) < 0.3).astype(float), NoDigitError,
     "No single digit stands out"),
    ("half of the page black", np.where(np.arange(200) < 100, 0, 255).astype(U8)[np.newaxis].repeat(150, 0),
     NoDigitError, "3 of the image's 4 edges"),
    ("noise on paper", np.pad(np.random.default_rng(2).random((80, 80)), 40, constant_values=1.0), NoDigitError,
     "block of grey texture"),
    ("an empty PIL image", Image.new("L", (0, 0)), ImageInputError, "empty"),
    ("a PIL image with too many pixels", Image.new("L", (10000, 2501)), ImageInputError, "at most 25,000,000"),
    ("a float PIL image with NaN", Image.fromarray(np.full((20, 20), np.nan, np.float32), mode="F"),
     ImageInputError, "negative, NaN or infinite"),
    ("an int PIL image with negatives", Image.fromarray(np.full((20, 20), -5, np.int32), mode="I"),
     ImageInputError, "negative, NaN or infinite"),
]


@pytest.mark.parametrize(("bad", "error", "fragment"), [pytest.param(b, e, f, id=label) for label, b, e, f in IMAGE_CASES])
def test_to_mnist_format(bad, error, fragment):
    _check(lambda: handwriting.to_mnist_format(bad), error, fragment)


def test_two_digits_side_by_side_are_no_digit():
    (x, y), _ = data.load_mnist()
    pair = np.concatenate([x[0], x[1]], axis=1)
    _check(lambda: handwriting.to_mnist_format(pair), NoDigitError, "2 pieces side by side")
    photo = sample_pictures.disguise_as_photo(x[0], np.random.default_rng(0), invert=True)
    wide = Image.new("RGB", (photo.width * 2, photo.height), (230, 230, 230))
    wide.paste(photo, (0, 0))
    wide.paste(photo, (photo.width, 0))
    _check(lambda: handwriting.to_mnist_format(wide), NoDigitError, "No single digit stands out")


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        _case(lambda: handwriting.to_mnist_format(_digit_page(), invert="yes"), InputTypeError,
              "invert must be True, False or None, got 'yes'", id="invert='yes'"),
        _case(lambda: handwriting.to_mnist_format(_digit_page(), invert=1), InputTypeError, "got 1",
              id="invert=1"),
        _case(lambda: handwriting.to_mnist_format(_digit_page(), invert=False), ImageInputError, "blank",
              id="invert=False on dark ink"),
        _case(lambda: sample_pictures.disguise_as_photo(np.zeros((10, 10), U8), np.random.default_rng(0), invert=True),
              InputValueError, "digit must be a (28, 28) uint8 image", id="disguise_as_photo(10×10)"),
        _case(lambda: sample_pictures.disguise_as_photo(GOOD_IMAGES[0], 0, invert=True), InputTypeError,
              "rng must be a numpy.random.Generator, got int", id="disguise_as_photo(rng=0)"),
        _case(lambda: sample_pictures.disguise_as_photo(GOOD_IMAGES[0], np.random.default_rng(0), invert="no"),
              InputTypeError, "invert must be True or False", id="disguise_as_photo(invert='no')"),
        _case(lambda: sample_pictures.render_digit(np.ones((8, 8)), "sideways"), InputValueError,
              "rendering must be one of 'tight crop, nearest'", id="render_digit(rendering='sideways')"),
        _case(lambda: sample_pictures.render_digit(np.full((8, 8), 16.0), "blur"), InputValueError,
              "ink strengths between 0 and 1", id="render_digit(optdigits not divided by 16)"),
        _case(lambda: sample_pictures.render_digit(np.zeros((8, 8)), "blur"), InputValueError,
              "with some ink", id="render_digit(blank)"),
        _case(lambda: handwriting.solidity(np.ones(5)), InputValueError, "mask must be a 2-D array",
              id="solidity(1-D)"),
    ],
)
def test_handwriting_arguments(call, error, fragment):
    _check(call, error, fragment)


def test_numpy_bool_is_accepted_for_invert():
    assert handwriting.to_mnist_format(_digit_page(), invert=np.True_).shape == (28, 28)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "I", "I;16", "F", "LA"])
def test_every_pil_mode_is_read_or_refused_clearly(mode):
    page = Image.fromarray(_digit_page()).convert("RGB")
    try:
        image = page.convert(mode)
    except ValueError:  # Pillow itself cannot make this mode from RGB: build it from grey
        image = Image.fromarray(_digit_page()).convert(mode)
    try:
        result = handwriting.to_mnist_format(image)
    except ImageInputError as error:
        assert "blank" in str(error) or "Cannot convert" in str(error), str(error)
    else:
        assert result.shape == (28, 28) and result.dtype == U8 and result.max() == 255


def _encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_digit_page()).convert("P" if fmt == "GIF" else "L").save(buffer, format=fmt)
    return buffer.getvalue()


FUZZ_FORMATS = ["PNG", "JPEG", "BMP", "TIFF", "GIF", "WEBP"]
ACCEPTED_FRAGMENTS = ("Cannot read", "blank", "No single digit stands out", "too large", "at most 25,000,000",
                      "empty", "Cannot convert")


@pytest.mark.parametrize("fmt", FUZZ_FORMATS)
@pytest.mark.parametrize("seed", range(12))
def test_fuzzed_image_files(tmp_path, fmt, seed):
    """Flipped bytes, truncation, or both: a 28×28 digit or an ImageInputError, nothing else."""
    rng = np.random.default_rng(seed)
    raw = bytearray(_encoded(fmt))
    if seed % 3 != 1:
        for _ in range(int(rng.integers(1, 6))):
            raw[int(rng.integers(0, len(raw)))] = int(rng.integers(0, 256))
    if seed % 3 != 0:
        raw = raw[: int(rng.integers(1, len(raw)))]
    path = tmp_path / f"digit.{fmt.lower()}"
    path.write_bytes(bytes(raw))
    try:
        result = handwriting.to_mnist_format(path)
    except ImageInputError as error:
        assert any(fragment in str(error) for fragment in ACCEPTED_FRAGMENTS), str(error)
    else:
        assert result.shape == (28, 28) and result.dtype == U8


@pytest.mark.parametrize(
    ("width", "height"), [(65535, 65535), (30000, 1000), (6000, 5000)], ids=["65535²", "30000×1000", "30 MP"]
)
def test_huge_image_headers_are_refused_before_decoding(tmp_path, width, height):
    """A PNG whose header claims the size: refused from the header (there are no pixels)."""
    path = tmp_path / "claims.png"
    path.write_bytes(png_claiming(width, height))
    _check(lambda: handwriting.to_mnist_format(path), ImageInputError, "at most 25,000,000")


# ------------------------------------------------------------------------------------
# Saved models: missing, damaged, foreign.
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fragment"), FOREIGN_MODELS)
def test_load_model_checks_what_it_loads(model_files, name, fragment):
    _check(lambda: saving.load_model(model_files[name], name="--model-path"), ModelFileError, fragment)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        _case(lambda: saving.load_model("/nonexistent/m.keras"), ModelFileError, "does not exist", id="missing"),
        _case(lambda: saving.load_model("/tmp"), ModelFileError, "is a folder, not a .keras file", id="a folder"),
        _case(lambda: saving.load_model("/tmp/" + "m" * 300 + ".keras"), ModelFileError, "File name too long",
              id="300-character name"),
        _case(lambda: saving.load_model(None), InputTypeError, "path must be a file path", id="None"),
        _case(lambda: saving.read_record(Path("/etc/hostname")), ModelFileError, "is not a readable .keras archive",
              id="read_record(a text file)"),
    ],
)
def test_model_paths(call, error, fragment):
    _check(call, error, fragment)


@pytest.mark.parametrize(
    ("target", "fragment", "error"),
    [
        ("model.txt", "path must end in .keras, got", InputValueError),
        ("model", "path must end in .keras", InputValueError),
        ("folder.keras/", "is a folder; give a file name inside it", InputValueError),
        ("blocker/model.keras", "blocker is a file, not a folder", FileWriteError),
    ],
)
def test_write_model_refuses_bad_targets_before_writing(tmp_path, tiny_mlp, target, fragment, error):
    (tmp_path / "folder.keras").mkdir()
    (tmp_path / "blocker").write_text("a file, not a folder")
    _check(lambda: saving.write_model(tiny_mlp, tmp_path / target), error, fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "folder.keras"]


def test_write_model_checks_its_arguments(tmp_path, tiny_mlp):
    _check(lambda: saving.write_model("model", tmp_path / "m.keras"), InputTypeError, "model must be a keras.Model")
    _check(lambda: saving.write_model(tiny_mlp, tmp_path / "m.keras", record=[1]), InputTypeError,
           "record must be a dict or None, got list")
    _check(lambda: saving.write_model(tiny_mlp, tmp_path / "m.keras", record={"x": object()}), InputTypeError,
           "record must hold only what JSON can")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------
# ONNX export.
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        _case(lambda: export.inference_model("model"), InputTypeError, "model must be a keras.Model, got str",
              id="inference_model('model')"),
        _case(lambda: export.export_onnx("model", "/tmp/m.onnx"), InputTypeError, "model must be a keras.Model",
              id="export_onnx('model')"),
        _case(lambda: export.export_onnx(_dense((5,), 10, "softmax"), "/tmp/m.onnx"), ModelFileError,
              "takes input of shape (None, 5)", id="export_onnx(foreign model)"),
        _case(lambda: export.check_parity("model", "/tmp/x.onnx", GOOD_IMAGES), InputTypeError,
              "model must be a keras.Model", id="check_parity('model')"),
        _case(lambda: export.check_parity(_dense((784,), 10, "softmax"), "/nonexistent.onnx", GOOD_IMAGES),
              ModelFileError, "No ONNX model at /nonexistent.onnx", id="check_parity(missing file)"),
        _case(lambda: export.check_parity(_dense((784,), 10, "softmax"), None, GOOD_IMAGES), InputTypeError,
              "onnx_path must be a file path", id="check_parity(None)"),
        _case(lambda: export.Parity(1, 0.0, 0).holds("tight"), InputTypeError, "tolerance must be a number",
              id="Parity.holds('tight')"),
        _case(lambda: export.Parity(1, 0.0, 0).holds(-1), InputValueError, "tolerance must be a finite number",
              id="Parity.holds(-1)"),
    ],
)
def test_export_arguments(call, error, fragment):
    _check(call, error, fragment)


@pytest.mark.parametrize(
    ("target", "error", "fragment"),
    [
        ("model.txt", InputValueError, "path must end in .onnx"),
        ("folder.onnx", InputValueError, "is a folder"),
        ("blocker/model.onnx", FileWriteError, "cannot write path"),
    ],
)
def test_export_onnx_refuses_bad_targets(tmp_path, tiny_mlp, target, error, fragment):
    (tmp_path / "folder.onnx").mkdir()
    (tmp_path / "blocker").write_text("a file")
    _check(lambda: export.export_onnx(tiny_mlp, tmp_path / target), error, fragment)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "is not a readable ONNX model"), (b"garbage" * 100, "is not a readable ONNX model")],
    ids=["empty", "garbage"],
)
def test_check_parity_refuses_garbage_onnx(tmp_path, tiny_mlp, content, fragment):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    _check(lambda: export.check_parity(tiny_mlp, path, GOOD_IMAGES), ModelFileError, fragment)


def test_check_parity_refuses_the_export_of_another_network(tmp_path, tiny_mlp):
    cnn_like = _dense((28, 28, 1), 10, "softmax")
    path = export.export_onnx(cnn_like, tmp_path / "cnn.onnx")
    _check(lambda: export.check_parity(tiny_mlp, path, GOOD_IMAGES), ModelFileError,
           "does not take the input of this Keras model")


# ------------------------------------------------------------------------------------
# Files: atomic writes, leftovers of killed processes.
# ------------------------------------------------------------------------------------


def test_check_writable(tmp_path):
    (tmp_path / "blocker").write_text("x")
    _check(lambda: files.check_writable(tmp_path / "blocker" / "m.keras"), FileWriteError, "blocker is a file, not a folder")
    _check(lambda: files.check_writable(tmp_path / ("n" * 300)), FileWriteError, "File name too long")
    _check(lambda: files.check_writable(tmp_path / "m.txt", suffix=".keras"), InputValueError, "must end in .keras")
    assert files.check_writable(tmp_path / "new" / "m.keras", suffix=".keras") == tmp_path / "new" / "m.keras"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["blocker", "new"]  # no file was left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    files.write_text(target, "old")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with files.atomic_path(target) as temporary:
            temporary.write_text("half of the new")
            raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    assert oct(target.stat().st_mode & 0o777) == oct(files.FILE_MODE & ~files._umask())


def test_temporaries_of_killed_processes_are_removed_and_live_ones_kept(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "model.keras"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    leftover = tmp_path / f".model.keras.{dead_pid}.abc123.tmp.keras"
    leftover.write_text("left by a killed process")
    live = tmp_path / f".model.keras.{1}.def456.tmp.keras"  # pid 1 is always alive
    live.write_text("a write in progress")
    other = tmp_path / f".other.keras.{dead_pid}.abc123.tmp.keras"  # another target's: not ours to judge
    other.write_text("x")
    files.write_text(target, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name, other.name])


def test_killed_writer_leaves_nothing_that_is_read(tmp_path):
    """A process killed in the middle of a write: the target is untouched; the leftover is removed later."""
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "data.bin"
    files.write_bytes(target, b"whole")
    code = (
        "import sys, time\n"
        "from mnist_utils import files\n"
        f"with files.atomic_path({str(target)!r}) as t:\n"
        "    t.write_bytes(b'half')\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    time.sleep(0.1)
    assert target.read_bytes() == b"whole"
    leftovers = [p for p in tmp_path.iterdir() if p != target]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".data.bin.")
    files.write_bytes(target, b"next")
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"] and target.read_bytes() == b"next"
