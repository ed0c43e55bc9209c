"""``python -m mnist_utils``: see :mod:`mnist_utils.cli`."""

import sys

from .cli import main

sys.exit(main())
