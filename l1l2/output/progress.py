"""What a command shows while it works: a line per phase with its time, a bar for long loops.

Everything goes to stderr, so stdout keeps only the results. --no-progress hides the bars,
--quiet the phase lines too.
"""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


class Progress:
    """Phase lines always (unless quiet); bars only on a terminal: in a log file a bar is a
    thousand-character line."""

    def __init__(self, bars: bool = True, lines: bool = True):
        self.bars, self.lines = bars and lines and sys.stderr.isatty(), lines
        self.started = time.perf_counter()

    def say(self, text: str) -> None:
        if self.lines:
            print(text, file=sys.stderr, flush=True)

    @contextmanager
    def phase(
        self, what: str, total: int | None = None, unit: str = "step"
    ) -> Iterator[Callable[..., object]]:
        """A phase of the command: 'what ... 1.2 s' when it ends; with `total`, a bar meanwhile
        (the phase yields its update function, or a no-op without bars)."""
        start = time.perf_counter()
        if total is None:
            self.say(f"{what} ...")
            yield lambda n=1: None
        else:
            with tqdm(
                total=total,
                desc=what,
                unit=unit,
                unit_scale=total >= 10_000,  # 1.2M model-steps, but 3/11 settings
                leave=False,
                disable=not self.bars,
                file=sys.stderr,
            ) as bar:
                yield bar.update
        self.say(f"{what}: {time.perf_counter() - start:.1f} s")

    def elapsed(self) -> float:
        return time.perf_counter() - self.started
