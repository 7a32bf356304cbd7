"""TensorFlow in TF1 graph mode, imported on first use, with CPU-independent arithmetic.

`tf` and `v1` (tf.compat.v1) stand in for the modules until an attribute is first read, so the
command line parses flags and prints --help without the 3 s TensorFlow import. On that import:
eager execution is disabled (graphs and Sessions, the TF1 way), the C++ start-up lines are muted
and Keras, which nothing here uses, is left out.

Two settings make every engine do the same float operations in the same order, so the in-graph
loop reproduces the reference loop and a seed gives the same numbers on any x86 machine:
- oneDNN is off, whatever the environment says: it picks kernels by the CPU's instruction set at
  run time, and its 2-D MatMul sums in another order than the batched one.
- Grappler's arithmetic rewrite is off in `session()`: it regroups sums of losses differently for
  scalars and for one-entry vectors.
"""

import contextlib
import functools
import os
import signal
import sys
import threading

from .lazy import Lazy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ONEDNN_ASKED = os.environ.get("TF_ENABLE_ONEDNN_OPTS")  # what the environment asked for, recorded
ONEDNN_FORCED = "0"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = ONEDNN_FORCED  # read by TensorFlow when it loads


def onednn_enabled() -> bool | None:
    """Whether TensorFlow runs with oneDNN, by its own account; None if it is not loaded."""
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


@functools.cache
def _tensorflow():
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # its C++ side prints CUDA-probe lines before any log level applies
    try:
        with _interrupts_after(), _without_keras():
            import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    tensorflow.compat.v1.disable_eager_execution()
    tensorflow.get_logger().setLevel("ERROR")
    return tensorflow


@contextlib.contextmanager
def _without_keras():
    """TensorFlow's import also imports Keras, if it can, to register Keras' optimizers: ~1.5 s
    (a third of the import) for nothing this package uses. Keras is unimportable for that moment
    (TensorFlow skips it then); `tf.keras` still loads it on first use."""
    if "keras" in sys.modules:
        yield
        return
    sys.modules["keras"] = None  # `import keras` raises ImportError
    try:
        yield
    finally:
        if "keras" in sys.modules and sys.modules["keras"] is None:
            del sys.modules["keras"]


@contextlib.contextmanager
def _interrupts_after():
    """Ctrl-C, SIGTERM and SIGHUP wait until the block is done, then interrupt: an interrupt in
    the middle of TensorFlow's import can be swallowed by its import code."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got = []
    old = {s: signal.signal(s, lambda n, _: got.append(n)) for s in INTERRUPTS}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if got:
        raise KeyboardInterrupt


INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def load() -> str:
    """Import TensorFlow now (a command says so, as it takes seconds); its version. Through the
    stand-in, so that a missing TensorFlow is one line naming the install command."""
    return tf.version.VERSION


def loaded() -> bool:
    return _tensorflow.cache_info().currsize > 0


tf = Lazy(_tensorflow)
v1 = Lazy(lambda: _tensorflow().compat.v1)


@functools.cache
def _config():
    config = v1.ConfigProto()
    config.graph_options.rewrite_options.arithmetic_optimization = (
        config.graph_options.rewrite_options.OFF
    )
    return config


def session(graph: "tf.Graph") -> "v1.Session":
    """A v1.Session on graph that keeps the order of float operations as built."""
    return v1.Session(graph=graph, config=_config())
