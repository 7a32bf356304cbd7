"""What can be wrong with a file a user hands in, and with the disk we write to."""

import errno
import os
import stat
from pathlib import Path

# A write fails for these whatever the code does: the disk, not a bug. They come as OSError,
# or as another exception whose message holds the OS's words (TensorFlow's writers).
STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO)
STORAGE_WORDS = tuple(os.strerror(n) for n in STORAGE_ERRNOS)


def file_problem(path: str | Path, max_bytes: int | None = None) -> str | None:
    """None if path is a regular file (of at most max_bytes), else what is wrong, in a few words.

    FIFOs and devices are refused before open(): reading one can block forever or never end."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "not found"
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a FIFO, device or socket)"
    if max_bytes is not None and st.st_size > max_bytes:
        return f"is {st.st_size / 1e6:.0f} MB, larger than the {max_bytes / 1e6:.0f} MB allowed"
    return None


def storage_problem(exc: BaseException) -> str | None:
    """The OS's words ('No space left on device', ...) if exc is a failed write to the disk.

    TensorFlow reports a full disk as RuntimeError (event files) or ResourceExhaustedError
    (checkpoints) with the OS's message inside; both are recognised by those words, so the
    user sees one line instead of a traceback."""
    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        return os.strerror(exc.errno)
    if isinstance(exc, Exception):
        text = str(exc)
        return next((w for w in STORAGE_WORDS if w in text), None)
    return None
