"""`python -m mnist_utils`, the way a user runs it: as a subprocess, and in bulk in-process.

The subprocess tests run the real program, with TensorFlow's logging left at its
default, and check that standard error holds nothing but the program's own one-line
errors. The tables of bad arguments and bad files run ``main()`` in this process (one
TensorFlow start-up for all of them) and check the exit code, that standard output is
empty or the answer, and that standard error is exactly one line per failure.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from bad_inputs import FOREIGN_MODELS, png_claiming

from mnist_utils import __version__, cli
from mnist_utils.data import load_mnist


def run(*args: str, cache, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # TensorFlow's default
    environment.update(MNIST_BOOK_CACHE=str(cache), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "mnist_utils", *args], capture_output=True, text=True, env=environment, timeout=600
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
    from mnist_utils.saving import read_record

    record = read_record(path)  # the same record the chapters' models carry
    assert record["config"]["epochs"] == 1 and len(record["history"]["val_accuracy"]) == 1 and record["wall_time_s"] > 0
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
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("python -m mnist_utils") and "error: " in result.stderr and "--help" in result.stderr


def test_version(workdir):
    result = run("--version", cache=workdir)
    assert result.returncode == 0 and result.stdout == f"python -m mnist_utils {__version__}\n" and result.stderr == ""


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
    assert result.stderr == f"error: --model-path {broken} is not a .keras archive: the file is truncated or damaged. " \
        "Save or train it again.\n"


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
    errors = result.stderr.splitlines()  # nothing else: no TensorFlow log line, no warning
    assert len(errors) == 3, result.stderr
    assert errors[0].startswith(f"{not_an_image}: error: Cannot read")
    assert errors[1].startswith(f"{workdir / 'missing.png'}: error: No image file")
    assert errors[2].startswith(f"{blank}: error: The image is blank") and "pass --dark-ink or --light-ink" in errors[2]
    assert result.stdout.startswith(f"{good}: ")


def test_a_closed_pipe_ends_quietly(trained, digit_files, workdir):
    paths, _ = digit_files
    images = " ".join(str(p) for p in paths * 3)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["MNIST_BOOK_CACHE"] = str(workdir)
    result = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m mnist_utils predict {images} --model-path {trained} | head -1; "
                       "exit ${PIPESTATUS[0]}"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert result.returncode == cli.EXIT_BROKEN_PIPE
    assert result.stdout.startswith(f"{paths[0]}: ") and len(result.stdout.splitlines()) == 1
    assert result.stderr == ""


@pytest.fixture(scope="module")
def bad_images(workdir, digit_files):
    """Image files a user may pass by mistake, each with the start of the error it must get."""
    folder = workdir / "bad-images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    cases = {}

    def add(name: str, fragment: str) -> os.PathLike:
        cases[name] = (folder / name, fragment)
        return folder / name

    Image.fromarray((rng.random((100, 100)) * 255).astype(np.uint8)).save(
        add("noise.png", "No single digit stands out: the ink reaches 4 of the image's 4 edges"))
    page = np.full((100, 200), 255, np.uint8)
    page[:, :100] = 0
    Image.fromarray(page).save(add("half-black.png", "No single digit stands out: a solid dark area reaches 3"))
    _, (x_test, _) = load_mnist()
    Image.fromarray(255 - np.concatenate([x_test[0], x_test[1]], axis=1)).resize((560, 280)).save(
        add("two-digits.png", "pieces side by side"))

    add("claims-65535.png", "at most 25,000,000").write_bytes(png_claiming(65535, 65535))
    Image.new("L", (6000, 5000), 255).save(add("30-megapixels.png", "has 6000×5000 = 30,000,000 pixels"))
    Image.new("LAB", (60, 60)).save(add("lab.tif", "blank"))
    palette_bmp = io.BytesIO()
    Image.new("P", (60, 60)).save(palette_bmp, format="BMP")
    broken = bytearray(palette_bmp.getvalue())
    broken[46:50] = (2**20).to_bytes(4, "little")  # the header's palette size: a million colours
    add("broken-palette.bmp", "Unsupported BMP Palette size").write_bytes(bytes(broken))
    add("palette-cut.bmp", "Cannot read").write_bytes(palette_bmp.getvalue()[:154])  # ends inside the palette
    add("notes.png", "Cannot read").write_text("hello")
    add("empty.png", "Cannot read").write_bytes(b"")
    whole = digit_files[0][0].read_bytes()
    add("truncated.png", "Cannot read").write_bytes(whole[: len(whole) // 3])
    add("folder.png", "it is a folder").mkdir()
    cases["missing.png"] = (folder / "missing.png", "No image file at")
    cases["long"] = (folder / ("d" * 300 + ".png"), "File name too long")
    return cases


def main_in_process(capfd, monkeypatch, *args: str, cache) -> tuple[int, str, str]:
    """Run ``main(args)`` here; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("MNIST_BOOK_CACHE", str(cache))
    capfd.readouterr()
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exit_:  # argparse's usage errors, --help, --version
        code = exit_.code
    out, err = capfd.readouterr()
    return code, out, err


USAGE_ERRORS = [
    ([], "the following arguments are required: COMMAND"),
    (["fly"], "invalid choice: 'fly'"),
    (["--bogus"], "the following arguments are required"),
    (["train"], "the following arguments are required: --model"),
    (["train", "--model", "resnet"], "invalid choice: 'resnet'"),
    (["train", "--model", "mlp", "--epochs", "many"], "expected a positive integer, got 'many'"),
    (["train", "--model", "mlp", "--epochs", "0"], "expected a positive integer, got 0"),
    (["train", "--model", "mlp", "--epochs", "-2"], "expected a positive integer"),
    (["train", "--model", "mlp", "--epochs", "100000"], "epochs must be between 1 and 10000, got 100000"),
    (["train", "--model", "mlp", "--batch-size", "70000"], "batch_size must be between 1 and 60000"),
    (["train", "--model", "mlp", "--output", "model.txt"], "--output must end in .keras, got 'model.txt'"),
    (["train", "--model", "mlp", "--output", ""], "expected a file name, got an empty string"),
    (["train", "--model", "cnn", "--output", "/tmp"], "must end in .keras"),
    (["predict"], "the following arguments are required: IMAGE"),
    (["predict", "x.png", "--top", "0"], "expected a positive integer, got 0"),
    (["predict", "x.png", "--top", "11"], "expected 1 to 10 (there are ten digits), got 11"),
    (["predict", "x.png", "--dark-ink", "--light-ink"], "not allowed with argument --dark-ink"),
    (["predict", "x.png", "--model", "rnn"], "invalid choice: 'rnn'"),
    (["predict", ""], "expected a file name, got an empty string"),
    (["evaluate", "--model-path", ""], "expected a file name"),
    (["evaluate", "--model", "mlp", "extra"], "unrecognized arguments: extra"),
]


@pytest.mark.parametrize(("args", "fragment"), USAGE_ERRORS, ids=[" ".join(a) or "(nothing)" for a, _ in USAGE_ERRORS])
def test_usage_errors_in_process(capfd, monkeypatch, workdir, args, fragment):
    code, out, err = main_in_process(capfd, monkeypatch, *args, cache=workdir)
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert len(err.splitlines()) == 1 and fragment in err, err


def test_a_folder_as_output_is_a_usage_error(capfd, monkeypatch, workdir):
    (workdir / "model-folder.keras").mkdir(exist_ok=True)
    code, out, err = main_in_process(capfd, monkeypatch, "train", "--model", "mlp", "--output",
                                     workdir / "model-folder.keras", cache=workdir)
    assert code == cli.EXIT_USAGE and out == "" and "is a folder; give a file name inside it" in err


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        ("output under a file", "is a file, not a folder"),
        ("cache is a file", "cannot write the model cache"),
    ],
)
def test_unwritable_outputs_fail_before_training(capfd, monkeypatch, workdir, setup, fragment):
    blocker = workdir / "a-file"
    blocker.write_text("not a folder")
    args = ["train", "--model", "mlp", "--quiet"]
    cache = workdir
    if setup == "output under a file":
        args += ["--output", blocker / "model.keras"]
    else:
        cache = blocker
    started = time.perf_counter()
    code, out, err = main_in_process(capfd, monkeypatch, *args, cache=cache)
    assert time.perf_counter() - started < 30  # refused at once, not after a training run
    assert code == cli.EXIT_FAILURE and out == ""
    assert err.startswith("error: ") and fragment in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize(("name", "fragment"), FOREIGN_MODELS)
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_foreign_or_broken_models_are_refused(capfd, monkeypatch, workdir, model_files, digit_files, name, fragment,
                                              command):
    images = [digit_files[0][0]] if command == "predict" else []
    code, out, err = main_in_process(capfd, monkeypatch, command, *images, "--model-path", model_files[name],
                                     cache=workdir)
    assert code == cli.EXIT_FAILURE and out == ""
    assert err.startswith("error: ") and "--model-path" in err and fragment in err and len(err.splitlines()) == 1, err


def test_predict_reports_every_bad_file_in_one_line_and_goes_on(capfd, monkeypatch, workdir, trained, digit_files,
                                                                 bad_images):
    good = digit_files[0][0]
    paths = [path for path, _ in bad_images.values()]
    code, out, err = main_in_process(capfd, monkeypatch, "predict", *paths, good, "--model-path", trained,
                                     cache=workdir)
    assert code == cli.EXIT_FAILURE
    lines = err.splitlines()
    assert len(lines) == len(bad_images), err
    for line, (path, fragment) in zip(lines, bad_images.values()):
        assert line.startswith(f"{path}: error: ") and fragment in line, line
    assert out.splitlines() == [line for line in out.splitlines() if line.startswith(f"{good}: ")] and len(out.splitlines()) == 1


@pytest.mark.parametrize("seed", range(10))
def test_predict_on_fuzzed_files(capfd, monkeypatch, workdir, trained, digit_files, seed):
    """A damaged image file: an answer or one error line, never a traceback."""
    rng = np.random.default_rng(seed)
    source = digit_files[0][seed % 2]
    raw = bytearray(source.read_bytes())
    for _ in range(int(rng.integers(1, 8))):
        raw[int(rng.integers(0, len(raw)))] = int(rng.integers(0, 256))
    if seed % 3 == 0:
        raw = raw[: int(rng.integers(1, len(raw)))]
    path = workdir / f"fuzzed-{seed}{source.suffix}"
    path.write_bytes(bytes(raw))
    code, out, err = main_in_process(capfd, monkeypatch, "predict", path, "--model-path", trained, cache=workdir)
    if code == cli.EXIT_OK:
        assert out.startswith(f"{path}: ") and err == ""
    else:
        assert code == cli.EXIT_FAILURE and out == ""
        assert err.startswith(f"{path}: error: ") and len(err.splitlines()) == 1, err


def test_the_listed_examples_from_a_real_process(workdir, trained, model_files, bad_images):
    """The failures the README lists, run as a user runs them: one line each on stderr, nothing else."""
    names = ["claims-65535.png", "lab.tif", "broken-palette.bmp", "long", "noise.png"]
    result = run("predict", *(str(bad_images[n][0]) for n in names), "--model-path", str(trained), cache=workdir)
    assert result.returncode == 1 and result.stdout == ""
    assert [line.split(": error: ")[0] for line in result.stderr.splitlines()] == [str(bad_images[n][0]) for n in names]
    for model in ("five_inputs", "three_classes", "logits"):
        result = run("predict", str(bad_images["noise.png"][0]), "--model-path", str(model_files[model]), cache=workdir)
        assert result.returncode == 1 and result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
    result = run("train", "--model", "mlp", "--output", str(workdir / "model.txt"), cache=workdir)
    assert result.returncode == 2 and result.stdout == "" and len(result.stderr.splitlines()) == 1
