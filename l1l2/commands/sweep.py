"""`reproduce sweep`: does "L2 did better than L1" survive every factor that can decide it?

Models are trained for every data draw, learning rate, epochs, schedule, sample order, lambda,
method and seed. Seed s gives every method, lambda and setting the same initial weights and (in
a shuffled order) the same order, so L1 and L2 are compared in pairs; lambda 0 is one model
whatever the method ("none"). Beside every SGD result stands the exact optimum of the same
objective (core/optimum.py), and the verdict per cell follows the rules of shared/verdict.py.
"""

import csv
import functools
import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import SweepConfig
from ..core import data as data_mod
from ..core import model, optimum, regularizers
from ..core import pruning as prune
from ..core.sgd import SGD, sample_table
from ..core.train import train
from ..output import plots, record
from ..output.folder import check_writable, staged
from ..shared import verdict
from ..shared.result import Result, listing
from ..shared.runs import check_fits, is_diverged, show

FIELDS = [
    "draw",
    "lr",
    "epochs",
    "schedule",
    "order",
    "method",
    "lam",
    "seed",
    "test_error_final",
    "test_error_tail_mean",
    "objective",
    "diverged",
    "dead_fraction",
    "pruned_sizes",
    "constant",
    "optimum_test_error",
    "optimum_objective",
    "optimum_constant",
]


CONSTANT = 0.01  # a network whose predictions on the training x span < 1% of y's range


@dataclass(frozen=True)
class Setting:
    """What the models of one training call share."""

    draw: int  # generator seed of the data, -1 for the --data file
    lr: float
    epochs: int
    schedule: str


@dataclass(frozen=True)
class Model:
    method: str
    lam: float
    seed: int
    order: str


def datasets(cfg: SweepConfig) -> dict[int, data_mod.Dataset]:
    """{draw: data set}: the generator's draws, or the --data file as draw -1."""
    if not cfg.data_seeds:
        return {-1: data_mod.load(cfg.data)}
    return {s: data_mod.generate(seed=s) for s in cfg.data_seeds}


def sha256(d: data_mod.Dataset) -> str:
    """The data's SHA-256: of the file as read, or of the CSV a generated draw would write."""
    return d.sha256 or hashlib.sha256(data_mod.to_csv(d).encode()).hexdigest()


def settings(cfg: SweepConfig, draws: list[int]) -> list[Setting]:
    return [
        Setting(d, lr, e, s)
        for d in draws
        for lr in cfg.lrs
        for e in cfg.epochs
        for s in cfg.lr_schedule
    ]


def models(cfg: SweepConfig) -> list[Model]:
    """The models of one setting: every order, lambda, method and seed (lambda 0 once)."""
    return [
        Model(m, lam, cfg.seed + s, order)
        for order in cfg.orders
        for lam in cfg.lams
        for m in (["none"] if lam == 0 else cfg.methods)
        for s in range(cfg.seeds)
    ]


def optima(
    cfg: SweepConfig, data: dict[int, data_mod.Dataset]
) -> dict[tuple[int, str, float], optimum.Optimum]:
    """{(draw, method, lambda): the exact optimum of the objective SGD descends}."""
    depth = len(cfg.sizes) - 1
    return {
        (draw, m, lam): optimum.of_sgd(d, depth, regularizers.for_method(m, lam), cfg.batch_size)
        for draw, d in data.items()
        for lam in cfg.lams
        for m in (["none"] if lam == 0 else cfg.methods)
    }


def train_setting(
    cfg: SweepConfig,
    d: data_mod.Dataset,
    setting: Setting,
    chunk: list[Model],
    params0: dict[str, np.ndarray],
    table: np.ndarray,
    progress: Callable[[int], object] | None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Train one chunk of one setting's models together from params0, their initial weights,
    in the sample orders of `table` (sample_table of at least setting.epochs: the rows of the
    first epochs are used); (a row per model, [epochs + 1, R] test errors at the epoch ends)."""
    spec = SGD(
        lr=setting.lr,
        schedule=setting.schedule,
        epochs=setting.epochs,
        batch_size=cfg.batch_size,
        every_epoch=True,
        tail_epochs=cfg.tail_epochs,
    )
    pen = regularizers.stack([regularizers.for_method(m.method, m.lam) for m in chunk])
    per_epoch = spec.steps_per_epoch(len(d.x_train))
    out = train(
        d.x_train,
        d.y_train,
        params0,
        pen,
        spec,
        test=(d.x_test, d.y_test),
        engine=cfg.engine,
        progress=progress,
        table=table,
        shape_epochs=max(cfg.epochs),  # every setting one compilation
    )
    # the sum of an epoch's step costs at the final weights (identity networks: NumPy, float64)
    objective = optimum.objective(
        out.params, d.x_train, d.y_train, *(per_epoch * pen.l1, per_epoch * pen.l2)
    )
    pred = optimum.predictions(out.params, d.x_train)
    constant = np.ptp(pred, axis=1) < CONSTANT * np.ptp(d.y_train)  # a flat function
    tail = out.tail_error(cfg.tail_epochs * per_epoch)
    hidden = np.array(cfg.sizes[1:-1])
    dead = prune.dead_counts(out.params, cfg.zero_tol)  # [R, hidden layers]
    rows = []
    for i, m in enumerate(chunk):
        sizes = (hidden - dead[i]).tolist()
        final = out.test_error[-1, i]
        rows.append(
            {
                "draw": setting.draw,
                "lr": setting.lr,
                "epochs": setting.epochs,
                "schedule": setting.schedule,
                "order": m.order,
                "method": m.method,
                "lam": m.lam,
                "seed": m.seed,
                "test_error_final": final,
                "test_error_tail_mean": tail[i],
                "objective": objective[i],
                "diverged": is_diverged(out.diverged_at[i], final, tail[i], objective[i]),
                "dead_fraction": dead[i].sum() / hidden.sum(),
                "pruned_sizes": "constant" if 0 in sizes else "-".join(map(str, (1, *sizes, 1))),
                "constant": bool(constant[i]),
            }
        )
    return rows, out.test_error[out.frame_steps % per_epoch == 0]


def main(cfg: SweepConfig) -> Result:
    started = time.time()
    data = datasets(cfg)
    per_setting = models(cfg)
    n_chunks = -(-len(per_setting) // cfg.chunk)
    size = -(-len(per_setting) // n_chunks)  # equal chunks: one shape, so one compilation
    for d in data.values():
        check_fits(
            len(d.x_train), cfg.batch_size, cfg.data, size, cfg.sizes, max(cfg.epochs),
            max(cfg.epochs) + 1 + cfg.tail_epochs * len(d.x_train) // cfg.batch_size,
        )  # fmt: skip
    check_writable(cfg.out)
    todo = settings(cfg, list(data))
    chunks = [per_setting[a : a + size] for a in range(0, len(per_setting), size)]

    @functools.lru_cache(maxsize=1)  # one chunk's weights at a time, as check_fits counts them
    def start(c: int) -> dict[str, np.ndarray]:
        """Chunk c's initial weights: the same in every setting, drawn once for all of them
        when the models are one chunk."""
        return model.init_stack(cfg.sizes, [m.seed for m in chunks[c]])

    @functools.lru_cache(maxsize=1)  # one table at a time, as check_fits counts them
    def sample_orders(draw: int, c: int) -> np.ndarray:
        """Chunk c's sample orders on draw for the most epochs; a setting of fewer epochs reads
        the first rows (the same orders: tests/test_sweep.py). One chunk draws once per draw;
        several take turns in the one-table cache."""
        spec = SGD(epochs=max(cfg.epochs), batch_size=cfg.batch_size)
        d, ms = data[draw], chunks[c]
        seeds, kinds = [m.seed for m in ms], [m.order for m in ms]
        return sample_table(spec, d.x_train, d.y_train, seeds, kinds)

    steps = sum(s.epochs * len(data[s.draw].x_train) // cfg.batch_size for s in todo)
    rows, curves = [], {}
    with staged(cfg.out, owns=("sweep",), force=cfg.force) as stage:
        say = show(cfg)  # after every check: a refusal is the only line
        what = f"training {len(todo) * len(per_setting):,} models ({cfg.engine} engine)"
        with say.phase(what, total=steps * len(per_setting), unit="model-step") as update:
            progress = update if say.bars else None  # no bar: no loop split into calls for one
            for s in todo:
                for c, chunk in enumerate(chunks):
                    got, epoch_errors = train_setting(
                        cfg, data[s.draw], s, chunk, start(c), sample_orders(s.draw, c), progress
                    )
                    rows += got
                    curves.setdefault(s, []).append(epoch_errors)
        with say.phase("the exact optima, the verdicts, tables and figures"):
            best = optima(cfg, data)
            for r in rows:
                o = best[r["draw"], r["method"], r["lam"]]
                r.update(optimum_test_error=o.test_error, optimum_objective=o.objective)
                r["optimum_constant"] = o.constant
            entries = verdict.verdicts(cfg, rows)
            report = to_markdown(cfg, rows, entries)
            folder = stage / "sweep"
            folder.mkdir()
            (folder / "sweep.csv").write_text(to_csv(rows), encoding="utf-8")
            (folder / "sweep.md").write_text(report, encoding="utf-8")
            (folder / "paired.json").write_text(verdict.to_json(entries), encoding="utf-8")
            figure = (summary(cfg, rows), trapped(rows), figure_note(cfg))
            plots.sweep_figure(*figure, folder / "sweep.png")
            base = [s for s in todo if (s.lr, s.epochs, s.schedule) == base_setting(cfg)]
            plots.epoch_difference_figure(
                headline_lam(cfg.lams), per_setting, [np.concatenate(curves[s], 1) for s in base],
                folder / "paired_vs_epoch.png",
            )  # fmt: skip
            sums = {str(k): sha256(d) for k, d in data.items()}
            record.write(folder / "config.json", cfg, data_sha256=sums)
            wrote, files = listing(stage, cfg.out)
    record.log_run(cfg.out, started)
    done = f"done: {len(rows):,} models in {time.time() - started:.1f} s; {wrote}"
    return Result(report, done, Path(cfg.out), files, rows, {"verdicts": entries})


def base_setting(cfg: SweepConfig) -> tuple[float, int, str]:
    """The blog's setting if the sweep has it (lr 0.01, 100 epochs, constant), else the first."""
    pick = lambda values, want: want if want in values else values[0]
    return (
        pick(cfg.lrs, 0.01),
        pick(cfg.epochs, 100),
        pick(cfg.lr_schedule, "constant"),
    )


def headline_lam(lams: tuple[float, ...]) -> float:
    """The lambda the epoch figure is about: the blog's 0.3, else the nearest positive one."""
    positive = [lam for lam in lams if lam > 0] or list(lams)
    return min(positive, key=lambda lam: abs(lam - 0.3))


def trapped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per method, lambda and lr (every draw, seed, order, epochs and schedule pooled): the
    fraction of the runs that did not diverge which ended at a constant network where the
    optimum is not one."""
    groups: dict[tuple, list[bool]] = {}
    for r in rows:
        if not r["diverged"]:
            key = (r["method"], r["lam"], r["lr"])
            groups.setdefault(key, []).append(r["constant"] and not r["optimum_constant"])
    return [
        {"method": m, "lam": lam, "lr": lr, "trapped": float(np.mean(v))}
        for (m, lam, lr), v in groups.items()
    ]


def figure_note(cfg: SweepConfig) -> str:
    """What sweep.png pools, in a line under it."""
    lr, epochs, _ = base_setting(cfg)
    draws = f"{len(cfg.data_seeds)} data draws" if cfg.data_seeds else "one data set"
    return (
        f"Left: means over {cfg.seeds} seeds x {draws}, lr {lr:g}, {epochs} epochs, batch size "
        f"{cfg.batch_size}. Right: every setting pooled per lr.\nConstant network: predictions "
        "on the training x spanning < 1% of the targets' range. l1l2 = elastic net (both at "
        "lambda)."
    )


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow(
            {k: f"{v:.6f}" if isinstance(v, (float, np.floating)) else v for k, v in row.items()}
        )
    return buf.getvalue()


def summary(cfg: SweepConfig, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per method, lambda, schedule and order at the base lr and epochs: the SGD test error
    (tail mean and final, mean over draws and seeds), the optimum's, and how often SGD ended
    at a constant network while the optimum is not one (trapped)."""
    lr, epochs, _ = base_setting(cfg)
    groups: dict[tuple, list] = {}
    for r in rows:
        if (r["lr"], r["epochs"]) == (lr, epochs):
            groups.setdefault((r["method"], r["lam"], r["schedule"], r["order"]), []).append(r)
    out = []
    for (method, lam, schedule, order), rs in groups.items():
        ok = [r for r in rs if not r["diverged"]]
        mean = lambda k, ok=ok: float(np.mean([r[k] for r in ok])) if len(ok) >= 2 else np.nan
        trapped = [r["constant"] and not r["optimum_constant"] for r in ok]
        out.append(
            {
                "method": method,
                "lam": lam,
                "schedule": schedule,
                "order": order,
                "n": len(ok),
                "diverged": len(rs) - len(ok),
                "tail_mean": mean("test_error_tail_mean"),
                "final": mean("test_error_final"),
                "objective_ratio": mean("objective") / mean("optimum_objective"),
                "optimum": float(np.mean([r["optimum_test_error"] for r in rs])),
                "optimum_constant": float(np.mean([r["optimum_constant"] for r in rs])),
                "trapped": float(np.mean(trapped)) if len(ok) >= 2 else np.nan,
                "dead": float(np.mean([r["dead_fraction"] for r in rs])),
            }
        )
    return out


def to_markdown(cfg: SweepConfig, rows: list[dict[str, Any]], entries: list[dict[str, Any]]) -> str:
    lr, epochs, _ = base_setting(cfg)
    lines = [
        f"# Sweep: {len(rows):,} models",
        "",
        "Test error = total absolute error on the test samples of each draw; **tail mean** = "
        "averaged over the weights after every SGD step of the last epoch(s); **final** = after "
        "the last step. **Optimum** = the test error of the exact global minimum of the same "
        "objective (the sum of an epoch's step costs, each with the penalty, at fixed weights; "
        "`docs/optimum.md`), which SGD with a decaying learning rate should reach. **Objective "
        "/ optimum**: the final weights' objective over the optimum's (1 = converged). "
        "**Trapped**: runs ending at a constant network (predictions spanning less than 1% of the "
        "targets' range) where the optimum is not one.",
        "",
        *verdict.to_markdown(cfg, entries),
        "",
        f"## SGD beside the exact optimum (lr {lr:g}, {epochs} epochs; means over draws and seeds)",
        "",
        "| method | lambda | schedule | order | n | tail mean | final | optimum | objective / "
        "optimum | trapped | dead units |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary(cfg, rows):
        n = f"{s['n']}" + (f" ({s['diverged']} diverged)" if s["diverged"] else "")
        const = " (constant)" if s["optimum_constant"] == 1 else ""
        lines.append(
            f"| {s['method']} | {s['lam']:g} | {s['schedule']} | {s['order']} | {n} | "
            f"{_num(s['tail_mean'])} | {_num(s['final'])} | {s['optimum']:.2f}{const} | "
            f"{_num(s['objective_ratio'], '.3f')} | {_pct(s['trapped'])} | {s['dead']:.0%} |"
        )
    return "\n".join(lines + ["", *convergence_words(cfg, summary(cfg, rows)), ""])


def convergence_words(cfg: SweepConfig, rows: list[dict[str, Any]]) -> list[str]:
    """Per decaying schedule: SGD's final test error against the optimum's, per method and
    lambda, and how far its objective is from the optimum's."""
    lr, epochs, _ = base_setting(cfg)
    out = []
    for schedule in [s for s in cfg.lr_schedule if s != "constant"]:
        mine = [r for r in rows if (r["schedule"], r["order"]) == (schedule, cfg.orders[0])]
        if not mine:
            continue
        parts = [
            f"{r['method']} at {r['lam']:g}: {_num(r['final'])} vs {r['optimum']:.2f} "
            f"({_num(100 * (r['final'] / r['optimum'] - 1), '+.1f')}%, objective "
            f"{_num(100 * (r['objective_ratio'] - 1), '+.1f')}%)"
            for r in mine
        ]
        out.append(
            f"**Convergence with the {schedule} schedule** (lr {lr:g} decayed to 0 over "
            f"{epochs} epochs, {cfg.orders[0]} order): SGD's final test error vs the exact "
            "optimum's, and its objective above the optimum's: " + "; ".join(parts) + "."
        )
    return out


def _num(v: float, fmt: str = ".2f") -> str:
    return "- (fewer than 2 finite values)" if not np.isfinite(v) else format(v, fmt)


def _pct(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.0%}"
