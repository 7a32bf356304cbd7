"""Peers of the project's engines for the benchmark: the same work in Numba and in JAX.

The work (issue 25): per-sample SGD of many 1-10-10-10-1 identity networks, half of them L1 0.3
and half L2 0.3, learning rate 0.01, the 40 training rows of data/line.csv in the file's order,
the project's Glorot initialisation (l1l2.core.model.glorot_init, seed r for model r). Each
peer returns the final weights models first (as model.stack makes them) and the first step whose
cost was not finite (-1 if none), so that bench_engine.py checks them against the project's
engines before it times them. Optional dev dependencies: requirements-bench.txt.
"""
