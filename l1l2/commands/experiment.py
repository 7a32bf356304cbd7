"""The blog's experiment: R runs each of none, L1 and L2 on one data set, then the tables,
figures, GIFs, TensorBoard events, checkpoints and the pruning of the L1 runs."""

import csv
import io
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import blog
from ..config import Config
from ..core import data as data_mod
from ..core import model, optimum, regularizers
from ..core.sgd import ORDERS, Trained
from ..core.train import evaluate
from ..output import curves, drawing, gifs, record, recording, tensorboard
from ..output.folder import staged
from ..output.progress import Progress
from ..shared import pruned
from ..shared.result import Result, listing
from ..shared.runs import (
    ABSURD,
    Run,
    mean_std,
    optimum_of,
    plan,
    prepare,
    result_rows,
    run_penalty,
    show,
    train_runs,
)


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow(
            {k: f"{v:.6f}" if isinstance(v, (float, np.floating)) else v for k, v in row.items()}
        )
    return buf.getvalue()


def cell(row: dict[str, Any]) -> str:
    d = row["diverged_at_step"]
    if d >= 0:
        return f"diverged at step {d}"
    if row["diverged"]:
        return f"diverged (a cost or test error beyond {ABSURD:.0e})"
    return f"{row['test_error_final']:.2f} / {row['test_error_tail_mean']:.2f}"


def to_markdown(cfg: Config, rows: list[dict[str, Any]], data: data_mod.Dataset) -> str:
    """Per method: final and tail-averaged test errors, every run's, the blog's L1 runs beside."""
    extra = [
        f"{k} = {getattr(cfg, k)}"
        for k, blog_value in (
            ("kernel_reg", ""),
            ("activation", "identity"),
            ("bias_reg", "none"),
            ("activity_reg", "none"),
            ("l1_update", "subgradient"),
            ("batch_size", 1),
        )
        if getattr(cfg, k) != blog_value
    ]
    tail = f"the last {cfg.tail_epochs} epochs" if cfg.tail_epochs > 1 else "the last epoch"
    lines = [
        f"Total absolute error on the {len(data.x_test)} test samples; lambda = {cfg.lam}, "
        f"{cfg.epochs} epochs, lr = {cfg.lr}, sizes {'-'.join(map(str, cfg.sizes))}, "
        f"sample order: {ORDER_WORDS[cfg.order]}" + "".join(f", {e}" for e in extra) + ".",
        f"Final: the error of the weights after the last SGD step. Tail mean: the error "
        f"averaged over the weights after every SGD step of {tail}, which does not depend "
        "on where within an epoch training stops. Mean ± std (ddof=1) over runs. Optimum: the "
        "test error of the exact global minimum of the method's objective, the sum of an "
        "epoch's step costs (`reproduce optimum`); objective / optimum: the final weights' "
        "objective over it, mean over runs (1: SGD reached the minimum).",
        "",
        "| method | final: mean ± std | tail mean: mean ± std | optimum | objective / optimum | "
        + " | ".join(f"run {k} (seed {cfg.seed + k}): final / tail" for k in range(cfg.runs))
        + " |",
        "|---|---|---|---|---|" + "---|" * cfg.runs,
    ]
    for m in cfg.methods:
        mine = [r for r in rows if r["method"] == m]
        final, tail_mean = (
            [np.nan if r["diverged"] else r[k] for r in mine]
            for k in ("test_error_final", "test_error_tail_mean")
        )
        lines.append(
            f"| {m} | {mean_std(final)} | {mean_std(tail_mean)} | {optimum_cells(mine)} | "
            + " | ".join(cell(r) for r in mine)
            + " |"
        )
    lines += ["", last_sample_note(cfg, rows, data), ""]
    if data_mod.is_protocol_data(data):
        lines += [
            "The blog's five L1 runs (final test error; its own data set, not published):",
            "",
            "| method | mean ± std | " + " | ".join(f"run {k}" for k in range(5)) + " |",
            "|---|---|" + "---|" * 5,
            f"| l1 (blog) | {mean_std(blog.L1_TEST_ERRORS)} | "
            + " | ".join(f"{e:.2f}" for e in blog.L1_TEST_ERRORS)
            + " |",
            "",
        ]
    return "\n".join(lines)


def optimum_cells(rows: list[dict[str, Any]]) -> str:
    """'5.31 | 1.42': the optimum's test error and the mean objective / optimum of the runs that
    did not diverge ('-' where the optimum is not known exactly or fewer than 2 runs remain)."""
    best = rows[0]["optimum_test_error"]
    ok = [r["objective"] / r["optimum_objective"] for r in rows if not r["diverged"]]
    if not np.isfinite(best):
        return "- (not known exactly) | -"
    return f"{best:.2f} | " + (f"{np.mean(ok):.2f}" if len(ok) >= 2 else "-")


ORDER_WORDS = {
    "file": "the file's, every epoch (the blog's protocol)",
    "shuffle": "shuffled every epoch, from each run's seed",
}


def last_sample_note(cfg: Config, rows: list[dict[str, Any]], data: data_mod.Dataset) -> str:
    """One sentence on what the last SGD step does to the final number, measured."""
    means = []
    for m in cfg.methods:
        ok = [r for r in rows if r["method"] == m and not r["diverged"]]
        if len(ok) >= 2:
            final = np.mean([r["test_error_final"] for r in ok])
            tail = np.mean([r["test_error_tail_mean"] for r in ok])
            means.append(f"{m} {tail:.2f} -> {final:.2f}")
    if not means:
        return "Fewer than two runs per method converged: no comparison of final and tail means."
    if cfg.order == "file":
        n = len(data.x_train)
        last = n - 1 - (n - 1) % cfg.batch_size
        x, y = data.x_train[last:], data.y_train[last:]
        what = (
            f"the same training sample (x = {x[0]:.2f}, y = {y[0]:.2f}"
            + (", an outlier" if data.outlier[data.train][last] else "")
            + ")"
            if len(x) == 1
            else f"the same batch of training samples (rows {last} to {n - 1})"
        )
        head = f"In the file's order every run takes its last SGD step on {what}"
    else:
        head = "Shuffled, every run takes its last SGD step on a sample drawn by its seed"
    return (
        f"{head}; the mean test error goes from the tail mean to the final one as "
        + ", ".join(means)
        + "."
    )


def fit_curves(
    cfg: Config, runs: list[Run], trained: Trained, penalty: regularizers.Targets
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """x grid and the prediction of the first run of each method on it."""
    grid = np.linspace(0, 10, 101, dtype=np.float32)
    preds, _, _ = evaluate(trained.params, grid, np.zeros_like(grid), penalty, cfg.activation)
    return grid, {f"{r.method} (seed {r.seed})": preds[i] for i, r in enumerate(runs) if r.run == 0}


@dataclass
class Outcome:
    """Everything a trained comparison produced; each output step reads what it needs."""

    cfg: Config
    data: data_mod.Dataset
    runs: list[Run]  # the order of the model axis
    params0: dict[str, np.ndarray]  # initial weights, stacked
    penalty: regularizers.Targets  # stacked
    trained: Trained  # frames: one per epoch, plus the initial weights
    rows: list[dict[str, Any]]  # result_rows()
    curves: tuple[list[Run], Trained]  # the runs of every order, for the learning curves


# The names one run owns in <out>: a new run replaces or removes every file reproduce wrote under
# them, so the folder never mixes two runs (folder.py); other commands' sweep/ or analysis/, and
# files of yours, stay.
OWNED = (
    "results.csv",
    "results.md",
    "config.json",
    recording.FILE,
    "figures",
    "gifs",
    "tensorboard",
    "checkpoints",
    "pruning.md",
    "curves.csv",
)


def main(cfg: Config) -> Result:
    """`reproduce`: train, tabulate, draw, prune; every output into cfg.out at once at the end."""
    started = time.time()
    n_models = 2 * cfg.runs * len(cfg.methods)
    gb = gifs.drawing_gb(cfg.sizes, cfg.epochs + 1, cfg.gif_seconds) if cfg.gifs else 0
    frames = lambda per_epoch: cfg.epochs + 1 + cfg.tail_epochs * per_epoch
    data = prepare(cfg, n_models, cfg.sizes, cfg.epochs, frames, cfg.batch_size, gb)
    runs = plan(cfg)  # the comparison, in cfg.order; the other order only for the curves
    other = plan(cfg, order=next(o for o in ORDERS if o != cfg.order))
    steps = cfg.epochs * len(data.x_train) // cfg.batch_size
    # locked from here: a second run on --out stops at once
    with staged(cfg.out, owns=OWNED, force=cfg.force) as stage, drawing.second_process() as pool:
        pool.submit(drawing.warm_up, cfg.sizes)  # on the other core while TensorFlow loads
        say = show(cfg)  # after every check: a refusal is the only line
        what = (
            f"training {len(runs)} models ({len(runs)} more in the {other[0].order} order "
            "for the learning curves)"
        )
        with say.phase(what, total=steps * len(runs + other), unit="model-step") as update:
            progress = update if say.bars else None  # no bar: no loop split into calls for one
            params0, penalty, both = train_runs(cfg, data, runs + other, progress, record=True)
        mine = np.arange(len(runs))
        trained, params0 = both.take(mine), {k: v[mine] for k, v in params0.items()}
        penalty = regularizers.stack([penalty.pick(i) for i in mine])
        rows = result_rows(cfg, data, runs, penalty, trained)
        o = Outcome(cfg, data, runs, params0, penalty, trained, rows, (runs + other, both))
        table = to_markdown(cfg, rows, data)
        write_outputs(stage, o, table, say, pool)
        record.write(
            stage / "config.json",
            cfg,
            seeds={r.name: r.seed for r in runs},
            data_sha256=data.sha256,
        )
        wrote, files = listing(stage, cfg.out)
    record.log_run(cfg.out, started)
    done = (
        f"done: {len(runs + other)} models x {cfg.epochs} epochs in {time.time() - started:.1f} s"
    )
    return Result(table, f"{done}; {wrote}", Path(cfg.out), files, rows)


def write_outputs(stage: Path, o: Outcome, table: str, say: Progress, pool: Executor) -> None:
    """Tables, recording, figures and, as the config asks, GIFs, TensorBoard events,
    checkpoints, pruning; a phase line each. The pictures are drawn by `pool`, a second process
    (drawing.second_process), while TensorFlow writes the rest, so the two cores share the
    work."""
    cfg = o.cfg
    with say.phase("tables, recording and fits"):
        rec = recording_of(o)
        per_epoch = len(o.data.x_train) // cfg.batch_size
        curve_args = (*o.curves, per_epoch, cfg.tail_epochs * per_epoch, len(o.data.x_test))
        fit_args = (
            o.data,
            *fit_curves(cfg, o.runs, o.trained, o.penalty),
            f"Fits of run 0, lambda = {cfg.lam}",
        )
        drawn = pool.submit(
            drawing.everything,
            stage,
            rec,
            cfg.gif_seconds if cfg.gifs else None,
            curve_args,
            fit_args,
            objective_panels(o),
        )
        write_results(stage, o, table)  # while the drawing starts
        recording.save(stage / recording.FILE, rec)
    trained = (o.runs, o.rows, o.penalty, o.trained)
    if cfg.tensorboard:
        with say.phase("TensorBoard event files (written after training, one per epoch)"):
            names, settings = [r.name for r in o.runs], [hparams(cfg, r) for r in o.runs]
            spec = cfg.sgd()
            tensorboard.write_all(
                stage, names, settings, o.params0, o.penalty, o.trained, o.data, spec
            )
    if cfg.checkpoints:
        with say.phase(f"{len(o.runs)} checkpoints"):
            pruned.save_checkpoints(stage, cfg, o.data.sha256, *trained)
    if cfg.prune and any(pruned.has_l1(o.penalty.pick(i)) for i in range(len(o.runs))):
        with say.phase("pruning the L1 runs and retraining the smaller nets"):
            pruned.prune_runs(stage, cfg, o.data, *trained)
    with say.phase("figures" + (" and GIFs" if cfg.gifs else "") + ", drawn meanwhile"):
        drawn.result()


def hparams(cfg: Config, r: Run) -> dict[str, Any]:
    """A run's settings as TensorBoard hparams."""
    return {
        "method": r.method,
        "lambda": float(cfg.lam),
        "order": r.order,
        "seed": float(r.seed),
        "lr": float(cfg.lr),
        "lr_schedule": cfg.lr_schedule,
        "activation": cfg.activation,
    }


def recording_of(o: Outcome) -> dict[str, Any]:
    """The arrays the GIFs and figures need (output/recording.py): one frame per epoch."""
    t, layers = o.trained, model.layer_names(o.trained.params)
    per_epoch = len(o.data.x_train) // o.cfg.batch_size
    keep = t.frame_steps % per_epoch == 0  # epoch ends (not the single steps of the tail)
    return {
        "layers": np.array(layers),
        "kernels": [t.frames[f"{n}/W"][keep] for n in layers],
        "frame_steps": t.frame_steps[keep],
        "step_cost": t.step_cost,
        "frame_test_error": t.test_error[keep],
        "n_test": len(o.data.x_test),
        "protocol_data": data_mod.is_protocol_data(o.data),
        "steps_per_epoch": per_epoch,
        "methods": np.array([r.method for r in o.runs]),
        "runs": np.array([r.run for r in o.runs]),
        "seeds": np.array([r.seed for r in o.runs]),
        "test_error": np.array([row["test_error_final"] for row in o.rows]),
        "lam": o.cfg.lam,
        "zero_tol": o.cfg.zero_tol,
    }


def objective_panels(o: Outcome) -> list[dict[str, Any]]:
    """The objective figure of the runs (plots.objective_figure): J as a function of the slope
    per method, its exact minimum, and every run at (the slope its weights compute, their
    objective); [] where the optimum is not known exactly."""
    cfg, d = o.cfg, o.data
    best = {m: optimum_of(cfg, d, m) for m in cfg.methods}
    if any(b is None for b in best.values()):
        return []
    steps, depth = len(d.x_train) // cfg.batch_size, len(cfg.sizes) - 1
    slopes = optimum.slope(o.trained.params)
    finite = np.abs(slopes[np.isfinite(slopes)])
    reach = 1.25 * max(2.0, *(abs(b.slope) for b in best.values()), *finite)
    curves, runs = {}, {}
    for m in cfg.methods:
        k = run_penalty(cfg, m).kernel
        a, curves[m] = optimum.profile(
            d.x_train, d.y_train, depth, k.l1 * steps, k.l2 * steps, reach
        )
        mine = [i for i, r in enumerate(o.rows) if r["method"] == m and not r["diverged"]]
        runs[m] = [(slopes[i], o.rows[i]["objective"]) for i in mine]
    title = f"lambda = {cfg.lam:g}, the {len(o.runs) // len(cfg.methods)} runs of each method"
    return [
        {
            "title": title,
            "a": a,
            "curves": curves,
            "best": {m: (b.slope, b.objective) for m, b in best.items()},
            "runs": runs,
        }
    ]


def write_results(stage: Path, o: Outcome, table: str) -> None:
    (stage / "results.csv").write_text(to_csv(o.rows), encoding="utf-8")
    (stage / "results.md").write_text(table, encoding="utf-8")
    per_epoch = len(o.data.x_train) // o.cfg.batch_size
    (stage / "curves.csv").write_text(
        curves.to_csv(curves.rows(*o.curves, per_epoch)), encoding="utf-8"
    )
