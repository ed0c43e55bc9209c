"""Measure the book's training recipes against the recipes readers would otherwise copy.

Everything is measured in one run, on one machine, so that ratios hold on a noisy machine:

1. the machine's limit: float32 matrix-multiply throughput (TensorFlow and NumPy), measured
   at the start, after the step profiles, after the MLP's recipes and after the CNN's; every
   share of the peak is taken of the fastest of those (the machine's speed drifts);
2. the MLP: the original recipe (Keras defaults: batch 32, constant Adam 1e-3, no XLA)
   against the book's recipe, same architecture: time to a test-accuracy target, training
   samples per second, achieved GFLOP/s;
3. the CNN: the book's recipe against the keras-io "Simple MNIST convnet" recipe;
4. inference: images per second in batches, and single-image latency, in Keras and in
   ONNX Runtime (the models exported as for the book's Draw-a-digit page);
5. the book build: a clean build and a cached rebuild (rendering the stored outputs);
6. a profile of one MLP training step, from the bare matrix products up to Keras's ``fit``,
   which shows what bounds the MLP's throughput, and one of the CNN's step (the network
   alone, its augmentation, the whole step, ``fit``);
7. chapter 6's ensemble (:data:`~mnist_utils.ensemble.ENSEMBLE_RECIPE`): each member's
   training time and accuracy, and the ensembles of its first 1, 2, … members with and
   without test-time shifts, on the validation split they all hold out and on the test set;
8. TensorFlow's oneDNN kernels, which the book keeps off (:mod:`mnist_utils.reproducibility`):
   in child processes with ``TF_ENABLE_ONEDNN_OPTS`` 0 and 1, twice each, the MLP's recipe
   trained (its validation accuracy and a digest of its weights: whether each setting is
   repeatable, and whether the two agree), the CNN's step profile and the matrix product;
9. the CNN's recipe from each of :data:`~benchmarks.cnn_seeds.CNN_SEEDS`: its training time, its validation and
   test accuracy, and its accuracy on chapter 7's digits by other writers (scikit-learn's
   optdigits), per seed, and their mean and spread (the same validation split every time);
10. the frontier on this machine: the CNN's recipe trained for as many epochs as
   :data:`~benchmarks.cnn_seeds.CNN_BUDGET_S` buys (timed first), from the same seeds, and every
   two of those runs as an ensemble, about :data:`~benchmarks.cnn_seeds.ENSEMBLE_BUDGET_S` of training;
11. an ablation of the MLP's accuracy: the same network, seed and validation split trained
   with the original recipe for one epoch, then with one field of the recipe changed at a
   time until it is the book's recipe (see :func:`benchmarks.ablation.ablation_steps`); the validation and test
   accuracy of each step, for each of ``--ablation-seeds``;
12. regularisation of the MLP: its recipe with one change at a time (dropout 0.2 or 0.5 after
   each hidden layer, AdamW's weight decay 0.1 or 1.0, early stopping on the validation loss;
   :data:`~benchmarks.regularisation.VARIANTS`), from each of
   :data:`~benchmarks.regularisation.REGULARISATION_SEEDS` on one split: each run's training
   and validation accuracy after training and their gap, and its curves; the variant with the
   best mean validation accuracy is chosen, and only the chosen variant's and the recipe's
   runs are scored on the test set;
13. batch normalisation in the CNN: its recipe with ``build_cnn(batch_norm=True)`` from each of
   :data:`~benchmarks.cnn_seeds.CNN_SEEDS`: the validation accuracy and training time of each
   seed, against those of the ``cnn_seeds`` section's runs without it (not trained again; no
   test accuracy: the decision is made on validation);
14. what augmentation buys the CNN on other writers' digits: its recipe with one augmentation
   added at a time (:data:`~benchmarks.other_writers.VARIANTS`: elastic distortion, stroke
   thickness, slant and scale, low resolution), the recipe itself trained again alongside, from
   each of :data:`~benchmarks.cnn_seeds.CNN_SEEDS`: each run's time against the recipe's and its
   accuracy on MNIST's validation images and on the other writers' validation half; one variant
   chosen on those, then tested once (MNIST's test set, the other writers' test half) with the
   recipe; and the recipe trained with half of the validation half added, scored on the other half.

Each training recipe runs ``--train-repeats`` times (3 by default) from the same seed:
the accuracy curves are identical (the runs are deterministic), and times, samples per
second and GFLOP/s are the medians of the runs. Other timings are medians of ``--repeats``.

FLOPs per training sample are counted as 6 × parameters: 2 per parameter for the forward
pass's multiply-adds and 4 for the backward pass (gradients with respect to activations and
to weights). For the CNN, whose weights are reused across positions, the count comes from
the layers' multiply-adds instead (see :func:`benchmarks.recipes.conv_flops`).

Each numbered item is a section of ``benchmarks/results.json``, measured by one module of
this package: ``recipes`` (1–4 and 6: :mod:`benchmarks.recipes`, :mod:`benchmarks.profiles`),
``book_build`` (5), ``ensemble`` (7), ``onednn`` (8), ``cnn_seeds`` (9) and ``cnn_frontier``
(10: :mod:`benchmarks.cnn_seeds`), ``ablation`` (11), ``regularisation`` (12:
:mod:`benchmarks.regularisation`) and ``cnn_batchnorm`` (13: :mod:`benchmarks.cnn_batchnorm`) and ``other_writers`` (14:
:mod:`benchmarks.other_writers`).
Every section records its own date, machine and recipe, and :mod:`benchmarks.validate` checks
the whole file before it is written.

Usage: python -m benchmarks [--sections NAME,NAME,...] [--output FILE] [--repeats N] [--train-repeats N]
                            [--smoke] [--ablation-seeds SEED ...]

``--sections`` measures only the sections named (all of them by default) and keeps every
other section of an existing ``--output`` as it was; ``make bench`` runs them all, ``make
ablation`` only ``ablation``. ``python -m benchmarks.memory`` (``make memory``) measures each
chapter's peak memory into ``benchmarks/memory.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import mnist_utils  # noqa: E402, F401  (first: it sets TensorFlow up before TensorFlow loads)
