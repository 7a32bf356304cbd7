"""TensorFlow's persistent XLA compilation cache, in a user cache folder, safe to reuse.

A compiled loop (core/compiled.py) takes ~1 s of XLA compilation per new set of shapes; with
`--tf_xla_persistent_cache_directory` TensorFlow writes each compiled executable to a file and
the next process with the same shapes loads it instead of compiling again.

Where: $L1L2_CACHE_DIR (an empty value turns the cache off), else $XDG_CACHE_HOME/l1l2, else
~/.cache/l1l2; inside it xla/tf-<TensorFlow version>-<hash of the CPU's features and the XLA
flags>, so that an executable is only ever loaded by the TensorFlow that wrote it, on a CPU
with the same features (XLA compiles for the host CPU), compiled under the same flags.

TensorFlow fails the whole run on an entry it cannot read (a file cut short by a crash, a
damaged disk) and writes its entries in place, not atomically. So an entry is used only once
this package has sealed it: a file is sealed (a .sha256 file beside it) after a run that
compiled or loaded it succeeded, if it holds a whole entry (its protobuf fields run to its end,
the executable among them); before TensorFlow starts, every entry without a seal or with a seal
its bytes no longer match is deleted. A folder no run has used for 30 days (an older TensorFlow,
other flags) is deleted whole. Any trouble with the folder (not writable, a race with
another process) turns the cache off or costs a compilation, never the run.
"""

import hashlib
import os
import platform
import shutil
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import untrusted

ENV = "L1L2_CACHE_DIR"
CACHE_FLAG = "--tf_xla_persistent_cache_directory"
SEAL = ".sha256"
MAX_ENTRIES = 64  # the most recently used entries kept (an entry is ~0.6 MB)
MAX_ENTRY_BYTES = 256 << 20  # a bigger file is no entry of ours
UNUSED_S = 30 * 86400  # a folder (xla/tf-*) no run has prepared for this long is deleted
ENTRY_FIELDS = (1, 2, 3)  # XlaSerializedCacheEntry: key, HLO module, executable


def base_dir() -> Path | None:
    """The package's user cache folder; None if $L1L2_CACHE_DIR is set empty."""
    if ENV in os.environ:
        return Path(os.environ[ENV]) if os.environ[ENV] else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "l1l2"


def cpu_features() -> str:
    """The CPU's features as the OS lists them (Linux: the flags of /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()}"


def cache_dir(flags: str = "") -> Path | None:
    """The folder of this TensorFlow's entries on this CPU under these XLA flags (not created);
    None if off. TensorFlow's own key of an entry leaves the flags out: an executable compiled
    under other flags (fast math, say) would be loaded."""
    base = base_dir()
    if base is None:
        return None
    try:
        tf_version = version("tensorflow")
    except PackageNotFoundError:
        tf_version = "unknown"
    where = hashlib.sha256(f"{cpu_features()}\n{flags}".encode()).hexdigest()[:12]
    return base / "xla" / f"tf-{tf_version}-{where}"


def prepare(flags: str = "") -> Path | None:
    """The cache folder of `flags` (cache_dir), created, with every entry that is not sealed (or
    whose seal does not match) deleted and only the MAX_ENTRIES most recent kept; the folders of
    other TensorFlow versions, CPUs or flags unused for UNUSED_S deleted; None if off or
    unusable."""
    folder = cache_dir(flags)
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        kept = 0
        for entry in sorted(folder.glob("*.pb"), key=_mtime, reverse=True):
            if kept < MAX_ENTRIES and _sealed(entry):
                kept += 1
            else:
                _remove(entry)
        for seal in folder.glob(f"*{SEAL}"):
            if not seal.with_suffix("").exists():
                _remove(seal)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")  # TensorFlow fails a compilation it cannot save
        probe.unlink()
        os.utime(folder)  # in use: not one of the unused folders below
        for other in folder.parent.glob("tf-*"):
            if other.is_dir() and not other.is_symlink() and _mtime(other) < time.time() - UNUSED_S:
                shutil.rmtree(other, ignore_errors=True)  # another TensorFlow, CPU or flags
    except OSError:
        return None
    return folder


def seal(folder: Path | None) -> None:
    """Seal the whole entries of `folder` that have no seal yet (after a run that used them)."""
    if folder is None:
        return
    try:
        for entry in folder.glob("*.pb"):
            seal_file = entry.with_name(entry.name + SEAL)
            if seal_file.exists():
                continue
            try:
                data = untrusted.read(entry, MAX_ENTRY_BYTES, follow=False)
            except untrusted.Invalid:
                continue  # never sealed: the next prepare() deletes it
            if data is not None and whole_entry(data):
                tmp = seal_file.with_name(f".{seal_file.name}.{os.getpid()}")
                tmp.write_text(hashlib.sha256(data).hexdigest(), encoding="utf-8")
                tmp.replace(seal_file)
    except OSError:
        pass  # unsealed entries are deleted by the next prepare(): a compilation, no more


def with_cache(flags: str, folder: Path | None) -> str:
    """TF_XLA_FLAGS `flags` with the persistent cache in `folder`, unless they name one."""
    if folder is None or any(w.split("=")[0] == CACHE_FLAG for w in flags.split()):
        return flags
    return " ".join([*flags.split(), f"{CACHE_FLAG}={folder}"])


def whole_entry(data: bytes) -> bool:
    """Whether `data` is a whole serialized entry: protobuf fields that end where the data ends,
    the key, the HLO module and a non-empty executable among them (a file cut short fails)."""
    pos, lengths = 0, {}
    try:
        while pos < len(data):
            key, pos = _varint(data, pos)
            field, wire = key >> 3, key & 7
            if wire == 2:
                length, pos = _varint(data, pos)
                pos += length
                lengths[field] = length
            elif wire == 0:
                pos = _varint(data, pos)[1]
            elif wire in (1, 5):
                pos += 8 if wire == 1 else 4
            else:
                return False
    except IndexError:
        return False
    return pos == len(data) and all(f in lengths for f in ENTRY_FIELDS) and lengths[3] > 0


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _sealed(entry: Path) -> bool:
    seal_file = entry.with_name(entry.name + SEAL)
    try:
        want = untrusted.read(seal_file, 64, follow=False)
        data = untrusted.read(entry, MAX_ENTRY_BYTES, follow=False)
    except untrusted.Invalid:  # a FIFO would block TensorFlow's read: such an entry goes
        return False
    if want is None or data is None:
        return False
    return hashlib.sha256(data).hexdigest().encode() == want.strip()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _remove(path: Path) -> None:
    try:
        path.unlink()
        path.with_name(path.name + SEAL).unlink(missing_ok=True)
    except OSError:
        pass
