"""Reading back a file as untrusted input: bounded in size and depth, checked in type and range.

Every file the project reads back (an output folder's manifest and journal, a checkpoint's
record, a recording) may have been edited, damaged or handed over by someone else. Each reader
goes through this module: `open_file`/`read` refuse what is not a regular file or is too large
(before reading it: a FIFO would block forever), `parse_json` refuses JSON nested deeper than a
bound (instead of a RecursionError), and the validators below check one value each. A name or
path a file holds is checked here once, when the file is parsed: a plain name, or a relative path
of plain names, that stays inside the folder it belongs to.

Every problem is an Invalid whose message says what is wrong in a few words; the reader adds the
file's name.
"""

import json
import os
import re
import stat
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MAX_DEPTH = 32  # nesting of JSON objects and lists; ours nest at most 4 deep
MAX_NAME_BYTES = 255  # of one name in a folder (Linux's NAME_MAX)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # a JSON string literal
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
FLOAT32_MAX = float(np.finfo(np.float32).max)


class Invalid(ValueError):
    """What is wrong with an untrusted file or value, in a few words."""


def check(ok: bool, why: str) -> None:
    """Invalid(why) unless ok."""
    if not ok:
        raise Invalid(why)


# --- files ---------------------------------------------------------------------------------------


def open_file(path: str | Path, max_bytes: int, follow: bool = True) -> BinaryIO | None:
    """The file at path opened for reading, None if nothing is there; Invalid unless it is a
    regular file of at most max_bytes (follow=False: a link is refused, not followed)."""
    try:
        st = os.stat(path, follow_symlinks=follow)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise Invalid(f"cannot be read ({e.strerror})") from None
    _check_regular(st, max_bytes)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise Invalid(f"cannot be read ({e.strerror})") from None
    try:
        now = os.fstat(fd)
        check((now.st_dev, now.st_ino) == (st.st_dev, st.st_ino), "changed while it was opened")
        _check_regular(now, max_bytes)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_regular(st: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise Invalid("is a symbolic link")
    if stat.S_ISDIR(st.st_mode):
        raise Invalid("is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise Invalid("is not a regular file (a FIFO, device or socket)")
    if st.st_size > max_bytes:
        raise Invalid(f"is {st.st_size:,} bytes, more than the {max_bytes:,} allowed")


def read(path: str | Path, max_bytes: int, follow: bool = True) -> bytes | None:
    """The bytes of a regular file of at most max_bytes; None if nothing is there."""
    f = open_file(path, max_bytes, follow)
    if f is None:
        return None
    with f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as e:
            raise Invalid(f"cannot be read ({e.strerror})") from None
    check(len(data) <= max_bytes, f"is more than the {max_bytes:,} bytes allowed")
    return data


def parse_json(data: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """UTF-8 JSON text nested at most max_depth deep; NaN and Infinity are not JSON."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("is not JSON (UnicodeDecodeError)") from None
    check(_depth(text, max_depth) <= max_depth, f"is nested more than {max_depth} deep")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise Invalid(f"is not JSON ({e.__class__.__name__})") from None


def read_json(path: str | Path, max_bytes: int, follow: bool = True) -> Any:
    """parse_json of read(); Invalid('not found') if nothing is there."""
    data = read(path, max_bytes, follow)
    check(data is not None, "not found")
    return parse_json(data)


def _depth(text: str, limit: int) -> int:
    """How deep the brackets outside string literals nest (counting stops past limit)."""
    depth = deepest = 0
    for c in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        depth += 1 if c in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# --- values --------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    return json.dumps(value, default=repr)[:40]


def of_type(value: Any, kind: type | tuple[type, ...], what: str, words: str) -> Any:
    """value if it is a `kind` (a bool is a bool only, not a number), else Invalid."""
    if kind is bool:
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, kind) and not isinstance(value, (bool, np.bool_))
    check(ok, f"{what} is {_shown(value)}, expected {words}")
    return value


def text(value: Any, what: str, max_chars: int = 4096) -> str:
    """A string without NUL that UTF-8 encodes (a file name the OS and JSON both hold)."""
    of_type(value, str, what, "a string")
    check(len(value) <= max_chars, f"{what} is longer than {max_chars:,} characters")
    check("\0" not in value, f"{what} holds a NUL byte")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"{what} is not UTF-8 text") from None
    return value


def _plain(part: str) -> bool:
    return (
        part not in ("", ".", "..")
        and "/" not in part
        and "\\" not in part
        and len(part.encode("utf-8")) <= MAX_NAME_BYTES
    )


def name(value: Any, what: str) -> str:
    """A plain name of one entry of a folder: no separator, not '.' or '..', not empty."""
    text(value, what)
    check(_plain(value), f"{what} is {_shown(value)}, expected a plain name (no folder, no '..')")
    return value


def relative_path(value: Any, what: str) -> str:
    """A normalised relative path of plain names ('a/b'): it stays inside its folder."""
    text(value, what)
    check(
        all(_plain(part) for part in value.split("/")),
        f"{what} is {_shown(value)}, expected a relative path inside the folder",
    )
    return value


# --- arrays --------------------------------------------------------------------------------------

KIND_WORDS = {"fiu": "numbers", "iu": "integers", "U": "text", "b": "true or false"}


def array(value: Any, what: str, ndim: int, kinds: str) -> np.ndarray:
    """An array of ndim dimensions whose dtype kind is one of `kinds` (see KIND_WORDS)."""
    check(isinstance(value, np.ndarray), f"{what} is not a NumPy array")
    dims = lambda n: "a scalar" if n == 0 else f"{n}-D"
    check(
        value.ndim == ndim,
        f"{what} must be {dims(ndim)}, got {dims(value.ndim)} (shape {value.shape})",
    )
    check(
        value.dtype.kind in kinds, f"{what} must hold {KIND_WORDS[kinds]}, got dtype {value.dtype}"
    )
    return value


def float32_range(a: np.ndarray, what: str) -> np.ndarray:
    """Numbers within float32's range; NaN (a diverged run's weights) is allowed, inf is not."""
    if a.dtype.kind == "f" and a.size:
        with np.errstate(invalid="ignore"):
            biggest = float(np.nanmax(np.abs(a), initial=0.0))
        check(biggest <= FLOAT32_MAX, f"{what} holds inf or values beyond the float32 range")
    return a
