"""Beyond the blog's setting, through the experiment's own code path.

- Activations (the blog's second half): the five-run none/L1/L2 comparison under each one.
- Targets (Keras' kernel/bias/activity regularizers): L1 on the kernels, on the
  biases or on the hidden layers' outputs -- which numbers does each drive to zero?
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..config import VariantsConfig
from ..core import data as data_mod
from ..core import model
from ..core import pruning as prune
from ..core.activations import np_activation
from ..output.plots import METHOD_COLORS, subplots
from ..shared.analysis import write_analysis
from ..shared.result import Result
from ..shared.runs import check_fits, mean_std, plan, result_rows, train_runs

TARGETS = ("nothing", "kernel", "bias", "activity")  # where L1 goes; "nothing": no penalty


def measure(
    cfg: VariantsConfig, data: data_mod.Dataset, advance: Callable[[int], object]
) -> list[dict[str, Any]]:
    """One row per trained model: setting, method, test error, fractions below zero_tol;
    advance(1) after each setting."""
    rows = []
    for label, c in cfg.settings():
        runs = plan(c)
        _, penalty, trained = train_runs(c, data, runs)
        for r, row in zip(runs, result_rows(c, data, runs, penalty, trained)):
            p = model.unstack(trained.params, runs.index(r))
            rows.append(
                {
                    "setting": label,
                    "method": r.method,
                    "test_error": row["test_error_final"],
                    "diverged": row["diverged"],
                    **near_zero(p, data.x_train, cfg.zero_tol, c.activation),
                }
            )
        advance(1)
    return rows


def near_zero(
    params: dict[str, np.ndarray], x: np.ndarray, tol: float, activation: str
) -> dict[str, float]:
    """Fractions of kernel weights, biases and hidden activations (on inputs x) below tol."""
    names = model.layer_names(params)
    fraction = lambda arrays: float(
        np.mean(np.abs(np.concatenate([a.ravel() for a in arrays])) < tol)
    )
    out = {
        "weights": fraction([params[f"{n}/W"] for n in names]),
        "biases": fraction([params[f"{n}/b"] for n in names]),
    }
    if np_activation(activation) is not None:  # PReLU's slopes are not in the NumPy twin
        out["activations"] = fraction(
            prune.forward(params, x[:, None].astype(np.float64), activation)[1:-1]
        )
    return out


def _pick(rows, setting, method=None):
    return [r for r in rows if r["setting"] == setting and method in (None, r["method"])]


def _mean(rows, key):
    return np.nanmean([r.get(key, np.nan) for r in rows]) if rows else np.nan


def to_markdown(cfg: VariantsConfig, rows: list[dict[str, Any]]) -> str:
    ms = mean_std
    err = lambda rs: ms([np.nan if r["diverged"] else r["test_error"] for r in rs])
    lines = [
        f"# Activations and regularizer targets ({cfg.runs} runs per setting, "
        f"lambda = {cfg.lam:g}, {cfg.epochs} epochs, seeds {cfg.seed}..{cfg.seed + cfg.runs - 1})",
        "",
        "Test error = total absolute error on the test samples after the last SGD step, mean "
        f'± std over runs; "< tol" = fraction with |value| < {cfg.zero_tol:g}. Sample order: '
        f"{cfg.order}"
        + (
            " (the file's, as the blog: every run stops after the same sample, which moves the "
            "final errors by tens; `reproduce sweep` compares the methods without that)"
            if cfg.order == "file"
            else ""
        )
        + ".",
        "",
        "## Activations",
        "",
        "| activation | none | l1 | l2 | l1: kernel weights < tol | l2: kernel weights < tol |",
        "|---|---|---|---|---|---|",
    ]
    for a in cfg.activations:
        s = f"activation {a}"
        lines.append(
            f"| {a} | "
            + " | ".join(err(_pick(rows, s, m)) for m in ("none", "l1", "l2"))
            + "".join(f" | {_mean(_pick(rows, s, m), 'weights'):.0%}" for m in ("l1", "l2"))
            + " |"
        )
    lines += [
        "",
        f"## L1 (lambda = {cfg.lam:g}) on each target, identity activation",
        "",
        "| L1 on | test error | kernel weights < tol | biases < tol | hidden activations < tol |",
        "|---|---|---|---|---|",
    ]
    for t in TARGETS:
        rs = _pick(rows, f"L1 on {t}")
        lines.append(
            f"| {t} | {err(rs)} | "
            + " | ".join(f"{_mean(rs, k):.0%}" for k in ("weights", "biases", "activations"))
            + " |"
        )
    return "\n".join(lines + ["", "![variants](variants.png)", ""])


def figure(cfg: VariantsConfig, rows: list[dict[str, Any]], path: str | Path) -> None:
    fig, (a, b) = subplots(1, 2, figsize=(12, 4), dpi=100, gridspec_kw={"width_ratios": [3, 2]})
    x = np.arange(len(cfg.activations))
    for k, m in enumerate(("none", "l1", "l2")):
        errs = [
            [r["test_error"] for r in _pick(rows, f"activation {act}", m) if not r["diverged"]]
            for act in cfg.activations
        ]
        a.errorbar(
            x + (k - 1) * 0.2,
            [np.mean(e) if e else np.nan for e in errs],
            [np.std(e, ddof=1) if len(e) > 1 else 0 for e in errs],
            fmt="o",
            capsize=3,
            c=METHOD_COLORS[m],
            label=m,
        )
    a.set(
        xticks=x,
        xticklabels=cfg.activations,
        ylabel="final test error (mean ± std over runs)",
        title=f"Each activation: none, L1 and L2 at lambda = {cfg.lam:g}, {cfg.runs} runs each",
    )
    a.legend(frameon=False)
    keys = ("weights", "biases", "activations")
    for k, key in enumerate(keys):
        b.bar(
            np.arange(len(TARGETS)) + (k - 1) * 0.27,
            [_mean(_pick(rows, f"L1 on {t}"), key) for t in TARGETS],
            0.27,
            label=f"{key} < {cfg.zero_tol:g}",
        )
    b.set(
        xticks=np.arange(len(TARGETS)),
        xticklabels=[f"L1 on\n{t}" for t in TARGETS],
        ylim=(0, 1),
        ylabel="fraction",
        title=f"What L1 (lambda = {cfg.lam:g}) on each target drives to zero",
    )
    b.legend(frameon=False, fontsize=8)
    for ax in (a, b):
        ax.grid(alpha=0.3, axis="y")
        ax.title.set_fontsize(10)
    caveat = f"{cfg.epochs} epochs, lr 0.01, sample order {cfg.order}" + (
        ": every run ends on the same sample, which moves final errors by tens "
        "(reproduce sweep compares the methods without that)"
        if cfg.order == "file"
        else ""
    )
    fig.text(0.5, 0.01, caveat, ha="center", va="bottom", fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path)


def main(cfg: VariantsConfig) -> Result:
    started = time.time()
    d = data_mod.load(cfg.data)
    check_fits(len(d.x_train), 1, cfg.data, 3 * cfg.runs, (1, 10, 10, 10, 1), cfg.epochs, frames=0)

    def measured(advance):
        rows = measure(cfg, d, advance)
        return to_markdown(cfg, rows), lambda path: figure(cfg, rows, path)

    total = len(cfg.settings())
    return write_analysis(cfg, "variants", started, measured, d, total, "setting")
