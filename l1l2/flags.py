"""A command line generated from a frozen config dataclass.

Each field carries its help text in `doc(...)`; `parse` turns a dataclass into an
argparse parser, checks the values with the class's `check()` and reports any
problem as one line on stderr with exit status 2.
"""

import argparse
import dataclasses
import functools
import math
import sys
from dataclasses import Field, field
from typing import NoReturn

from .errors import UsageError


def doc(default: object, help: str, **kw: object) -> Field:
    """A dataclass field with its help text (the field's docstring)."""
    return field(default=default, metadata={"help": help, **kw})


def _fmt(seq):
    return ",".join(map(str, seq))


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        fail(message, self.prog)


def fail(message: str, prog: str = "reproduce") -> NoReturn:
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(2)


def number(kind: type[int] | type[float], text: str) -> int | float:
    """text -> a finite int or float (-0 read as 0); ValueError saying what is wrong."""
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(
            f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {text!r}")
    return value + 0


def _number_type(kind):
    def convert(text):
        try:
            return number(kind, text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return convert


def _list_type(item):
    """'a,b,c' -> tuple of item; '' is the empty tuple, an empty item ('1,,2') is an error."""

    def convert(text):
        parts = [p.strip() for p in text.split(",")] if text.strip() else []
        try:
            if "" in parts:
                raise ValueError("an item is empty")
            return tuple(number(item, p) if item in (int, float) else p for p in parts)
        except ValueError as e:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {item.__name__}, got {text!r} ({e})"
            ) from None

    return convert


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except an empty one (which means 'not set')."""

    def _get_help_string(self, action):
        if action.default in ("", None):
            return action.help
        return super()._get_help_string(action)


def parser_for(cls: type, prog: str, description: str | None = None) -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description=description or cls.__doc__,
        formatter_class=_Formatter,
        allow_abbrev=False,  # --epoch is not --epochs: a typo is named, not guessed
    )
    for f in _own_fields_first(cls):
        help = f.metadata.get("help", "").replace("%", "%%")  # argparse formats help with %
        if f.type in (bool, "bool"):
            p.add_argument(
                flag(f.name), action=argparse.BooleanOptionalAction, default=f.default, help=help
            )
            continue
        kind = {"int": int, "float": float, "str": str}.get(f.type, f.type)
        if "item" in f.metadata:
            convert, metavar, default = _list_type(f.metadata["item"]), "A,B,..", _fmt(f.default)
        elif kind in (int, float):
            convert, metavar, default = _number_type(kind), kind.__name__.upper(), f.default
        else:
            convert, metavar, default = str, "TEXT", f.default
        p.add_argument(flag(f.name), type=convert, metavar=metavar, default=default, help=help)
    return p


@functools.cache
def flags_of(cls: type) -> tuple[str, ...]:
    """Every flag a config class's command line takes (--x and --no-x for booleans)."""
    return tuple(parser_for(cls, "reproduce")._option_string_actions)


def _own_fields_first(cls):
    """The command's own flags first, those it shares with other commands (data, out, ...) after."""
    own = vars(cls).get("__annotations__", {})
    return sorted(dataclasses.fields(cls), key=lambda f: f.name not in own)


def _utf8(value: object) -> bool:
    """Whether a flag's value (text, or a tuple of it) encodes as UTF-8: the command line
    decodes other bytes as lone surrogates, which no output file can hold."""
    if isinstance(value, tuple):
        return all(map(_utf8, value))
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def parse(cls: type, argv: list[str], prog: str = "reproduce") -> object:
    """argv -> a checked, resolved instance of cls (exit 2 with one line on any problem)."""
    ns = parser_for(cls, prog).parse_args(argv)
    for f in dataclasses.fields(cls):
        value = getattr(ns, f.name)
        if f.metadata.get("path") and value is not None and not value.strip():
            fail(f"{flag(f.name)} must not be empty", prog)
        if not _utf8(getattr(ns, f.name)):  # a file name in another encoding, say
            fail(f"{flag(f.name)} is not valid UTF-8 text, which the outputs record", prog)
    try:
        cfg = cls(**vars(ns))
        cfg = cfg.resolved() if hasattr(cfg, "resolved") else cfg
        cfg.check()  # the values the command will use (after --quick, say)
        return cfg
    except UsageError as e:
        fail(str(e), prog)
