"""Subgradient vs proximal L1: weights that hover around zero vs weights that sit at zero."""
import time

import numpy as np

from ..core import data, model, regularizers, train
from ..core import pruning as prune
from ..core.engine import train_graph
from ..output.folder import write_analysis
from ..output.plots import plt
from .common import check_fits

UPDATES = ("subgradient", "proximal")


def trajectories(cfg, d, update):
    """Every-step kernels of one L1 model over the first cfg.record_epochs epochs."""
    p0 = model.stack([model.glorot_init(cfg.sizes, cfg.seed)])
    pen = regularizers.stack([regularizers.for_method("l1", cfg.lam)])
    order = train.sample_order(cfg.order, d.x_train, d.y_train, cfg.record_epochs,
                               cfg.batch_size, cfg.seed)[:, None]
    return train_graph(d.x_train, d.y_train, p0, pen, lr=cfg.lr, epochs=cfg.record_epochs,
                       batch_size=cfg.batch_size, order=order, eval_steps=np.arange(len(order) + 1),
                       record=True, l1_update=update)


def final(cfg, d, update):
    p0 = model.stack([model.glorot_init(cfg.sizes, cfg.seed)])
    pen = regularizers.stack([regularizers.for_method("l1", cfg.lam)])
    order = train.sample_order(cfg.order, d.x_train, d.y_train, cfg.epochs, cfg.batch_size,
                               cfg.seed)[:, None]
    t = train_graph(d.x_train, d.y_train, p0, pen, lr=cfg.lr, epochs=cfg.epochs,
                    batch_size=cfg.batch_size, order=order, l1_update=update)
    return model.unstack(t.params, 0), float(train.evaluate(t.params, d.x_test, d.y_test, pen)[1][0])


def summary(cfg, params, error):
    kernels = np.concatenate([params[k].ravel() for k in params if k.endswith("/W")])
    sizes = lambda tol: _sizes(prune.prune(params, tol))
    return {"exact zeros": int((kernels == 0).sum()), f"\\|w\\| < {cfg.tol:g}": int((np.abs(kernels) < cfg.tol).sum()),
            "kernel weights": len(kernels), f"pruned at tol {cfg.tol:g}": sizes(cfg.tol),
            "pruned at tol 1e-12": sizes(1e-12), "test error": f"{error:.2f}"}


def _sizes(p):
    return "constant" if p.constant else "-".join(map(str, prune.sizes_of(p.params)))


def figure(cfg, paths, path):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100, sharey=True)
    steps = paths["subgradient"].frame_steps
    w_sub = paths["subgradient"].frames["dense2/W"][:, 0].reshape(len(steps), -1)
    w_prox = paths["proximal"].frames["dense2/W"][:, 0].reshape(len(steps), -1)
    pick = np.argsort(np.abs(w_sub[-1]))[:8]          # the weights subgradient L1 kills first
    for ax, w, update in zip(axes, (w_sub, w_prox), UPDATES):
        ax.plot(steps, w[:, pick], lw=0.8)
        ax.axhspan(-cfg.lr * cfg.lam, cfg.lr * cfg.lam, color="k", alpha=0.08, label="±lr·lambda")
        ax.set_yscale("symlog", linthresh=1e-4)
        ax.set(xlabel="SGD step", title=f"{update}: 8 weights of dense2 W")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("weight (symlog axis, linear within ±1e-4)")
    axes[0].legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def to_markdown(cfg, rows):
    keys = list(rows["subgradient"])
    lines = [f"# L1 updates: subgradient vs proximal (seed {cfg.seed}, lambda {cfg.lam:g}, lr {cfg.lr:g}, "
             f"{cfg.epochs} epochs)", "",
             "Subgradient SGD adds lam*sign(w) to the gradient, so a weight the data no longer needs jumps "
             "across 0 by lr*lam each step and never lands on it. The proximal update takes the SGD step "
             "on the rest of the cost, then soft-thresholds: w <- sign(w) max(|w| - lr*lam, 0); a weight "
             "within lr*lam of 0 becomes exactly 0 and stays there until the data pulls it out.", "",
             "| | " + " | ".join(UPDATES) + " |", "|---|---|---|"]
    lines += [f"| {k} | " + " | ".join(str(rows[u][k]) for u in UPDATES) + " |" for k in keys]
    lines += ["", "![trajectories](l1_update.png)", ""]
    return "\n".join(lines)


def main(cfg) -> None:
    started = time.time()
    d = data.load(cfg.data)
    check_fits(len(d.x_train), cfg.batch_size, cfg.data, len(UPDATES), cfg.sizes, cfg.epochs,
               frames=cfg.record_epochs * len(d.x_train) // cfg.batch_size)
    def measure():
        paths = {u: trajectories(cfg, d, u) for u in UPDATES}
        rows = {u: summary(cfg, *final(cfg, d, u)) for u in UPDATES}
        return to_markdown(cfg, rows), lambda path: figure(cfg, paths, path)
    write_analysis(cfg, "l1_update", started, measure, d)
