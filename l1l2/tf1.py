"""TensorFlow in TF1 graph mode, imported on first use, with CPU-independent arithmetic.

`tf` and `v1` (tf.compat.v1) stand in for the modules until an attribute is first read, so the
command line parses flags and prints --help without the 3 s TensorFlow import. On that import:
eager execution is disabled (graphs and Sessions, the TF1 way), the C++ start-up lines are muted
and Keras, which nothing here uses, is left out.

Two settings make every engine do the same float operations in the same order, so the in-graph
loop reproduces the reference loop and a seed gives the same numbers on any x86 machine:
- oneDNN is off, whatever the environment says: it picks kernels by the CPU's instruction set at
  run time, and its 2-D MatMul sums in another order than the batched one.
- Grappler, TensorFlow's graph optimizer, is off in `session()`: its arithmetic rewrite regroups
  sums of losses differently for scalars and for one-entry vectors.

One setting makes the compiled engine (core/compiled.py) fast: XLA's CPU backend compiles a
while loop whose body touches fewer than `xla_cpu_small_while_loop_byte_threshold` bytes as one
kernel (the loop and every op of its body in one function) instead of calling a kernel per fused
op and per iteration from its runtime. The threshold is raised here so that the whole SGD loop is
one kernel: 1.5-3x the steps per second, the same bits for identity networks. A second one lets
XLA update the loop's weights in place: with `--xla_cpu_copy_insertion_use_region_analysis`, its
copy insertion sees that every read of the old weights comes before their update and leaves out
the copy of each weight array it otherwise makes at every SGD step (1.1-1.2x at 1,000 models;
the same bits). A third compiles with LLVM's -O2 instead of XLA's default -O3
(`--xla_backend_optimization_level=2`): 1.07-1.1x at 1,000 and 10,000 models, the same bits. A
fourth lets LLVM use 512-bit vectors where the CPU has AVX-512 (`--xla_cpu_prefer_vector_width=512`;
XLA's default is 256): a block's 32 models (core/compiled.py) fill two registers instead of four;
with models_last.sign's selects, 1,000 models ran at 66-69M model-steps/s against 41M before
(blocks of 16, 256 bits; 2 alternated rounds), the same bits. All four are merged into the
XLA_FLAGS the environment has (a value the user set for any of them wins), before TensorFlow
reads them. And glibc's malloc is tuned before TensorFlow starts
its threads (MALLOC_OPTIONS): less peak memory, the same speed.
"""

import contextlib
import ctypes
import functools
import os
import signal
import sys
import threading
from pathlib import Path

from . import xla_cache
from .lazy import Lazy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ONEDNN_ASKED = os.environ.get("TF_ENABLE_ONEDNN_OPTS")  # what the environment asked for, recorded
ONEDNN_FORCED = "0"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = ONEDNN_FORCED  # read by TensorFlow when it loads

BACKEND_OPTIONS = "--xla_backend_extra_options"
WHILE_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"
WHILE_LOOP_BYTES = 10**12  # every loop of the compiled engine counts as small


def with_while_loop_threshold(flags: str) -> str:
    """XLA_FLAGS `flags` with WHILE_LOOP_OPTION added to its backend options (a new
    --xla_backend_extra_options flag, or the user's one extended); unchanged if they set it."""
    words = flags.split()
    for j, word in enumerate(words):
        name, _, value = word.partition("=")
        if name == BACKEND_OPTIONS:
            options = [o for o in value.split(",") if o]
            if any(o.partition("=")[0] == WHILE_LOOP_OPTION for o in options):
                return flags
            words[j] = f"{name}={','.join([*options, f'{WHILE_LOOP_OPTION}={WHILE_LOOP_BYTES}'])}"
            return " ".join(words)
    return " ".join([*words, f"{BACKEND_OPTIONS}={WHILE_LOOP_OPTION}={WHILE_LOOP_BYTES}"])


REGION_ANALYSIS = "--xla_cpu_copy_insertion_use_region_analysis"
OPT_LEVEL = "--xla_backend_optimization_level"
VECTOR_WIDTH = "--xla_cpu_prefer_vector_width"
OUR_FLAGS = {REGION_ANALYSIS: "true", OPT_LEVEL: "2", VECTOR_WIDTH: "512"}  # flag: our value


def with_flag(flags: str, name: str, value: str) -> str:
    """XLA_FLAGS `flags` with name=value added; unchanged if they set name."""
    words = flags.split()
    if any(word.partition("=")[0] == name for word in words):
        return flags
    return " ".join([*words, f"{name}={value}"])


def with_our_flags(flags: str) -> str:
    """XLA_FLAGS `flags` with the while-loop threshold and OUR_FLAGS added."""
    flags = with_while_loop_threshold(flags)
    for name, value in OUR_FLAGS.items():
        flags = with_flag(flags, name, value)
    return flags


XLA_FLAGS_ASKED = os.environ.get("XLA_FLAGS")  # what the environment asked for, recorded
os.environ["XLA_FLAGS"] = with_our_flags(XLA_FLAGS_ASKED or "")  # read at XLA's start


def xla_flags() -> str:
    """The XLA_FLAGS XLA reads when it starts: the environment's, with ours (with_our_flags)."""
    return os.environ.get("XLA_FLAGS", "")


def onednn_enabled() -> bool | None:
    """Whether TensorFlow runs with oneDNN, by its own account; None if it is not loaded."""
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


# glibc's malloc (mallopt parameters), set before TensorFlow starts its threads: at most 2 arenas
# (one per thread that allocates, up to 8 per core, each keeping the memory it freed), and every
# block from 256 KB up mapped on its own, returned to the system when freed (by default glibc
# raises that threshold up to 32 MB once such a block is freed, after which XLA's buffers come
# from the heap and stay). The peak RSS of 10,000 models went from 871-887 MB to 793 MB, the
# steady rate the same (bench/README.md). A variable the user set for either wins.
MALLOC_OPTIONS = {"MALLOC_ARENA_MAX": (-8, 2), "MALLOC_MMAP_THRESHOLD_": (-3, 256 * 1024)}


def malloc_options(environ: "dict[str, str]") -> list[tuple[int, int]]:
    """The (mallopt parameter, value) pairs of MALLOC_OPTIONS to set: none if the environment
    tunes glibc's malloc (GLIBC_TUNABLES), else those whose variable it does not set."""
    if "glibc.malloc." in environ.get("GLIBC_TUNABLES", ""):
        return []
    return [option for name, option in MALLOC_OPTIONS.items() if name not in environ]


def _set_malloc_options() -> None:
    """mallopt(malloc_options()); nothing where the C library has no mallopt (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    for parameter, value in malloc_options(dict(os.environ)):
        mallopt(ctypes.c_int(parameter), ctypes.c_int(value))


TF_XLA_FLAGS_ASKED = os.environ.get("TF_XLA_FLAGS")  # what the environment asked for, recorded
_xla_cache: list = []  # the folder of the persistent XLA cache in use, once TensorFlow loads


def xla_cache_dir() -> "Path | None":
    """The folder of TensorFlow's persistent XLA cache in this process (xla_cache.py); None if
    it is off or TensorFlow has not loaded."""
    return _xla_cache[0] if _xla_cache else None


def seal_xla_cache() -> None:
    """Mark the cache entries written so far as whole (after a run that used them)."""
    xla_cache.seal(xla_cache_dir())


@functools.cache
def _tensorflow():
    # before TensorFlow reads its flags and the folder; one folder per set of XLA flags
    folder = xla_cache.prepare(f"{xla_flags()}\n{TF_XLA_FLAGS_ASKED or ''}")
    _xla_cache.append(folder)
    os.environ["TF_XLA_FLAGS"] = xla_cache.with_cache(TF_XLA_FLAGS_ASKED or "", folder)
    _set_malloc_options()
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
def _config(one_thread: bool = False):
    config = v1.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    if one_thread:
        config.experimental.executor_type = "SINGLE_THREADED_EXECUTOR"
    return config


def session(graph: "tf.Graph", one_thread: bool = False) -> "v1.Session":
    """A v1.Session on graph, without TensorFlow's graph optimizer (Grappler): it runs the
    float operations as built, and the time its passes take at each new fetch (0.3-0.5 s for a
    graph that calls the compiled loop) buys nothing on these small graphs.

    With `one_thread`, the ops of a call run one after another on the calling thread
    (TensorFlow's single-threaded executor; a big op still spreads over the cores) instead of
    being handed to a pool of threads as they become ready: on a graph of many tiny ops, the
    SGD loops of a few models, the hand-offs cost more than the concurrency gains. The default
    run's in-graph loop of 30 models ran in 0.37-0.39 s against 0.79 s, the retraining's in
    0.14 s against 0.26 s, 5 reference epochs of 3 models in 0.46-0.49 s against 0.56-0.59 s;
    the same bits. That executor refuses TF1's reference variables (`use_resource=False`)."""
    return v1.Session(graph=graph, config=_config(one_thread))
