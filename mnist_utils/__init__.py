"""Helpers shared by the chapters of *Handwritten digits with Keras*.

Modules
-------
:mod:`mnist_utils.data`
    Load the shipped, checksum-verified MNIST archive.
:mod:`mnist_utils.preprocessing`
    Normalise and flatten images.
:mod:`mnist_utils.models`
    Build the book's networks.
:mod:`mnist_utils.training`
    Seeding, the training recipe, and a cache of trained models.
:mod:`mnist_utils.evaluation`
    Accuracy, confusion matrices and per-class metrics.
:mod:`mnist_utils.ensemble`
    Average several networks, and shifted copies of each image (test-time augmentation).
:mod:`mnist_utils.benchmark`
    Read the benchmark's records, and say which run a page shows.
:mod:`mnist_utils.plotting`
    Figures shared by several chapters.
:mod:`mnist_utils.handwriting`
    Turn any picture of one digit into MNIST's format, or say why there is no digit.
:mod:`mnist_utils.sample_pictures`
    MNIST digits disguised as photos, and digits by other writers, to try the pipeline on.
:mod:`mnist_utils.export`
    Export a model to ONNX and check that ONNX Runtime agrees with Keras.
:mod:`mnist_utils.distributed`
    Train the CNN with ``tf.distribute``: replicas on several devices, or worker processes.
:mod:`mnist_utils.processes`
    Processes on this machine: peak and shared memory, free ports.
:mod:`mnist_utils.saving`
    Save and load models, each with its record inside, and check what is loaded.
:mod:`mnist_utils.reproducibility`
    The TensorFlow settings that run the book's kernels on every CPU (applied on import).
:mod:`mnist_utils.files`
    Write every file atomically (temporary file, then rename).
:mod:`mnist_utils.errors`
    The package's exceptions: the only ones its functions raise for bad input.
:mod:`mnist_utils.cli`
    ``python -m mnist_utils``.
"""

from mnist_utils.reproducibility import configure_tensorflow as _configure_tensorflow

# Before any module imports TensorFlow: it reads these settings once, when it is first imported.
_configure_tensorflow()

__version__ = "1.0.0"
