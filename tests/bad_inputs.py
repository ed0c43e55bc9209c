"""Bad inputs shared by the tests of refusals: foreign networks, and a PNG header claiming any size."""

from __future__ import annotations

import struct
import zlib

#: The model files of the ``model_files`` fixture (``tests/conftest.py``) that ``load_model``
#: must refuse, each with a fragment of the error it must give when named ``--model-path``.
FOREIGN_MODELS = [
    ("five_inputs", "takes input of shape (None, 5)"),
    ("three_classes", "answers with shape (None, 3)"),
    ("logits", "does not answer with probabilities"),
    ("sigmoid", "does not answer with probabilities"),
    ("colour_input", "takes input of shape (None, 28, 28, 3)"),
    ("truncated", "is not a .keras archive: the file is truncated or damaged"),
    ("text", "is not a .keras archive"),
    ("empty", "is not a .keras archive"),
    ("no_config", "cannot load --model-path"),
    ("bad_config", "cannot load --model-path"),
    ("h5", "must be a .keras file saved by Keras 3, got suffix '.h5'"),
]


def dense(input_shape, units, activation):
    """A one-layer network: input shape, number of outputs and activation of one's choice."""
    import keras

    return keras.Sequential([keras.Input(shape=input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(units, activation=activation)])  # fmt: skip


def png_claiming(width: int, height: int) -> bytes:
    """A PNG file whose header claims ``width`` × ``height`` pixels, with no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
