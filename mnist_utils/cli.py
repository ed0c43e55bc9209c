"""The command line: ``python -m mnist_utils {train,evaluate,predict}``.

It prints its answer on standard output and nothing else: no traceback, no TensorFlow
log lines, no warnings. A failure is one line on standard error.

Exit codes: 0 on success; 1 when the work fails (an unreadable image, no digit in it, a
missing or broken model, a corrupted data file, a file that cannot be written); 2 for a
usage error (bad arguments, checked before any work starts); 130 when interrupted; 141
when the reader of the output went away (``| head`` closes the pipe), quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141

#: The models the command line knows; the same as ``mnist_utils.training.MODEL_NAMES``
#: (a test checks), written out so that ``--help`` does not have to import TensorFlow.
MODELS = ("mlp", "cnn")
PROG = "python -m mnist_utils"


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse, with each usage error on one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog=PROG,
        description="Train, evaluate and use the book's MNIST digit classifiers.",
        epilog="Exit codes: 0 success, 1 failure (bad image, no digit, missing model, bad data, "
        "unwritable file), 2 usage error, 130 interrupted, 141 output pipe closed.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def model_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--model", choices=MODELS, default="cnn",
            help="which network (default: %(default)s)",
        )
        command.add_argument(
            "--model-path", type=_path, metavar="FILE",
            help="a saved .keras model (default: the one `train` saved for --model)",
        )

    train = commands.add_parser("train", help="train a model with the book's recipe and save it")
    train.add_argument("--model", choices=MODELS, required=True, help="which network to train")
    train.add_argument("--epochs", type=_positive, help="override the recipe's number of epochs")
    train.add_argument("--batch-size", type=_positive, help="override the recipe's batch size")
    train.add_argument("--output", type=_path, metavar="FILE.keras",
                       help="where to save (default: the model cache)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = commands.add_parser("evaluate", help="accuracy and confusion matrix on the MNIST test set")
    model_options(evaluate)

    predict = commands.add_parser("predict", help="classify image files of single digits")
    predict.add_argument("images", nargs="+", type=_path, metavar="IMAGE", help="PNG or JPEG files")
    model_options(predict)
    predict.add_argument("--top", type=_top, default=3, help="probabilities to show, 1 to 10 (default: 3)")
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


def _top(text: str) -> int:
    value = _positive(text)
    if value > 10:
        raise argparse.ArgumentTypeError(f"expected 1 to 10 (there are ten digits), got {value}")
    return value


def _path(text: str) -> Path:
    if not text:
        raise argparse.ArgumentTypeError("expected a file name, got an empty string")
    if "\0" in text:
        raise argparse.ArgumentTypeError("a file name cannot hold a NUL character")
    return Path(text)


def _one_line(error: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__


def _say(text: str = "") -> None:
    """Print one line of the answer at once, so that a closed pipe is noticed here."""
    print(text, flush=True)


def _load_model(name: str, path: Path | None):
    from .saving import load_model
    from .training import RECIPES, model_path

    given = path is not None
    path = path if given else model_path(RECIPES[name])
    try:
        missing = not path.exists()
    except OSError:
        missing = False  # load_model says why it cannot be read
    if missing:
        output = f" --output {path}" if given else ""
        raise CommandError(f"no trained model at {path}. Train one first: {PROG} train --model {name}{output}")
    return load_model(path, name="--model-path" if given else "the saved model")


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .errors import InputTypeError, InputValueError
    from .files import check_writable
    from .saving import write_model
    from .training import RECIPES, model_path, train, training_record

    changes = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size)) if v}
    output, name = (args.output, "--output") if args.output is not None else (None, "the model cache")
    try:
        config = dataclasses.replace(RECIPES[args.model], **changes)
        if output is not None:
            check_writable(output, name=name, suffix=".keras")
    except (InputValueError, InputTypeError) as error:
        parser.error(_one_line(error))
    if output is None:  # the cache, where the chapters find it; checked before training, not
        output = check_writable(model_path(config), name=name)  # after: a failed save loses the model
    _say(f"Training the {args.model} with {config}")
    started = time.perf_counter()
    model, history = train(config, verbose=0 if args.quiet else 1)
    wall_time = time.perf_counter() - started
    record = training_record(config, history=history, wall_time=wall_time)  # as the chapters' models carry
    path = write_model(model, output, record, name=name)
    _say(f"validation accuracy {history['val_accuracy'][-1]:.2%}; saved to {path}")
    return EXIT_OK


def _evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .data import load_mnist
    from .evaluation import accuracy, confusion_matrix, predict_digits, predict_probabilities

    model = _load_model(args.model, args.model_path)
    _, (x_test, y_test) = load_mnist()
    probabilities = predict_probabilities(model, x_test)
    predicted, _ = predict_digits(probabilities)
    matrix = confusion_matrix(y_test, predicted)
    _say(f"test accuracy: {accuracy(y_test, predicted):.2%} ({int((predicted != y_test).sum())} errors "
         f"in {len(y_test):,} images)")
    _say("confusion matrix (rows: true digit, columns: predicted digit)")
    _say("     " + "".join(f"{d:>6}" for d in range(10)))
    for digit, row in enumerate(matrix):
        _say(f"{digit:>5}" + "".join(f"{n:>6}" for n in row))
    return EXIT_OK


def _predict(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import numpy as np

    from .errors import MnistUtilsError
    from .evaluation import predict_digits
    from .handwriting import to_mnist_format
    from .preprocessing import preprocess_for_model

    model = _load_model(args.model, args.model_path)
    status = EXIT_OK
    for path in args.images:
        try:
            digit = to_mnist_format(path, invert=args.invert)
            probabilities = model.predict(preprocess_for_model(model, digit[np.newaxis]), verbose=0)
            predict_digits(probabilities)  # checks that they are probabilities
        except MnistUtilsError as error:
            message = _one_line(error).replace("pass invert=True/False", "pass --dark-ink or --light-ink")
            print(f"{path}: error: {message}", file=sys.stderr, flush=True)
            status = EXIT_FAILURE
            continue
        row = probabilities[0]
        order = np.argsort(-row, kind="stable")[: args.top]
        top = ", ".join(f"{d} {row[d]:.1%}" for d in order)
        _say(f"{path}: {order[0]}  ({top})")
    return status


@contextlib.contextmanager
def _quiet_native_logs() -> Iterator[None]:
    """Send what TensorFlow's C++ code writes to file descriptor 2 to /dev/null.

    TensorFlow logs from C++ straight to the process's standard error (CUDA probing,
    oneDNN, CPU features, absl's start-up notice), whatever ``TF_CPP_MIN_LOG_LEVEL`` says
    for some of them. Python's ``sys.stderr`` is moved to a copy of the real standard
    error first, so the command line's own one-line errors still reach the user.
    """
    try:
        sys.stderr.flush()
        real = os.dup(2)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):  # no real stderr
        yield
        return
    python_stderr = sys.stderr
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stderr = open(os.dup(real), "w", buffering=1, encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        sys.stderr.close()
        os.dup2(real, 2)
        os.close(real)
        sys.stderr = python_stderr


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    command = {"train": _train, "evaluate": _evaluate, "predict": _predict}[args.command]
    with _quiet_native_logs(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's and NumPy's warnings are not for the user
        try:
            import logging

            logging.getLogger("tensorflow").setLevel(logging.ERROR)
            from .errors import MnistUtilsError

            return command(args, parser)
        except (CommandError, MnistUtilsError) as error:
            print(f"error: {_one_line(error)}", file=sys.stderr, flush=True)
            return EXIT_FAILURE
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr, flush=True)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader went away (`| head`). Point stdout at /dev/null so that Python's
            # final flush does not fail again, and end quietly.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except MemoryError:
            print("error: out of memory; close other programs or use a smaller batch (--batch-size)",
                  file=sys.stderr, flush=True)
            return EXIT_FAILURE
        except Exception as error:  # a bug: still one line, and how to report it
            print(f"error: unexpected {type(error).__name__}: {_one_line(error)}. This is a bug in "
                  f"{PROG}; please report it with the command you ran.", file=sys.stderr, flush=True)
            return EXIT_FAILURE
