"""Writing results so that a failed or interrupted run never leaves half of them.

A command writes everything into a staging folder inside `out`; only when it has
finished are the entries moved into place, each by one rename.
"""
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


class OutputError(OSError):
    pass


@contextmanager
def staged(out):
    """Yield a fresh staging folder; on success move its entries into `out`, replacing old ones."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    except OSError as e:
        raise OutputError(f"cannot write to output folder {out}: {e.strerror}") from None
    try:
        yield stage
        for entry in sorted(stage.iterdir()):
            _replace(entry, out / entry.name, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _replace(src, dst, stage):
    if dst.is_dir() and not dst.is_symlink():
        os.rename(dst, stage / f".old-{dst.name}")  # a folder cannot be replaced in one rename
    os.replace(src, dst)


def write_text(path, text):
    """Write a text file atomically: a temporary file beside it, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
