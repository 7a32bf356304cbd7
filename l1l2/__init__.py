"""L1 vs L2 weight regularization on a tiny network, in TensorFlow-1-style graph code."""
