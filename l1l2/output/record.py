"""The run record written next to every result: what is needed to trace it back to what made it."""

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar, Protocol

from .. import tf1


class Settings(Protocol):
    """Any command's config: a dataclass instance."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tensorflow", "numpy", "scipy", "matplotlib", "imageio", "pillow", "tqdm")
# environment variables that TensorFlow or its thread pools read: they can change the numbers
NUMERIC_ENV = (
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_XLA_FLAGS",
    "TF_DETERMINISTIC_OPS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PYTHONHASHSEED",
)


NOT_RESULTS = ("progress", "quiet", "force")  # flags that change what is shown, not the results


def make(cfg: Settings, seeds: dict | None = None, data_sha256: str | dict | None = None) -> dict:
    """The resolved config, the seeds, the hash of the data as it was read, library versions and
    the settings of the environment that change numbers: what made the results, and nothing that
    changes from one identical run to the next (times, the command line and the git commit go to
    the folder's history, see log_run), so rerunning a command leaves its record as it was.

    A config with a data file needs data_sha256, taken when the file was read (data.load):
    hashing the file now would name whatever it holds at the end of the run."""
    if hasattr(cfg, "data") and data_sha256 is None:
        raise TypeError("a run record of a command that reads data needs its data_sha256")
    config = {k: v for k, v in asdict(cfg).items() if k not in NOT_RESULTS}
    return {
        "config": config,
        **({"seeds": seeds} if seeds is not None else {}),
        **({"data_sha256": data_sha256} if data_sha256 is not None else {}),
        "versions": {"python": platform.python_version(), **{p: version(p) for p in PACKAGES}},
        "numerics": numerics(),
    }


def numerics() -> dict:
    """oneDNN (forced off by tf1, whatever the environment asked for; 'effective' is TensorFlow's
    own answer once it is loaded), XLA's flags (tf1 adds one to the environment's) and the
    environment variables that can change the numbers."""
    return {
        "onednn": {
            "forced": tf1.ONEDNN_FORCED,
            "environment_asked_for": tf1.ONEDNN_ASKED,
            "effective": tf1.onednn_enabled(),
        },
        "xla_flags": {"environment_asked_for": tf1.XLA_FLAGS_ASKED, "effective": tf1.xla_flags()},
        "environment": environment(),
    }


def environment() -> dict:
    """The variables of NUMERIC_ENV the environment set, as it set them (tf1 adds the cache
    folder to TF_XLA_FLAGS for TensorFlow: not recorded, it changes no number)."""
    env = {k: os.environ[k] for k in NUMERIC_ENV if k in os.environ}
    env.pop("TF_XLA_FLAGS", None)
    if tf1.TF_XLA_FLAGS_ASKED is not None:
        env["TF_XLA_FLAGS"] = tf1.TF_XLA_FLAGS_ASKED
    return {k: env[k] for k in NUMERIC_ENV if k in env}


def text(
    cfg: Settings,
    seeds: dict | None = None,
    data_sha256: str | dict | None = None,
    **extra: object,
) -> str:
    """The run record (make) as JSON text, with `extra` entries."""
    return json.dumps({**make(cfg, seeds, data_sha256), **extra}, indent=2) + "\n"


def write(
    path: str | Path,
    cfg: Settings,
    seeds: dict | None = None,
    data_sha256: str | dict | None = None,
) -> None:
    Path(path).write_text(text(cfg, seeds, data_sha256), encoding="utf-8")


def log_run(out: str | Path, started: float) -> None:
    """Append this run's times, command line and git commit to <out>/.reproduce/history.jsonl,
    the output folder's own untracked log (after its outputs were committed)."""
    entry = {
        "command": " ".join(sys.argv),
        "git_commit": git_commit(),
        "started": _timestamp(started),
        "finished": _timestamp(time.time()),
        "wall_seconds": round(time.time() - started, 2),
    }
    path = Path(out) / ".reproduce" / "history.jsonl"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        with open(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    except OSError:
        pass  # the log is a courtesy: the outputs are already complete


def _timestamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def git_commit() -> str | None:
    """HEAD's commit, with '-dirty' if the code (anything outside outputs/) differs from it;
    None outside git."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=5
        )

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("diff", "--quiet", "HEAD", "--", ".", ":(exclude)outputs").returncode == 1
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None
