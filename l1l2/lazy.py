"""Modules imported on first use: the command line answers --help and refuses a bad flag at once,
without the seconds TensorFlow (~3 s), SciPy (~1.3 s) and matplotlib (~0.8 s) take to import."""

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any


class Lazy:
    """Stands in for the module `load()` returns, which is loaded when an attribute is first
    read (load is called once)."""

    def __init__(self, load: Callable[[], ModuleType]):
        self._load = functools.cache(load)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._load(), name)
