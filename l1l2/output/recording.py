"""The weights recorded during training, one .npz: figures are redrawn without retraining."""

import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..files import file_problem

FILE = "recording.npz"
MAX_BYTES = 1_000_000_000  # declared size of all arrays; the default run's is 2 MB
MAX_LAYERS = 99  # kernels: --sizes allows 100 sizes; a GIF is at most 65535 px wide

NUMBERS, INTEGERS, TEXT = "fiu", "iu", "U"  # NumPy dtype kinds
KIND_WORDS = {NUMBERS: "numbers", INTEGERS: "integers", TEXT: "text"}
SPEC = {  # name -> (ndim, kind) of every array the GIFs and figures read
    "layers": (1, TEXT),  # [L] layer names, one kernel_<i> each
    "frame_steps": (1, INTEGERS),  # [F] step after which each frame was taken (0 = initial weights)
    "step_cost": (2, NUMBERS),  # [steps, R] training cost of each SGD step
    "steps_per_epoch": (0, INTEGERS),
    "methods": (1, TEXT),  # [R] one per model
    "runs": (1, INTEGERS),  # [R]
    "seeds": (1, INTEGERS),  # [R]
    "test_error": (1, NUMBERS),  # [R]
    "frame_test_error": (2, NUMBERS),  # [F, R] test error at frame_steps
    "lam": (0, NUMBERS),
    "zero_tol": (0, NUMBERS),
}
KERNEL = (4, NUMBERS)  # kernel_<i>: [F, R, rows, cols]
SCALARS = {  # name -> (test, what it must be)
    "steps_per_epoch": (lambda v: v >= 1, "a positive integer"),
    "lam": (lambda v: np.isfinite(v) and v >= 0, "finite and non-negative"),
    "zero_tol": (lambda v: np.isfinite(v) and v > 0, "finite and positive"),
}
# what reading a damaged or foreign file can raise (zlib: bad compressed data; NotImplementedError:
# an unknown compression method; RuntimeError: an encrypted member; MemoryError: a header's
# absurd shape)
READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    MemoryError,
)


class RecordingError(InputError):
    pass


class _Bad(Exception):
    """What is wrong with a recording; load() adds the file's name."""


def save(path: str | Path, rec: dict[str, Any]) -> None:
    kernels = {f"kernel_{i}": k for i, k in enumerate(rec["kernels"])}
    np.savez_compressed(path, **{k: v for k, v in rec.items() if k != "kernels"}, **kernels)


def load(path: str | Path) -> dict[str, Any]:
    """Read a recording and check all that the GIFs and figures read; any problem is a
    RecordingError naming the file."""
    problem = file_problem(path)  # before open(): a FIFO would block forever
    if problem == "not found":
        raise RecordingError(f"no recording at {path}: run ./reproduce first")
    try:
        if problem:
            raise _Bad(problem)
        rec = _read(path)
        _check(rec)
    except _Bad as e:
        raise RecordingError(f"recording {path}: {e}") from None
    return rec


def nbytes(rec: dict[str, Any]) -> int:
    """Bytes of a loaded recording's arrays."""
    return sum(a.nbytes for k, a in rec.items() if k != "kernels") + sum(
        k.nbytes for k in rec["kernels"]
    )


def _read(path):
    try:
        with open(path, "rb") as f:
            if not zipfile.is_zipfile(f):
                raise _Bad("cannot be read: not an .npz (zip) archive")
            with zipfile.ZipFile(f) as zf:
                _check_declared(zf)
            f.seek(0)
            with np.load(f, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
    except READ_ERRORS as e:
        raise _Bad(f"cannot be read ({e.__class__.__name__}: {e})") from None


def _check_declared(zf: zipfile.ZipFile) -> None:
    """Refuse, before decompressing anything but the headers, an archive whose arrays declare
    more than MAX_BYTES or more than MAX_LAYERS kernels: a 2 MB file can declare 2 GB."""
    infos = zf.infolist()
    kernels = sum(i.filename.startswith("kernel_") for i in infos)
    if kernels > MAX_LAYERS:
        raise _Bad(f"has {kernels} kernels, more than the {MAX_LAYERS} layers reproduce draws")
    if len(infos) > len(SPEC) + MAX_LAYERS:
        raise _Bad(f"has {len(infos)} members, more than a recording holds")
    total = sum(i.file_size for i in infos)
    if total > MAX_BYTES:
        raise _Bad(
            f"declares {total / 1e6:,.0f} MB of arrays, more than the "
            f"{MAX_BYTES / 1e6:,.0f} MB allowed"
        )
    for info in infos:
        declared = _array_bytes(zf, info)
        if declared > info.file_size:
            raise _Bad(f"{info.filename} declares {declared:,} bytes but holds {info.file_size:,}")


def _array_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The bytes an .npy member's header declares (only the header is decompressed); 0 for a
    member NumPy reads as plain bytes (no .npy magic), whose size is its file_size."""
    with zf.open(info) as member:
        if member.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
            return 0
    with zf.open(info) as member:
        major, _ = np.lib.format.read_magic(member)
        read_header = {
            1: np.lib.format.read_array_header_1_0,
            2: np.lib.format.read_array_header_2_0,
        }.get(major)
        if read_header is None:
            raise _Bad(f"{info.filename} has an unknown .npy version {major}")
        shape, _, dtype = read_header(member)
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def _check(rec):
    """Raise _Bad unless rec (as read, kernels still kernel_<i>) is a usable recording; then
    replace the kernel_<i> arrays by the list rec["kernels"]."""
    missing = SPEC.keys() - rec.keys()
    if missing:
        raise _Bad(f"lacks {', '.join(sorted(missing))}")
    for name, (ndim, kind) in SPEC.items():
        _check_array(name, rec[name], ndim, kind)
    rec["kernels"] = _pop_kernels(rec)
    _check_counts(rec)
    _check_frame_steps(rec["frame_steps"], len(rec["step_cost"]))
    for name, (ok, words) in SCALARS.items():
        if not ok(rec[name].item()):
            raise _Bad(f"{name} must be {words}, got {rec[name].item()!r}")


def _dims(ndim):
    return "a scalar" if ndim == 0 else f"{ndim}-D"


def _check_array(name, a, ndim, kind):
    if not isinstance(a, np.ndarray):
        raise _Bad(f"{name} is not a NumPy array")
    if a.ndim != ndim:
        raise _Bad(f"{name} must be {_dims(ndim)}, got {_dims(a.ndim)} (shape {a.shape})")
    if a.dtype.kind not in kind:
        raise _Bad(f"{name} must hold {KIND_WORDS[kind]}, got dtype {a.dtype}")


def _pop_kernels(rec):
    want = [f"kernel_{i}" for i in range(len(rec["layers"]))]
    have = sorted(k for k in rec if k.startswith("kernel_"))
    if not want:
        raise _Bad("has no layers")
    if len(want) > MAX_LAYERS:
        raise _Bad(f"has {len(want)} layers, more than the {MAX_LAYERS} reproduce draws")
    if set(have) != set(want):
        raise _Bad(
            f"has kernels {', '.join(have) or 'none'} for {len(want)} layers "
            f"(expected {', '.join(want)})"
        )
    for name in want:
        _check_array(name, rec[name], *KERNEL)
    return [rec.pop(name) for name in want]


def _check_counts(rec):
    """One entry per model (R >= 1) and per frame (F >= 2) wherever the arrays have that axis."""
    n_models, n_frames = len(rec["methods"]), len(rec["frame_steps"])
    if n_models < 1:
        raise _Bad("has no models (methods is empty)")
    if n_frames < 2:
        raise _Bad(f"has {n_frames} frame(s); it needs the initial weights and at least one more")
    per_model = {
        "runs": len(rec["runs"]),
        "seeds": len(rec["seeds"]),
        "test_error": len(rec["test_error"]),
        "step_cost's axis 1": rec["step_cost"].shape[1],
        "frame_test_error's axis 1": rec["frame_test_error"].shape[1],
        **{f"kernel_{i}'s axis 1": k.shape[1] for i, k in enumerate(rec["kernels"])},
    }
    per_frame = {f"kernel_{i}'s axis 0": len(k) for i, k in enumerate(rec["kernels"])}
    per_frame["frame_test_error's axis 0"] = len(rec["frame_test_error"])
    for counts, n, axis in ((per_model, n_models, "methods"), (per_frame, n_frames, "frame_steps")):
        for what, count in counts.items():
            if count != n:
                raise _Bad(f"{what} has length {count}, but {axis} has {n}")
    for i, k in enumerate(rec["kernels"]):
        if k.size == 0:
            raise _Bad(f"kernel_{i} is empty (shape {k.shape})")


def _check_frame_steps(steps, n_steps):
    if steps[0] != 0:
        raise _Bad(f"frame_steps must start at 0 (the initial weights), got {steps[0]}")
    if not (steps[1:] > steps[:-1]).all():  # not np.diff: unsigned differences wrap around
        raise _Bad("frame_steps must increase")
    if steps[-1] > n_steps:
        raise _Bad(f"frame_steps reaches step {steps[-1]}, beyond the {n_steps} steps of step_cost")
