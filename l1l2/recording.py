"""The weights recorded during training, saved as one .npz so figures can be redrawn without retraining."""
import zipfile

import numpy as np

from . import model
from .flags import InputError

FILE = "recording.npz"


class RecordingError(InputError):
    pass


def from_outcome(o):
    """The arrays the GIFs and figures need, from an experiment.Outcome."""
    t, layers = o.trained, model.layer_names(o.trained.params)
    return {"layers": np.array(layers),
            "kernels": [t.frames[f"{n}/W"] for n in layers],
            "frame_steps": t.frame_steps, "step_cost": t.step_cost,
            "steps_per_epoch": len(o.data.x_train) // o.cfg.batch_size,
            "methods": np.array([r.method for r in o.runs]), "runs": np.array([r.run for r in o.runs]),
            "seeds": np.array([r.seed for r in o.runs]),
            "test_error": np.array([row["test_error"] for row in o.rows]), "lam": o.cfg.lam,
            "zero_tol": o.cfg.zero_tol}


def save(path, rec):
    kernels = {f"kernel_{i}": k for i, k in enumerate(rec["kernels"])}
    np.savez_compressed(path, **{k: v for k, v in rec.items() if k != "kernels"}, **kernels)


def load(path):
    """Read a recording; a missing or damaged file is a RecordingError naming it."""
    try:
        with np.load(path, allow_pickle=False) as z:
            rec = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise RecordingError(f"no recording at {path}: run ./reproduce first (without --no-gifs)") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise RecordingError(f"recording {path} cannot be read: {e.__class__.__name__}") from None
    need = {"layers", "frame_steps", "step_cost", "steps_per_epoch", "methods", "runs", "seeds",
            "test_error", "lam", "zero_tol"}
    if need - rec.keys():
        raise RecordingError(f"recording {path} lacks {', '.join(sorted(need - rec.keys()))}")
    rec["kernels"] = [rec.pop(f"kernel_{i}") for i in range(len(rec["layers"]))
                      if f"kernel_{i}" in rec]
    if len(rec["kernels"]) != len(rec["layers"]) or any(
            k.shape[:2] != (len(rec["frame_steps"]), len(rec["methods"])) for k in rec["kernels"]):
        raise RecordingError(f"recording {path} has inconsistent kernel arrays")
    return rec
