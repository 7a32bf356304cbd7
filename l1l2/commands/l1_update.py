"""Subgradient vs proximal L1: weights that hover around zero vs weights that sit at zero."""

import time
from pathlib import Path

import numpy as np

from ..config import ZerosConfig
from ..core import data, model, regularizers
from ..core import pruning as prune
from ..core.sgd import Trained
from ..core.train import train
from ..output import plots
from ..shared.analysis import write_analysis
from ..shared.result import Result
from ..shared.runs import check_fits

UPDATES = ("subgradient", "proximal")


def train_l1(
    cfg: ZerosConfig, d: data.Dataset, update: str, epochs: int, every_step: bool = False
) -> Trained:
    """The seed's L1 model trained `epochs` with `update`; with every_step, its weights after
    every SGD step (for the trajectory figure)."""
    p0 = model.stack([model.glorot_init(cfg.sizes, cfg.seed)])
    pen = regularizers.stack([regularizers.for_method("l1", cfg.lam)])
    spec = cfg.sgd(epochs=epochs, every_step=every_step, record=every_step, l1_update=update)
    return train(d.x_train, d.y_train, p0, pen, spec, test=(d.x_test, d.y_test))


def trajectories(cfg: ZerosConfig, d: data.Dataset, update: str) -> Trained:
    """Every-step kernels of one L1 model over the first cfg.record_epochs epochs."""
    return train_l1(cfg, d, update, cfg.record_epochs, every_step=True)


def final(cfg: ZerosConfig, d: data.Dataset, update: str) -> tuple[dict[str, np.ndarray], float]:
    """The model after cfg.epochs, and its test error."""
    t = train_l1(cfg, d, update, cfg.epochs)
    return model.unstack(t.params, 0), float(t.test_error[-1, 0])


def summary(cfg: ZerosConfig, params: dict[str, np.ndarray], error: float) -> dict[str, int | str]:
    kernels = np.concatenate([params[k].ravel() for k in params if k.endswith("/W")])
    sizes = lambda tol: _sizes(prune.prune(params, tol))
    return {
        "exact zeros": int((kernels == 0).sum()),
        f"\\|w\\| < {cfg.tol:g}": int((np.abs(kernels) < cfg.tol).sum()),
        "kernel weights": len(kernels),
        f"pruned at tol {cfg.tol:g}": sizes(cfg.tol),
        "pruned at tol 1e-12": sizes(1e-12),
        "test error": f"{error:.2f}",
    }


def _sizes(p):
    return "constant" if p.constant else "-".join(map(str, prune.sizes_of(p.params)))


def figure(cfg: ZerosConfig, paths: dict[str, Trained], path: str | Path) -> None:
    """Small multiples, one weight a row: three weights of dense2 that subgradient L1 pulls into
    the one-step band early, midway and late, under each update from the same start; below, how
    many of dense2's weights are exactly 0 or inside the band. Every SGD step of the first
    cfg.record_epochs epochs."""
    steps = paths["subgradient"].frame_steps
    epochs = steps / (steps[-1] / cfg.record_epochs)
    w = {u: paths[u].frames["dense2/W"][:, 0].reshape(len(steps), -1) for u in UPDATES}
    cols = paths["subgradient"].frames["dense2/W"].shape[-1]
    band = cfg.lr * cfg.lam
    inside = np.abs(w["subgradient"]) < band  # pick 3 that enter the band early,
    first_in = np.where(inside.any(0), inside.argmax(0), len(steps))  # midway and late
    order = np.argsort(first_in, kind="stable")[: max(int((first_in < len(steps)).sum()), 3)]
    pick = order[np.round(np.linspace(0, len(order) - 1, 3)).astype(int)]
    colours = dict(zip(UPDATES, ("tab:orange", "tab:green")))
    fig = plots.figure(figsize=(11, 8), dpi=100)
    grid = fig.add_gridspec(
        len(pick) + 1,
        2,
        height_ratios=(1,) * len(pick) + (1.7,),
        hspace=0.35,
        wspace=0.06,
        left=0.11,
        right=0.98,
        top=0.88,
        bottom=0.07,
    )
    for row, k in enumerate(pick):
        left = fig.add_subplot(grid[row, 0])
        for col, u in enumerate(UPDATES):
            ax = left if col == 0 else fig.add_subplot(grid[row, 1], sharey=left, sharex=left)
            ax.axhspan(-band, band, color="k", alpha=0.1, lw=0)
            ax.axhline(0, c="k", lw=0.5)
            ax.plot(epochs, w[u][:, k], lw=0.7, c=colours[u])
            ax.set_yscale("symlog", linthresh=band, linscale=1)  # the band linear, one decade
            ticks = [-100 * band, -10 * band, -band, 0, band, 10 * band, 100 * band]
            ax.set_yticks(ticks, [f"{t:g}" for t in ticks])  # evenly spaced
            ax.grid(alpha=0.3)
            ax.tick_params(labelbottom=row == len(pick) - 1, labelleft=col == 0, labelsize=8)
            if row == 0:
                ax.set_title(f"{u} L1 update", fontsize=11)
        left.set_ylabel(f"dense2 W[{k // cols}, {k % cols}]", fontsize=9)
    fig.text(
        0.01,
        0.6,
        f"weight (symlog axis: linear inside the band ±{band:g}, logarithmic outside)",
        rotation=90,
        va="center",
        fontsize=9,
    )
    bottom = fig.add_subplot(grid[-1, :])
    for u in UPDATES:
        bottom.plot(
            epochs, (w[u] == 0).sum(1), c=colours[u], lw=3, alpha=0.6, label=f"{u}: exactly 0"
        )
    for u in UPDATES:  # on top: subgradient's dashes run along proximal's solid line
        inside = (np.abs(w[u]) < band).sum(1)
        bottom.plot(
            epochs, inside, c=colours[u], lw=1.2, ls=(0, (4, 3)), label=f"{u}: inside the band"
        )
    n = w["subgradient"].shape[1]
    bottom.set(
        xlabel=f"epoch (every SGD step of the first {cfg.record_epochs} epochs)",
        ylabel=f"dense2 weights (of {n})",
        ylim=(-3, n + 3),
    )
    bottom.legend(frameon=False, fontsize=8, ncol=2, loc="center right")
    bottom.grid(alpha=0.3)
    fig.suptitle(
        f"L1 on one model (seed {cfg.seed}, lambda {cfg.lam:g}, lr {cfg.lr:g}), first "
        f"{cfg.record_epochs} of {cfg.epochs} epochs. Grey band: |w| < lr·lambda = "
        f"{band:g}, one L1 step:\nfrom inside it a subgradient step jumps across 0 and "
        "back (the weight hovers), a proximal step lands on exactly 0",
        fontsize=10,
    )
    fig.savefig(path)


def to_markdown(cfg: ZerosConfig, rows: dict[str, dict[str, int | str]]) -> str:
    keys = list(rows["subgradient"])
    lines = [
        f"# L1 updates: subgradient vs proximal (seed {cfg.seed}, lambda {cfg.lam:g}, "
        f"lr {cfg.lr:g}, {cfg.epochs} epochs)",
        "",
        "Subgradient SGD adds lam*sign(w) to the gradient, so a weight the data no longer needs "
        "jumps across 0 by lr*lam each step and never lands on it. The proximal update takes the "
        "SGD step on the rest of the cost, then soft-thresholds: w <- sign(w) max(|w| - lr*lam, "
        "0); a weight within lr*lam of 0 becomes exactly 0 and stays there until the data pulls "
        "it out.",
        "",
        "| | " + " | ".join(UPDATES) + " |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | " + " | ".join(str(rows[u][k]) for u in UPDATES) + " |" for k in keys]
    band = cfg.lr * cfg.lam
    lines += [
        "",
        f"The figure shows every SGD step of the first {cfg.record_epochs} of the "
        f"{cfg.epochs} epochs. Top: three weights of dense2 (W[input, output]) that "
        "subgradient L1 pulls into the grey band |w| < lr*lam = "
        f"{band:g} early, midway and late, one a row, under each update from the same start. "
        "Bottom: how many of dense2's weights are exactly 0 (solid) and inside the band "
        "(dashed), per update.",
        "",
        "![trajectories](l1_update.png)",
        "",
    ]
    return "\n".join(lines)


def main(cfg: ZerosConfig) -> Result:
    started = time.time()
    d = data.load(cfg.data)
    check_fits(
        len(d.x_train),
        cfg.batch_size,
        cfg.data,
        len(UPDATES),
        cfg.sizes,
        cfg.epochs,
        frames=cfg.record_epochs * len(d.x_train) // cfg.batch_size,
    )

    def measure(advance):
        paths, rows = {}, {}
        for u in UPDATES:
            paths[u] = trajectories(cfg, d, u)
            rows[u] = summary(cfg, *final(cfg, d, u))
            advance(1)
        return to_markdown(cfg, rows), lambda path: figure(cfg, paths, path)

    return write_analysis(cfg, "l1_update", started, measure, d, len(UPDATES), "update")
