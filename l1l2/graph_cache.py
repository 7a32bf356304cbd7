"""Traced TensorFlow graphs kept on disk, so that a new process skips tracing them.

Tracing the compiled engine's loop (core/compiled.py) in Python takes ~0.5 s (~950 ops); a
new process importing the same graph from its GraphDef takes ~0.03 s. A graph is stored under a
key of what it was traced from: the caller's key (the loop's settings and shapes) and this
package's source, so that a changed engine never loads a graph of the old one. The files live in
graphs/ of the XLA cache's folder (xla_cache.py: one per TensorFlow version, CPU and XLA flags;
none when that cache is off).

A file is read as untrusted: a regular file (untrusted.read: no FIFO, no link) of at most
MAX_BYTES; its SHA-256 first, then the GraphDef (a file cut short or damaged is deleted, not
used); every op of the graph and of its functions one of the caller's `ops`. Anything wrong is a
miss: the caller traces the graph again and the file is replaced, atomically (a temporary file,
then a rename).
"""

import functools
import hashlib
import os
import time
from pathlib import Path

from . import untrusted
from .tf1 import v1

MAX_BYTES = 16 << 20  # a loop's graph is ~130 KB
MAX_GRAPHS = 64  # the most recently written graphs kept
DIGEST = 32  # bytes of the SHA-256 in front of the GraphDef
STALE_S = 3600  # a temporary file this old was left by a process that died writing it


@functools.cache
def source_digest() -> str:
    """SHA-256 of this package's Python source (every file, by its path in the package)."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def path_for(folder: Path | None, key: str) -> Path | None:
    """The file of the graph traced from `key` under `folder` (an XLA cache folder); None if
    there is no folder."""
    if folder is None:
        return None
    name = hashlib.sha256(f"{source_digest()}\n{key}".encode()).hexdigest()[:32]
    return folder / "graphs" / f"{name}.pb"


def ops_of(graph_def: "v1.GraphDef") -> set[str]:
    """The op types of a GraphDef's nodes and of its functions' nodes."""
    ops = {n.op for n in graph_def.node}
    for f in graph_def.library.function:
        ops.update(n.op for n in f.node_def)
    return ops


def load(path: Path, ops: frozenset[str]) -> "v1.GraphDef | None":
    """The GraphDef stored at path, or None (no file, or one that fails a check: then deleted)."""
    from google.protobuf.message import DecodeError  # TensorFlow's dependency, loaded with it

    graph_def = v1.GraphDef()
    try:
        data = untrusted.read(path, MAX_BYTES, follow=False)  # a FIFO, a link: refused
        if data is None:
            return None
        body = data[DIGEST:]
        if hashlib.sha256(body).digest() != data[:DIGEST]:
            raise ValueError(f"{path} is damaged")
        graph_def.ParseFromString(body)
        if not ops_of(graph_def) <= ops:
            raise ValueError(f"{path} holds other ops than the loop's")
    except (ValueError, DecodeError):  # a miss, never the run's end
        remove(path)
        return None
    return graph_def


def save(path: Path, graph_def: "v1.GraphDef", ops: frozenset[str]) -> None:
    """Store graph_def at path (digest, then the GraphDef), if its ops are all in `ops` (else
    load would refuse it); keep the MAX_GRAPHS newest files. A failure to write is no error."""
    body = graph_def.SerializeToString()
    if len(body) + DIGEST > MAX_BYTES or not ops_of(graph_def) <= ops:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(hashlib.sha256(body).digest() + body)
        tmp.replace(path)
        files = sorted(path.parent.glob("*.pb"), key=_mtime, reverse=True)
        stale = [t for t in path.parent.glob(".*.pb.*") if _mtime(t) < time.time() - STALE_S]
        for old in files[MAX_GRAPHS:] + stale:  # stale: left by a process killed while writing
            remove(old)
    except OSError:
        remove(tmp)


def remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
