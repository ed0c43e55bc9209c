"""Section ``profiles``: one training step of the MLP and of the CNN, from the bare matrix products up to Keras's ``fit``."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from mnist_utils.evaluation import accuracy
from mnist_utils.models import build_original_mlp
from mnist_utils.training import CNN_RECIPE, MLP_RECIPE, build_model, compile_model, set_seed, training_batches

from benchmarks.common import timed_median
from benchmarks.recipes import conv_flops


def gradient_step(network: keras.Model, optimizer, loss, x, y, apply: bool) -> list:
    """One step's gradients of ``loss`` for ``network`` on the batch ``(x, y)``; with ``apply``, Adam's update too."""
    with tf.GradientTape() as tape:
        value = loss(y, network(x, training=True))
    gradients = tape.gradient(value, network.trainable_variables)
    if apply:
        optimizer.apply_gradients(zip(gradients, network.trainable_variables))
    return gradients


def time_levels(levels: dict, steps: int, repeats: int) -> dict[str, float]:
    """Milliseconds per call of each ``tf.function`` in ``levels``: the median over ``repeats`` of ``steps`` calls.

    Each is called once first (tracing and compiling); the last call's first result is read back,
    so that the timing waits for the computation.
    """
    rows = {}
    for name, function in levels.items():
        function()

        def run(function=function) -> None:
            for _ in range(steps):
                result = function()
            np.asarray(result[0])

        seconds, _ = timed_median(run, repeats)
        rows[name] = seconds / steps * 1000
    return rows


def profile_mlp_step(batch_size: int, repeats: int, steps: int = 20, epoch_size: int = 54_000) -> dict:
    """Where one training step of the MLP spends its time, from the matrix products up.

    Each level adds work to the one before, and is timed as the median over ``repeats``
    of ``steps`` steps (milliseconds per step):

    1. ``matmul``: the step's matrix products only, at the same shapes and one after
       another (per layer: the forward product, and the backward products for the weights'
       and, past the first layer, the inputs' gradients): the most the step can run at;
    2. ``forward_backward``: the model's forward pass, loss and gradients (adds biases,
       relu, softmax and cross-entropy, and the tape's bookkeeping);
    3. ``train_step``: plus Adam's update of the 850,586 weights (elementwise, memory-bound);
    4. ``train_step_xla``: the same step compiled by XLA (``jit_compile=True``), which fuses
       the elementwise work (Keras's ``fit`` will not use XLA while op determinism is on);
    5. ``keras_fit``: one epoch of Keras's ``fit`` on ``epoch_size`` in-memory samples, per
       step (adds batching, shuffling, the loss and accuracy metrics, and callbacks),
       returning to Python after every step;
    6. ``keras_fit_steps_per_execution``: the same with the book's ``steps_per_execution``,
       which runs that many steps per call into TensorFlow;
    7. ``keras_fit_training_batches``: the same again, fed by
       :func:`mnist_utils.training.training_batches` instead of arrays (the same batches,
       without tf.data's autotuner): the book's recipe as chapter 4 runs it.
    """
    set_seed(42)
    model = build_original_mlp()
    optimizer = keras.optimizers.Adam(1e-3)
    loss = keras.losses.SparseCategoricalCrossentropy()
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch_size, 784), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, batch_size))
    widths = [784] + [layer.units for layer in model.layers]
    activations = [tf.constant(rng.random((batch_size, width), dtype=np.float32)) for width in widths]
    kernels = [layer.kernel for layer in model.layers]

    @tf.function
    def matmul():
        products = [tf.zeros(())]
        for layer, (inputs, outputs, kernel) in enumerate(zip(activations, activations[1:], kernels)):
            shapes = [(inputs, kernel, False, False), (inputs, outputs, True, False)]
            if layer > 0:  # no gradient is needed for the input images themselves
                shapes.append((outputs, kernel, False, True))
            for a, b, transpose_a, transpose_b in shapes:
                # One after another, as in a real step (independent products would overlap).
                with tf.control_dependencies([products[-1]]):
                    products.append(tf.linalg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b))
        return products[1:]

    def step(apply: bool):
        return gradient_step(model, optimizer, loss, x, y, apply)

    levels = {
        "matmul": matmul,
        "forward_backward": tf.function(lambda: step(False)),
        "train_step": tf.function(lambda: step(True)),
        "train_step_xla": tf.function(lambda: step(True), jit_compile=True),
    }
    # GFLOP/s use the 6 × parameters convention, as for whole training runs; the products
    # above really cost (6 × kernel weights − 2 × the first layer's) per sample, 24 % less.
    flops = 6.0 * model.count_params() * batch_size
    kernel_weights = [int(np.prod(kernel.shape)) for kernel in kernels]
    actual = 2.0 * batch_size * (3 * sum(kernel_weights) - kernel_weights[0])
    rows = time_levels(levels, steps, repeats)

    # One epoch of the book's training part (54,000 images), so that the epoch's fixed costs
    # (a new iterator, shuffling, end-of-epoch callbacks) weigh as much as in real training.
    # A tensor, as the chapters hand fit (to_training_tensor): handed a NumPy array, every fit
    # call would first copy it into TensorFlow, and the arrays' levels would time that copy too.
    samples = tf.constant(rng.random((epoch_size, 784), dtype=np.float32))
    labels = rng.integers(0, 10, epoch_size)
    batches = int(np.ceil(epoch_size / batch_size))
    per_call = MLP_RECIPE.steps_per_execution
    fed = training_batches(samples, labels, dataclasses.replace(MLP_RECIPE, batch_size=batch_size))
    def fit_arrays():
        return model.fit(samples, labels, batch_size=batch_size, epochs=1, verbose=0)

    fits = {
        "keras_fit": (1, fit_arrays),
        "keras_fit_steps_per_execution": (per_call, fit_arrays),
        "keras_fit_training_batches": (per_call, lambda: model.fit(fed, epochs=1, shuffle=False, verbose=0)),
    }
    for name, (steps_per_call, fit) in fits.items():
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], steps_per_execution=steps_per_call)
        fit()  # trace
        seconds, _ = timed_median(fit, repeats)
        rows[name] = seconds / batches * 1000
    return {
        "batch_size": batch_size,
        "matmul_flops_per_step": actual,
        "convention_flops_per_step": flops,
        "ms_per_step": rows,
        "gflops": {name: flops / (ms / 1000) / 1e9 for name, ms in rows.items()},
    }


def profile_cnn_step(repeats: int, steps: int = 10, epoch_size: int = 54_000) -> dict:
    """Where one training step of the book's CNN spends its time, at its recipe's batch size.

    Each level is timed as the median over ``repeats`` of ``steps`` steps (milliseconds per step):

    1. ``forward_backward``: the network without its augmentation layers: forward pass, loss
       and gradients (the convolutions' and the dense layers' products, and everything between);
    2. ``augmentation``: the random shift and rotation of one batch, alone;
    3. ``train_step``: the whole network with augmentation, plus Adam's update;
    4. ``keras_fit``: one epoch of Keras's ``fit`` fed by :func:`~mnist_utils.training.training_batches`,
       with the recipe's settings, per step (the book's CNN as chapter 6 trains it); the median
       over ``repeats // 2`` epochs (at least one), as an epoch is long.

    GFLOP/s count 6 × the multiply-adds of the Conv2D and Dense layers (``conv_flops``).
    """
    config = CNN_RECIPE
    set_seed(config.seed)
    model = build_model(config)
    bare = build_model(dataclasses.replace(config, augment_shift=0.0, augment_rotation=0.0))
    augmentation = keras.Sequential([layer for layer in model.layers if layer.name.startswith("random_")])
    optimizer = keras.optimizers.Adam(1e-3)
    loss = keras.losses.SparseCategoricalCrossentropy()
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((config.batch_size, 28, 28, 1), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, config.batch_size))

    levels = {
        "forward_backward": tf.function(lambda: gradient_step(bare, optimizer, loss, x, y, False)),
        "augmentation": tf.function(lambda: [augmentation(x, training=True)]),
        "train_step": tf.function(lambda: gradient_step(model, optimizer, loss, x, y, True)),
    }
    rows = time_levels(levels, steps, repeats)
    samples = tf.constant(rng.random((epoch_size, 28, 28, 1), dtype=np.float32))
    labels = rng.integers(0, 10, epoch_size)
    compile_model(model, config, epoch_size)
    fed = training_batches(samples, labels, config)
    model.fit(fed, epochs=1, shuffle=False, verbose=0)  # trace
    seconds, _ = timed_median(lambda: model.fit(fed, epochs=1, shuffle=False, verbose=0), max(1, repeats // 2))
    rows["keras_fit"] = seconds / config.steps_per_epoch(epoch_size) * 1000
    flops = conv_flops(model) * config.batch_size
    return {
        "batch_size": config.batch_size,
        "convention_flops_per_step": flops,
        "ms_per_step": rows,
        "gflops": {name: flops / (ms / 1000) / 1e9 for name, ms in rows.items() if name != "augmentation"},
    }
