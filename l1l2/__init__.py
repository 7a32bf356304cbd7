"""L1 vs L2 weight regularization on a tiny network, in TensorFlow-1-style graph code.

The commands of ./reproduce as functions (l1l2/api.py): compare, sweep, optimum, prune, gifs.
"""

__version__ = "1.1.0"

from .api import compare, gifs, optimum, prune, sweep  # noqa: E402

__all__ = ["__version__", "compare", "gifs", "optimum", "prune", "sweep"]
