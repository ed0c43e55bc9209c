"""Train the book's CNN with ``tf.distribute``: on several devices, or in several worker processes.

Chapter 9 uses this module. Its one training function, :func:`train_replicated`, takes a
``tf.distribute`` strategy and is the same for every way of spreading the work:

* :func:`mirrored_strategy` keeps one copy of the network per device of this process
  (GPUs if there are enough, otherwise logical CPU devices made by :func:`split_cpu`);
* :func:`run_workers` starts worker processes on 127.0.0.1, each running
  ``python -m mnist_utils.distributed`` with its own ``TF_CONFIG``, as the machines of a
  cluster would; each worker creates a ``MultiWorkerMirroredStrategy`` and calls the same
  :func:`train_replicated`.

A custom training loop is used rather than ``model.fit``, because Keras 3's ``fit`` fails
under ``MultiWorkerMirroredStrategy`` (keras-team/keras issue 20585); the loop makes every
step of synchronous data parallelism visible.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._validation import check_float, check_int
from .errors import DistributedError, InputTypeError, InputValueError
from .processes import free_ports, peak_memory_bytes, total_memory_bytes
from .saving import weights_digest

__all__ = [
    "mirrored_strategy",
    "replica_devices",
    "run_replicas",
    "run_workers",
    "accuracy_of",
    "training_subset",
    "split_cpu",
    "tf_config",
    "train_replicated",
    "worker_main",
]

#: How many logical CPU devices :func:`split_cpu` makes by default, enough for 1, 2 and 4 replicas.
MAX_REPLICAS = 4


def split_cpu(count: int = MAX_REPLICAS) -> list[str]:
    """Split this process's CPU into ``count`` logical devices and return their names.

    TensorFlow lets a process configure its devices only once, before it first runs an
    operation. Call this first: before any tensor is created or any model is built.
    The logical devices share the same cores; they let a
    :class:`tf.distribute.MirroredStrategy` keep one replica per device on a machine with
    no accelerator. Calling it again with the same ``count`` is harmless.

    Raises
    ------
    InputValueError
        If ``count`` is not between 1 and 64, or if TensorFlow has already started with
        another number of CPU devices (restart the kernel and call this first).
    """
    import tensorflow as tf

    count = check_int(count, "count", minimum=1, maximum=64)
    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError as error:  # the runtime has started: the configuration is fixed
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) != count:
            raise InputValueError(
                f"count is {count}, but TensorFlow has already started with {len(existing)} CPU "
                "device(s), and a process can configure its devices only once: restart the "
                "kernel and call split_cpu before anything else runs in TensorFlow."
            ) from error
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def replica_devices(replicas: int) -> list[str]:
    """The devices for ``replicas`` copies of the network: GPUs if there are enough, else CPUs.

    On a machine with at least ``replicas`` GPUs these are the first ``replicas`` GPUs;
    otherwise the first ``replicas`` logical CPU devices (see :func:`split_cpu`).

    Raises
    ------
    InputValueError
        If there are not enough devices of either kind.
    """
    import tensorflow as tf

    replicas = check_int(replicas, "replicas", minimum=1, maximum=64)
    for kind in ("GPU", "CPU"):
        devices = [device.name for device in tf.config.list_logical_devices(kind)]
        if len(devices) >= replicas:
            return devices[:replicas]
    raise InputValueError(
        f"replicas is {replicas}, but this process has {len(devices)} CPU device(s) and "
        f"fewer GPUs: call split_cpu({replicas}) first, in a fresh process."
    )


def mirrored_strategy(replicas: int):
    """A :class:`tf.distribute.MirroredStrategy` with one replica on each of ``replicas`` devices.

    On GPUs the strategy's default all-reduce is used (NCCL). On logical CPU devices the
    gradients are summed on the first device and the sum copied back to every replica
    (``ReductionToOneDevice``): TensorFlow's collective all-reduce fails inside a custom
    training loop on logical CPU devices, and on devices that share one memory a
    reduction to one of them is what a ring all-reduce would amount to anyway.
    """
    import tensorflow as tf

    devices = replica_devices(replicas)
    on_gpus = all("GPU" in device for device in devices)
    reduce = None if on_gpus else tf.distribute.ReductionToOneDevice(reduce_to_device=devices[0])
    return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=reduce)


def train_replicated(
    strategy,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int,
    config=None,
) -> tuple:
    """Train the book's CNN with ``strategy``: synchronous data parallelism, one step at a time.

    Every step takes one *global* batch of ``config.batch_size`` images, splits it into one
    *per-replica* batch per replica, computes each replica's gradients on its own images,
    sums the replicas' gradients (the all-reduce, inside ``apply_gradients``) and applies
    the same update to every copy of the weights. Each worker process reads its own share
    of the images (``shard``); within a process, consecutive per-replica batches go to
    consecutive replicas. The loss of each replica is divided by the *global* batch size,
    so that the summed gradients are those of the mean loss over the global batch, as in
    training on one device.

    Parameters
    ----------
    strategy:
        A ``tf.distribute`` strategy (:func:`mirrored_strategy`, or a
        ``MultiWorkerMirroredStrategy`` in a worker process).
    images, labels:
        Raw ``uint8`` images ``(n, 28, 28)`` and their labels; ``n`` must be at least one
        global batch. Every worker must be given the same arrays.
    epochs:
        Passes over the images. Each epoch has ``n // config.batch_size`` steps (a last,
        partial batch is dropped, so that every replica gets a batch of the same size).
    config:
        The recipe (default :data:`mnist_utils.training.CNN_RECIPE`): batch size, learning
        rate (cosine-decayed over the whole run), augmentation and seed.

    Returns
    -------
    tuple
        The trained model and a dict: ``replicas``, ``workers``, ``global_batch``,
        ``per_replica_batch``, ``steps_per_epoch``, ``loss`` (mean training loss of each
        epoch) and ``epoch_times_s``.

    Raises
    ------
    InputValueError
        If the global batch does not split evenly over the replicas, or there are fewer
        images than one global batch.
    """
    import keras
    import tensorflow as tf

    from .training import CNN_RECIPE, TrainingConfig, build_model, make_optimizer
    from .training import set_seed

    config = CNN_RECIPE if config is None else config
    if not isinstance(config, TrainingConfig) or config.model != "cnn":
        raise InputTypeError(
            "config must be a TrainingConfig for the 'cnn' model, such as CNN_RECIPE."
        )
    epochs = check_int(epochs, "epochs", minimum=1, maximum=1000)
    images, labels = _check_data(images, labels)
    replicas = strategy.num_replicas_in_sync
    global_batch = config.batch_size
    if global_batch % replicas:
        raise InputValueError(
            f"the global batch ({global_batch}) must split evenly over {replicas} "
            "replicas; "
            "choose a batch size that is a multiple of the number of replicas."
        )
    steps_per_epoch = len(images) // global_batch
    if steps_per_epoch == 0:
        raise InputValueError(
            f"images holds {len(images)} images, fewer than one global batch "
            f"({global_batch})."
        )

    set_seed(config.seed)

    def dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
        # The same shuffled order on every worker; each worker keeps every k-th image.
        data = tf.data.Dataset.from_tensor_slices((images, labels))
        data = data.shuffle(len(images), seed=config.seed)
        data = data.shard(context.num_input_pipelines, context.input_pipeline_id)
        batch = context.get_per_replica_batch_size(global_batch)
        return data.map(_scale).batch(batch, drop_remainder=True).repeat().prefetch(2)

    batches = iter(strategy.distribute_datasets_from_function(dataset))
    with strategy.scope():
        model = build_model(config)  # the CNN, with the recipe's augmentation
        # Adam, cosine-decayed
        optimizer = make_optimizer(config, epochs * steps_per_epoch)
        loss_function = keras.losses.SparseCategoricalCrossentropy(reduction="none")

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            per_image = loss_function(y, model(x, training=True))
            loss = tf.nn.compute_average_loss(per_image, global_batch_size=global_batch)
        gradients = tape.gradient(loss, model.trainable_variables)
        # all-reduce, then update
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    @tf.function
    def run_epoch(batches):
        total = tf.constant(0.0)
        for _ in tf.range(steps_per_epoch):
            per_replica_loss = strategy.run(replica_step, args=next(batches))
            total += strategy.reduce("SUM", per_replica_loss, axis=None)
        return total / steps_per_epoch

    losses, times = [], []
    for _ in range(epochs):
        started = time.perf_counter()
        losses.append(float(run_epoch(batches)))
        times.append(time.perf_counter() - started)
    record = {
        "replicas": replicas,
        "workers": _worker_count(strategy),
        "global_batch": global_batch,
        "per_replica_batch": global_batch // replicas,
        "steps_per_epoch": steps_per_epoch,
        "loss": losses,
        "epoch_times_s": times,
    }
    return model, record


def _scale(x, y):
    import tensorflow as tf

    return tf.cast(x, tf.float32)[..., None] / 255.0, y


def _worker_count(strategy) -> int:
    resolver = getattr(strategy, "cluster_resolver", None)
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    return max(1, len(spec.get("worker", [])) + len(spec.get("chief", [])))


def _check_data(images, labels) -> tuple[np.ndarray, np.ndarray]:
    from ._validation import check_images, check_labels

    images = check_images(images, flat=False, normalized=False)
    labels = check_labels(labels, n=len(images))
    return np.ascontiguousarray(images), np.ascontiguousarray(labels.astype(np.int64))


# ---------------------------------------------------------------------------------------
# Several worker processes on this machine


def tf_config(addresses: Sequence[str], index: int) -> dict:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of workers at ``addresses`` (``host:port``).

    Every worker gets the same ``cluster`` and its own ``task``; worker 0 is the chief,
    which by convention saves the model and writes logs.
    """
    if isinstance(addresses, str) or not all(isinstance(a, str) and ":" in a for a in addresses):
        raise InputTypeError("addresses must be a list of 'host:port' strings, one per worker.")
    index = check_int(index, "index", minimum=0, maximum=len(addresses) - 1)
    return {"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}}


def run_replicas(
    replicas: Sequence[int] = (1, 2, 4), *, train_size: int, epochs: int, timeout: float = 900.0
) -> dict:
    """Train once per entry of ``replicas`` with a :func:`mirrored_strategy`, in a fresh process.

    One process runs ``python -m mnist_utils.distributed --replicas ...``: it splits its CPU
    into as many logical devices as the largest entry needs (GPUs are used instead where
    there are enough), then trains and evaluates once per entry, one after the other.

    Returns
    -------
    dict
        ``runs``: one record per entry (see :func:`worker_main`); ``peak_total_bytes``: the
        largest memory this process and its child held together (proportional set size,
        which counts shared library pages once, as a container's memory limit does);
        ``wall_time_s``.

    Raises
    ------
    DistributedError
        If the process fails or does not finish within ``timeout`` seconds.
    """
    if isinstance(replicas, (int, str)) or not replicas:
        raise InputTypeError("replicas must be a non-empty list of replica counts, such as [1, 2, 4].")
    counts = [check_int(count, "replicas", minimum=1, maximum=64) for count in replicas]
    options = _options(train_size, epochs) + ["--replicas", *map(str, counts)]
    launch = _launch([options], [{}], timeout)
    return {"runs": launch["results"][0]["runs"], **_totals(launch)}


def run_workers(
    workers: int = 2, *, train_size: int, epochs: int, timeout: float = 600.0, host: str = "127.0.0.1"
) -> dict:
    """Train with ``workers`` processes on this machine, each given its own ``TF_CONFIG``.

    Starts ``python -m mnist_utils.distributed`` once per worker, on free ports of ``host``,
    as the machines of a cluster would each start it. The local workers use the CPU only,
    as separate machines would each use their own devices.

    Returns
    -------
    dict
        ``runs``: one record per worker (see :func:`worker_main`), in worker order;
        ``peak_total_bytes`` and ``wall_time_s`` as for :func:`run_replicas`.

    Raises
    ------
    DistributedError
        If a worker fails (its last lines of output are in the message) or the workers do
        not finish within ``timeout`` seconds. Every process is ended before this returns.
    """
    workers = check_int(workers, "workers", minimum=1, maximum=16)
    addresses = [f"{host}:{port}" for port in free_ports(workers, host)]
    environments = [
        {"TF_CONFIG": json.dumps(tf_config(addresses, index)), "CUDA_VISIBLE_DEVICES": "-1"}
        for index in range(workers)
    ]
    launch = _launch([_options(train_size, epochs)] * workers, environments, timeout)
    runs = [dict(result["runs"][0], peak_memory_bytes=result["peak_memory_bytes"]) for result in launch["results"]]
    return {"runs": runs, **_totals(launch)}


def _options(train_size: int, epochs: int) -> list[str]:
    train_size = check_int(train_size, "train_size", minimum=1, maximum=60000)
    epochs = check_int(epochs, "epochs", minimum=1, maximum=1000)
    return ["--train-size", str(train_size), "--epochs", str(epochs)]


def _totals(launch: dict) -> dict:
    return {"peak_total_bytes": launch["peak_total_bytes"], "wall_time_s": launch["wall_time_s"]}


def _launch(options: list[list[str]], environments: list[dict], timeout: float) -> dict:
    """Run one ``mnist_utils.distributed`` process per entry, all at once; end them all, always."""
    timeout = check_float(timeout, "timeout", low=0.0, low_open=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mnist-distributed-") as folder:
        results = [Path(folder) / f"process-{index}.json" for index in range(len(options))]
        logs = [Path(folder) / f"process-{index}.log" for index in range(len(options))]
        processes: list[subprocess.Popen] = []
        try:
            for option, extra, result, log_path in zip(options, environments, results, logs):
                # MALLOC_ARENA_MAX: glibc gives each of TensorFlow's threads its own malloc
                # arena by default; two arenas hold ~0.1 GB less per process, at no measured cost.
                env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MALLOC_ARENA_MAX="2", **extra)
                command = [sys.executable, "-m", "mnist_utils.distributed", *option, "--result", str(result)]
                with open(log_path, "wb") as log:
                    processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                      stdin=subprocess.DEVNULL, start_new_session=True))
            peak = _wait(processes, logs, timeout)
            return {
                "results": [json.loads(path.read_text()) for path in results],
                "peak_total_bytes": peak,
                "wall_time_s": time.perf_counter() - started,
            }
        finally:
            _end(processes)


def _wait(processes: list[subprocess.Popen], logs: list[Path], timeout: float) -> int:
    """Wait for every process; return the peak of their total memory with this process's."""
    deadline = time.monotonic() + timeout
    peak = 0
    while any(process.poll() is None for process in processes):
        peak = max(peak, total_memory_bytes([os.getpid(), *(p.pid for p in processes if p.returncode is None)]))
        failed = [i for i, process in enumerate(processes) if process.returncode not in (None, 0)]
        if failed:  # the others would wait for it forever
            index = failed[0]
            raise DistributedError(
                f"process {index} exited with code {processes[index].returncode}:\n{_tail(logs[index])}"
            )
        if time.monotonic() > deadline:
            raise DistributedError(
                f"the processes did not finish within timeout={timeout:g} s; raise the timeout or "
                f"train on fewer images. The first one's last lines:\n{_tail(logs[0])}"
            )
        time.sleep(0.2)
    for index, process in enumerate(processes):
        if process.returncode != 0:
            raise DistributedError(f"process {index} exited with code {process.returncode}:\n{_tail(logs[index])}")
    return peak


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _end(processes: list[subprocess.Popen]) -> None:
    """Stop each process's whole group, politely and then for good, and reap it."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def worker_main(argv: Sequence[str] | None = None) -> int:
    """Train the CNN on several devices of this process, or as one worker of a cluster.

    With ``--replicas``, this process splits its CPU into logical devices (or uses its
    GPUs) and trains once per count with a :func:`mirrored_strategy`. Without it,
    ``TF_CONFIG`` must tell the process the cluster's addresses and its own index, and it
    trains as one worker with a ``MultiWorkerMirroredStrategy``: the whole program that
    each machine of a cluster would run. Either way it writes, for each run, the record of
    :func:`train_replicated` plus ``test_accuracy``, the ``weights`` digest and the
    process's ``peak_memory_bytes``, as JSON to ``--result``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m mnist_utils.distributed", description=worker_main.__doc__
    )
    add = parser.add_argument
    add("--train-size", type=int, required=True, help="training images to use")
    add("--epochs", type=int, required=True)
    add("--replicas", type=int, nargs="+", help="replica counts to train with, here")
    add("--result", required=True, help="where to write the JSON record")
    args = parser.parse_args(argv)
    if args.replicas is None and "TF_CONFIG" not in os.environ:
        parser.error(
            "pass --replicas, or set TF_CONFIG to make this process one worker of a "
            "cluster"
        )

    import tensorflow as tf

    if args.replicas is None:
        # Created before other TensorFlow work: it sets up this process's runtime.
        strategies = [tf.distribute.MultiWorkerMirroredStrategy()]
        task = json.loads(os.environ["TF_CONFIG"])["task"]
    else:
        split_cpu(max(args.replicas))
        strategies = [
            lambda count=count: mirrored_strategy(count) for count in args.replicas
        ]
        task = None
    from .files import write_text

    (x_train, y_train), (x_test, y_test) = training_subset(args.train_size)
    runs = []
    for strategy in strategies:
        strategy = strategy() if callable(strategy) else strategy
        model, record = train_replicated(strategy, x_train, y_train, epochs=args.epochs)
        record.update(
            task=task,
            test_accuracy=accuracy_of(model, x_test, y_test),
            weights=weights_digest(model),
        )
        runs.append(record)
    result = {"runs": runs, "peak_memory_bytes": peak_memory_bytes()}
    write_text(args.result, json.dumps(result, indent=1) + "\n")
    return 0


def accuracy_of(model, images: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of ``model`` on ``images``, computed by a copy of it outside any strategy.

    A model built under a strategy would spread even its predictions over the replicas;
    a plain copy with the same weights answers the same, on one device.
    """
    from .evaluation import accuracy, predict_probabilities
    from .training import CNN_RECIPE, build_model

    copy = build_model(CNN_RECIPE)
    copy.set_weights(model.get_weights())
    return accuracy(labels, predict_probabilities(copy, images).argmax(axis=1))


def training_subset(size: int):
    """The first ``size`` images of the book's training part, and the whole test set."""
    from .data import load_mnist, train_validation_split
    from .training import CNN_RECIPE

    size = check_int(size, "size", minimum=1, maximum=60000 - CNN_RECIPE.validation_size)
    (x, y), test = load_mnist()
    (x_train, y_train), _ = train_validation_split(
        x, y, validation_size=CNN_RECIPE.validation_size, seed=CNN_RECIPE.validation_seed
    )
    return (x_train[:size], y_train[:size]), test


if __name__ == "__main__":
    sys.exit(worker_main())
