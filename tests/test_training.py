"""Seeding, recipes, and the load-or-train cache that lets chapters run in any order."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from mnist_utils import training
from mnist_utils.training import MLP_RECIPE, TrainingConfig, load_or_train, model_path, save_model, set_seed

# One quick epoch over the full training part: enough to test the mechanics in seconds.
QUICK = TrainingConfig(batch_size=1024, epochs=1, learning_rate=1e-3, jit_compile=False)


def _weights(model):
    return [w.numpy() if hasattr(w, "numpy") else np.asarray(w) for w in model.weights]


@pytest.fixture(scope="module")
def quick_model():
    model, history = training.train(QUICK)
    return model, history


def test_the_cnn_recipe_and_registry():
    assert training.RECIPES == {"mlp": MLP_RECIPE, "cnn": training.CNN_RECIPE}
    assert training.CNN_RECIPE.model == "cnn" and training.CNN_RECIPE.augment_shift > 0
    with pytest.raises(ValueError, match="augmentation is only implemented for the CNN"):
        dataclasses.replace(MLP_RECIPE, augment_shift=0.1)


def test_the_book_recipe():
    assert MLP_RECIPE == TrainingConfig(
        model="mlp", batch_size=256, epochs=12, learning_rate=1e-3, jit_compile=False, steps_per_execution=32,
        validation_size=6000, seed=42, augment_shift=0.0, augment_rotation=0.0,
    )
    assert MLP_RECIPE.steps_per_epoch(54000) == 211


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"model": "resnet"}, ValueError, "model must be one of 'mlp', 'cnn'; got 'resnet'"),
        ({"batch_size": 0}, ValueError, "batch_size must be between 1 and 60000, got 0"),
        ({"epochs": 2.5}, TypeError, r"epochs must be an integer, got 2.5 \(float\). Pass a whole number"),
        ({"steps_per_execution": 0}, ValueError, "steps_per_execution must be between 1 and 10000"),
        ({"learning_rate": 1}, ValueError, r"learning_rate must be a finite number in \(0, 1\), got 1.0"),
        ({"jit_compile": "no"}, TypeError, "jit_compile must be True or False, got 'no'"),
    ],
)
def test_config_rejects_bad_values(changes, error, message):
    with pytest.raises(error, match=message):
        dataclasses.replace(MLP_RECIPE, **changes)


def test_config_accepts_numpy_scalars_as_the_python_numbers_they_equal():
    config = dataclasses.replace(MLP_RECIPE, epochs=np.int64(12), batch_size=np.int32(256), jit_compile=np.bool_(False))
    assert config == MLP_RECIPE and config.fingerprint() == MLP_RECIPE.fingerprint()
    assert type(config.epochs) is int and type(config.jit_compile) is bool
    assert dataclasses.replace(MLP_RECIPE, learning_rate=np.float64(1e-3)) == MLP_RECIPE


def test_fingerprint_depends_on_every_field():
    prints = {MLP_RECIPE.fingerprint()}
    for changes in ({"batch_size": 128}, {"epochs": 11}, {"seed": 1}, {"jit_compile": True}, {"learning_rate": 2e-3},
                    {"steps_per_execution": 1}, {"split_seed": 42}):
        prints.add(dataclasses.replace(MLP_RECIPE, **changes).fingerprint())
    assert len(prints) == 8
    assert MLP_RECIPE.fingerprint() == TrainingConfig().fingerprint()


def test_split_seed_chooses_the_split_and_is_left_out_of_records_while_unset():
    assert MLP_RECIPE.split_seed is None and MLP_RECIPE.validation_seed == MLP_RECIPE.seed
    assert "split_seed" not in MLP_RECIPE.as_dict()  # saved records and fingerprints from before the field stay valid
    assert {key: value for key, value in dataclasses.asdict(MLP_RECIPE).items() if key != "split_seed"} == MLP_RECIPE.as_dict()
    member = dataclasses.replace(MLP_RECIPE, seed=7, split_seed=42)
    assert member.validation_seed == 42 and member.as_dict()["split_seed"] == 42
    with pytest.raises(ValueError, match="split_seed must be between 0 and 4294967295, got -1"):
        dataclasses.replace(MLP_RECIPE, split_seed=-1)
    with pytest.raises(TypeError, match="split_seed must be an integer"):
        dataclasses.replace(MLP_RECIPE, split_seed="42")


def test_training_validates_on_the_split_of_split_seed(monkeypatch):
    asked = []

    def split(x, y, *, validation_size, seed):
        asked.append(seed)
        raise StopIteration

    monkeypatch.setattr(training, "train_validation_split", split)
    for config, expected in [(MLP_RECIPE, 42), (dataclasses.replace(MLP_RECIPE, seed=3), 3),
                             (dataclasses.replace(MLP_RECIPE, seed=3, split_seed=42), 42)]:
        with pytest.raises(StopIteration):
            training.train(config)
        assert asked.pop() == expected


def test_set_seed_rejects_non_integers():
    with pytest.raises(TypeError, match="seed must be an integer, got '42' \\(str\\)"):
        set_seed("42")
    with pytest.raises(ValueError, match="seed must be between 0 and 4294967295, got -1"):
        set_seed(-1)


def test_training_learns_and_reports_history(quick_model):
    _, history = quick_model
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history["val_accuracy"][-1] > 0.9  # one epoch already does far better than chance


def test_training_is_deterministic(quick_model):
    model, _ = quick_model
    again, _ = training.train(QUICK)
    for a, b in zip(_weights(model), _weights(again)):
        np.testing.assert_array_equal(a, b)


def test_steps_per_execution_changes_speed_only(quick_model):
    model, history = quick_model  # QUICK runs 32 steps per call into TensorFlow
    one_by_one, history_one = training.train(dataclasses.replace(QUICK, steps_per_execution=1))
    for a, b in zip(_weights(model), _weights(one_by_one)):
        np.testing.assert_array_equal(a, b)
    assert history == history_one


def test_tensors_train_the_same_weights_as_numpy_arrays(quick_model):
    """Chapters 4 and 6 hand ``fit`` tensors, for memory; the model is the same, bit for bit."""
    from mnist_utils.models import build_original_mlp
    from mnist_utils.preprocessing import preprocess_for_mlp

    model, history = quick_model  # train converts the images to tensors
    (x_train, y_train), (x_val, y_val) = training._split(QUICK)
    arrays = (preprocess_for_mlp(x_train), y_train), (preprocess_for_mlp(x_val), y_val)
    assert isinstance(arrays[0][0], np.ndarray)
    set_seed(QUICK.seed)
    from_arrays = build_original_mlp()
    training.compile_model(from_arrays, QUICK, len(y_train))
    history_arrays = from_arrays.fit(
        training.training_batches(*arrays[0], QUICK), epochs=QUICK.epochs, validation_data=arrays[1],
        validation_batch_size=QUICK.batch_size, shuffle=False, verbose=0,
    ).history
    for a, b in zip(_weights(model), _weights(from_arrays)):
        np.testing.assert_array_equal(a, b)
    assert history == history_arrays


def test_load_or_train_trains_once_then_loads(tmp_path, monkeypatch, quick_model):
    calls = []

    def fake_trainer(config, verbose=0):
        calls.append(config)
        return quick_model

    monkeypatch.setattr(training, "train", fake_trainer)
    first = load_or_train(QUICK, cache_dir=tmp_path)
    assert calls == [QUICK] and model_path(QUICK, tmp_path).is_file()
    assert training.load_record(QUICK, tmp_path)["wall_time_s"] >= 0
    second = load_or_train(QUICK, cache_dir=tmp_path)
    assert calls == [QUICK]  # loaded, not retrained
    for a, b in zip(_weights(first), _weights(second)):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    np.testing.assert_array_equal(first.predict(x, verbose=0), second.predict(x, verbose=0))


def test_unreadable_saved_model_is_replaced(tmp_path, monkeypatch, quick_model):
    monkeypatch.setattr(training, "train", lambda config, verbose=0: quick_model)
    path = model_path(QUICK, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a keras file")
    with pytest.warns(RuntimeWarning, match="is not a .keras archive.*Training it again"):
        model = load_or_train(QUICK, cache_dir=tmp_path)
    assert isinstance(model, keras.Model)
    assert keras.models.load_model(path).count_params() == model.count_params()


def test_the_module_loads_or_trains_every_recipe_and_says_which(tmp_path, monkeypatch, capsys, quick_model):
    """``python -m mnist_utils.training`` (Binder's postBuild): a saved model is found, a missing one trained."""
    monkeypatch.setenv("MNIST_BOOK_CACHE", str(tmp_path))
    trained = []
    monkeypatch.setattr(training, "train", lambda config, verbose=0: trained.append(config) or quick_model)
    save_model(quick_model[0], training.MLP_RECIPE)  # as if chapter 4 had run
    training.main()
    assert trained == [training.CNN_RECIPE]
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"mlp: found in the cache at {model_path(training.MLP_RECIPE)}",
                       f"cnn: trained and saved at {model_path(training.CNN_RECIPE)}"]
    assert model_path(training.CNN_RECIPE).is_file()


def test_save_model_is_atomic_and_named_by_fingerprint(tmp_path, quick_model):
    model, _ = quick_model
    path = save_model(model, QUICK, tmp_path, history={"loss": [0.5]}, wall_time=3.0)
    assert path == tmp_path / f"mlp-{QUICK.fingerprint()}.keras"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the record is inside; no temporary file left
    record = training.load_record(QUICK, tmp_path)
    assert record["history"] == {"loss": [0.5]} and record["wall_time_s"] == 3.0
    assert record["config"] == QUICK.as_dict()
    assert training.load_record(MLP_RECIPE, tmp_path) is None
    with pytest.raises(TypeError, match="must be a keras.Model"):
        save_model("model", QUICK, tmp_path)


def test_default_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_BOOK_CACHE", str(tmp_path))
    assert model_path(MLP_RECIPE).parent == tmp_path / "models"


def test_chapter_4_writes_out_exactly_what_set_seed_does():
    """Chapter 4 shows set_seed's calls in plain sight: the same calls, giving the same draws."""
    import ast
    import inspect
    import random
    import textwrap

    import tensorflow as tf

    from chapters import code_cell

    def calls(source):
        """The functions called as statements of ``source``, in order."""
        return [ast.unparse(node.value.func) for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]

    # set_seed's last call only checks (it warns if oneDNN is on); the chapter explains it in prose.
    helper = [call for call in calls(textwrap.dedent(inspect.getsource(set_seed))) if call != "warn_if_onednn"]
    assert helper, "set_seed makes no calls"
    source = code_cell("04_training_with_adam", "written_out", "set_seed(")
    shown = calls(source)
    assert shown[:len(helper)] == helper, f"chapter 4 shows {shown}, but set_seed calls {helper}"
    namespace = {"config": MLP_RECIPE, "keras": keras, "tf": tf, "np": np, "random": random, "set_seed": set_seed,
                 "print": lambda *args: None}
    exec(compile(source, "04_training_with_adam.ipynb", "exec"), namespace)  # noqa: S102
    assert namespace["written_out"] == namespace["from_helper"]


def test_training_batches_train_the_same_weights_as_fit_on_arrays():
    """The book's input pipeline changes the speed only: fit's own batches, in fit's own order.

    Two epochs, so that the second epoch's reshuffle is compared too, and a batch size that
    leaves a partial last batch. Fails if the pipeline shuffled, batched or dropped differently.
    """
    from mnist_utils.models import build_original_mlp
    from mnist_utils.preprocessing import preprocess_for_mlp

    config = dataclasses.replace(QUICK, batch_size=300, epochs=2, steps_per_execution=4)
    (x_train, y_train), (x_val, y_val) = training._split(config)
    x_train, y_train = preprocess_for_mlp(x_train[:4000]), y_train[:4000]
    x_val = preprocess_for_mlp(x_val)
    runs = []
    for fed in ("arrays", "training_batches"):
        set_seed(config.seed)
        model = training.compile_model(build_original_mlp(), config, len(x_train))
        if fed == "arrays":  # what the original write-up's fit call does
            history = model.fit(x_train, y_train, batch_size=config.batch_size, epochs=config.epochs,
                                validation_data=(x_val, y_val), verbose=0)
        else:
            history = model.fit(training.training_batches(x_train, y_train, config), epochs=config.epochs,
                                validation_data=(x_val, y_val), validation_batch_size=config.batch_size, shuffle=False,
                                verbose=0)
        runs.append((_weights(model), history.history))
    (weights_arrays, history_arrays), (weights_batches, history_batches) = runs
    for a, b in zip(weights_arrays, weights_batches):
        np.testing.assert_array_equal(a, b)
    assert history_arrays == history_batches
    dataset = training.training_batches(x_train, y_train, config)
    assert [len(labels) for _, labels in dataset] == [300] * 13 + [100]  # every image once per epoch
    assert dataset.options().autotune.enabled is False


@pytest.mark.parametrize(
    ("images", "labels", "config", "error", "message"),
    [
        (np.zeros((5, 784)), np.zeros(4), MLP_RECIPE, ValueError,
         "images and labels must hold the same number of examples, at least one; got 5 images and 4 labels"),
        (np.zeros((0, 784)), np.zeros(0), MLP_RECIPE, ValueError, "got 0 images and 0 labels"),
        (np.zeros((5, 784)), 3, MLP_RECIPE, TypeError, "labels must be an array or tensor of examples, got int"),
        (np.zeros((5, 784)), np.zeros(5), {"batch_size": 256}, TypeError, "config must be a TrainingConfig, got dict"),
    ],
)
def test_training_batches_rejects_bad_input(images, labels, config, error, message):
    with pytest.raises(error, match=message):
        training.training_batches(images, labels, config)


def test_make_test_waits_for_the_chapters_models_or_the_end_of_their_run(tmp_path, monkeypatch, quick_model):
    """tools.wait_for_models: the book build starts once chapters 4 and 6 saved the models, or nbval ended."""
    from tools import wait_for_models

    monkeypatch.setenv("MNIST_BOOK_CACHE", str(tmp_path))
    done = tmp_path / "notebooks.done"
    assert [path.name for path in wait_for_models.wait(done, timeout=0.1, poll=0.01)] == [
        model_path(recipe).name for recipe in training.RECIPES.values()]  # timed out: both missing
    done.write_text("1\n")  # nbval ended (a chapter failed): stop waiting at once
    assert len(wait_for_models.wait(done, timeout=60, poll=0.01)) == 2
    done.unlink()
    for recipe in training.RECIPES.values():
        save_model(quick_model[0], recipe)
    assert wait_for_models.wait(done, timeout=60, poll=0.01) == []


def test_weight_decay_makes_the_optimizer_adamw_and_its_default_is_adam():
    """The hook the benchmark's regularisation section uses; the recipes' optimizer is unchanged."""
    plain = training.make_optimizer(MLP_RECIPE, 100)
    assert type(plain) is keras.optimizers.Adam
    assert type(training.make_optimizer(MLP_RECIPE, 100, weight_decay=0.0)) is keras.optimizers.Adam
    decayed = training.make_optimizer(MLP_RECIPE, 100, weight_decay=0.1)
    assert type(decayed) is keras.optimizers.AdamW and decayed.weight_decay == pytest.approx(0.1)
    assert decayed._learning_rate.get_config() == plain._learning_rate.get_config()  # the same cosine schedule
    from mnist_utils.models import build_original_mlp

    model = training.compile_model(build_original_mlp(), MLP_RECIPE, 1000, weight_decay=1.0)
    assert type(model.optimizer) is keras.optimizers.AdamW and model.optimizer.weight_decay == pytest.approx(1.0)
    assert type(training.compile_model(build_original_mlp(), MLP_RECIPE, 1000).optimizer) is keras.optimizers.Adam
