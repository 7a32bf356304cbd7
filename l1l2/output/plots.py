"""Static figures (matplotlib, no display needed).

Every figure says in its own text what it pools and what its marks are, so it can be read
without the code. Nothing uses mathtext (its parser costs ~0.5 s the first time): log axes get
plain '1e-4' labels. Method colours are METHOD_COLORS everywhere, GIFs included.
"""

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

import numpy as np

from ..core.data import Dataset
from ..lazy import Lazy


def _matplotlib() -> ModuleType:
    """matplotlib on the Agg backend (no display), with the submodules the figures use."""
    mpl = importlib.import_module("matplotlib")
    mpl.use("Agg")
    subs = ("collections", "ticker", "axes", "cm", "colors", "figure", "font_manager")
    for sub in (*subs, "backends.backend_agg"):
        importlib.import_module(f"matplotlib.{sub}")
    return mpl


mpl = Lazy(_matplotlib)


def figure(figsize: tuple[float, float], dpi: float) -> "mpl.figure.Figure":
    """A figure on the Agg canvas, without pyplot (~0.2 s less to import, nothing to close)."""
    fig = mpl.figure.Figure(figsize=figsize, dpi=dpi)
    mpl.backends.backend_agg.FigureCanvasAgg(fig)
    return fig


def subplots(*grid: int, figsize: tuple[float, float], dpi: float, **kw: Any) -> tuple:
    """(figure, axes) as pyplot.subplots makes them, on a figure of `figure`."""
    fig = figure(figsize, dpi)
    return fig, fig.subplots(*grid, **kw)


METHOD_COLORS = {"none": "tab:gray", "l1": "tab:red", "l2": "tab:blue", "l1l2": "tab:purple"}


def method_color(method: str) -> str:
    return METHOD_COLORS.get(method, "k")


def fit_figure(data: Dataset, grid: np.ndarray, preds: dict, path: str | Path, title: str) -> None:
    """The data (train, test, outliers) and one fitted line per method: preds = {label: y(grid)},
    each label starting with its method."""
    fig, ax = subplots(figsize=(7, 4.5), dpi=110)
    tr, te, out = data.train & ~data.outlier, ~data.train, data.outlier
    ax.scatter(data.x[tr], data.y[tr], s=22, c="k", label=f"train ({tr.sum()})")
    ax.scatter(
        data.x[out],
        data.y[out],
        s=40,
        facecolors="none",
        edgecolors="tab:orange",
        linewidths=1.5,
        label=f"train, outlier ({out.sum()})",
    )
    ax.scatter(data.x[te], data.y[te], s=30, marker="s", c="tab:green", label=f"test ({te.sum()})")
    for label, p in preds.items():
        ax.plot(grid, p, lw=2, c=method_color(label.split()[0]), label=label)
    ax.set(xlabel="x", ylabel="y", title=title)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    save(fig, path, (0.6, 0.15, 0.5, 0.35))


def _methods(rec):
    return list(dict.fromkeys(rec["methods"]))


def _runs_words(rec, method):
    n = int((rec["methods"] == method).sum())
    return f"{n} run" + ("s" if n != 1 else "")


def sparsity_figure(rec: dict[str, Any], path: str | Path) -> None:
    """Fraction of |w| < zero_tol per layer over training, each run a thin line, the mean thick."""
    tol, layers = float(rec["zero_tol"]), rec["layers"]
    epochs = rec["frame_steps"] / int(rec["steps_per_epoch"])
    fig, axes = subplots(
        1, len(layers), figsize=(3.2 * len(layers), 3.4), dpi=100, sharey=True, squeeze=False
    )
    axes = axes[0]
    fig.subplots_adjust(wspace=0.08)
    for ax, name, k in zip(axes, layers, rec["kernels"]):
        frac = (np.abs(k) < tol).reshape(k.shape[0], k.shape[1], -1).mean(-1)  # [F, R]
        for m in _methods(rec):
            sel = rec["methods"] == m
            runs = [np.column_stack([epochs, f]) for f in frac[:, sel].T]  # one artist for all
            ax.add_collection(
                mpl.collections.LineCollection(runs, colors=method_color(m), lw=0.6, alpha=0.4)
            )
            ax.plot(
                epochs,
                frac[:, sel].mean(1),
                c=method_color(m),
                lw=2,
                label=f"{m} ({_runs_words(rec, m)})",
            )
        ax.set(title=f"{name} W ({k.shape[2]}x{k.shape[3]})", xlabel="epoch", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"fraction of weights with |w| < {tol:g}")
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle(
        "Near-zero kernel weights during training: thin line = one run, "
        "thick line = mean over the runs",
        fontsize=10,
    )
    save(fig, path, (0.65, 0.15, 0.5, 0.6))


def pooled_final_weights(rec: dict[str, Any], method: str) -> tuple:
    """(|w| of every final kernel weight of the method's finite runs, pooled; runs pooled;
    runs left out as not finite)."""
    final = np.concatenate([k[-1].reshape(k.shape[1], -1) for k in rec["kernels"]], axis=1)
    mine = np.abs(final[rec["methods"] == method])  # [runs, weights]
    ok = np.isfinite(mine).all(axis=1)  # a diverged run has no weights
    return mine[ok].ravel(), int(ok.sum()), int((~ok).sum())


def _log_label(v, _pos):
    """'1e-4', '0.1' ... '1', '10' for powers of ten: plain text, no mathtext."""
    if v <= 0:
        return ""
    return f"{v:g}" if v >= 0.1 else f"{v:.0e}".replace("e-0", "e-")


def weights_hist_figure(rec: dict[str, Any], path: str | Path) -> None:
    """Final |w| of every kernel weight of every run, pooled per method, on a log axis."""
    fig, ax = subplots(figsize=(7.5, 4.2), dpi=100)
    bins = np.logspace(-6, 1, 50)
    for m in _methods(rec):
        w, runs, bad = pooled_final_weights(rec, m)
        note = f", {bad} diverged left out" if bad else ""
        ax.hist(
            np.clip(w, bins[0], bins[-1]),
            bins=bins,
            histtype="step",
            lw=2,
            color=method_color(m),
            label=f"{m} ({len(w)} weights pooled over {runs} runs{note})",
        )
    tol = float(rec["zero_tol"])
    ax.axvline(tol, c="k", ls=":", label=f"|w| = {tol:g} (zero tolerance)")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(mpl.ticker.LogLocator(base=10, numticks=10))
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(_log_label))
    ax.xaxis.set_minor_locator(
        mpl.ticker.NullLocator()
    )  # 80 minor ticks took half the figure's time
    ax.set(
        xlabel="|w| after training, log scale (values below 1e-6 counted in the first bin)",
        ylabel="number of weights per bin",
        title="Final kernel weight magnitudes, all layers' kernels pooled",
    )
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    save(fig, path, (0.65, 0.2, 0.55, 0.35))


def strip_x(centre: float, n: int, width: float = 0.5) -> np.ndarray:
    """x of n points in a strip around centre, in run order, spread over `width`: no two runs
    fall on one spot even when their values are equal."""
    return centre + (np.arange(n) - (n - 1) / 2) * (width / max(n - 1, 1) if n > 1 else 0)


def error_points(rec: dict[str, Any], blog_l1: Sequence[float]) -> list:
    """Per column of errors.png: (label, colour, marker, run indices, x, test errors), diverged
    runs left out (and counted in the label)."""
    cols = []
    for i, m in enumerate(_methods(rec)):
        sel = rec["methods"] == m
        e, runs = np.asarray(rec["test_error"][sel], float), np.asarray(rec["runs"][sel])
        ok = np.isfinite(e)
        label = m + (f"\n({(~ok).sum()} diverged)" if (~ok).any() else "")
        cols.append((label, method_color(m), "o", runs[ok], strip_x(i, len(e))[ok], e[ok]))
    blog = np.asarray(blog_l1, float)
    if len(blog):
        cols.append(
            (
                "l1 (blog,\nits own data)",
                method_color("l1"),
                "x",
                np.arange(len(blog)),
                strip_x(len(cols), len(blog)),
                blog,
            )
        )
    return cols


def samples_words(rec: dict[str, Any]) -> str:
    n = rec.get("n_test")
    return f"the {int(n)} test samples" if n is not None else "the test samples"


def errors_figure(rec: dict[str, Any], path: str | Path, blog_l1: Sequence[float]) -> None:
    """Test error of every run per method, runs side by side in run order, with the blog's
    five L1 runs beside; the bar is the mean."""
    fig, ax = subplots(figsize=(6.5, 4.2), dpi=100)
    cols = error_points(rec, blog_l1)
    for i, (_, colour, marker, runs, x, e) in enumerate(cols):
        ax.scatter(x, e, c=colour, s=36, marker=marker, zorder=3)
        for xi, ei, r in zip(x, e, runs):
            ax.annotate(
                str(r), (xi, ei), xytext=(4, 2), textcoords="offset points", fontsize=7, color="0.3"
            )
        if len(e):
            ax.hlines(e.mean(), i - 0.32, i + 0.32, colors=colour, lw=2, zorder=2)
    ax.set_xticks(range(len(cols)), [c[0] for c in cols])
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.set(
        ylabel=f"total absolute error on {samples_words(rec)}",
        title="Test error of every run after training\n"
        "(small number: the run, left to right; bar: mean over the runs)",
    )
    ax.title.set_fontsize(10)
    ax.grid(alpha=0.3, axis="y")
    save(fig, path, (0.7, 0.15, 0.6, 0.5))


def save(
    fig: "mpl.figure.Figure",
    path: str | Path | BinaryIO,
    margins: tuple[float, float, float, float] | None = None,
) -> None:
    """Fixed margins (inches) when given: tight_layout would cost a second layout pass, about as
    much as drawing the figure."""
    if margins is None:
        fig.tight_layout()
    else:
        w, h = fig.get_size_inches()
        left, right, bottom, top = margins
        fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h)
    fig.savefig(path)


def sweep_figure(
    rows: list[dict[str, Any]], trapped: list[dict[str, Any]], note: str, path: str | Path
) -> None:
    """Left: test error against lambda per method: SGD at a constant learning rate (tail mean),
    SGD with a decaying one (final), and the exact optimum of the same objective (rows: the
    sweep's summary, one per method, lambda, schedule and order; the first order is drawn;
    lambda 0 is the method "none"). Right: per learning rate, the fraction of runs that ended
    at a constant network where the optimum is not one (trapped: rows of method, lam, lr,
    trapped), and where the optimum itself is the constant network."""
    order = rows[0]["order"]
    lams = sorted({r["lam"] for r in rows})
    lrs = sorted({r["lr"] for r in trapped})
    fig, (a, b) = subplots(1, 2, figsize=(12, 4.8), dpi=100)
    for m in dict.fromkeys(r["method"] for r in rows if r["lam"] > 0):
        c = method_color(m)
        for schedule, style in (("constant", "-"), ("linear", "--"), ("cosine", ":")):
            line = _by_lambda(rows, m, schedule, order)
            if len(line) < len(lams):
                continue
            key = "tail_mean" if schedule == "constant" else "final"
            words = f"{m}, SGD {schedule} lr ({key.replace('_', ' ')})"
            a.plot(lams, [line[lam][key] for lam in lams], style, c=c, lw=1.6, label=words)
        line = _by_lambda(rows, m, rows[0]["schedule"], order)
        if len(line) == len(lams):
            best = [line[lam]["optimum"] for lam in lams]
            a.plot(lams, best, "D", mfc="none", c=c, ms=7, label=f"{m}, exact optimum")
            const = [line[lam]["optimum_constant"] for lam in lams]
            b.plot(lams, const, "x", c=c, ms=9, label=f"{m}: the optimum is constant")
        for lr, style in zip(lrs, ("o-", "s--", "^:")):
            mine = {r["lam"]: r["trapped"] for r in trapped if (r["method"], r["lr"]) == (m, lr)}
            xs = sorted(mine)
            b.plot(
                xs, [mine[x] for x in xs], style, c=c, ms=4, label=f"{m}: SGD trapped, lr {lr:g}"
            )
    plain = mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}")  # no mathtext: '20', not 2x10^1
    for ax in (a, b):
        ax.set_xscale("symlog", linthresh=min([v for v in lams if v > 0], default=1e-3))
        ax.xaxis.set_major_formatter(plain)
        ax.set_xlabel("lambda (symlog axis: 0 included)")
        ax.grid(alpha=0.3)
    a.set_yscale("log")
    a.yaxis.set_major_formatter(plain)
    a.yaxis.set_minor_formatter(plain)
    a.set(
        ylabel="total absolute test error (log axis)",
        title=f"SGD and the exact optimum, {order} order",
    )
    b.set(ylabel="fraction of runs", ylim=(-0.03, 1.03), title="Constant networks: SGD and optimum")
    a.legend(frameon=False, fontsize=7, ncol=2, loc="upper left")
    b.legend(frameon=False, fontsize=7, loc="upper left")
    fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path)


def _by_lambda(rows, method, schedule, order):
    """{lambda: summary row} of one method (lambda 0: the shared "none" row)."""
    return {
        r["lam"]: r
        for r in rows
        if (r["schedule"], r["order"]) == (schedule, order)
        and r["method"] == ("none" if r["lam"] == 0 else method)
    }


def epoch_difference_figure(
    lam: float, models: Sequence[Any], curves: Sequence[np.ndarray], path: str | Path
) -> None:
    """L2 - L1 test error at every epoch end, per sample order (mean over draws and seeds, band:
    95% interval over the pairs), at lambda `lam`: does the verdict depend on when training
    stops? models[i] (method, lam, seed, order) is column i of every curves array [epochs+1, R],
    one array per data draw."""
    fig, ax = subplots(figsize=(8, 4.5), dpi=100)
    for order, color in zip(dict.fromkeys(m.order for m in models), ("tab:green", "tab:orange")):
        col = {
            (m.method, m.seed): i for i, m in enumerate(models) if (m.order, m.lam) == (order, lam)
        }
        seeds = sorted({s for (_, s) in col if ("l1", s) in col and ("l2", s) in col})
        diffs = [
            c[:, [col["l2", s] for s in seeds]] - c[:, [col["l1", s] for s in seeds]]
            for c in curves
        ]
        diff = np.concatenate(diffs, axis=1) if diffs else np.empty((0, 0))
        ok = np.isfinite(diff).all(0) if diff.size else np.zeros(0, bool)
        if ok.sum() < 2:
            continue
        mean = diff[:, ok].mean(1)
        half = 1.96 * diff[:, ok].std(1, ddof=1) / np.sqrt(ok.sum())
        epochs = np.arange(len(mean))
        ax.plot(epochs, mean, c=color, label=f"order {order} ({ok.sum()} pairs)")
        ax.fill_between(epochs, mean - half, mean + half, color=color, alpha=0.2, lw=0)
    ax.axhline(0, c="k", lw=0.8)
    ax.set(
        xlabel="epoch (error measured after its last SGD step)",
        ylabel="L2 - L1 test error (> 0: L1 better)",
        title=f"Paired difference at every epoch end, lambda = {lam:g} "
        "(mean over the pairs, 95% band)",
    )
    ax.title.set_fontsize(10)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)


def objective_figure(panels: Sequence[dict[str, Any]], note: str, path: str | Path) -> None:
    """The training objective as a function of the slope a the network computes, min over
    everything else: J(a) = F(a) + P(a), one curve per method and one panel per lambda; the
    exact optimum as a diamond, trained runs (if any) as dots at (their slope, their objective),
    which can only lie on or above their method's curve. panels: dicts with title, a (grid),
    curves {method: J on the grid}, best {method: (a, J)}, runs {method: [(a, J), ...]}."""
    n = len(panels)
    cols = min(n, 3)
    rows_ = -(-n // cols)
    fig, axes = subplots(rows_, cols, figsize=(4.6 * cols, 3.6 * rows_ + 0.5), dpi=100,
                         squeeze=False)  # fmt: skip
    for ax, p in zip(axes.ravel(), panels):
        for m, j in p["curves"].items():
            c = method_color(m)
            ax.plot(p["a"], j, c=c, lw=1.6, label=f"{m}: min over weights with slope a")
            a, best = p["best"][m]
            ax.plot([a], [best], "D", c=c, mfc="white", ms=8, zorder=4)
            runs = np.asarray(p.get("runs", {}).get(m, []), float).reshape(-1, 2)
            if len(runs):
                ax.plot(runs[:, 0], runs[:, 1], "o", c=c, ms=5, alpha=0.8, zorder=3,
                        label=f"{m}: trained runs ({len(runs)})")  # fmt: skip
        ax.set(title=p["title"], xlabel="slope a = W1 W2 ... WL of the network")
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("objective J (sum over an epoch's steps)")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    axes.ravel()[0].legend(frameon=False, fontsize=7, loc="upper center")
    fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path)
