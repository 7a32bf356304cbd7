"""Writing results so that a failed or interrupted run never leaves half of them.

A command writes everything into a staging folder inside `out`; only when it has
finished are the entries moved into place, each by one rename, with SIGINT and
SIGTERM held back until the last rename. A lock file keeps two commands from
writing to the same folder at once.
"""
import fcntl
import os
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from . import record


class OutputError(OSError):
    pass


def check_writable(out):
    """Fail before any work if `out` cannot become a writable folder (creates nothing)."""
    out = Path(out).absolute()
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir():
        raise OutputError(f"cannot write to output folder {out}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to output folder {out}: {existing} is not writable")


@contextmanager
def staged(out, merge=False, owns=()):
    """Yield a fresh staging folder; on success move its entries into `out`, replacing old ones.

    A staged folder replaces the folder of the same name whole (the results of a new run), or,
    with merge=True, only the files it holds (a command adding to a folder others write too).
    `owns` names the entries of `out` that are this command's: those it did not write this time
    are removed, so results of two runs never sit side by side."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = os.open(out / ".lock", os.O_CREAT | os.O_WRONLY)
    except OSError as e:
        raise OutputError(f"cannot write to output folder {out}: {e.strerror}") from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        except BlockingIOError:
            raise OutputError(f"another reproduce is writing to {out}; wait for it or use another --out") from None
        except OSError as e:
            raise OutputError(f"cannot write to output folder {out}: {e.strerror}") from None
        try:
            yield stage
            with signals_held():
                _commit(stage, out, stage, merge, owns)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    finally:
        os.close(lock)


@contextmanager
def signals_held():
    """Deliver SIGINT/SIGTERM only after the block: the commit is all or nothing."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _commit(src, dst, stage, merge, owns=()):
    entries = sorted(src.iterdir())
    for name in sorted(set(owns) - {e.name for e in entries}):
        if os.path.lexists(dst / name):
            _discard(dst / name, stage)
    for entry in entries:
        target = dst / entry.name
        if merge and entry.is_dir() and target.is_dir():
            _commit(entry, target, stage, merge)
        else:
            _replace(entry, target, stage)


def _replace(src, dst, stage):
    if dst.is_dir() and not dst.is_symlink():
        _discard(dst, stage)   # a folder cannot be replaced in one rename
    os.replace(src, dst)


def _discard(path, stage):
    """Move path into the stage, which is deleted afterwards."""
    os.rename(path, Path(tempfile.mkdtemp(prefix=".old-", dir=stage)) / path.name)


def write_text(path, text):
    """Write a text file atomically: a temporary file beside it, then a rename."""
    if str(path).endswith(os.sep) or Path(path).is_dir():
        raise OutputError(f"cannot write {path}: it is a folder, expected a file name")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)   # made like any file the user writes (umask), not mkstemp's 0600
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {e.strerror}") from None


def write_analysis(cfg, name, started, measure):
    """The end of every analysis command: under the output lock, measure() -> (report, draw); writes
    <out>/analysis/<name>.md, <name>.png (by draw(path)) and <name>.json (the run record)."""
    check_writable(cfg.out)
    with staged(cfg.out, merge=True) as stage:
        report, draw = measure()
        folder = stage / "analysis"
        folder.mkdir()
        draw(folder / f"{name}.png")
        (folder / f"{name}.md").write_text(report)
        record.write(folder / f"{name}.json", cfg, started)
    print(report)
    print(f"done in {time.time() - started:.1f} s -> {Path(cfg.out) / 'analysis'}")
