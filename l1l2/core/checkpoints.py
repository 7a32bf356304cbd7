"""TF1 checkpoints of single models that say what they are, read back by name with checked shapes.

A checkpoint folder holds what tf.compat.v1.train.Saver writes (`checkpoint`, model.index,
model.data-*), the model's graph as a MetaGraphDef (model.meta: `import_meta_graph` + `restore`
work without this project's code) and its record, model.json: how the model was trained and
what it was derived from (see RECORD_TYPES; `reproduce prune` takes its settings from it).

Restoring into a graph of other shapes silently succeeds with resource variables on TF 2.x, so
loading never goes through Saver.restore: arrays are read by name with a checkpoint reader, and
the variables, values and layer chain are checked here.
"""

import glob
import json
import math
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .. import untrusted
from ..errors import InputError
from ..files import file_problem
from ..tf1 import session, tf, v1
from . import model, regularizers
from .model import MAX_LAYERS, MAX_WIDTH
from .pruning import sizes_of

PREFIX = "model"
LAYER_VAR = re.compile(r"dense([1-9]\d*)/([Wb])")
FORMAT = "l1l2 checkpoint record 1"
MAX_RECORD_BYTES = 1_000_000
# the tensors of model.meta a TF1 user fetches or feeds by name
TENSORS = {"input": "x:0", "target": "y:0", "prediction": "prediction:0", "cost": "cost:0"}
NUMBER = (int, float)
# The record, model.json. Every key but format and sizes may be missing (or null): a reader
# falls back to its own defaults. Keys named like a `reproduce prune` flag hold its value.
RECORD_TYPES = {
    "format": str,  # FORMAT
    "name": str,  # e.g. l1_run3, l1_run3_pruned, l1_run3_scratch
    "kind": str,  # trained, pruned, scratch (retrained from Glorot), finetune or optimum
    "sizes": list,  # layer sizes, input and output included
    "activation": str,  # hidden activation, as --activation
    "method": str,  # the run's kernel method (none, l1, l2, l1l2) ...
    "lam": NUMBER,  # ... and --lam; the kernel penalty itself is penalty.kernel
    "penalty": dict,  # {"kernel", "bias", "activity"}: specs none, l1:A, l2:B, l1l2:A,B
    "l1_update": str,  # subgradient or proximal
    "lr": NUMBER,
    "lr_schedule": str,  # constant, linear or cosine
    "epochs": int,
    "batch_size": int,
    "order": str,  # file or shuffle (drawn from seed)
    "seed": int,  # the run's seed: initial weights and shuffled order
    "tail_epochs": int,  # the main run's tail mean averages the last this many epochs
    "zero_tol": NUMBER,  # |w| below it counts as zero (the pruning tolerance)
    "data": dict,  # {"file": path as given, "sha256": of its bytes}
    "derived_from": dict,  # pruned/retrained: {"checkpoint", "name", "sizes", "tol", "removed",
    #   "overrides"}; null for a trained run
    "test_error": NUMBER,  # total absolute test error when saved (null: diverged)
    "test_error_tail_mean": NUMBER,
    "objective": NUMBER,  # an optimum's: the sum of an epoch's step costs at these weights
    "tensors": dict,  # TENSORS
}


class CheckpointError(InputError):
    pass


class Checkpoint(NamedTuple):
    params: dict  # "denseK/W" [in, out], "denseK/b" [out], float32
    record: dict | None  # model.json, or None for a checkpoint written without one


class Entry(NamedTuple):
    folder: Path
    params: dict
    record: dict | None = None


def graph(
    params: dict,
    penalty: regularizers.Penalty | regularizers.Targets | None = None,
    activation: str = "identity",
    lr: float | None = None,
) -> "tf.Graph":
    """The TF1 graph of one model of params' shapes, as a TF1 user would build it: placeholders
    x and y, the layers with their penalties in REGULARIZATION_LOSSES, `prediction` and `cost`
    by name and, given lr, a plain SGD op `train`. Without lr it is model.meta (half the size:
    no gradients), with it the TensorBoard graph. The variables start at zero: a checkpoint's
    restore, not its graph, holds the values."""
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, 1], name="x")
        y = v1.placeholder(tf.float32, [None, 1], name="y")
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        net = model.build(x, y, zeros, penalty, activation)
        tf.identity(net.pred, name="prediction")
        cost = tf.identity(net.cost, name="cost")
        if lr is not None:
            v1.train.GradientDescentOptimizer(lr).minimize(cost, name="train")
    return g


def save(
    folder: str | Path, params: dict, activation: str = "identity", record: dict | None = None
) -> None:
    """Write one model (single-model shapes) to folder: see save_all."""
    save_all([Entry(Path(folder), params, record)], activation)


def save_all(entries: list, activation: str = "identity") -> None:
    """Write each Entry's model as folder/model.* (tf.compat.v1.train.Saver, with model.meta)
    and, if it has one, its record as folder/model.json.

    Models of one structure (sizes, penalties in the record) share one graph and session: each
    is loaded into the variables and saved. The `checkpoint` state file holds paths relative to
    the folder, so the folder can be moved."""
    groups = {}
    for e in entries:
        groups.setdefault(_structure(e, activation), []).append(e)
    for (_, specs), group in groups.items():
        g = graph(group[0].params, _penalty(specs), activation)
        with g.as_default():
            variables = {v.op.name: v for v in v1.global_variables()}
            saver = v1.train.Saver(save_relative_paths=True, max_to_keep=None)
        with session(g) as sess:
            for e in group:
                e.folder.mkdir(parents=True, exist_ok=True)
                for name, value in e.params.items():  # the initializer, fed the value
                    init = variables[name].initializer
                    sess.run(init, {init.inputs[1]: value})
                saver.save(
                    sess, str(e.folder / PREFIX), write_meta_graph=True, strip_default_attrs=True
                )
                if e.record is not None:
                    write_record(e.folder, e.params, activation, e.record)


def _structure(e, activation):
    """What the graph of an entry depends on: variables and shapes, penalties."""
    shapes = tuple(sorted((k, np.shape(v)) for k, v in e.params.items()))
    return shapes, tuple(sorted(((e.record or {}).get("penalty") or {}).items()))


def _penalty(specs):
    return regularizers.Targets(**{target: regularizers.parse(spec) for target, spec in specs})


def write_record(
    folder: str | Path, params: dict[str, np.ndarray], activation: str, record: dict[str, Any]
) -> None:
    """folder/model.json: FORMAT, name and kind first, the sizes and activation of params,
    the rest of `record`, TENSORS; non-finite numbers as null (JSON has none)."""
    head = {
        "format": FORMAT,
        **{k: record[k] for k in ("name", "kind") if k in record},
        "sizes": list(map(int, sizes_of(params))),
        "activation": activation,
    }
    full = {**head, **{k: v for k, v in record.items() if k not in head}, "tensors": TENSORS}
    (Path(folder) / f"{PREFIX}.json").write_text(_json(_finite(full)) + "\n", encoding="utf-8")


def _json(x, indent=""):
    """JSON with an object's keys one per line and every list on one line, as people read it."""
    if not isinstance(x, dict) or not x:
        return json.dumps(x, allow_nan=False)
    inner = indent + "  "
    items = ",\n".join(f"{inner}{json.dumps(k)}: {_json(v, inner)}" for k, v in x.items())
    return "{\n" + items + "\n" + indent + "}"


def _finite(x):
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x.item() if isinstance(x, np.generic) else x


def load(path: str | Path) -> Checkpoint:
    """The float32 parameter dict of a checkpoint folder (or prefix) and its record (None if it
    has none); CheckpointError names what is wrong. The variables' names and shapes are checked
    (against the limits of --sizes too) before any array is read."""
    path = Path(path)
    prefix = _prefix(path)
    check_files(path, prefix)
    try:
        reader = v1.train.NewCheckpointReader(str(prefix))
        shapes = {k: tuple(s) for k, s in reader.get_variable_to_shape_map().items()}
    except Exception as e:  # TF raises several types for damaged files
        raise CheckpointError(f"checkpoint {path} cannot be read: {e.__class__.__name__}") from None
    check_names(shapes, path)
    check_chain(shapes, path)
    try:
        arrays = {k: reader.get_tensor(k) for k in shapes}
    except Exception as e:
        raise CheckpointError(f"checkpoint {path} cannot be read: {e.__class__.__name__}") from None
    params = {k: _as_float32(a, k, path) for k, a in arrays.items()}
    return Checkpoint(params, read_record(path, Path(f"{prefix}.json"), params))


def _prefix(path):
    if path.is_dir():
        return path / PREFIX
    return path.with_suffix("") if path.suffix == ".index" else path


def folder_name(path: str | Path) -> str:
    """The name of a checkpoint's folder as the command line gives it (a folder, its prefix or
    its .index): outputs/checkpoints/l1_run0 -> l1_run0. What is derived from the checkpoint is
    named after it, never after its record."""
    return _prefix(Path(os.path.abspath(path))).parent.name or "checkpoint"


def read_record(
    path: str | Path, file: Path, params: dict[str, np.ndarray]
) -> dict[str, Any] | None:
    """The record in `file`, None if there is none. Read as untrusted input: bounded in size and
    nesting, its keys' types, the names it holds and its sizes are checked here, its values by
    whoever uses them (like flags)."""
    where = f"checkpoint {path}: its record {file.name}"
    try:
        data = untrusted.read(file, MAX_RECORD_BYTES)
        record = None if data is None else untrusted.parse_json(data)
    except untrusted.Invalid as e:
        raise CheckpointError(f"{where} {e}") from None
    if data is None:
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        found = record.get("format") if isinstance(record, dict) else None
        raise CheckpointError(f"{where} has format {found!r}; this code reads {FORMAT!r}")
    try:
        _check_record(record)
    except untrusted.Invalid as e:
        raise CheckpointError(f"{where}: {e}") from None
    if record.get("sizes") != list(sizes_of(params)):
        raise CheckpointError(
            f"{where} describes sizes {record.get('sizes')}, the arrays have "
            f"{list(sizes_of(params))}"
        )
    return record


def _check_record(record: dict) -> None:
    """Each key of RECORD_TYPES of its type (or null); the model's name a plain name and the
    data file's a path the OS can take: they name files."""
    for key, kind in RECORD_TYPES.items():
        if record.get(key) is not None:
            untrusted.of_type(record[key], kind, key, _kind_name(kind))
    for key in ("penalty", "data"):
        if any(not isinstance(v, str) for v in (record.get(key) or {}).values()):
            raise untrusted.Invalid(f"every value of {key} must be a string")
    if record.get("name") is not None:
        untrusted.name(record["name"], "name")
    if (record.get("data") or {}).get("file") is not None:
        untrusted.text(record["data"]["file"], "data.file")


def _kind_name(kind):
    return {
        str: "a string",
        int: "an integer",
        list: "a list",
        dict: "an object",
        NUMBER: "a number",
    }[kind]


def check_files(path: str | Path, prefix: Path) -> None:
    """The index and data files must be regular files: a FIFO would block the reader forever."""
    problem = file_problem(f"{prefix}.index")
    if problem == "not found":
        raise CheckpointError(f"no checkpoint at {path} (expected {prefix}.index)")
    shards = sorted(glob.glob(glob.escape(str(prefix)) + ".data-*"))
    for f in [f"{prefix}.index", *shards]:
        if problem := file_problem(f):
            raise CheckpointError(f"checkpoint {path} cannot be read: {f} {problem}")


def check_names(arrays: dict[str, Any], path: str | Path) -> None:
    """Exactly dense1/W, dense1/b, ..., denseK/W, denseK/b (the keys of arrays or shapes)."""
    alpha = sorted(k for k in arrays if re.fullmatch(r"dense\d+/alpha", k))
    if alpha:
        raise CheckpointError(
            f"checkpoint {path} holds {', '.join(alpha)}, the slopes of a PReLU "
            "network: pruning does not support the prelu activation"
        )
    extra = sorted(k for k in arrays if not LAYER_VAR.fullmatch(k))
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise CheckpointError(
            f"checkpoint {path} holds variables other than denseK/W and denseK/b: {shown}"
        )
    layers = sorted({int(LAYER_VAR.fullmatch(k).group(1)) for k in arrays})
    if not layers or layers != list(range(1, len(layers) + 1)):
        raise CheckpointError(
            f"checkpoint {path} has no dense1..denseK layers (variables: "
            f"{', '.join(sorted(arrays)) or 'none'})"
        )
    for k in layers:
        for v in ("W", "b"):
            if f"dense{k}/{v}" not in arrays:
                raise CheckpointError(f"checkpoint {path} lacks dense{k}/{v}")


def _as_float32(a, name, path):
    a = np.asarray(a)
    if a.dtype.kind not in "iuf":
        raise CheckpointError(f"checkpoint {path}: {name} holds {a.dtype} values, expected numbers")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise CheckpointError(
            f"checkpoint {path}: {name} holds NaN or inf "
            f"({(~np.isfinite(a)).sum()} of {a.size} values); a diverged model "
            "cannot be pruned"
        )
    with np.errstate(over="ignore"):
        b = a.astype(np.float32)
    if not np.isfinite(b).all():
        raise CheckpointError(f"checkpoint {path}: {name} holds values beyond the float32 range")
    return b


def check_chain(shapes: dict[str, tuple[int, ...]], where: str | Path) -> None:
    """The layers of {"denseK/W": shape, ...} chain from 1 input to 1 output, within the limits
    of --sizes (MAX_LAYERS sizes of at most MAX_WIDTH units)."""
    n_layers = len(shapes) // 2
    if n_layers + 1 > MAX_LAYERS:
        raise CheckpointError(
            f"checkpoint {where} has {n_layers + 1} sizes, more than the {MAX_LAYERS} allowed "
            "(as for --sizes)"
        )
    prev = 1
    for k in range(1, n_layers + 1):
        W, b = shapes[f"dense{k}/W"], shapes[f"dense{k}/b"]
        if len(W) != 2 or W[0] != prev or W[1] == 0 or tuple(b) != (W[1],):
            raise CheckpointError(
                f"{where}: dense{k} has W {list(W)} and b {list(b)}; "
                f"expected W [{prev}, k] and b [k] with k >= 1"
            )
        if W[1] > MAX_WIDTH:
            raise CheckpointError(
                f"checkpoint {where}: dense{k} has {W[1]:,} units, more than the {MAX_WIDTH:,} "
                "allowed (as for --sizes)"
            )
        prev = W[1]
    if prev != 1:
        raise CheckpointError(f"{where}: the last layer has {prev} outputs, expected 1")
