"""tf.distribute training (chapter 9): worker processes on 127.0.0.1, replicas, and clean-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mnist_utils import distributed, processes
from mnist_utils.errors import DistributedError, InputTypeError, InputValueError

#: Two global batches of the CNN recipe (128 images each): a couple of steps per run.
FEW_IMAGES = 256


def _parent(pid: int) -> int:
    """The parent process id of ``pid`` (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state, past the command's name


def _distributed_processes() -> set[int]:
    """Ids of this test process's descendants whose command line runs ``-m mnist_utils.distributed``.

    Only descendants count: ``make test`` runs chapter 9's notebook, which starts workers of its
    own, beside these tests.
    """
    found, me = set(), os.getpid()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"mnist_utils.distributed" in command:
                pid = int(entry.name)
                ancestor = _parent(pid)
                while ancestor > 1 and ancestor != me:
                    ancestor = _parent(ancestor)
                if ancestor == me:
                    found.add(pid)
    return found


@pytest.fixture
def no_process_left_behind():
    before = _distributed_processes()
    yield
    assert _distributed_processes() - before == set(), "a worker process outlived the call"


@pytest.mark.slow
def test_two_workers_on_localhost_agree_on_the_weights(no_process_left_behind):
    result = distributed.run_workers(2, train_size=FEW_IMAGES, epochs=1)
    first, second = result["runs"]
    assert [first["task"], second["task"]] == [{"type": "worker", "index": i} for i in (0, 1)]
    assert first["workers"] == second["workers"] == 2 and first["replicas"] == 2
    assert first["per_replica_batch"] == 64 and first["steps_per_epoch"] == 2
    assert first["weights"] == second["weights"]  # synchronous all-reduce: identical copies
    assert first["loss"] == second["loss"] and 0 < first["loss"][0] < 5
    assert result["peak_total_bytes"] > 0 and first["peak_memory_bytes"] > 0


@pytest.mark.slow
def test_replicas_in_one_process_are_deterministic_for_a_given_count(no_process_left_behind):
    result = distributed.run_replicas([2, 2, 1], train_size=FEW_IMAGES, epochs=1)
    twice, again, single = result["runs"]
    assert [run["replicas"] for run in result["runs"]] == [2, 2, 1]
    assert [run["per_replica_batch"] for run in result["runs"]] == [64, 64, 128]
    assert twice["weights"] == again["weights"] and twice["loss"] == again["loss"]
    assert single["task"] is None and single["workers"] == 1


@pytest.mark.slow
def test_a_worker_whose_peer_never_comes_is_stopped_at_the_timeout(no_process_left_behind):
    addresses = [f"127.0.0.1:{port}" for port in processes.free_ports(2)]
    lonely = {"TF_CONFIG": __import__("json").dumps(distributed.tf_config(addresses, 0)), "CUDA_VISIBLE_DEVICES": "-1"}
    with pytest.raises(DistributedError, match="did not finish within timeout=15 s"):
        distributed._launch([["--train-size", str(FEW_IMAGES), "--epochs", "1"]], [lonely], timeout=15)


def test_a_failing_process_is_reported_with_its_output(no_process_left_behind, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(DistributedError, match=r"(?s)process 0 exited with code 2.*pass --replicas, or set TF_CONFIG"):
        distributed._launch([["--train-size", "10", "--epochs", "1"]], [{}], timeout=60)


def test_free_ports_are_distinct_and_free():
    import socket

    ports = processes.free_ports(4)
    assert len(set(ports)) == 4
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_tf_config_names_the_cluster_and_the_task():
    assert distributed.tf_config(["a:1", "b:2"], 1) == {
        "cluster": {"worker": ["a:1", "b:2"]},
        "task": {"type": "worker", "index": 1},
    }


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: distributed.tf_config("a:1", 0), InputTypeError, "list of 'host:port' strings"),
        (lambda: distributed.tf_config(["a"], 0), InputTypeError, "list of 'host:port' strings"),
        (lambda: distributed.tf_config(["a:1", "b:2"], 2), InputValueError, "index"),
        (lambda: distributed.run_replicas([], train_size=10, epochs=1), InputTypeError, "non-empty list"),
        (lambda: distributed.run_replicas(4, train_size=10, epochs=1), InputTypeError, "non-empty list"),
        (lambda: distributed.run_replicas([0], train_size=10, epochs=1), InputValueError, "replicas"),
        (lambda: distributed.run_workers(0, train_size=10, epochs=1), InputValueError, "workers"),
        (lambda: distributed.run_workers(2, train_size=0, epochs=1), InputValueError, "train_size"),
        (lambda: distributed.run_workers(2, train_size=10, epochs=0), InputValueError, "epochs"),
        (lambda: distributed.run_workers(2, train_size=10, epochs=1, timeout=0), InputValueError, "timeout"),
        (lambda: processes.free_ports(0), InputValueError, "count"),
        (lambda: distributed.split_cpu(0), InputValueError, "count"),
    ],
)
def test_bad_arguments_are_refused_before_any_process_starts(call, error, fragment):
    before = _distributed_processes()
    with pytest.raises(error, match=fragment):
        call()
    assert _distributed_processes() == before


def test_train_replicated_checks_its_inputs():
    import numpy as np

    class OneReplica:
        num_replicas_in_sync = 1

    images = np.zeros((100, 28, 28), np.uint8)
    with pytest.raises(InputValueError, match="fewer than one global batch"):
        distributed.train_replicated(OneReplica(), images, np.zeros(100, np.int64), epochs=1)
    with pytest.raises(InputTypeError, match="TrainingConfig for the 'cnn' model"):
        distributed.train_replicated(OneReplica(), images, np.zeros(100, np.int64), epochs=1, config="cnn")

    class ThreeReplicas:
        num_replicas_in_sync = 3

    with pytest.raises(InputValueError, match="split evenly over 3 replicas"):
        distributed.train_replicated(ThreeReplicas(), np.zeros((300, 28, 28), np.uint8), np.zeros(300, np.int64), epochs=1)


def test_total_memory_counts_this_process_and_skips_the_dead():
    mine = processes.total_memory_bytes([os.getpid()])
    assert mine > 10_000_000
    assert processes.total_memory_bytes([os.getpid(), 2**22 + 12345]) == mine
