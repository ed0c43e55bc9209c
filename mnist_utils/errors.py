"""The exceptions ``mnist_utils`` raises, and the only ones it raises for bad input.

Every message names the argument or file, says what was received, and says what to do.
Errors of the libraries underneath (NumPy, Pillow, scikit-learn, Keras, ONNX Runtime,
the operating system) are caught where they happen and raised again as one of these,
with the original attached as ``__cause__``.

Each class also derives from the built-in exception that Python code would expect
(``ValueError`` for a bad value, ``TypeError`` for a wrong type, ``OSError`` for a
file that cannot be written), so ``except ValueError`` keeps working.

==========================  =====================  ==========================================
Exception                   Also a                 Raised when
==========================  =====================  ==========================================
:class:`MnistUtilsError`    ``Exception``          (the base class: catch this to catch all)
:class:`InputValueError`    ``ValueError``         an argument has the right type, wrong value
:class:`InputTypeError`     ``TypeError``          an argument has the wrong type
:class:`ImageInputError`    ``ValueError``         an image cannot be read, is too large, blank
:class:`NoDigitError`       ``ValueError``         an image shows no single digit that stands out
:class:`DatasetError`       ``RuntimeError``       the MNIST archive is missing, damaged or not MNIST
:class:`ModelFileError`     ``ValueError``         a model file is missing, damaged or not a digit
                                                   classifier of the book's kind
:class:`FileWriteError`     ``OSError``            a file cannot be written where asked
:class:`DistributedError`   ``RuntimeError``       a worker process of a distributed run failed
                                                   or did not finish in time
==========================  =====================  ==========================================
"""

from __future__ import annotations

__all__ = [
    "DatasetError",
    "DistributedError",
    "FileWriteError",
    "ImageInputError",
    "InputTypeError",
    "InputValueError",
    "MnistUtilsError",
    "ModelFileError",
    "NoDigitError",
    "os_reason",
]


class MnistUtilsError(Exception):
    """Base class of every error ``mnist_utils`` raises on purpose."""


class InputValueError(MnistUtilsError, ValueError):
    """An argument has an acceptable type but a wrong value (out of range, wrong shape, …)."""


class InputTypeError(MnistUtilsError, TypeError):
    """An argument has a type the function does not accept."""


class ImageInputError(InputValueError):
    """An image cannot be turned into a digit: unreadable, too large, empty or blank."""


class NoDigitError(ImageInputError):
    """An image shows something, but no single digit stands out: noise, a dark area, two digits."""


class DatasetError(MnistUtilsError, RuntimeError):
    """The MNIST archive is missing, unreadable, or not the real MNIST."""


class ModelFileError(MnistUtilsError, ValueError):
    """A saved model is missing, damaged, or not a ten-class digit classifier for 28×28 images."""


class FileWriteError(MnistUtilsError, OSError):
    """A file cannot be written where it was asked for (no permission, not a folder, …)."""


class DistributedError(MnistUtilsError, RuntimeError):
    """A worker process of a distributed training run failed, or did not finish in time."""


def os_reason(error: OSError) -> str:
    """The operating system's words for ``error`` ("File name too long"), for a message."""
    return error.strerror or str(error)
