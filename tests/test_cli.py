"""`python -m mnist_utils`, run as a subprocess, the way a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mnist_utils.data import load_mnist


def run(*args: str, cache) -> subprocess.CompletedProcess:
    env = dict(os.environ, MNIST_BOOK_CACHE=str(cache), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "mnist_utils", *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def trained(workdir):
    """A quickly trained MLP (one epoch), saved where the tests can point at it."""
    path = workdir / "mlp.keras"
    result = run("train", "--model", "mlp", "--epochs", "1", "--batch-size", "1024", "--output", str(path),
                 "--quiet", cache=workdir)
    assert result.returncode == 0, result.stderr
    assert path.is_file()
    assert "saved to" in result.stdout and "validation accuracy" in result.stdout
    return path


@pytest.fixture(scope="module")
def digit_files(workdir):
    """Two MNIST test digits as large PNG and JPEG files, dark ink on white paper."""
    _, (x_test, y_test) = load_mnist()
    paths = []
    for index, suffix in ((0, ".png"), (1, ".jpg")):
        image = Image.fromarray(255 - x_test[index]).resize((280, 280), Image.Resampling.BICUBIC)
        path = workdir / f"digit_{y_test[index]}{suffix}"
        image.save(path)
        paths.append(path)
    return paths, y_test[:2]


def test_model_names_match_the_training_module():
    from mnist_utils import cli, training

    assert cli.MODELS == training.MODEL_NAMES


def test_help_lists_the_commands(workdir):
    result = run("--help", cache=workdir)
    assert result.returncode == 0
    for word in ("train", "evaluate", "predict", "Exit codes"):
        assert word in result.stdout


@pytest.mark.parametrize(
    "args",
    [(), ("fly",), ("train",), ("train", "--model", "resnet"), ("predict",), ("predict", "x.png", "--top", "0"),
     ("train", "--model", "mlp", "--epochs", "many")],
)
def test_usage_errors_exit_with_2(workdir, args):
    result = run(*args, cache=workdir)
    assert result.returncode == 2
    assert "usage:" in result.stderr and "Traceback" not in result.stderr


def test_missing_model_is_a_clear_failure(workdir):
    result = run("evaluate", "--model", "mlp", "--model-path", str(workdir / "absent.keras"), cache=workdir)
    assert result.returncode == 1
    assert "no trained model at" in result.stderr and "python -m mnist_utils train --model mlp" in result.stderr
    assert "Traceback" not in result.stderr


def test_default_model_path_is_the_cache(workdir):
    result = run("predict", "--model", "mlp", "x.png", cache=workdir / "empty-cache")
    assert result.returncode == 1
    assert str(workdir / "empty-cache" / "models") in result.stderr


def test_broken_model_file_is_a_clear_failure(workdir):
    broken = workdir / "broken.keras"
    broken.write_bytes(b"not a model")
    result = run("evaluate", "--model-path", str(broken), cache=workdir)
    assert result.returncode == 1
    assert "cannot load the model" in result.stderr and "Traceback" not in result.stderr


def test_evaluate_prints_accuracy_and_confusion_matrix(trained, workdir):
    result = run("evaluate", "--model-path", str(trained), cache=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("test accuracy: ") and "in 10,000 images" in lines[0]
    accuracy = float(lines[0].split()[2].rstrip("%")) / 100
    assert accuracy > 0.9
    matrix = np.array([[int(n) for n in line.split()[1:]] for line in lines[-10:]])
    assert matrix.shape == (10, 10) and matrix.sum() == 10_000
    assert np.trace(matrix) / 10_000 == pytest.approx(accuracy, abs=5e-5)


def test_predict_classifies_image_files(trained, digit_files, workdir):
    paths, labels = digit_files
    result = run("predict", *map(str, paths), "--model-path", str(trained), "--top", "2", cache=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line, path, label in zip(lines, paths, labels):
        assert line.startswith(f"{path}: {label}  (")
        assert line.count("%") == 2


def test_predict_reports_bad_files_and_goes_on(trained, digit_files, workdir):
    not_an_image = workdir / "notes.png"
    not_an_image.write_text("hello")
    blank = workdir / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    good = digit_files[0][0]
    result = run("predict", str(not_an_image), str(workdir / "missing.png"), str(blank), str(good),
                 "--model-path", str(trained), cache=workdir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # TensorFlow may add its own start-up log lines to stderr; ours are the "error:" lines.
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 3
    assert errors[0].startswith(f"{not_an_image}: error: Cannot read")
    assert errors[1].startswith(f"{workdir / 'missing.png'}: error: No image file")
    assert errors[2].startswith(f"{blank}: error: The image is blank")
    assert result.stdout.startswith(f"{good}: ")
