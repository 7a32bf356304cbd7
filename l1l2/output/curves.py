"""Learning curves: the test error after every epoch, and after every SGD step of the last ones.

The file order ends every epoch on the same sample, so the error at epoch ends is one phase of
an oscillation; the step-by-step panels show the whole of it, and the shuffled order beside.
"""

import csv
import io
from pathlib import Path

import numpy as np

from ..core.train import Trained
from .plots import METHOD_COLORS, save, subplots

FIELDS = ["order", "method", "run", "seed", "step", "epoch", "test_error"]


def rows(runs: list, trained: Trained, steps_per_epoch: int) -> list[dict]:
    """One row per run and evaluated step (every epoch end, every step of the tail)."""
    out = []
    for f, step in enumerate(trained.frame_steps):
        for i, r in enumerate(runs):
            out.append(
                {
                    "order": r.order,
                    "method": r.method,
                    "run": r.run,
                    "seed": r.seed,
                    "step": int(step),
                    "epoch": round(step / steps_per_epoch, 6),
                    "test_error": trained.test_error[f, i],
                }
            )
    return out


def to_csv(table: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for row in table:
        w.writerow({**row, "test_error": f"{row['test_error']:.6f}"})
    return buf.getvalue()


def figure(
    path: str | Path,
    runs: list,
    trained: Trained,
    steps_per_epoch: int,
    tail_steps: int,
    n_test: int,
) -> None:
    """Top: test error at every epoch end; bottom: after every step of the tail. One column per
    sample order; per method the mean over runs and the range (min to max) as a band."""
    orders = list(dict.fromkeys(r.order for r in runs))
    fig, axes = subplots(
        2,
        len(orders),
        figsize=(5.5 * len(orders), 7.5),
        dpi=100,
        squeeze=False,
        sharey="row",
        gridspec_kw=dict(wspace=0.05, hspace=0.32),
    )
    steps = trained.frame_steps
    at_epochs = steps % steps_per_epoch == 0
    in_tail = steps > steps[-1] - tail_steps
    for col, order in enumerate(orders):
        top, bottom = axes[0, col], axes[1, col]
        for m in dict.fromkeys(r.method for r in runs):
            sel = [i for i, r in enumerate(runs) if r.order == order and r.method == m]
            err = trained.test_error[:, sel]
            label = f"{m} ({len(sel)} runs)"
            _band(top, steps[at_epochs] / steps_per_epoch, err[at_epochs], m, label)
            _band(bottom, steps[in_tail], err[in_tail], m, label)
        top.set(title=f"sample order: {order}", xlabel="epoch", yscale="log")
        bottom.set(
            title=f"{order}: after every SGD step of the last {tail_steps} steps", xlabel="SGD step"
        )
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"total absolute error on the {n_test} test samples")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if labels:  # none when every run diverged
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.suptitle("Test error while training: mean over runs (line) and range (band)")
    save(fig, path, (0.8, 0.15, 0.9, 0.7))


def _band(ax, x, err, method, label):
    ok = np.isfinite(err).all(0)  # a diverged run has no curve
    if not ok.any():
        return
    e = err[:, ok]
    color = METHOD_COLORS.get(method)
    ax.plot(x, e.mean(1), c=color, lw=1.4, label=label)
    ax.fill_between(x, e.min(1), e.max(1), color=color, alpha=0.08, lw=0)
    for edge in (e.min(1), e.max(1)):  # the band's edges, so overlapping bands stay apart
        ax.plot(x, edge, c=color, lw=0.4, alpha=0.5)
