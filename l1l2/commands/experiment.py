"""The blog's experiment: R runs each of none, L1 and L2 on one data set, then the tables."""
import csv
import io
import sys
import time
from dataclasses import dataclass

import numpy as np

from .. import blog
from ..core import model, train
from ..output import gifs, plots, record, recording, tensorboard
from ..output.folder import staged
from . import prune
from .common import mean_std, plan, prepare, train_runs


def result_rows(cfg, data, runs, penalty, trained):
    """One dict per run: test error, final training cost, near-zero weights per layer."""
    act = cfg.activation
    _, test_err, _ = train.evaluate(trained.params, data.x_test, data.y_test, penalty, act)
    _, train_loss, train_pen = train.evaluate(trained.params, data.x_train, data.y_train, penalty, act)
    rows = []
    for i, r in enumerate(runs):
        row = {"method": r.method, "run": r.run, "seed": r.seed,
               "test_error": test_err[i], "train_cost": train_loss[i] + train_pen[i],
               "diverged_at_step": int(trained.diverged_at[i])}
        for layer in model.layer_names(trained.params):
            w = trained.params[f"{layer}/W"][i]
            row[f"near_zero_{layer}"] = int((np.abs(w) < cfg.zero_tol).sum())
        rows.append(row)
    return rows


def to_csv(rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: f"{v:.6f}" if isinstance(v, (float, np.floating)) else v
                    for k, v in row.items()})
    return buf.getvalue()


def cell(row):
    d = row["diverged_at_step"]
    return f"diverged at step {d}" if d >= 0 else f"{row['test_error']:.2f}"


def to_markdown(cfg, rows, n_test):
    """Per method: mean ± std and every run's test error, with the blog's L1 runs beside."""
    extra = [f"{k} = {getattr(cfg, k)}" for k, blog_value in
             (("kernel_reg", ""), ("activation", "identity"), ("bias_reg", "none"), ("activity_reg", "none"),
              ("l1_update", "subgradient"), ("batch_size", 1)) if getattr(cfg, k) != blog_value]
    lines = [f"Total absolute error on the {n_test} test samples; lambda = {cfg.lam}, "
             f"{cfg.epochs} epochs, lr = {cfg.lr}, sizes {'-'.join(map(str, cfg.sizes))}"
             + "".join(f", {e}" for e in extra) + "; mean ± std (ddof=1) over runs.", "",
             "| method | mean ± std | " + " | ".join(f"run {k} (seed {cfg.seed + k})"
                                                 for k in range(cfg.runs)) + " |",
             "|---|---|" + "---|" * cfg.runs]
    for m in cfg.methods:
        mine = [r for r in rows if r["method"] == m]
        errs = [r["test_error"] if r["diverged_at_step"] < 0 else np.nan for r in mine]
        lines.append(f"| {m} | {mean_std(errs)} | " + " | ".join(cell(r) for r in mine) + " |")
    lines += ["", "The blog's five L1 runs (its own data set, not published):", "",
              "| method | mean ± std | " + " | ".join(f"run {k}" for k in range(5)) + " |",
              "|---|---|" + "---|" * 5,
              f"| l1 (blog) | {mean_std(blog.L1_TEST_ERRORS)} | "
              + " | ".join(f"{e:.2f}" for e in blog.L1_TEST_ERRORS) + " |", ""]
    return "\n".join(lines)


def fit_curves(cfg, runs, trained, penalty):
    """x grid and the prediction of the first run of each method on it."""
    grid = np.linspace(0, 10, 101, dtype=np.float32)
    preds, _, _ = train.evaluate(trained.params, grid, np.zeros_like(grid), penalty, cfg.activation)
    return grid, {f"{r.method} (seed {r.seed})": preds[i] for i, r in enumerate(runs) if r.run == 0}


@dataclass
class Outcome:
    """Everything a trained comparison produced; each output step reads what it needs."""
    cfg: object
    data: object
    runs: list           # [Run], the order of the model axis
    params0: dict        # initial weights, stacked
    penalty: object      # regularizers.Targets, stacked
    trained: object      # train.Trained (frames: one per epoch, plus the initial weights)
    rows: list           # result_rows()
    started: float


# What one run writes to <out>; a new run replaces all of it, so the folder never mixes two runs
# (what other commands add, like sweep/ or analysis/, stays).
OWNED = ("results.csv", "results.md", "config.json", recording.FILE, "figures", "gifs", "tensorboard",
         "checkpoints", "pruning.md")


def main(cfg) -> None:
    """`reproduce`: train, tabulate, draw, prune; every output into cfg.out at once at the end."""
    started = time.time()
    data = prepare(cfg, cfg.runs * len(cfg.methods), cfg.sizes, cfg.epochs + 1, cfg.batch_size)
    runs = plan(cfg)
    with staged(cfg.out, owns=OWNED) as stage:   # locked from here: a second run on --out stops at once
        params0, penalty, trained = train_runs(cfg, data, runs, progress=cfg.progress, record=True)
        rows = result_rows(cfg, data, runs, penalty, trained)
        o = Outcome(cfg, data, runs, params0, penalty, trained, rows, started)
        table = to_markdown(cfg, rows, len(data.x_test))
        write_outputs(stage, o, table)
        record.write(stage / "config.json", cfg, started, seeds={r.name: r.seed for r in runs})
    print(table)
    print(f"done: {len(runs)} models x {cfg.epochs} epochs in {time.time() - started:.1f} s "
          f"-> {cfg.out}/results.md")


def write_outputs(stage, o, table):
    """Tables, recording, figures and, as the config asks, GIFs, TensorBoard events, checkpoints, pruning."""
    cfg = o.cfg
    say = (lambda msg: print(msg, file=sys.stderr)) if cfg.progress else (lambda msg: None)
    write_results(stage, o, table)
    rec = recording.from_outcome(o)
    recording.save(stage / recording.FILE, rec)
    say("figures" + (" and GIFs" if cfg.gifs else "") + "...")
    write_figures(stage, rec, cfg.gif_seconds if cfg.gifs else None)
    if cfg.tensorboard:
        say("TensorBoard event files...")
        tensorboard.write_all(stage, o)
    if cfg.prune:
        say("checkpoints, pruning and retraining the L1 runs...")
        prune.save_checkpoints(stage, o)
        if any(prune.has_l1(o.penalty.pick(i)) for i in range(len(o.runs))):
            prune.prune_runs(cfg, o, stage)


def write_results(stage, o, table):
    (stage / "results.csv").write_text(to_csv(o.rows))
    (stage / "results.md").write_text(table)
    (stage / "figures").mkdir(exist_ok=True)
    grid, preds = fit_curves(o.cfg, o.runs, o.trained, o.penalty)
    plots.fit_figure(o.data, grid, preds, stage / "figures" / "fit.png",
                     f"Fits of run 0, lambda = {o.cfg.lam}")


def write_figures(folder, rec, gif_seconds):
    """sparsity, weight histogram and error figures; the GIFs too unless gif_seconds is None."""
    (folder / "figures").mkdir(exist_ok=True)
    plots.sparsity_figure(rec, folder / "figures" / "sparsity.png")
    plots.weights_hist_figure(rec, folder / "figures" / "weights_hist.png")
    plots.errors_figure(rec, folder / "figures" / "errors.png", blog.L1_TEST_ERRORS)
    if gif_seconds is not None:
        gifs.write_all(folder / "gifs", rec, gif_seconds)
