"""Modules imported on first use: the command line answers --help and refuses a bad flag at once,
without the seconds TensorFlow (~3 s), SciPy (~1.3 s) and matplotlib (~0.8 s) take to import."""

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .errors import InputError

INSTALL = "pip install -r requirements.txt"


class MissingPackage(InputError):
    """A package of requirements.txt is not installed: one line naming the install command."""


class Lazy:
    """Stands in for the module `load()` returns, which is loaded when an attribute is first
    read (load is called once)."""

    def __init__(self, load: Callable[[], ModuleType]):
        self._load = functools.cache(load)

    def __getattr__(self, name: str) -> Any:
        try:
            module = self._load()
        except ModuleNotFoundError as e:
            raise MissingPackage(f"{e.name} is not installed; run: {INSTALL}") from None
        return getattr(module, name)
