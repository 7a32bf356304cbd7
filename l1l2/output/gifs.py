"""The weight GIFs of a run: which GIFs (a model each, L1 above L2), their panels, titles and what
each frame's caption says; write_all draws them all, drawing_gb says the memory that takes.

Why arrays: redrawing every frame with matplotlib and quantizing it to 256 colours took ~11 s
for the default run's four GIFs and banded the colour bar. Here what never changes (titles,
unit ticks, axis labels, colour bar) is drawn once per GIF, with Pillow in matplotlib's font;
each frame only changes the heatmaps, where every weight is one of N_LEVELS colour-map levels and
every unit a block of pixels, and a caption pasted from cached pieces of text. Every pixel is a
palette index from the start: no quantization, exact colours, a colour bar with the very levels
the heatmaps use. The GIF stores, after the first frame, only the rectangle that changed.

The drawing, a module per step: gif_timing (which frames, how long each), palette (the colours),
text (Pillow text), sheet (layout and what never changes), frames (render and write a GIF).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .frames import animate, write_png
from .gif_timing import max_frames
from .sheet import MAX_PANEL_PX

METHOD_NAMES = {"none": "no regularization", "l1": "L1", "l2": "L2", "l1l2": "L1+L2"}


def method_words(method: str, lam: float) -> str:
    """'L1 (lambda = 0.3)', or 'no regularization'."""
    name = METHOD_NAMES.get(method, method)
    return name if method == "none" else f"{name} (lambda = {lam:g})"


def frame_labels(rec: dict[str, Any]) -> list:
    """'initial weights', then 'epoch E of N' (or the step, between epochs) for later frames."""
    spe, steps = int(rec["steps_per_epoch"]), np.asarray(rec["frame_steps"])
    total = f" of {steps[-1] // spe}" if steps[-1] % spe == 0 else ""
    return ["initial weights"] + [
        f"epoch {s // spe}{total}" if s % spe == 0 else f"step {s} (epoch {s / spe:.2f})"
        for s in steps[1:]
    ]


def mean_costs(rec: dict[str, Any], r: int) -> list:
    """Per frame: the mean training cost over the SGD steps since the previous frame (nan for
    frame 0)."""
    steps = rec["frame_steps"]
    return [np.nan] + [rec["step_cost"][a:b, r].mean() for a, b in zip(steps[:-1], steps[1:])]


def frame_test_errors(rec: dict[str, Any]) -> np.ndarray | None:
    """[F, R] total absolute test error at every frame, if the recording has it, else None."""
    e = rec.get("frame_test_error")
    shape = (len(rec["frame_steps"]), len(rec["methods"]))
    return None if e is None or np.shape(e) != shape else np.asarray(e, float)


def frame_values(rec: dict[str, Any], models: list[int]) -> tuple[str, np.ndarray, str]:
    """(what, [F, len(models)] values, format) the captions show: the test error at each frame
    if recorded, else the mean training cost per step since the previous frame, named so it
    cannot be read as the total cost of results.csv."""
    errors = frame_test_errors(rec)
    if errors is not None:
        return "total absolute test error", errors[:, models], ".1f"
    spe, gaps = int(rec["steps_per_epoch"]), np.diff(rec["frame_steps"])
    since = "over the last epoch" if (gaps == spe).all() else "since the previous frame"
    costs = np.array([mean_costs(rec, r) for r in models], float).T
    return f"mean training cost per step {since}", costs, ".2f"


def _number(v, fmt):
    return format(v, fmt) if np.isfinite(v) else "not finite"


def captions(rec: dict[str, Any], models: Sequence[int], names: Sequence[str] = ()) -> list:
    """One caption per frame: the epoch and, for each model (named by `names` when several),
    the number frame_values chooses."""
    what, values, fmt = frame_values(rec, list(models))
    out = []
    for f, (label, row) in enumerate(zip(frame_labels(rec), values)):
        if f == 0 and np.isnan(row).all():
            out.append(label)  # no cost before the first step
        elif len(row) == 1:
            out.append(f"{label}  ·  {what} {_number(row[0], fmt)}")
        else:
            each = ", ".join(f"{n} {_number(v, fmt)}" for n, v in zip(names, row))
            out.append(f"{label}  ·  {what}: {each}")
    return out


def layer_panels(rec: dict[str, Any], r: int, prefix: str = "") -> list[tuple[str, np.ndarray]]:
    """One panel per kernel of model r: 'dense2 W (10x10)' and its frames [F, in, out]."""
    return [
        (f"{prefix}{name} W ({k.shape[2]}x{k.shape[3]})", k[:, r])
        for name, k in zip(rec["layers"], rec["kernels"])
    ]


def _run_words(rec, r):
    return f"run {rec['runs'][r]} (seed {rec['seeds'][r]})"


@dataclass
class Job:
    """One GIF to draw: weights_<name>.gif and .png."""

    name: str
    panels: list  # [(title, frames [F, rows, cols])]
    captions: list  # [F] strings
    grid: tuple  # (rows, cols) of panels
    title: str
    row_labels: tuple = ()


def jobs(rec: dict[str, Any]) -> list:
    """The default GIFs: the kernels of run 0 of every method, and L1 above L2 if both ran."""
    first = {m: i for i, (m, k) in enumerate(zip(rec["methods"], rec["runs"])) if k == 0}
    lam, n_layers = float(rec["lam"]), len(rec["layers"])
    out = [
        Job(
            m,
            layer_panels(rec, r),
            captions(rec, [r]),
            (2, -(-n_layers // 2)),
            f"{method_words(m, lam)}, {_run_words(rec, r)}: kernel weights while training",
        )
        for m, r in first.items()
    ]
    if "l1" in first and "l2" in first:
        a, b = first["l1"], first["l2"]
        seeds = rec["seeds"][a], rec["seeds"][b]
        start = (
            f"run {rec['runs'][a]} (seed {seeds[0]}), same initial weights"
            if seeds[0] == seeds[1]
            else f"seeds {seeds[0]} / {seeds[1]}"
        )
        out.append(
            Job(
                "l1_vs_l2",
                layer_panels(rec, a) + layer_panels(rec, b),
                captions(rec, [a, b], ("L1", "L2")),
                (2, n_layers),
                f"L1 (top) vs L2 (bottom), lambda = {lam:g}, {start}",
                (("L1", "l1"), ("L2", "l2")),
            )
        )  # a row per method
    return out


def write_all(folder: Path, rec: dict[str, Any], total_s: float) -> None:
    """weights_<method>.gif for run 0 of every method, and weights_l1_vs_l2.gif; a PNG of each
    last frame."""
    folder.mkdir(parents=True, exist_ok=True)
    for job in jobs(rec):
        out = animate(
            folder / f"weights_{job.name}.gif",
            job.panels,
            job.captions,
            job.grid,
            total_s,
            job.title,
            job.row_labels,
        )
        write_png(folder / f"weights_{job.name}.png", out.frame(len(out) - 1))


def drawing_gb(sizes: Sequence[int], n_frames: int, total_s: float) -> float:
    """Memory the GIFs need at their peak, the L1-vs-L2 GIF (two models): the colour level of
    every weight in every frame kept (a byte each), the float temporaries of the largest layer
    while it is mapped to levels, and the static sheet (a panel is at most MAX_PANEL_PX
    square, whatever the layer's width)."""
    kept = min(n_frames, max_frames(total_s))
    layers = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    sheet_px = 2 * len(layers) * (MAX_PANEL_PX + 150) ** 2
    return (kept * (2 * sum(layers) + 24 * max(layers)) + 8 * sheet_px) / 1e9
