"""Output folders: a command writes only into what it owns, and commits all of it or nothing.

The contract (the README's "Output folders"):

- **Ownership.** `<out>/.reproduce/manifest.json` lists every file reproduce wrote into `<out>`
  and every folder it created there. A command replaces or removes only files on that list;
  files you put into `<out>` (even inside `figures/`) are never touched. Each command owns
  some names (the main run: results.*, figures/, checkpoints/, ...; sweep: sweep/; an
  analysis: its three files): a new run of it removes the listed files under those names that
  it did not write again, so two runs never mix. A folder that is not empty and has no manifest
  is refused (one line, exit 2) unless --force; with --force, a file in the way of one the run
  writes is moved to `<out>/.reproduce/displaced-<time>/`: nothing reproduce did not write is
  ever deleted.
- **No links, no neighbours.** Below `<out>` (the path you give may itself be a link) nothing
  is followed: a link, file or FIFO where the run writes a folder, or a link or FIFO where it
  writes a file, is refused. A folder holding `.reproduce/` is another run's output folder:
  nothing inside it is written or removed, so nested output folders cannot destroy each other.
- **All or nothing.** A command writes its whole result into `<out>/.reproduce/stage-*`, on
  the same file system, and checks every path it will touch. The commit point is one atomic
  rename: the journal, the list of every move and removal, appears complete as
  `.reproduce/journal.json`. Before it `<out>` is as it was (any failure: one line saying
  nothing changed). After it the journal decides the outcome, and each step can be done again
  (a move whose source is gone is done), so whoever holds the lock next -- the same command, or
  after a kill -9 any later command on `<out>` -- finishes it and says so in one line; stages
  of killed runs are removed the same way. So the outputs are the old ones, the new ones, or
  (only while a journal exists, between a kill and the next command) a commit marked as
  unfinished. SIGINT, SIGTERM and SIGHUP wait until the commit is done.
- **One writer.** `<out>/.reproduce/lock` (flock, a regular file) keeps a second command out.

Power loss is not covered: the staged files are not fsync'ed, only the journal is.
"""

import fcntl
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import NoReturn

from ..files import storage_problem

CONTROL = ".reproduce"  # the folder's own bookkeeping, inside <out>
MANIFEST, JOURNAL, LOCK = "manifest.json", "journal.json", "lock"
NEXT, PENDING = "manifest.next", "journal.tmp"  # written before the commit point
FILE, DIR, LINK, OTHER = "file", "folder", "symbolic link", "FIFO, device or socket"
HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
MAX_MANIFEST_BYTES = 50_000_000

_committed: list[str] = []  # output paths whose new outputs are complete (for the cli)


class OutputError(OSError):
    """A problem with an output folder; the message is the one line the user sees."""


def committed() -> list[str]:
    """The outputs this process has completed, so that an interrupt is reported truly."""
    return list(_committed)


def check_writable(out: str | Path) -> None:
    """Fail before any work if `out` cannot become a writable folder (creates nothing)."""
    out = Path(out).absolute()
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir():
        raise OutputError(f"cannot write to output folder {out}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to output folder {out}: {existing} is not writable")


# --- paths, read without following links -------------------------------------------------------


def _kind(path) -> str | None:
    """FILE, DIR, LINK or OTHER by lstat; None if nothing is there."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(mode):
        return LINK
    return DIR if stat.S_ISDIR(mode) else FILE if stat.S_ISREG(mode) else OTHER


def _blocked(out: Path, rel: str) -> str | None:
    """What stops a run on the way to rel (inside out): 'P is a symbolic link', 'P is the output
    folder of another run', ...; None if every folder on the way is a real folder of this one."""
    parts = PurePosixPath(rel).parts[:-1]
    for i in range(1, len(parts) + 1):
        problem = _foreign_folder(out, "/".join(parts[:i]))
        if problem != "":
            return problem
    return None


def _foreign_folder(out: Path, rel: str) -> str | None:
    """'' if out/rel is a real folder the run may enter, None if nothing is there, else why not:
    a link is never followed, and a folder holding .reproduce is another run's to manage."""
    kind = _kind(out / rel)
    if kind is None:
        return None
    if kind != DIR:
        return f"{rel} is a {kind}"
    return f"{rel} is the output folder of another run" if _kind(out / rel / CONTROL) else ""


def _under(rel: str, roots) -> bool:
    return any(rel == r or rel.startswith(r.rstrip("/") + "/") for r in roots)


def _valid(rel) -> bool:
    """A normalised relative path that stays inside the folder (a manifest could be edited)."""
    p = PurePosixPath(rel) if isinstance(rel, str) else None
    return (
        p is not None
        and rel == str(p)
        and not p.is_absolute()
        and bool(p.parts)
        and p.parts[0] != CONTROL
        and not any(part in (".", "..") for part in p.parts)
    )


def _say(message: str) -> None:
    print(f"reproduce: {message}", file=sys.stderr)


def _listing(names, shown=3) -> str:
    names = list(names)
    return ", ".join(names[:shown]) + (
        f" and {len(names) - shown} more" if len(names) > shown else ""
    )


# --- the manifest ------------------------------------------------------------------------------


class _Damaged(Exception):
    pass


def _read_json(path: Path):
    """A JSON file of ours, read without following a link or hanging on a FIFO."""
    if _kind(path) != FILE:
        raise _Damaged("not a regular file")
    if os.lstat(path).st_size > MAX_MANIFEST_BYTES:
        raise _Damaged("too large")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as e:
        raise _Damaged(e.__class__.__name__) from None


def _load_manifest(control: Path) -> dict[str, str] | None:
    """{relative path: FILE or DIR} of what reproduce wrote; None if there is no manifest."""
    if _kind(control / MANIFEST) is None:
        return None
    data = _read_json(control / MANIFEST)
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not all(
        _valid(k) and v in (FILE, DIR) for k, v in entries.items()
    ):
        raise _Damaged("not a manifest of reproduce")
    return entries


def _write_json(path: Path, data, sync=False) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
        if sync:
            f.flush()
            os.fsync(f.fileno())


# --- one output folder -------------------------------------------------------------------------


class _Folder:
    """`out`, its bookkeeping folder, and what it holds of ours."""

    def __init__(self, out, force: bool):
        self.out, self.force = Path(out), force
        self.control = self.out / CONTROL
        self.manifest: dict[str, str] = {}

    def fail(self, why: str) -> NoReturn:
        raise OutputError(f"cannot write to output folder {self.out}: {why}")

    def check(self) -> None:
        """Read-only checks, before anything is created in a folder that may not be ours."""
        check_writable(self.out)
        for path in (self.control, self.control / LOCK):
            kind, want = _kind(path), (DIR if path == self.control else FILE)
            if kind not in (None, want):
                self.fail(f"{path} is a {kind}, not a {want}; remove it")
        self.manifest = self.read_manifest()

    def read_manifest(self) -> dict[str, str]:
        try:
            manifest = _load_manifest(self.control)
        except _Damaged as e:
            if not self.force:
                self.fail(
                    f"{self.control / MANIFEST} is damaged ({e}), so reproduce cannot tell "
                    "its files from yours; --force writes anyway, treating every file "
                    "there as yours"
                )
            return {}
        if manifest is None:
            foreign = (
                sorted(p.name for p in self.out.iterdir() if p.name != CONTROL)
                if self.out.is_dir()
                else []
            )
            if foreign and not self.force:
                self.fail(
                    f"it holds {_listing(foreign)} and no record of a reproduce run "
                    f"({CONTROL}/{MANIFEST}); choose an empty or new --out, or add "
                    "--force to write beside those files (a file in the way is moved to "
                    f"{CONTROL}/displaced-*/, nothing is deleted)"
                )
            return {}
        return manifest

    def lock(self) -> int:
        """The folder's lock, held until closed; refuses a second writer at once."""
        try:
            self.control.mkdir(parents=True, exist_ok=True)
            fd = os.open(
                self.control / LOCK,
                os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                0o666,
            )
        except OSError as e:
            self.fail(e.strerror)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                self.fail(f"{self.control / LOCK} is not a regular file; remove it")
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(
                f"another reproduce is writing to {self.out}; wait for it or use another --out"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        return fd

    def recover(self) -> None:
        """Finish a commit that was cut short, and remove stages of killed runs (lock held)."""
        if _kind(self.control / JOURNAL) is not None:
            try:
                journal = _read_json(self.control / JOURNAL)
            except _Damaged as e:
                self.fail(f"{self.control / JOURNAL} is damaged ({e}); remove it by hand")
            _execute(self, journal)
            _say(
                f"finished the commit of an interrupted run in {self.out}: its outputs are "
                "complete now"
            )
        left = [
            p
            for p in self.control.iterdir()
            if p.name.startswith("stage-") or p.name in (NEXT, PENDING)
        ]
        for p in left:
            _remove_tree(p)
        if any(p.name.startswith("stage-") for p in left):
            _say(
                f"removed the unfinished outputs of an interrupted run in {self.out} "
                "(it had not committed anything)"
            )

    def check_roots(self, roots: Iterable[str]) -> None:
        """Refuse at once what the commit would refuse later for the names a command owns."""
        for root in roots:
            kind = _kind(self.out / root)
            odd = kind in (LINK, OTHER) and (not self.force or self.manifest.get(root) == DIR)
            problem = _blocked(self.out, root) or (odd and _foreign_folder(self.out, root))
            if problem:
                self.fail(
                    f"{problem} where this command writes; reproduce never writes through "
                    "a link, over what it did not write or into another run's folder"
                )
            if kind == FILE and self.manifest.get(root) != FILE and not self.force:
                self.fail(_not_ours(self.out / root))


def _not_ours(path) -> str:
    return (
        f"{path} was not written by reproduce and would be replaced; move it away, or add "
        f"--force to move it into {CONTROL}/displaced-*/"
    )


def _remove_tree(path: Path) -> None:
    if _kind(path) == DIR:
        shutil.rmtree(path, ignore_errors=True)
    elif _kind(path) is not None:
        path.unlink(missing_ok=True)


# --- the commit --------------------------------------------------------------------------------


def _staged_paths(stage: Path) -> tuple[list[str], list[str]]:
    """(folders, files) written into the stage, relative, parents before children."""
    dirs, files = [], []
    for root, subdirs, names in os.walk(stage):
        rel = Path(root).relative_to(stage)
        subdirs.sort()
        dirs += [(rel / d).as_posix() for d in subdirs]
        files += [(rel / n).as_posix() for n in sorted(names)]
    return dirs, files


def _plan(folder: _Folder, stage: Path, roots, merge: bool) -> tuple[list, dict, list]:
    """(steps, new manifest, problems): what the commit will do, decided before it starts."""
    out, old = folder.out, folder.manifest
    dirs, files = _staged_paths(stage)
    steps, new, problems, folders = [], dict(old), [], set(dirs)
    for rel in dirs + files:
        blocked, want = _blocked(out, rel), (DIR if rel in folders else FILE)
        if blocked:
            problems.append(blocked)
            continue
        kind = _kind(out / rel)
        if want == DIR:
            if kind is None:
                steps.append(("mkdir", rel))
            elif _foreign_folder(out, rel):
                problems.append(_foreign_folder(out, rel))
        elif kind == DIR:
            problems.append(f"{rel} is a folder where this run writes a file")
        elif kind is None or (kind == FILE and old.get(rel) == FILE):
            steps.append(("place", rel))
        elif folder.force:
            steps.append(("displace", rel))
        else:
            problems.append(f"{rel} was not written by reproduce")
        new[rel] = FILE if want == FILE else old.get(rel, DIR if kind is None else None)
    written = set(dirs) | set(files)
    for rel in sorted(old, reverse=True):  # children before their folders
        if rel in written or not _under(rel, () if merge else roots) or _blocked(out, rel):
            continue
        kind = _kind(out / rel)
        if kind == FILE == old[rel]:
            steps.append(("remove", rel))
            new.pop(rel)
        elif kind == DIR == old[rel]:
            steps.append(("rmdir", rel))  # stays listed if it holds files of yours
    new = {
        k: v
        for k, v in new.items()
        if v is not None and (k in written or (not _blocked(out, k) and _kind(out / k) == v))
    }
    return steps, new, list(dict.fromkeys(problems))


def _commit(folder: _Folder, stage: Path, roots, merge: bool) -> None:
    """Move the stage into place, all of it or (on any problem found first) nothing."""
    steps, manifest, problems = _plan(folder, stage, roots, merge)
    if problems:
        folder.fail(
            f"{_listing(problems)}; nothing was changed (reproduce never writes through "
            "a link, over a file it did not write or into another run's output folder)"
        )
    journal = {
        "stage": stage.name,
        "displaced": time.strftime("displaced-%Y%m%d-%H%M%S-") + str(os.getpid()),
        "steps": steps + [("manifest", ""), ("done", "")],
    }
    try:
        _write_json(folder.control / NEXT, {"format": 1, "entries": manifest})
        _write_json(folder.control / PENDING, journal, sync=True)
        _publish(folder.control)  # the commit point
    except OSError as e:
        folder.fail(f"{e.strerror}; nothing was changed")
    _execute(folder, journal)
    moved = sum(1 for op, _ in steps if op == "displace")
    if moved:
        _say(
            f"--force: moved {moved} file(s) that were in the way to "
            f"{folder.control / journal['displaced']}"
        )


def _publish(control: Path) -> None:
    """Rename the complete journal into place: from here on the new outputs are decided."""
    os.replace(control / PENDING, control / JOURNAL)
    fd = os.open(control, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _execute(folder: _Folder, journal) -> None:
    """Do every step of the journal; each can be done again, so a cut-short run is finished."""
    skipped = 0
    try:
        for op, rel in journal["steps"]:
            skipped += not _step(folder, journal, op, rel)
    except (OSError, KeyError, TypeError, ValueError) as e:
        why = getattr(e, "strerror", None) or e.__class__.__name__
        folder.fail(
            f"the commit stopped half way ({why}); {folder.control / JOURNAL} holds the "
            "rest: fix the cause and run any reproduce command on this --out to finish it"
        )
    _committed.append(str(folder.out))
    if skipped:
        _say(
            f"warning: {skipped} output(s) were not placed in {folder.out}: a folder on their "
            "way became a link or a file during the commit"
        )


def _step(folder: _Folder, journal, op: str, rel: str) -> bool:
    """One step of a commit; False if it had to be skipped (something changed on the way)."""
    out, control = folder.out, folder.control
    if op == "manifest":
        if _kind(control / NEXT) == FILE:
            os.replace(control / NEXT, control / MANIFEST)
        return True
    if op == "done":
        (control / JOURNAL).unlink(missing_ok=True)
        _remove_tree(control / journal["stage"])
        return True
    if not _valid(rel) or _blocked(out, rel):
        return False
    target, source = out / rel, control / journal["stage"] / rel
    if op == "mkdir" and _kind(target) is None:
        os.mkdir(target)
    elif op in ("place", "displace") and _kind(source) == FILE:
        if op == "displace" and _kind(target) is not None:
            aside = control / journal["displaced"] / rel
            aside.parent.mkdir(parents=True, exist_ok=True)
            os.rename(target, aside)
        os.replace(source, target)
    elif op == "remove" and _kind(target) == FILE:
        target.unlink()
    elif op == "rmdir" and _kind(target) == DIR:
        try:
            os.rmdir(target)
        except OSError:
            pass  # not empty: it holds files of yours
    return True


# --- what commands use -------------------------------------------------------------------------


@contextmanager
def staged(
    out: str | Path, merge: bool = False, owns: Sequence[str] = (), force: bool = False
) -> Iterator[Path]:
    """Yield a fresh staging folder; on success commit its contents into `out` (see above).

    `owns` names the files and folders of `out` that are this command's (default: the names
    it writes at the top of the stage): they are checked before the work, and files of ours
    under them that it did not write this time are removed. With merge=True nothing is
    removed, only files are added or replaced."""
    folder = _Folder(out, force)
    folder.check()
    fd = folder.lock()
    try:
        with signals_held():
            folder.recover()
        folder.manifest = folder.read_manifest()
        folder.check_roots(owns)
        stage = Path(tempfile.mkdtemp(prefix="stage-", dir=folder.control))
        try:
            yield from _run(folder, stage, owns, merge)
        finally:
            if _kind(folder.control / JOURNAL) is None:  # else recovery needs what is left
                _remove_tree(stage)
    finally:
        os.close(fd)


def _run(folder: _Folder, stage: Path, owns, merge: bool):
    try:
        yield stage
    except Exception as e:
        problem = storage_problem(e)
        if problem is None:
            raise
        raise OutputError(
            f"cannot write to output folder {folder.out}: {problem} while writing "
            f"the outputs; {folder.out} was left as it was"
        ) from None
    roots = owns or sorted(p.name for p in stage.iterdir())
    with signals_held():
        _commit(folder, stage, roots, merge)


@contextmanager
def signals_held() -> Iterator[None]:
    """Deliver SIGINT/SIGTERM/SIGHUP only after the block: a commit is all or nothing.

    The handlers are swapped, not the signal mask: TensorFlow's threads leave the signals
    unblocked, so a masked main thread would still get KeyboardInterrupt through them."""
    caught = []
    try:
        old = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in HELD}
    except ValueError:  # not the main thread: nothing to hold
        old = {}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        if caught:
            _deliver(caught[0], old.get(caught[0]))


def _deliver(signum: int, handler) -> None:
    """What the signal would have done had it not waited."""
    if callable(handler):
        handler(signum, None)
    elif handler in (signal.SIG_DFL, None):
        os.kill(os.getpid(), signum)


def write_text(path: str | Path, text: str, *, overwrite: bool = True) -> None:
    """Write one UTF-8 text file atomically (a temporary file beside it, then a rename).

    Only a regular file is ever replaced: a FIFO, device, socket or link at `path` is
    refused (as root, replacing /dev/null would break the system)."""
    path = Path(path)
    kind = _kind(path)
    if str(path).endswith(os.sep) or kind == DIR or (kind == LINK and path.is_dir()):
        raise OutputError(f"cannot write {path}: it is a folder, expected a file name")
    if kind in (LINK, OTHER):
        raise OutputError(
            f"cannot write {path}: it is a {kind}, not a regular file; give another path"
        )
    if kind == FILE and not overwrite:
        raise OutputError(f"{path} exists; add --force to replace it")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.time_ns()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)  # umask
        with open(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {e.strerror}") from None
    _committed.append(str(path))
