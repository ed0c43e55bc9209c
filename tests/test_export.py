"""ONNX export: the exported networks compute what Keras computes, on the whole test set."""

from __future__ import annotations

import keras
import numpy as np
import onnx
import pytest

from chapters import code_cell
from mnist_utils.data import load_mnist
from mnist_utils.export import AUGMENTATION_LAYERS, Parity, check_parity, export_onnx, inference_model
from mnist_utils.models import build_cnn, build_original_mlp
from mnist_utils.training import RECIPES, load_or_train

#: The book's promise for the published models.
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def test_images():
    _, (x_test, _) = load_mnist()
    return x_test


@pytest.mark.book  # after nbval, which trains and caches the chapters' models
@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_trained_models_match_keras_on_the_whole_test_set(name, test_images, tmp_path):
    model = load_or_train(RECIPES[name])
    path = export_onnx(model, tmp_path / f"{name}.onnx")
    onnx.checker.check_model(onnx.load(path))
    parity = check_parity(model, path, test_images)
    assert parity.images == len(test_images) == 10_000
    assert parity.argmax_mismatches == 0
    assert parity.max_abs_diff <= TOLERANCE
    assert parity.holds(TOLERANCE)


def test_inference_model_drops_augmentation_and_shares_weights():
    model = build_cnn(shift=0.1, rotation=0.05)
    network = inference_model(model)
    assert not any(isinstance(layer, AUGMENTATION_LAYERS) for layer in network.layers)
    assert len(network.layers) == len(model.layers) - 2
    assert network.layers[0] is model.layers[2]  # the same layer objects: no weight copied
    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(network(images), model(images, training=False))


def test_inference_model_returns_a_model_without_augmentation_as_is():
    model = build_original_mlp()
    assert inference_model(model) is model


def test_inference_model_rejects_what_it_cannot_rebuild():
    with pytest.raises(TypeError, match="keras.Model"):
        inference_model("model.keras")
    inputs = keras.Input((28, 28, 1))
    functional = keras.Model(inputs, keras.layers.Flatten()(keras.layers.RandomFlip()(inputs)))
    with pytest.raises(ValueError, match="only Sequential"):
        inference_model(functional)


def test_export_writes_the_file_atomically(tmp_path):
    model = build_original_mlp()
    path = export_onnx(model, tmp_path / "nested" / "mlp.onnx")
    assert path.is_file() and path.stat().st_mode & 0o044  # readable by a web server
    assert [child.name for child in path.parent.iterdir()] == ["mlp.onnx"]  # no temporary left


def test_parity_detects_a_model_that_differs(test_images, tmp_path):
    exported = build_original_mlp()
    path = export_onnx(exported, tmp_path / "mlp.onnx")
    other = build_original_mlp()  # fresh random weights
    parity = check_parity(other, path, test_images[:200])
    assert parity.max_abs_diff > 1e-3 and not parity.holds()


def test_parity_rejects_bad_input(tmp_path, test_images):
    model = build_original_mlp()
    with pytest.raises(ValueError, match="export_onnx"):
        check_parity(model, tmp_path / "missing.onnx", test_images[:5])
    path = export_onnx(model, tmp_path / "mlp.onnx")
    with pytest.raises(TypeError, match="raw uint8"):
        check_parity(model, path, test_images[:5].astype(np.float32) / 255)
    with pytest.raises(ValueError, match="empty"):
        check_parity(model, path, test_images[:0])


def test_parity_holds_is_strict():
    assert Parity(images=10, max_abs_diff=1e-6, argmax_mismatches=0).holds()
    assert not Parity(images=10, max_abs_diff=1e-6, argmax_mismatches=1).holds()
    assert not Parity(images=10, max_abs_diff=2e-5, argmax_mismatches=0).holds(1e-5)


def test_the_chapters_export_by_hand_computes_what_export_onnx_computes(test_images, tmp_path, monkeypatch):
    """Chapter 8 shows the export call itself; ``export_onnx`` must compute the same network."""
    import tempfile
    from pathlib import Path

    import onnxruntime

    keras.utils.set_random_seed(3)
    model = build_cnn(shift=0.1, rotation=0.05)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    namespace = {"models": {"cnn": model}, "inference_model": inference_model, "np": np, "Path": Path,
                 "tempfile": tempfile}
    exec(code_cell("08_draw_a_digit", '.export(folder / "cnn-by-hand.onnx"'), namespace)
    by_hand = namespace["folder"] / "cnn-by-hand.onnx"
    helper = export_onnx(model, tmp_path / "helper.onnx")
    images = (test_images[:256] / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
    outputs = []
    for path in (by_hand, helper):
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        outputs.append(session.run(None, {session.get_inputs()[0].name: images})[0])
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert outputs[0].shape == (256, 10)
