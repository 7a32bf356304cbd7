"""Many seeds x lambdas x methods x sample orders at once: does "L2 did better than L1" survive?

Seed s gives every method, lambda and order the same initial weights, and every method and
lambda of that seed the same shuffled order, so L1 and L2 are compared in pairs. Lambda 0 is
one model whatever the method ("none"), trained once per seed and order.
"""

import csv
import io
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import SweepConfig
from ..core import model, regularizers, stats
from ..core import pruning as prune
from ..core.data import Dataset
from ..core.sgd import ORDERS
from ..core.train import evaluate, train
from ..output import record
from ..output.folder import staged
from ..output.plots import METHOD_COLORS, plt
from ..shared import verdict
from ..shared.runs import is_diverged, prepare, show, written

FIELDS = [
    "method",
    "lam",
    "seed",
    "order",
    "test_error_final",
    "test_error_tail_mean",
    "train_cost",
    "diverged",
    "dead_fraction",
    "pruned_sizes",
]


@dataclass(frozen=True)
class Model:
    method: str
    lam: float
    seed: int
    order: str


def orders(cfg: SweepConfig) -> list[str]:
    """The headline's order first, then the other one if the config compares them."""
    return [cfg.order] + ([o for o in ORDERS if o != cfg.order] if cfg.compare_orders else [])


def plan(cfg: SweepConfig) -> list[Model]:
    """Every model once: lambda 0 is the same model for every method."""
    models = []
    for order in orders(cfg):
        for lam in cfg.lams:
            for m in ["none"] if lam == 0 else cfg.methods:
                models += [Model(m, lam, cfg.seed + s, order) for s in range(cfg.seeds)]
    return models


def run_chunk(
    cfg: SweepConfig, d: Dataset, chunk: list[Model], progress: Callable[[int], object] | None
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Train one chunk of models together; (one row per model, [epochs + 1, R] epoch errors)."""
    params0 = model.stack([model.glorot_init(cfg.sizes, m.seed) for m in chunk])
    pen = regularizers.stack([regularizers.for_method(m.method, m.lam) for m in chunk])
    out = train(
        d.x_train,
        d.y_train,
        params0,
        pen,
        cfg.sgd(),
        seeds=[m.seed for m in chunk],
        orders=[m.order for m in chunk],
        test=(d.x_test, d.y_test),
        engine=cfg.engine,
        progress=progress,
    )
    per_epoch = len(d.x_train) // cfg.batch_size
    _, loss, reg = evaluate(out.params, d.x_train, d.y_train, pen)
    tail = out.tail_error(cfg.tail_epochs * per_epoch)
    hidden = np.array(cfg.sizes[1:-1])
    dead = prune.dead_counts(out.params, cfg.zero_tol)  # [R, hidden layers]
    rows = []
    for i, m in enumerate(chunk):
        sizes = (hidden - dead[i]).tolist()
        final = out.test_error[-1, i]
        rows.append(
            {
                "method": m.method,
                "lam": m.lam,
                "seed": m.seed,
                "order": m.order,
                "test_error_final": final,
                "test_error_tail_mean": tail[i],
                "train_cost": loss[i] + reg[i],
                "diverged": is_diverged(out.diverged_at[i], final, tail[i], loss[i] + reg[i]),
                "dead_fraction": dead[i].sum() / hidden.sum(),
                "pruned_sizes": "constant" if 0 in sizes else "-".join(map(str, (1, *sizes, 1))),
            }
        )
    return rows, out.test_error[out.frame_steps % per_epoch == 0]


def main(cfg: SweepConfig) -> None:
    started = time.time()
    models = plan(cfg)
    n_chunks = -(-len(models) // cfg.chunk)
    chunk = -(-len(models) // n_chunks)  # equal chunks: one shape, so one compilation
    d = prepare(
        cfg,
        chunk,
        cfg.sizes,
        cfg.epochs,
        lambda per_epoch: cfg.epochs + 1 + cfg.tail_epochs * per_epoch,
        cfg.batch_size,
    )
    steps = cfg.epochs * len(d.x_train) // cfg.batch_size
    rows, curves = [], []
    with staged(cfg.out, owns=("sweep",), force=cfg.force) as stage:
        say = show(cfg)  # after every check: a refusal is the only line
        what = f"training {len(models)} models ({cfg.engine} engine)"
        with say.phase(what, total=steps * len(models), unit="model-step") as update:
            for start in range(0, len(models), chunk):
                got, epoch_errors = run_chunk(cfg, d, models[start : start + chunk], update)
                rows += got
                curves.append(epoch_errors)
        with say.phase("the paired comparison, tables and figures"):
            folder = stage / "sweep"
            folder.mkdir()
            entries = verdict.paired_entries(cfg, rows, orders(cfg))
            report = to_markdown(cfg, rows, entries, len(d.x_test))
            (folder / "sweep.csv").write_text(to_csv(rows), encoding="utf-8")
            (folder / "sweep.md").write_text(report, encoding="utf-8")
            (folder / "paired.json").write_text(verdict.to_json(entries), encoding="utf-8")
            figure(cfg, rows, folder / "sweep.png")
            verdict.epoch_figure(
                cfg, models, np.concatenate(curves, axis=1), folder / "paired_vs_epoch.png"
            )
            record.write(folder / "config.json", cfg, started, data_sha256=d.sha256)
            wrote = written(stage, cfg.out)
    print(report)
    print(f"done: {len(models)} models in {time.time() - started:.1f} s; {wrote}")


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow(
            {k: f"{v:.6f}" if isinstance(v, (float, np.floating)) else v for k, v in row.items()}
        )
    return buf.getvalue()


def select(
    rows: list[dict[str, Any]],
    method: str,
    lam: float,
    order: str,
    evaluation: str = "test_error_tail_mean",
) -> dict[int, float]:
    """{seed: test error} of one cell, diverged models left out (lambda 0: the shared model)."""
    method = "none" if lam == 0 else method
    return {
        r["seed"]: r[evaluation]
        for r in rows
        if (r["method"], r["lam"], r["order"]) == (method, lam, order) and not r["diverged"]
    }


def to_markdown(
    cfg: SweepConfig, rows: list[dict[str, Any]], entries: list[dict[str, Any]], n_test: int
) -> str:
    tail = "last epoch" if cfg.tail_epochs == 1 else f"last {cfg.tail_epochs} epochs"
    lines = [
        f"# Sweep: {cfg.seeds} seeds per cell, {cfg.epochs} epochs, lr {cfg.lr:g}",
        "",
        f"Test error = total absolute error on the {n_test} test samples; **tail mean** = "
        f"averaged over the weights after every SGD step of the {tail} (it does not depend "
        "on where within an epoch training stops); **final** = after the last step. CI: 95% "
        "t-interval of the mean over seeds. Dead: hidden units with all incoming or all "
        f"outgoing |w| < {cfg.zero_tol:g}.",
        "",
        *verdict.design_note(cfg, orders(cfg)),
        "",
        *verdict.to_markdown(cfg, entries),
        "",
        f"## Every cell, sample order {cfg.order}",
        "",
        "| method | lambda | n | tail mean [95% CI] | final [95% CI] | dead units | "
        "pruned sizes (most common) |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in cfg.methods:
        for lam in cfg.lams:
            if lam == 0 and m != cfg.methods[0]:
                continue  # the same model for every method
            sel = [
                r
                for r in rows
                if r["lam"] == lam
                and r["order"] == cfg.order
                and r["method"] == ("none" if lam == 0 else m)
            ]
            ok = [r for r in sel if not r["diverged"]]
            n = f"{len(ok)}" + ("" if len(ok) == len(sel) else f" ({len(sel) - len(ok)} diverged)")
            cis = [
                _ci_text([r[k] for r in ok]) for k in ("test_error_tail_mean", "test_error_final")
            ]
            common = pruned_sizes_text(Counter(r["pruned_sizes"] for r in sel))
            label = "any (none)" if lam == 0 else m
            lines.append(
                f"| {label} | {lam:g} | {n} | {cis[0]} | {cis[1]} | "
                f"{np.mean([r['dead_fraction'] for r in sel]):.0%} | {common} |"
            )
    return "\n".join(lines + [""])


def _ci_text(values) -> str:
    if len(values) < 2:
        return "- (fewer than 2 finite values)"
    mean, lo, hi = stats.mean_ci(values)
    return f"{mean:.2f} [{lo:.2f}, {hi:.2f}]"


def pruned_sizes_text(counts: Counter[str], shown: int = 3) -> str:
    """'1-1-1-1-1 ×174, 1-1-1-2-1 ×18, 1-2-1-1-1 ×5, 3 other sizes ×3': most common first."""
    top = counts.most_common(shown)
    rest = counts.most_common()[shown:]
    return ", ".join(f"{s} ×{c}" for s, c in top) + (
        f", {len(rest)} other size{'s' * (len(rest) > 1)} ×{sum(c for _, c in rest)}"
        if rest
        else ""
    )


def figure(cfg: SweepConfig, rows: list[dict[str, Any]], path: str | Path) -> None:
    """Tail-mean test error and dead units against lambda, per method, the headline's order."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    x = np.array(cfg.lams, float)
    for m in cfg.methods:
        cells = [select(rows, m, lam, cfg.order) for lam in cfg.lams]
        cis = np.array(
            [stats.mean_ci(list(c.values())) if len(c) > 1 else (np.nan,) * 3 for c in cells]
        )
        a.plot(x, cis[:, 0], "o-", c=METHOD_COLORS.get(m), label=m)
        a.fill_between(x, cis[:, 1], cis[:, 2], color=METHOD_COLORS.get(m), alpha=0.2)
        dead = [
            np.mean(
                [
                    r["dead_fraction"]
                    for r in rows
                    if r["order"] == cfg.order
                    and r["lam"] == lam
                    and r["method"] == ("none" if lam == 0 else m)
                ]
            )
            for lam in cfg.lams
        ]
        b.plot(x, dead, "o-", c=METHOD_COLORS.get(m), label=m)
    for ax in (a, b):
        ax.set_xscale("symlog", linthresh=min([v for v in x if v > 0], default=1e-3))
        ax.set_xlabel("lambda (symlog axis: 0 included)")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    a.set_ylim(bottom=0)
    a.set(
        ylabel="test error, tail mean (mean over seeds, 95% CI band)",
        title=f"Test error vs lambda, {cfg.seeds} seeds, order {cfg.order}",
    )
    b.set(ylabel="fraction of dead hidden units", title="Units disconnected", ylim=(-0.02, 1.02))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
