"""Export the book's trained models to ONNX and check that ONNX Runtime agrees with Keras.

The "Draw a digit" page runs the models in the reader's browser with onnxruntime-web.
ONNX is a portable description of the network's arithmetic: the same file runs in
ONNX Runtime for Python, in a browser, or on a phone. Before a model is published,
:func:`check_parity` runs the whole test set through both Keras and ONNX Runtime and
reports the largest difference between their probabilities.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import warnings
from pathlib import Path

import keras
import numpy as np

from ._validation import check_float, check_images, check_int, check_model, check_path
from .errors import InputValueError, ModelFileError
from .evaluation import predict_probabilities
from .files import atomic_path, check_writable
from .preprocessing import preprocess_for_model
from .saving import check_classifier

__all__ = ["Parity", "check_parity", "export_onnx", "inference_model"]

#: Augmentation layers: random during training, the identity at inference.
AUGMENTATION_LAYERS: tuple[type, ...] = (
    keras.layers.RandomTranslation,
    keras.layers.RandomRotation,
    keras.layers.RandomZoom,
    keras.layers.RandomFlip,
    keras.layers.RandomContrast,
    keras.layers.RandomBrightness,
)


def inference_model(model: keras.Model) -> keras.Model:
    """The network without its augmentation layers, sharing the trained weights.

    Augmentation layers do nothing at inference, but exporters trace their random
    ops anyway, and ONNX has no equivalent for TensorFlow's ``ImageProjectiveTransform``.
    A :class:`keras.Sequential` model is rebuilt from its other layers (the same layer
    objects, so no weight is copied); a model without augmentation is returned as is.

    Raises
    ------
    InputTypeError
        If ``model`` is not a Keras model.
    InputValueError
        If ``model`` has augmentation layers but is not a ``Sequential`` model.
    """
    check_model(model)
    augmentation = [layer for layer in model.layers if isinstance(layer, AUGMENTATION_LAYERS)]
    if not augmentation:
        return model
    if not isinstance(model, keras.Sequential):
        raise InputValueError(
            f"Cannot remove the augmentation layers {[layer.name for layer in augmentation]} "
            f"from a {type(model).__name__}; only Sequential models are supported."
        )
    kept = [layer for layer in model.layers if not isinstance(layer, AUGMENTATION_LAYERS)]
    return keras.Sequential([keras.Input(shape=model.input_shape[1:]), *kept], name=model.name)


def export_onnx(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (without augmentation) to ``path`` in ONNX format, atomically.

    Keras's exporter (``model.export(..., format="onnx")``, which uses tf2onnx)
    needs a model that has been called once, so it is called on one blank image
    first. The file is written next to ``path`` and renamed into place, so a failed
    export never leaves a truncated model behind.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputTypeError
        If ``model`` is not a Keras model.
    InputValueError
        If ``path`` does not end in ``.onnx`` or is a folder.
    ModelFileError
        If ``model`` is not one of the book's digit classifiers, or the exporter fails.
    FileWriteError
        If the file cannot be written.
    """
    network = inference_model(model)
    check_classifier(network, name="model")
    path = check_writable(check_path(path, "path"), name="path", suffix=".onnx")
    with atomic_path(path, name="path") as temporary:
        try:
            network(np.zeros((1, *network.input_shape[1:]), dtype=np.float32))
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                # Keras prints "Saved artifact at ...", and its tf2onnx shim probes for the
                # long-removed ``np.object``, which NumPy 2 answers with a FutureWarning.
                warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
                network.export(temporary, format="onnx")
        except OSError:
            raise  # atomic_path reports it as a FileWriteError
        except Exception as error:
            raise ModelFileError(f"cannot export the model to ONNX ({type(error).__name__}: {error}).") from error
    return path


@dataclasses.dataclass(frozen=True)
class Parity:
    """How closely ONNX Runtime reproduces Keras on a set of images.

    Attributes
    ----------
    images:
        Number of images compared.
    max_abs_diff:
        Largest absolute difference between any two probabilities.
    argmax_mismatches:
        Images whose predicted digit differs.
    """

    images: int
    max_abs_diff: float
    argmax_mismatches: int

    def holds(self, tolerance: float = 1e-5) -> bool:
        """True if every prediction agrees and no probability differs by more than ``tolerance``."""
        tolerance = check_float(tolerance, "tolerance", low=0.0)
        return self.argmax_mismatches == 0 and self.max_abs_diff <= tolerance


def check_parity(
    model: keras.Model, onnx_path: str | os.PathLike[str], images: np.ndarray, *, batch_size: int = 100
) -> Parity:
    """Compare the probabilities of ``model`` and of its ONNX export on ``images``.

    Parameters
    ----------
    model:
        The Keras model that was exported.
    onnx_path:
        The exported ``.onnx`` file.
    images:
        Raw ``(n, 28, 28)`` ``uint8`` images, preprocessed here for the model.
    batch_size:
        Images per batch for both runtimes. Small batches keep both runtimes' working memory
        small: for the CNN, batches of 1,000 need several times the memory of batches of 100.

    Raises
    ------
    ModelFileError
        If ``onnx_path`` does not exist, is not an ONNX model, or takes other input than
        ``model`` does.
    InputValueError
        If ``images`` is empty or not of shape ``(n, 28, 28)``, or ``batch_size`` is not positive.
    InputTypeError
        If ``images`` is not ``uint8`` or ``model`` is not a Keras model.
    """
    import onnxruntime

    onnx_path = check_path(onnx_path, "onnx_path")
    check_model(model)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if not onnx_path.is_file():
        raise ModelFileError(f"No ONNX model at {onnx_path}; export one with export_onnx().")
    images = check_images(images, flat=False, normalized=False)
    expected = predict_probabilities(model, images, batch_size=batch_size)
    try:
        session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    except Exception as error:  # ONNX Runtime's InvalidProtobuf, Fail, …
        raise ModelFileError(
            f"{onnx_path} is not a readable ONNX model ({type(error).__name__}); export it again with export_onnx()."
        ) from error
    name = session.get_inputs()[0].name
    try:
        got = np.concatenate(
            [
                session.run(None, {name: preprocess_for_model(model, images[start : start + batch_size])})[0]
                for start in range(0, len(images), batch_size)
            ]
        )
    except Exception as error:  # an ONNX model of another network: wrong input shape or type
        raise ModelFileError(
            f"{onnx_path} does not take the input of this Keras model ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:200]}); pass the ONNX export of the same model."
        ) from error
    if got.shape != expected.shape:
        raise ModelFileError(
            f"{onnx_path} answers with shape {got.shape}, the Keras model with {expected.shape}; "
            "pass the ONNX export of the same model."
        )
    return Parity(
        images=len(images),
        max_abs_diff=float(np.abs(got - expected).max()),
        argmax_mismatches=int(np.sum(got.argmax(axis=1) != expected.argmax(axis=1))),
    )
