"""A model and its record are one file: written whole, replaced whole, read as a pair."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from mnist_utils import saving
from mnist_utils.errors import FileWriteError

#: Each writer process saves the same network with every weight set to its tag, and the tag
#: in the record, over and over; so a reader can tell whether model and record match.
WRITER = textwrap.dedent(
    """
    import sys
    import keras
    import numpy as np
    from mnist_utils.saving import write_model

    path, tag, rounds = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])
    model.set_weights([np.full(w.shape, tag, np.float32) for w in model.get_weights()])
    print("ready", flush=True)
    for round_ in range(rounds):
        write_model(model, path, {"tag": tag, "round": round_})
    """
)


def _tag_of(model: keras.Model) -> float:
    return float(model.get_weights()[0].flat[0])


def test_concurrent_writers_and_readers_always_see_matching_pairs(tmp_path, tiny_mlp):
    path = tmp_path / "model.keras"
    saving.write_model(tiny_mlp, path, {"tag": None})  # a first version, so readers never find nothing
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(tag), "40"], stdout=subprocess.PIPE, text=True)
        for tag in (1.0, 2.0)
    ]
    for writer in writers:
        assert writer.stdout.readline().strip() == "ready"
    pairs = records = 0
    seen = set()
    deadline = time.monotonic() + 240
    while any(writer.poll() is None for writer in writers) and time.monotonic() < deadline:
        record = saving.read_record(path)
        assert record is not None and record["tag"] in (None, 1.0, 2.0), record  # never empty, never half
        records += 1
        model, record = saving.load_model_and_record(path)
        if record["tag"] is not None:
            assert _tag_of(model) == record["tag"], (_tag_of(model), record)
            seen.add(record["tag"])
        pairs += 1
    for writer in writers:
        assert writer.wait(timeout=60) == 0
    assert seen == {1.0, 2.0}, "the readers never saw both writers' models: the test did not test"
    assert pairs >= 10 and records >= 10
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]  # no temporary file left


def test_a_failure_while_writing_keeps_the_old_pair(tmp_path, tiny_mlp, monkeypatch):
    path = tmp_path / "model.keras"
    saving.write_model(tiny_mlp, path, {"tag": "old"})

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    other = keras.models.clone_model(tiny_mlp)
    monkeypatch.setattr(saving.zipfile.ZipFile, "writestr", fail)
    with pytest.raises(FileWriteError, match="No space left on device"):
        saving.write_model(other, path, {"tag": "new"})
    monkeypatch.undo()
    model, record = saving.load_model_and_record(path)
    assert record == {"tag": "old"}
    np.testing.assert_array_equal(model.get_weights()[0], tiny_mlp.get_weights()[0])
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_the_record_travels_inside_the_keras_file(tmp_path, tiny_mlp):
    path = saving.write_model(tiny_mlp, tmp_path / "m.keras", {"history": {"loss": [0.5]}, "wall_time_s": 1.5})
    assert saving.read_record(path) == {"history": {"loss": [0.5]}, "wall_time_s": 1.5}
    copy = tmp_path / "copy.keras"
    copy.write_bytes(path.read_bytes())  # a copied model keeps its record
    assert saving.read_record(copy)["wall_time_s"] == 1.5
    loaded = keras.models.load_model(path)  # Keras itself still reads the file
    np.testing.assert_array_equal(loaded.get_weights()[0], tiny_mlp.get_weights()[0])
    tiny_mlp.save(tmp_path / "plain.keras")
    assert saving.read_record(tmp_path / "plain.keras") is None  # saved by Keras alone: no record
    assert saving.read_record(tmp_path / "absent.keras") is None
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # readable like any file, not private
