"""The weights recorded during training, one .npz: figures are redrawn without retraining.

A recording is read back as untrusted input (l1l2/untrusted.py): np.load without pickles, the
sizes its archive declares bounded before any array is decompressed, then every array the GIFs
and figures read checked in shape, type, count and range."""

import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .. import untrusted
from ..core.model import MAX_LAYERS, MAX_WIDTH
from ..core.regularizers import METHODS
from ..errors import InputError
from ..untrusted import Invalid, array, check

FILE = "recording.npz"
MAX_BYTES = 1_000_000_000  # declared size of all arrays; the default run's is 2 MB
MAX_KERNELS = MAX_LAYERS - 1  # --sizes allows 100 sizes; a GIF is at most 65535 px wide
MAX_TEST = 10_000_000  # test samples: the data loader reads files of at most 10 MB

NUMBERS, INTEGERS, TEXT, BOOL = "fiu", "iu", "U", "b"  # NumPy dtype kinds (untrusted.KIND_WORDS)
SPEC = {  # name -> (ndim, kind) of every array the GIFs and figures read
    "layers": (1, TEXT),  # [L] layer names, dense1 ... denseL
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
OPTIONAL = {"n_test": (0, INTEGERS), "protocol_data": (0, BOOL)}  # checked if present
KERNEL = (4, NUMBERS)  # kernel_<i>: [F, R, rows, cols]
SCALARS = {  # name -> (test, what it must be)
    "lam": (lambda v: np.isfinite(v) and v >= 0, "finite and non-negative"),
    "zero_tol": (lambda v: np.isfinite(v) and v > 0, "finite and positive"),
    "n_test": (lambda v: 1 <= v <= MAX_TEST, "a positive integer"),
}
# what reading a damaged or foreign archive can raise (zlib: bad compressed data;
# NotImplementedError: an unknown compression method; RuntimeError: an encrypted member;
# MemoryError: a header's absurd shape)
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
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first member, or an empty one


class RecordingError(InputError):
    pass


def save(path: str | Path, rec: dict[str, Any]) -> None:
    """Write a recording; a weight that overflowed to inf is written as NaN, as a diverged
    run's other weights are (load refuses inf)."""
    kernels = {f"kernel_{i}": _no_inf(k) for i, k in enumerate(rec["kernels"])}
    np.savez_compressed(path, **{k: v for k, v in rec.items() if k != "kernels"}, **kernels)


def _no_inf(k: np.ndarray) -> np.ndarray:
    return np.where(np.isinf(k), np.nan, k) if np.isinf(k).any() else k


def load(path: str | Path) -> dict[str, Any]:
    """Read a recording and check all that the GIFs and figures read; any problem is a
    RecordingError naming the file."""
    try:
        rec = _read(path)
        if rec is None:
            raise RecordingError(f"no recording at {path}: run ./reproduce first")
        _check(rec)
    except Invalid as e:
        raise RecordingError(f"recording {path}: {e}") from None
    return rec


def nbytes(rec: dict[str, Any]) -> int:
    """Bytes of a loaded recording's arrays."""
    return sum(a.nbytes for k, a in rec.items() if k != "kernels") + sum(
        k.nbytes for k in rec["kernels"]
    )


def _read(path: str | Path) -> dict[str, Any] | None:
    """{name: array} of the archive at path (None if nothing is there); the sizes its members
    declare are bounded before any is decompressed: a 2 MB file can declare 2 GB."""
    f = untrusted.open_file(path, MAX_BYTES)
    if f is None:
        return None
    with f:
        try:
            check(f.read(4) in ZIP_MAGIC, "cannot be read: not an .npz (zip) archive")
            f.seek(0)
            with np.load(f, allow_pickle=False) as z:
                infos = z.zip.infolist()
                kernels = sum(i.filename.startswith("kernel_") for i in infos)
                check(
                    kernels <= MAX_KERNELS,
                    f"has {kernels} kernels, more than the {MAX_KERNELS} layers reproduce draws",
                )
                check(
                    len(infos) <= len(SPEC) + len(OPTIONAL) + MAX_KERNELS,
                    f"has {len(infos)} members, more than a recording holds",
                )
                total = sum(i.file_size for i in infos)
                check(
                    total <= MAX_BYTES,
                    f"declares {total / 1e6:,.0f} MB of arrays, more than the "
                    f"{MAX_BYTES / 1e6:,.0f} MB allowed",
                )
                return {k: z[k] for k in z.files}
        except READ_ERRORS as e:
            raise Invalid(f"cannot be read ({e.__class__.__name__}: {e})") from None


def _check(rec: dict[str, Any]) -> None:
    """Raise Invalid unless rec (as read, kernels still kernel_<i>) is a usable recording;
    then replace the kernel_<i> arrays by the list rec["kernels"]. Shapes and counts are
    checked before any value: a text array of itemsize 0 can declare 10**15 entries."""
    missing = SPEC.keys() - rec.keys()
    check(not missing, f"lacks {', '.join(sorted(missing))}")
    for name, (ndim, kind) in {**SPEC, **OPTIONAL}.items():
        if name in rec:
            array(rec[name], name, ndim, kind)
    rec["kernels"] = _pop_kernels(rec)
    _check_counts(rec)
    check(
        rec["layers"].tolist() == [f"dense{i + 1}" for i in range(len(rec["kernels"]))],
        "layers must be dense1, dense2, ... (one per kernel)",
    )
    check(
        set(rec["methods"].tolist()) <= set(METHODS),
        f"methods must be {', '.join(METHODS)}",
    )
    _check_frame_steps(rec["frame_steps"], len(rec["step_cost"]))
    spe, n_steps = rec["steps_per_epoch"].item(), len(rec["step_cost"])
    check(spe >= 1, f"steps_per_epoch must be a positive integer, got {spe}")
    check(
        spe <= n_steps,
        f"steps_per_epoch must be a positive integer of at most the {n_steps} steps of "
        f"step_cost, got {spe}",
    )
    for name, (ok, words) in SCALARS.items():
        if name in rec:
            check(ok(rec[name].item()), f"{name} must be {words}, got {rec[name].item()!r}")
    for i, k in enumerate(rec["kernels"]):
        untrusted.float32_range(k, f"kernel_{i}")


def _pop_kernels(rec: dict[str, Any]) -> list[np.ndarray]:
    """kernel_0 ... kernel_<L-1>, one per layer, chaining from 1 input to 1 output."""
    n = len(rec["layers"])
    check(n > 0, "has no layers")
    check(n <= MAX_KERNELS, f"has {n} layers, more than the {MAX_KERNELS} reproduce draws")
    want = [f"kernel_{i}" for i in range(n)]
    have = sorted(k for k in rec if k.startswith("kernel_"))
    check(
        set(have) == set(want),
        f"has kernels {', '.join(have) or 'none'} for {n} layers (expected {', '.join(want)})",
    )
    kernels = [array(rec.pop(name), name, *KERNEL) for name in want]
    cols = 1  # the input's
    for i, k in enumerate(kernels):
        rows, width = k.shape[2:]
        check(rows > 0 and width > 0, f"kernel_{i} is empty (shape {k.shape})")
        previous = "the input has 1" if i == 0 else f"kernel_{i - 1} has {cols} columns"
        check(rows == cols, f"kernel_{i} has {rows} rows, but {previous}")
        check(width <= MAX_WIDTH, f"kernel_{i} has {width:,} columns: at most {MAX_WIDTH:,} units")
        cols = width
    check(cols == 1, f"kernel_{len(kernels) - 1} has {cols} columns, but the output has 1")
    return kernels


def _check_counts(rec: dict[str, Any]) -> None:
    """One entry per model (R >= 1) and per frame (F >= 2) wherever the arrays have that axis."""
    n_models, n_frames = len(rec["methods"]), len(rec["frame_steps"])
    check(n_models >= 1, "has no models (methods is empty)")
    check(
        n_frames >= 2,
        f"has {n_frames} frame(s); it needs the initial weights and at least one more",
    )
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
            check(count == n, f"{what} has length {count}, but {axis} has {n}")


def _check_frame_steps(steps: np.ndarray, n_steps: int) -> None:
    check(steps[0] == 0, f"frame_steps must start at 0 (the initial weights), got {steps[0]}")
    # not np.diff: unsigned differences wrap around
    check(bool((steps[1:] > steps[:-1]).all()), "frame_steps must increase")
    check(
        steps[-1] <= n_steps,
        f"frame_steps reaches step {steps[-1]}, beyond the {n_steps} steps of step_cost",
    )
