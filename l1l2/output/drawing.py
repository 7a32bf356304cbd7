"""The pictures of a run, drawn in a second process while TensorFlow writes the rest.

Drawing (matplotlib, the GIFs) and TensorFlow's work (event files, checkpoints, retraining)
are both Python-heavy, so two threads would take turns on one interpreter lock; a second
process uses the second core. It is spawned, not forked: a fork would copy TensorFlow's threads
in whatever state they are. It imports no TensorFlow and leaves Ctrl-C to the main process.
"""

import multiprocessing
import os
import signal
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .. import blog
from . import curves, gifs, plots


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


def _leave_signals_to_the_parent() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def second_process() -> Executor:
    """One spawned worker process (use it in a with-block: leaving it waits for the work). A
    spawned process imports the caller's main script again: where there is none to import
    (code read from stdin), the pictures are drawn in a thread of this process instead."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file is not None and not os.path.isfile(main_file):
        return ThreadPoolExecutor(1)
    return ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=_leave_signals_to_the_parent
    )
