"""TF1 checkpoints of single models, written with Saver and read back by name with checked shapes.

Restoring into a graph of other shapes silently succeeds with resource variables on
TF 2.x, so loading never goes through Saver.restore: arrays are read by name with
tf.train.load_checkpoint and the layer chain is checked here.
"""
import re
from pathlib import Path

from . import model
from ._tf import session, tf, v1
from .flags import InputError

PREFIX = "model"


class CheckpointError(InputError):
    pass


def save(folder, params, activation="identity"):
    """Write one model (single-model shapes) as folder/model.* with tf.compat.v1.train.Saver."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    g = tf.Graph()
    with g.as_default():
        model.build(v1.placeholder(tf.float32, [None, 1]), tf.zeros([1, 1]), params, None, activation)
        saver = v1.train.Saver()
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            saver.save(sess, str(folder / PREFIX), write_meta_graph=False)


def load(path):
    """The parameter dict of a checkpoint folder (or prefix); CheckpointError names what is wrong."""
    path = Path(path)
    prefix = path / PREFIX if path.is_dir() else path
    if not Path(f"{prefix}.index").exists():
        raise CheckpointError(f"no checkpoint at {path} (expected {prefix}.index)")
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        shapes = reader.get_variable_to_shape_map()
        arrays = {k: reader.get_tensor(k) for k in shapes}
    except Exception as e:  # TF raises several types for damaged files
        raise CheckpointError(f"checkpoint {path} cannot be read: {e.__class__.__name__}") from None
    names = sorted({m.group(1) for k in shapes if (m := re.fullmatch(r"(dense\d+)/[Wb]", k))},
                   key=lambda s: int(s[5:]))
    expected = [f"dense{k}" for k in range(1, len(names) + 1)]
    if not names or names != expected:
        raise CheckpointError(f"checkpoint {path} has no dense1..denseK layers (variables: "
                              f"{', '.join(sorted(shapes)) or 'none'})")
    params = {}
    for n in names:
        for v in ("W", "b"):
            if f"{n}/{v}" not in shapes:
                raise CheckpointError(f"checkpoint {path} lacks {n}/{v}")
            params[f"{n}/{v}"] = arrays[f"{n}/{v}"]
    check_shapes(params, path)
    return params


def check_shapes(params, where):
    prev = 1
    for n in model.layer_names(params):
        W, b = params[f"{n}/W"], params[f"{n}/b"]
        if W.ndim != 2 or W.shape[0] != prev or b.shape != (W.shape[1],):
            raise CheckpointError(f"{where}: {n} has W {list(W.shape)} and b {list(b.shape)}; "
                                  f"expected W [{prev}, k] and b [k]")
        prev = W.shape[1]
    if prev != 1:
        raise CheckpointError(f"{where}: the last layer has {prev} outputs, expected 1")
