"""Make TensorFlow run the same CPU kernels on every processor, as it does for the book.

TensorFlow's CPU kernels come in two families. Its own (Eigen's) are compiled for a baseline
that every x86 CPU it supports runs, so they are the same code everywhere (they still cut
large sums into blocks sized for the processor's caches and cores, so another machine can
change the last decimal places). The oneDNN library's choose their code when they run, from
the instruction sets the CPU offers (AVX2, AVX-512, AMX), so a matrix product adds its terms
in an order that depends on the CPU.
TensorFlow turns them on by default on CPUs with neural-network instructions (such as
AVX-512 VNNI), and off on the others. With them on, a seeded run is still repeatable on one
machine, but it ends in other weights than on a machine without them, and its numbers differ
from the ones the book prints (the Performance appendix's oneDNN section shows by how much).

TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS`` once, when it is first imported. Importing
``mnist_utils`` sets it to ``"0"`` unless it is already set, so **import mnist_utils before
TensorFlow or Keras**, as every chapter does. :func:`~mnist_utils.training.set_seed` warns
when the oneDNN kernels are on anyway (TensorFlow imported first, or the variable set to 1).
The Performance appendix measures what they would buy in speed.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "BOOK_ENVIRONMENT",
    "ONEDNN_VARIABLE",
    "OneDNNWarning",
    "configure_tensorflow",
    "onednn_enabled",
    "warn_if_onednn",
]

#: The environment variable TensorFlow reads, at import, to turn its oneDNN kernels on ("1") or off ("0").
ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
#: What importing mnist_utils sets in the environment, where nothing else has set it.
BOOK_ENVIRONMENT: dict[str, str] = {ONEDNN_VARIABLE: "0"}


#: Whether TensorFlow was already imported when :func:`configure_tensorflow` ran.
_imported_before = False


class OneDNNWarning(RuntimeWarning):
    """TensorFlow's oneDNN kernels are on, so results differ from the book's on this CPU."""


def configure_tensorflow() -> None:
    """Set :data:`BOOK_ENVIRONMENT` in ``os.environ`` where a variable is not set already.

    It takes effect only if TensorFlow has not been imported yet in this process; child
    processes (the benchmark's, the distributed chapter's workers) inherit it.
    """
    global _imported_before
    _imported_before = "tensorflow" in sys.modules
    for name, value in BOOK_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def onednn_enabled() -> bool | None:
    """Whether TensorFlow, as imported in this process, uses its oneDNN kernels.

    Imports TensorFlow if it is not imported yet. Returns ``None`` if this TensorFlow build
    does not say (the answer comes from an internal function that other versions may lack).
    """
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    is_enabled = getattr(_pywrap_util_port, "IsMklEnabled", None)
    return bool(is_enabled()) if callable(is_enabled) else None


def warn_if_onednn() -> bool:
    """Warn (:class:`OneDNNWarning`) if TensorFlow's oneDNN kernels are on; return whether they are.

    Called by :func:`~mnist_utils.training.set_seed`, so that a run whose numbers cannot match
    the book's says so before it trains.
    """
    if not onednn_enabled():
        return False
    value = os.environ.get(ONEDNN_VARIABLE)
    if _imported_before:
        cause = "TensorFlow was imported before mnist_utils"
    elif value != BOOK_ENVIRONMENT[ONEDNN_VARIABLE]:
        cause = f"{ONEDNN_VARIABLE}={value} is set"
    else:  # not expected: TensorFlow read the variable as "0" yet uses oneDNN
        cause = "this TensorFlow build"
    warnings.warn(
        f"TensorFlow's oneDNN kernels are on ({cause}): training is repeatable on this machine, "
        "but it runs other kernels than the book's, and its numbers differ. Import mnist_utils before "
        f"TensorFlow and Keras, or set {ONEDNN_VARIABLE}=0 before starting Python, to run the book's kernels.",
        OneDNNWarning,
        stacklevel=3,
    )
    return True
