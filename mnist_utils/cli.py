"""The command line: ``python -m mnist_utils {train,evaluate,predict}``.

Exit codes: 0 on success, 1 when the work fails (an unreadable image, a missing or
broken model, a corrupted data file), 2 for a usage error (bad arguments).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

#: The models the command line knows; the same as ``mnist_utils.training.MODEL_NAMES``
#: (a test checks), written out so that ``--help`` does not have to import TensorFlow.
MODELS = ("mlp", "cnn")


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_utils",
        description="Train, evaluate and use the book's MNIST digit classifiers.",
        epilog="Exit codes: 0 success, 1 failure (bad image, missing model, bad data), 2 usage error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def model_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--model", choices=MODELS, default="cnn",
            help="which network (default: %(default)s)",
        )
        command.add_argument(
            "--model-path", type=Path, metavar="FILE",
            help="a saved .keras model (default: the one `train` saved for --model)",
        )

    train = commands.add_parser("train", help="train a model with the book's recipe and save it")
    train.add_argument("--model", choices=MODELS, required=True, help="which network to train")
    train.add_argument("--epochs", type=_positive, help="override the recipe's number of epochs")
    train.add_argument("--batch-size", type=_positive, help="override the recipe's batch size")
    train.add_argument("--output", type=Path, metavar="FILE", help="where to save (default: the model cache)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = commands.add_parser("evaluate", help="accuracy and confusion matrix on the MNIST test set")
    model_options(evaluate)

    predict = commands.add_parser("predict", help="classify image files of single digits")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="PNG or JPEG files")
    model_options(predict)
    predict.add_argument("--top", type=_positive, default=3, help="probabilities to show (default: 3)")
    polarity = predict.add_mutually_exclusive_group()
    polarity.add_argument("--dark-ink", dest="invert", action="store_const", const=True,
                          help="the ink is darker than the paper (default: detected)")
    polarity.add_argument("--light-ink", dest="invert", action="store_const", const=False,
                          help="the ink is lighter than the paper (default: detected)")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _load_model(name: str, path: Path | None):
    import keras

    from .training import RECIPES, model_path

    path = path or model_path(RECIPES[name])
    if not path.is_file():
        raise CommandError(
            f"no trained model at {path}. Train one first: python -m mnist_utils train --model {name}"
        )
    try:
        return keras.models.load_model(path)
    except Exception as error:  # Keras raises many types for a bad file
        raise CommandError(f"cannot load the model {path}: {error}. Train it again.") from error


def _train(args: argparse.Namespace) -> int:
    from .training import RECIPES, save_model, train

    config = RECIPES[args.model]
    changes = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size)) if v}
    config = dataclasses.replace(config, **changes)
    print(f"Training the {args.model} with {config}")
    started = time.perf_counter()
    model, history = train(config, verbose=0 if args.quiet else 1)
    wall_time = time.perf_counter() - started
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        model.save(args.output)
        path = args.output
    else:  # with its record (history, wall time), as the chapters save it
        path = save_model(model, config, history=history, wall_time=wall_time)
    print(f"validation accuracy {history['val_accuracy'][-1]:.2%}; saved to {path}")
    return EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .evaluation import accuracy, confusion_matrix, predict_digits, predict_probabilities

    model = _load_model(args.model, args.model_path)
    _, (x_test, y_test) = load_mnist()
    probabilities = predict_probabilities(model, x_test)
    predicted, _ = predict_digits(probabilities)
    matrix = confusion_matrix(y_test, predicted)
    print(f"test accuracy: {accuracy(y_test, predicted):.2%} ({int((predicted != y_test).sum())} errors "
          f"in {len(y_test):,} images)")
    print("confusion matrix (rows: true digit, columns: predicted digit)")
    print("     " + "".join(f"{d:>6}" for d in range(10)))
    for digit, row in enumerate(matrix):
        print(f"{digit:>5}" + "".join(f"{n:>6}" for n in row))
    return EXIT_OK


def _predict(args: argparse.Namespace) -> int:
    import numpy as np

    from .handwriting import ImageInputError, to_mnist_format
    from .preprocessing import preprocess_for_model

    model = _load_model(args.model, args.model_path)
    status = EXIT_OK
    for path in args.images:
        try:
            digit = to_mnist_format(path, invert=args.invert)
        except (ImageInputError, TypeError) as error:
            print(f"{path}: error: {error}", file=sys.stderr)
            status = EXIT_FAILURE
            continue
        probabilities = model.predict(preprocess_for_model(model, digit[np.newaxis]), verbose=0)[0]
        order = np.argsort(-probabilities, kind="stable")[: args.top]
        top = ", ".join(f"{d} {probabilities[d]:.1%}" for d in order)
        print(f"{path}: {order[0]}  ({top})")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .data import DatasetError

    try:
        return {"train": _train, "evaluate": _evaluate, "predict": _predict}[args.command](args)
    except (CommandError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
