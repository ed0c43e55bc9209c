"""Processes on this machine: their peak and shared memory, and free ports to start them on.

The memory bound that every nbval run enforces (the root ``conftest.py``) reads a kernel's
peak with :func:`peak_memory_bytes`; chapter 9 adds up its worker processes' memory with
:func:`total_memory_bytes` and starts them on :func:`free_ports`.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from pathlib import Path

from ._validation import check_int

__all__ = ["free_ports", "peak_memory_bytes", "total_memory_bytes"]


def peak_memory_bytes(pid: int | None = None) -> int | None:
    """Peak resident memory (``VmHWM``) of process ``pid`` (default: this one); ``None`` off Linux."""
    try:
        status = Path(f"/proc/{pid or 'self'}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def total_memory_bytes(pids: Sequence[int]) -> int:
    """The memory that processes ``pids`` hold together: the sum of their proportional set sizes.

    A page shared by k of the processes (TensorFlow's libraries, loaded by each) counts 1/k
    in each, so the sum counts it once, as a container's memory limit does. Processes that
    have exited, or a system without ``/proc``, count 0.
    """
    total = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
                break
    return total


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` different TCP ports that are free on ``host`` now (the OS chooses them)."""
    count = check_int(count, "count", minimum=1, maximum=64)
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:  # all held open at once, so the OS gives different ports
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
