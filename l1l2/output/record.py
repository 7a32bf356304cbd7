"""The run record written next to every result: what is needed to trace it back to what made it."""
import hashlib
import json
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tensorflow", "numpy", "scipy", "matplotlib", "imageio", "pillow", "tqdm")


def make(cfg, started, seeds=None):
    """The resolved config, the seeds, the data file's hash, library versions, git commit, times."""
    data = getattr(cfg, "data", None)
    return {"config": asdict(cfg),
            **({"seeds": seeds} if seeds is not None else {}),
            **({"data_sha256": hashlib.sha256(Path(data).read_bytes()).hexdigest()} if data else {}),
            "versions": {"python": platform.python_version(), **{p: version(p) for p in PACKAGES}},
            "git_commit": git_commit(),
            "command": " ".join(sys.argv),
            "started": _timestamp(started),
            "finished": _timestamp(time.time()),
            "wall_seconds": round(time.time() - started, 2)}


def write(path, cfg, started, seeds=None):
    Path(path).write_text(json.dumps(make(cfg, started, seeds), indent=2) + "\n")


def _timestamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def git_commit():
    """HEAD's commit, with '-dirty' if the code (anything outside outputs/) differs from it; None outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=5)
    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("diff", "--quiet", "HEAD", "--", ".", ":(exclude)outputs").returncode == 1
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None
