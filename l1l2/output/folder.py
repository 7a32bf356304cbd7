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
  unfinished. A command that reads from an output folder finishes its commit first
  (finish_interrupted). SIGINT, SIGTERM and SIGHUP wait until the commit is done. What could
  make a step fail is refused before the commit point (another file system mounted inside
  `<out>`, a folder that is not writable); a step that fails all the same stops the commit in
  one line: the next command finishes it, or with --force finishes it without the outputs
  that cannot be placed.
- **Untrusted bookkeeping.** The manifest and the journal are read as untrusted input
  (l1l2/untrusted.py): every path they hold is a relative path inside `<out>`, every name in
  the journal a plain name inside `.reproduce/`, checked when they are read. Each step of a
  commit walks to its folder by file descriptors opened without following links, so a folder
  swapped for a link between the check and the rename is not written through.
- **One writer.** A kernel lock (flock) on the `.reproduce` folder itself and on
  `.reproduce/lock` keeps a second command out; removing or replacing the lock file does not
  let one in.

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
from typing import Any, NoReturn

from .. import untrusted
from ..files import storage_problem

CONTROL = ".reproduce"  # the folder's own bookkeeping, inside <out>
MANIFEST, JOURNAL, LOCK = "manifest.json", "journal.json", "lock"
NEXT, PENDING = "manifest.next", "journal.tmp"  # written before the commit point
FILE, DIR, LINK, OTHER = "file", "folder", "symbolic link", "FIFO, device or socket"
HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
MAX_MANIFEST_BYTES = 50_000_000  # of the manifest and of the journal
PATH_OPS = ("mkdir", "place", "displace", "remove", "rmdir")  # a journal's steps on out/<rel>
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

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


def _kind(path: str | Path, dir_fd: int | None = None) -> str | None:
    """FILE, DIR, LINK or OTHER by lstat (of the entry `path` of the folder dir_fd, if given);
    None if nothing is there."""
    try:
        mode = os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode
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
    a link is never followed, a folder holding .reproduce is another run's to manage, and a
    rename cannot reach a folder mounted from another file system."""
    kind = _kind(out / rel)
    if kind is None:
        return None
    if kind != DIR:
        return f"{rel} is a {kind}"
    if _kind(out / rel / CONTROL):
        return f"{rel} is the output folder of another run"
    return _mounted(out, rel) or ""


def _mounted(out: Path, rel: str) -> str | None:
    """Why a rename cannot reach the folder out/rel: it is on another file system."""
    if os.lstat(out / rel).st_dev != os.stat(out).st_dev:
        return f"{rel} is on another file system (a mount point)"
    return None


def _under(rel: str, roots) -> bool:
    return any(rel == r or rel.startswith(r.rstrip("/") + "/") for r in roots)


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


def _read_json(path: Path) -> Any:
    """A JSON file of ours, read as untrusted input: no link followed, no FIFO waited on,
    bounded in size and nesting."""
    try:
        return untrusted.read_json(path, MAX_MANIFEST_BYTES, follow=False)
    except untrusted.Invalid as e:
        raise _Damaged(str(e)) from None


def _load_manifest(control: Path, name: str = MANIFEST) -> dict[str, str] | None:
    """{relative path: FILE or DIR} of what reproduce wrote; None if there is no manifest."""
    if _kind(control / name) is None:
        return None
    data = _read_json(control / name)
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise _Damaged("not a manifest of reproduce")
    try:
        for rel, kind in entries.items():
            untrusted.relative_path(rel, "an entry")
            untrusted.check(rel.split("/")[0] != CONTROL, f"an entry is inside {CONTROL}")
            untrusted.check(kind in (FILE, DIR), f"an entry is not a {FILE} or a {DIR}")
    except untrusted.Invalid as e:
        raise _Damaged(str(e)) from None
    return entries


def _load_journal(control: Path) -> dict:
    """The journal of a commit: its stage and displaced folders plain names inside .reproduce,
    each step an operation on a relative path inside the folder (checked here, once)."""
    journal = _read_json(control / JOURNAL)
    try:
        untrusted.check(isinstance(journal, dict), "not a journal of reproduce")
        for key, prefix in (("stage", "stage-"), ("displaced", "displaced-")):
            untrusted.name(journal.get(key), key)
            untrusted.check(journal[key].startswith(prefix), f"{key} does not start {prefix}")
        steps = journal.get("steps")
        untrusted.check(isinstance(steps, list), "steps is not a list")
        for step in steps:
            untrusted.check(isinstance(step, list) and len(step) == 2, "a step is not [op, path]")
            op, rel = step
            if op in PATH_OPS:
                untrusted.relative_path(rel, f"the path of a step {op}")
            else:
                untrusted.check(op in ("manifest", "done") and rel == "", "a step is unknown")
    except untrusted.Invalid as e:
        raise _Damaged(str(e)) from None
    return journal


def _write_json(dir_fd: int, name: str, data: Any, sync: bool = False) -> None:
    """One file of .reproduce (the folder dir_fd), following no link."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666, dir_fd=dir_fd)
    with open(fd, "w", encoding="utf-8") as f:
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
        self.out_fd = self.control_fd = self.lock_fd = -1  # descriptors, while locked

    def fail(self, why: str) -> NoReturn:
        raise OutputError(f"cannot write to output folder {self.out}: {why}")

    def check(self) -> None:
        """Read-only checks, before anything is created in a folder that may not be ours."""
        check_writable(self.out)
        for path in (self.control, self.control / LOCK):
            kind, want = _kind(path), (DIR if path == self.control else FILE)
            if kind not in (None, want):
                self.fail(f"{path} is a {kind}, not a {want}; remove it")
        if _kind(self.control) and os.lstat(self.control).st_dev != os.stat(self.out).st_dev:
            self.fail(f"{self.control} is on another file system (a mount point); remove it")
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

    def lock(self) -> None:
        """Take the folder's lock, held until close(); refuse a second writer at once.

        flock on the .reproduce folder itself, and on .reproduce/lock: removing or replacing
        the lock file lets no second command in, and the commit checks that .reproduce is
        still the folder locked (still_locked). The folder descriptors also serve every step
        of a commit (dir_fd), so no link is followed on the way."""
        try:
            self.control.mkdir(parents=True, exist_ok=True)
            self.out_fd = os.open(self.out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            self.control_fd = os.open(CONTROL, DIR_FLAGS, dir_fd=self.out_fd)
            self.lock_fd = os.open(
                LOCK,
                os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                0o666,
                dir_fd=self.control_fd,
            )
        except OSError as e:
            self.close()
            self.fail(e.strerror)
        try:
            if not stat.S_ISREG(os.fstat(self.lock_fd).st_mode):
                self.fail(f"{self.control / LOCK} is not a regular file; remove it")
            for fd in (self.control_fd, self.lock_fd):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.close()
            raise OutputError(
                f"another reproduce is writing to {self.out}; wait for it or use another --out"
            ) from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the lock (closing its descriptors)."""
        for fd in (self.lock_fd, self.control_fd, self.out_fd):
            if fd >= 0:
                os.close(fd)
        self.out_fd = self.control_fd = self.lock_fd = -1

    def still_locked(self) -> None:
        """Fail unless .reproduce is still the folder this command locked."""
        locked, there = os.fstat(self.control_fd), os.lstat(self.control)
        if (locked.st_dev, locked.st_ino) != (there.st_dev, there.st_ino):
            self.fail(f"{self.control} was replaced while this command ran; nothing was changed")

    def recover(self) -> None:
        """Finish a commit that was cut short, and remove stages of killed runs (lock held)."""
        if _kind(self.control / JOURNAL) is not None:
            try:
                journal = _load_journal(self.control)
            except _Damaged as e:
                self.set_aside(JOURNAL, e)
            else:
                _execute(self, journal)
                _say(
                    f"finished the commit of an interrupted run in {self.out}: its outputs "
                    "are complete now"
                )
        left = [
            p.name
            for p in self.control.iterdir()
            if p.name.startswith("stage-") or p.name in (NEXT, PENDING)
        ]
        for name in left:
            _remove_at(self.control_fd, name)
        if any(name.startswith("stage-") for name in left):
            _say(
                f"removed the unfinished outputs of an interrupted run in {self.out} "
                "(it had not committed anything)"
            )

    def set_aside(self, name: str, why: _Damaged) -> None:
        """A damaged journal: refused (it cannot be finished), or with --force moved aside."""
        if not self.force:
            self.fail(
                f"{self.control / name} is damaged ({why}), so the commit of an interrupted "
                "run cannot be finished; add --force to set it aside and go on (the outputs "
                "it lists stay as they are)"
            )
        aside = time.strftime(f"damaged-%Y%m%d-%H%M%S-{os.getpid()}-{name}")
        os.replace(name, aside, src_dir_fd=self.control_fd, dst_dir_fd=self.control_fd)
        _say(f"--force: set the damaged {name} aside as {self.control / aside}")

    def check_roots(self, roots: Iterable[str]) -> None:
        """Refuse at once what the commit would refuse later for the names a command owns."""
        for root in roots:
            kind = _kind(self.out / root)
            odd = kind in (LINK, OTHER) and (not self.force or self.manifest.get(root) == DIR)
            problem = (
                _blocked(self.out, root)
                or (odd and _foreign_folder(self.out, root))
                or (kind == DIR and _mounted(self.out, root))
            )
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


def _remove_at(dir_fd: int, name: str) -> None:
    """Remove the file or folder `name` of the folder dir_fd, following no link."""
    try:
        if stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            shutil.rmtree(name, dir_fd=dir_fd, ignore_errors=True)
        else:
            os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def _open_dir(dir_fd: int, rel: str, control: bool = False) -> int | None:
    """A descriptor of the folder rel (a relative path, '' for dir_fd's own) reached from dir_fd
    without following a link; None if the way is blocked: not a folder, a link, or (unless it
    is inside .reproduce) another run's output folder. FileNotFoundError if it is not there."""
    fd = os.dup(dir_fd)
    for part in rel.split("/") if rel else ():
        try:
            inner = os.open(part, DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            raise
        except OSError:
            inner = None
        finally:
            os.close(fd)
        if inner is None:
            return None
        fd = inner
        if not control and _kind(CONTROL, fd) is not None:
            os.close(fd)
            return None
    return fd


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
    problems += _not_writable(out, {rel.rpartition("/")[0] for _, rel in steps})
    return steps, new, list(dict.fromkeys(problems))


def _not_writable(out: Path, where: set[str]) -> list[str]:
    """The folders among `where` (relative; '' is out) that exist and cannot be written to."""
    return [
        f"{rel or out} is not writable"
        for rel in sorted(where)
        if _kind(out / rel) == DIR and not os.access(out / rel, os.W_OK | os.X_OK)
    ]


def _commit(folder: _Folder, stage: Path, roots, merge: bool) -> None:
    """Move the stage into place, all of it or (on any problem found first) nothing."""
    steps, manifest, problems = _plan(folder, stage, roots, merge)
    if problems:
        folder.fail(
            f"{_listing(problems)}; nothing was changed (reproduce never writes through "
            "a link, over a file it did not write, into another run's output folder or "
            "across file systems)"
        )
    folder.still_locked()
    journal = {
        "stage": stage.name,
        "displaced": time.strftime("displaced-%Y%m%d-%H%M%S-") + str(os.getpid()),
        "steps": steps + [("manifest", ""), ("done", "")],
    }
    try:
        _write_json(folder.control_fd, NEXT, {"format": 1, "entries": manifest})
        _write_json(folder.control_fd, PENDING, journal, sync=True)
        _publish(folder)  # the commit point
    except OSError as e:
        folder.fail(f"{e.strerror}; nothing was changed")
    _execute(folder, journal)
    moved = sum(1 for op, _ in steps if op == "displace")
    if moved:
        _say(
            f"--force: moved {moved} file(s) that were in the way to "
            f"{folder.control / journal['displaced']}"
        )


def _publish(folder: _Folder) -> None:
    """Rename the complete journal into place: from here on the new outputs are decided."""
    os.replace(PENDING, JOURNAL, src_dir_fd=folder.control_fd, dst_dir_fd=folder.control_fd)
    os.fsync(folder.control_fd)


def _execute(folder: _Folder, journal: dict) -> None:
    """Do every step of the journal; each can be done again, so a cut-short run is finished.

    A step that fails stops the commit: the journal stays for the next command. With --force
    the step is left out instead, and the manifest says of its path what it said before."""
    left_out, why = [], "a folder on their way became a link or a file during the commit"
    for op, rel in journal["steps"]:
        try:
            if op == "manifest":
                _place_manifest(folder, left_out)
            elif not _step(folder, journal, op, rel):
                left_out.append(rel)
        except (OSError, _Damaged) as e:
            problem = getattr(e, "strerror", None) or str(e)
            if not folder.force:
                folder.fail(
                    f"the commit stopped half way, at {rel or op} ({problem}); "
                    f"{folder.control / JOURNAL} holds the rest: fix the cause and run any "
                    "reproduce command on this --out to finish it, or add --force to finish "
                    "it without the outputs that cannot be placed"
                )
            left_out.append(rel)
            why = f"{problem}; --force left them as they were"
    _committed.append(str(folder.out))
    if left_out:
        _say(
            f"warning: {len(left_out)} output(s) were not placed in {folder.out} "
            f"({_listing(left_out)}): {why}"
        )


def _place_manifest(folder: _Folder, left_out: list[str]) -> None:
    """The new manifest into place; for a path whose step was left out, what the old said."""
    cfd = folder.control_fd
    if _kind(NEXT, cfd) != FILE:
        return  # placed already
    if left_out:
        new = _load_manifest(folder.control, NEXT) or {}
        old = _load_manifest(folder.control) or {}
        for rel in left_out:
            if rel in old:
                new[rel] = old[rel]
            else:
                new.pop(rel, None)
        _write_json(cfd, NEXT, {"format": 1, "entries": new})
    os.replace(NEXT, MANIFEST, src_dir_fd=cfd, dst_dir_fd=cfd)


def _step(folder: _Folder, journal: dict, op: str, rel: str) -> bool:
    """One step of a commit; False if it had to be skipped (something changed on the way).

    The folder of out/rel is reached by descriptors opened without following a link, and the
    step acts on it by name (dir_fd): a folder swapped for a link meanwhile is not entered."""
    if op == "done":
        _remove_at(folder.control_fd, JOURNAL)
        _remove_at(folder.control_fd, journal["stage"])
        return True
    where, _, name = rel.rpartition("/")
    try:
        parent = _open_dir(folder.out_fd, where)
    except FileNotFoundError:
        if op in ("remove", "rmdir"):
            return True  # its folder is gone: removed already
        raise
    if parent is None:
        return False
    try:
        kind = _kind(name, parent)
        if op == "mkdir" and kind is None:
            os.mkdir(name, dir_fd=parent)
        elif op in ("place", "displace"):
            _place(folder, journal, rel, parent, kind if op == "displace" else None)
        elif op == "remove" and kind == FILE:
            os.unlink(name, dir_fd=parent)
        elif op == "rmdir" and kind == DIR:
            try:
                os.rmdir(name, dir_fd=parent)
            except OSError:
                pass  # not empty: it holds files of yours
    finally:
        os.close(parent)
    return True


def _place(folder: _Folder, journal: dict, rel: str, parent: int, in_the_way: str | None) -> None:
    """Move the staged file rel into the folder `parent`, after moving what is in the way
    (in_the_way: its kind) into the displaced folder; nothing if it was moved already."""
    where, _, name = rel.rpartition("/")
    try:
        source = _open_dir(folder.control_fd, _join(journal["stage"], where), control=True)
    except FileNotFoundError:
        return
    if source is None:
        return
    try:
        if _kind(name, source) != FILE:
            return
        if in_the_way is not None:
            aside = _make_dirs(folder.control_fd, _join(journal["displaced"], where))
            try:
                os.rename(name, name, src_dir_fd=parent, dst_dir_fd=aside)
            finally:
                os.close(aside)
        os.replace(name, name, src_dir_fd=source, dst_dir_fd=parent)
    finally:
        os.close(source)


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def _make_dirs(dir_fd: int, rel: str) -> int:
    """A descriptor of the folder rel below dir_fd (inside .reproduce), created as needed."""
    fd = os.dup(dir_fd)
    for part in rel.split("/"):
        try:
            os.mkdir(part, dir_fd=fd)
        except FileExistsError:
            pass
        try:
            inner = os.open(part, DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd = inner
    return fd


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
    with _locked(out, force) as folder:
        folder.check_roots(owns)
        stage = Path(tempfile.mkdtemp(prefix="stage-", dir=folder.control))
        try:
            yield from _run(folder, stage, owns, merge)
        finally:
            if _kind(folder.control / JOURNAL) is None:  # else recovery needs what is left
                _remove_at(folder.control_fd, stage.name)


@contextmanager
def _locked(out: str | Path, force: bool) -> Iterator[_Folder]:
    """`out` checked and locked, a commit cut short there finished, until the block ends."""
    folder = _Folder(out, force)
    folder.check()
    folder.lock()
    try:
        with signals_held():
            folder.recover()
        folder.manifest = folder.read_manifest()
        yield folder
    finally:
        folder.close()


def finish_interrupted(path: str | Path, out: str | Path, force: bool = False) -> None:
    """Before a command reads `path`: finish the commit cut short in the output folder that
    holds it (the nearest folder above it with .reproduce/), so that it reads the outputs of
    one run, not a mix of two. Only `out` is written: a commit cut short elsewhere is refused
    in one line."""
    holder = next(
        (d for d in (Path(os.path.abspath(path)), *Path(os.path.abspath(path)).parents)
         if _kind(d / CONTROL) == DIR),
        None,
    )  # fmt: skip
    if holder is None or _kind(holder / CONTROL / JOURNAL) is None:
        return
    if not (Path(out).is_dir() and os.path.samefile(holder, out)):
        raise OutputError(
            f"{path} is in the output folder {holder}, whose last commit was cut short: run "
            f"any reproduce command with --out {holder} to finish it first"
        )
    with _locked(out, force):
        pass


def identity(path: str | Path) -> tuple[int, ...] | None:
    """What tells a file from one that replaced it (device, inode, size, time); None if absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


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


def write_texts(files: dict[Path, str], *, overwrite: bool = True) -> None:
    """Write UTF-8 text files all or nothing: every path checked first, every text written to
    a temporary file beside its path, then all renamed into place with the signals held; if a
    rename fails, those done are undone.

    Only a regular file is ever replaced (and only if overwrite): a FIFO, device, socket or
    link at a path is refused (as root, replacing /dev/null would break the system)."""
    for path in files:
        _check_file(path, overwrite)
    written: dict[Path, Path] = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            written[path] = _beside(path, ".tmp")
            fd = os.open(written[path], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
            with open(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        with signals_held():
            _rename_all(written)
    except OSError as e:
        names = ", ".join(map(str, files))
        raise OutputError(f"cannot write {names}: {e.strerror}; none was changed") from None
    finally:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)
    _committed.extend(map(str, files))


def _check_file(path: Path, overwrite: bool) -> None:
    kind = _kind(path)
    if str(path).endswith(os.sep) or kind == DIR or (kind == LINK and path.is_dir()):
        raise OutputError(f"cannot write {path}: it is a folder, expected a file name")
    if kind in (LINK, OTHER):
        raise OutputError(
            f"cannot write {path}: it is a {kind}, not a regular file; give another path"
        )
    if kind == FILE and not overwrite:
        raise OutputError(f"{path} exists; add --force to replace it")


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{time.time_ns()}{suffix}")


def _rename_all(written: dict[Path, Path]) -> None:
    """Rename each temporary file onto its path; on a failure put back what was replaced (a
    hard link of each replaced file is kept until all are done)."""
    kept, done = {}, []
    try:
        for path in written:
            if _kind(path) == FILE:
                kept[path] = _beside(path, ".old")
                os.link(path, kept[path])
        for path, tmp in written.items():
            os.replace(tmp, path)
            done.append(path)
    except OSError:
        for path in reversed(done):
            if path in kept:
                os.replace(kept[path], path)
            else:
                path.unlink()
        raise
    finally:
        for old in kept.values():
            old.unlink(missing_ok=True)
