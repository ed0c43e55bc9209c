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
:mod:`mnist_utils.plotting`
    Figures shared by several chapters.
"""

__version__ = "1.0.0"
