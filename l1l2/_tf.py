"""TensorFlow, imported once, quietly, in TF1 graph mode, with arithmetic that does not depend on the CPU.

Two settings make every engine do the same float operations in the same order, so the
in-graph loop reproduces the reference loop bit for bit (tests/test_engine.py) and a
seed gives the same numbers on any x86 machine:
- oneDNN is off: it picks kernels by the CPU's instruction set at run time, and its 2-D
  MatMul sums in another order than the batched one; TF's Eigen kernels are fixed at build.
- Grappler's arithmetic rewrite is off in `session()`: it regroups sums of losses
  differently for scalars and for one-entry vectors.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _import_quietly():
    """Import tensorflow with fd 2 muted: its C++ side prints CUDA-probe lines before any log level applies."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow


tf = _import_quietly()
tf.compat.v1.disable_eager_execution()
tf.get_logger().setLevel("ERROR")
v1 = tf.compat.v1

_CONFIG = v1.ConfigProto()
_CONFIG.graph_options.rewrite_options.arithmetic_optimization = \
    _CONFIG.graph_options.rewrite_options.OFF


def session(graph):
    """A v1.Session on graph that keeps the order of float operations as built."""
    return v1.Session(graph=graph, config=_CONFIG)
