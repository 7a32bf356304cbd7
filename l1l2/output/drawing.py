"""The pictures of a run, drawn in a second process while TensorFlow writes the rest.

Drawing (matplotlib, the GIFs) and TensorFlow's work (event files, checkpoints, retraining)
are both Python-heavy, so two threads would take turns on one interpreter lock; a second
process uses the second core. It is spawned, not forked: a fork would copy TensorFlow's threads
in whatever state they are. It imports no TensorFlow and leaves Ctrl-C to the main process: it
starts with the interrupts blocked (a Ctrl-C to the process group while it imports would print
its traceback), then ignores them. It never outlives the main process: it exits as soon as the
main process is gone (kill -9) or leaves its with-block (on an error or interrupt at once, as
nobody will see the pictures; else once the work is done), told by a pipe whose other end only
the main process holds.
"""

import io
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .. import blog
from . import curves, gifs, plots


def warm_up(sizes: Sequence[int]) -> None:
    """Import what drawing needs (matplotlib, imageio, Pillow: ~0.4 s) and draw what does not
    depend on the training: a first figure (fonts, text layout, the PNG writer) and the GIFs'
    panels of a network of these sizes (~0.2 s in all), so that a worker started early spends
    that time while the main process still imports TensorFlow."""
    _ = gifs.iio.imwrite, gifs.pil_gif.getdata  # a Lazy module loads at its first attribute
    fig, ax = plots.subplots(figsize=(2, 2), dpi=100)
    ax.semilogy([1, 2], [1, 100], label="a")
    ax.set(title="a", xlabel="a", ylabel="a")
    fig.legend()
    plots.save(fig, io.BytesIO(), (0.5, 0.1, 0.5, 0.3))
    gifs.draw_ahead(sizes)


def figures(folder: Path, rec: dict[str, Any], gif_seconds: float | None) -> None:
    """sparsity, weight histogram and error figures; the GIFs too unless gif_seconds is None.
    The blog's L1 runs stand beside ours only on the protocol's data set."""
    (folder / "figures").mkdir(exist_ok=True)
    plots.sparsity_figure(rec, folder / "figures" / "sparsity.png")
    plots.weights_hist_figure(rec, folder / "figures" / "weights_hist.png")
    anchor = blog.L1_TEST_ERRORS if bool(rec.get("protocol_data", False)) else ()
    plots.errors_figure(rec, folder / "figures" / "errors.png", anchor)
    if gif_seconds is not None:
        gifs.write_all(folder / "gifs", rec, gif_seconds)


def everything(
    folder: Path,
    rec: dict[str, Any],
    gif_seconds: float | None,
    curve_args: tuple,
    fit_args: tuple,
    objective_panels: list,
) -> None:
    """The main run's pictures: learning curves, fits, the runs on their objective (if its
    optimum is known), then figures() (and the GIFs)."""
    (folder / "figures").mkdir(exist_ok=True)
    curves.figure(folder / "figures" / "learning_curves.png", *curve_args)
    plots.fit_figure(*fit_args[:3], folder / "figures" / "fit.png", fit_args[3])
    if objective_panels:
        note = "Diamond: the exact minimum. A run lies on or above its method's curve."
        plots.objective_figure(objective_panels, note, folder / "figures" / "objective.png")
    figures(folder, rec, gif_seconds)


INTERRUPTS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class _Drawing(ProcessPoolExecutor):
    """One spawned worker, tied to this process by a pipe (the lifeline): the worker holds its
    reading end and exits when it reads the end of it."""

    def __init__(self) -> None:
        self._worker_end, self._lifeline = multiprocessing.Pipe(duplex=False)
        self._submitted: list[Future] = []
        super().__init__(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_serve,
            initargs=(self._worker_end,),
        )

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        future = super().submit(fn, *args, **kwargs)
        self._submitted.append(future)
        return future

    def start(self) -> None:
        """Start the worker now, with the interrupts blocked: it inherits the mask."""
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
        try:
            self.submit(int)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self._worker_end.close()

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> bool | None:
        """On an error or an interrupt, end the worker at once; else wait for the work, then
        end it too: its Python teardown (~0.1 s with matplotlib loaded) would only be waited
        for."""
        try:
            if kind is None:
                wait(self._submitted)
        finally:  # an interrupt while waiting ends the worker too
            self._lifeline.close()
        return super().__exit__(kind, value, traceback)


def _serve(lifeline: Connection) -> None:
    """The worker's start: ignore the interrupts (any already sent are dropped), then watch
    the lifeline."""
    for sig in INTERRUPTS:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)
    threading.Thread(target=_exit_with, args=(lifeline,), daemon=True).start()


def _exit_with(lifeline: Connection) -> None:
    """Exit the worker once the main process has closed its end of the lifeline (or died)."""
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os._exit(1)


def second_process() -> Executor:
    """One spawned worker process (use it in a with-block: leaving it waits for the work, or
    on an error or interrupt ends the worker). A spawned process imports the caller's main
    script again: where there is none to import (code read from stdin), the pictures are drawn
    in a thread of this process instead."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file is not None and not os.path.isfile(main_file):
        return ThreadPoolExecutor(1)
    pool = _Drawing()
    pool.start()
    return pool
