"""L1 vs L2 weight regularization on a tiny network, in TensorFlow-1-style graph code."""

__version__ = "1.1.0"
