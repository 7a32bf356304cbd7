"""TF1 checkpoints of single models, written with Saver and read back by name with checked shapes.

Restoring into a graph of other shapes silently succeeds with resource variables on
TF 2.x, so loading never goes through Saver.restore: arrays are read by name with a
checkpoint reader, and the variables, values and layer chain are checked here.
"""
import glob
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import file_problem
from ..tf1 import session, tf, v1
from . import model

PREFIX = "model"
LAYER_VAR = re.compile(r"dense([1-9]\d*)/([Wb])")


class CheckpointError(InputError):
    pass


def save(folder, params, activation="identity"):
    """Write one model (single-model shapes) as folder/model.* with tf.compat.v1.train.Saver.

    The `checkpoint` state file holds paths relative to folder, so the folder can be moved."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    g = tf.Graph()
    with g.as_default():
        model.build(v1.placeholder(tf.float32, [None, 1]), tf.zeros([1, 1]), params, None, activation)
        saver = v1.train.Saver(save_relative_paths=True)
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            saver.save(sess, str(folder / PREFIX), write_meta_graph=False)


def load(path):
    """The float32 parameter dict of a checkpoint folder (or prefix); CheckpointError names what is wrong."""
    path = Path(path)
    prefix = _prefix(path)
    check_files(path, prefix)
    try:
        reader = v1.train.NewCheckpointReader(str(prefix))
        arrays = {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}
    except Exception as e:  # TF raises several types for damaged files
        raise CheckpointError(f"checkpoint {path} cannot be read: {e.__class__.__name__}") from None
    check_names(arrays, path)
    params = {k: _as_float32(a, k, path) for k, a in arrays.items()}
    check_shapes(params, path)
    return params


def _prefix(path):
    if path.is_dir():
        return path / PREFIX
    return path.with_suffix("") if path.suffix == ".index" else path


def check_files(path, prefix):
    """The index and data files must be regular files: a FIFO would block the reader forever."""
    problem = file_problem(f"{prefix}.index")
    if problem == "not found":
        raise CheckpointError(f"no checkpoint at {path} (expected {prefix}.index)")
    shards = sorted(glob.glob(glob.escape(str(prefix)) + ".data-*"))
    for f in [f"{prefix}.index", *shards]:
        if problem := file_problem(f):
            raise CheckpointError(f"checkpoint {path} cannot be read: {f} {problem}")


def check_names(arrays, path):
    """Exactly dense1/W, dense1/b, ..., denseK/W, denseK/b."""
    alpha = sorted(k for k in arrays if re.fullmatch(r"dense\d+/alpha", k))
    if alpha:
        raise CheckpointError(f"checkpoint {path} holds {', '.join(alpha)}, the slopes of a PReLU network: "
                              "pruning does not support the prelu activation")
    extra = sorted(k for k in arrays if not LAYER_VAR.fullmatch(k))
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise CheckpointError(f"checkpoint {path} holds variables other than denseK/W and denseK/b: {shown}")
    layers = sorted({int(LAYER_VAR.fullmatch(k).group(1)) for k in arrays})
    if not layers or layers != list(range(1, len(layers) + 1)):
        raise CheckpointError(f"checkpoint {path} has no dense1..denseK layers (variables: "
                              f"{', '.join(sorted(arrays)) or 'none'})")
    for k in layers:
        for v in ("W", "b"):
            if f"dense{k}/{v}" not in arrays:
                raise CheckpointError(f"checkpoint {path} lacks dense{k}/{v}")


def _as_float32(a, name, path):
    a = np.asarray(a)
    if a.dtype.kind not in "iuf":
        raise CheckpointError(f"checkpoint {path}: {name} holds {a.dtype} values, expected numbers")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise CheckpointError(f"checkpoint {path}: {name} holds NaN or inf ({(~np.isfinite(a)).sum()} of "
                              f"{a.size} values); a diverged model cannot be pruned")
    with np.errstate(over="ignore"):
        b = a.astype(np.float32)
    if not np.isfinite(b).all():
        raise CheckpointError(f"checkpoint {path}: {name} holds values beyond the float32 range")
    return b


def check_shapes(params, where):
    prev = 1
    for n in model.layer_names(params):
        W, b = params[f"{n}/W"], params[f"{n}/b"]
        if W.ndim != 2 or W.shape[0] != prev or W.shape[1] == 0 or b.shape != (W.shape[1],):
            raise CheckpointError(f"{where}: {n} has W {list(W.shape)} and b {list(b.shape)}; "
                                  f"expected W [{prev}, k] and b [k] with k >= 1")
        prev = W.shape[1]
    if prev != 1:
        raise CheckpointError(f"{where}: the last layer has {prev} outputs, expected 1")
