"""The blog's payoff: prune what L1 disconnected, check the function is kept, retrain the small net."""
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import blog
from ..core import checkpoints, model, regularizers, train
from ..core.activations import np_activation
from ..core import pruning as prune
from ..output import record
from ..output.folder import staged
from .common import mean_std, prepare, run_penalty
from .common import train as train_models


@dataclass
class Pruned:
    name: str
    seed: int
    penalty: object              # regularizers.Targets of the run, used again for retraining
    before: dict                 # trained params (one model)
    pruning: prune.Pruning
    error_before: float
    error_pruned: float = np.nan
    max_diff: float = np.nan     # max |f - f_pruned| over every sample of the data set
    bound: float = np.nan        # the stated bound on it, max over samples
    error_scratch: float = np.nan
    error_finetune: float = np.nan
    retrained: dict = field(default_factory=dict)   # "scratch" / "finetune" -> the retrained params


def test_errors(models, data, penalty, activation="identity"):
    """Test error of each single-model param dict (all of one shape)."""
    pen = regularizers.stack([penalty] * len(models))
    return train.evaluate(model.stack(models), data.x_test, data.y_test, pen, activation)[1]


def analyse(name, seed, params, data, tol, error_before, penalty, activation="identity"):
    """Prune one trained model; measure its test error and the prediction change against the bound."""
    p = Pruned(name, seed, penalty, params, prune.prune(params, tol, activation), error_before)
    if p.pruning.constant or not any(p.pruning.dead):
        return p
    x = data.x[:, None].astype(np.float64)
    diff = prune.forward(params, x, activation)[-1] - prune.forward(p.pruning.params, x, activation)[-1]
    p.max_diff = float(np.abs(diff).max())
    p.bound = float(prune.error_bound(params, p.pruning.zeroed, x, activation).max())
    p.error_pruned = float(test_errors([p.pruning.params], data, penalty, activation)[0])
    return p


def retrain(items, data, cfg, how):
    """Retrain every pruned net with its run's penalty, from scratch (Glorot, its seed) or from its
    pruned weights."""
    groups = defaultdict(list)
    for p in items:
        if not p.pruning.constant and any(p.pruning.dead):
            groups[prune.sizes_of(p.pruning.params)].append(p)
    for sizes, ps in groups.items():
        starts = [model.glorot_init(sizes, p.seed) if how == "scratch" else p.pruning.params for p in ps]
        pen = regularizers.stack([p.penalty for p in ps])
        out = train_models(cfg, data.x_train, data.y_train, model.stack(starts), pen)
        errs = train.evaluate(out.params, data.x_test, data.y_test, pen, cfg.activation)[1]
        for i, (p, e) in enumerate(zip(ps, errs)):
            setattr(p, f"error_{how}", float(e))
            p.retrained[how] = model.unstack(out.params, i)


def sizes_text(sizes):
    return "-".join(map(str, sizes))


def to_markdown(items, tol, cfg, saved=""):
    """The pruning table and the means beside the blog's; `saved` says where the checkpoints are."""
    rows = ["| run | sizes before → after | params | dead units (why) | test error before | pruned, "
            "not retrained | max \\|Δ prediction\\| (bound) | retrained from scratch | fine-tuned |",
            "|---|---|---|---|---|---|---|---|---|"]
    for p in items:
        before = prune.sizes_of(p.before)
        if p.pruning.constant:
            after, n_after = "constant network (a whole layer died)", "-"
        else:
            after, n_after = sizes_text(prune.sizes_of(p.pruning.params)), prune.n_params(p.pruning.params)
        rows.append(f"| {p.name} (seed {p.seed}) | {sizes_text(before)} → {after} | "
                    f"{prune.n_params(p.before)} → {n_after} | {prune.describe(p.pruning.dead)} | "
                    f"{p.error_before:.2f} | {p.error_pruned:.2f} | {p.max_diff:.1e} ({p.bound:.1e}) | "
                    f"{p.error_scratch:.2f} | {p.error_finetune:.2f} |")
    ok = [p for p in items if np.isfinite(p.error_scratch)]
    summary = ["", "| | test error, mean ± std |", "|---|---|"]
    for label, attr in (("before pruning", "error_before"), ("pruned, not retrained", "error_pruned"),
                        ("retrained from scratch", "error_scratch"), ("fine-tuned", "error_finetune")):
        summary.append(f"| ours: {label} | {mean_std([getattr(p, attr) for p in ok]) if ok else '-'} |")
    summary.append(f"| blog: retrained {sizes_text(blog.PRUNED_SIZES)} | {mean_std(blog.PRUNED_TEST_ERRORS)} "
                   f"({', '.join(f'{e:.2f}' for e in blog.PRUNED_TEST_ERRORS)}) |")
    return "\n".join([
        f"# Pruning the units L1 disconnected (tol = {tol:g})", "",
        f"A hidden unit is dead when all its incoming weights (from live units) have |w| < {tol:g} -- it "
        "outputs a constant, folded into the next layer's bias -- or all its outgoing weights (to live "
        "units) do. Detection repeats until nothing changes. The pruned network equals the original with "
        "a set of weights below tol set to zero; the bound in brackets follows from that "
        "(see `l1l2/prune.py`). Retraining uses the same method, lambda, epochs and seed as the run.", "",
        *rows, *summary, "", *([saved, ""] if saved else []),
        f"The blog pruned by eye and kept the first two hidden layers whole ({sizes_text(blog.PRUNED_SIZES)}). "
        "Our rule also removes the units whose only input weight died: they output a constant, which "
        "the next layer's bias absorbs exactly, so they are not needed either.", ""])


def has_l1(penalty):
    return bool(np.any(penalty.kernel.l1))


def prune_runs(cfg, o, folder):
    """Prune every run with an L1 kernel term, retrain both ways, write pruning.md."""
    if np_activation(cfg.activation) is None:
        (folder / "pruning.md").write_text(
            f"# Pruning\n\nNot done: pruning does not support the {cfg.activation} activation "
            "(its slopes are learned).\n", encoding="utf-8")
        return []
    items = [analyse(r.name, r.seed, model.unstack(o.trained.params, i), o.data, cfg.zero_tol,
                     o.rows[i]["test_error_final"], o.penalty.pick(i), cfg.activation)
             for i, r in enumerate(o.runs)
             if has_l1(o.penalty.pick(i)) and not o.rows[i]["diverged"]]
    for how in ("scratch", "finetune"):
        retrain(items, o.data, cfg, how)
        for p in items:
            if how in p.retrained:
                checkpoints.save(folder / "checkpoints" / f"{p.name}_{how}", p.retrained[how], cfg.activation)
    text = to_markdown(items, cfg.zero_tol, cfg, saved_runs_note(items)) if items else \
        "# Pruning\n\nNo run with an L1 term converged.\n"
    Path(folder / "pruning.md").write_text(text, encoding="utf-8")
    return items


def saved_runs_note(items):
    done = [p.name for p in items if p.retrained]
    return ("Checkpoints (read them with `l1l2.checkpoints.load`, prune one with `./reproduce prune "
            "--checkpoint`): every trained run in `checkpoints/<run>/`; "
            + (f"the retrained pruned nets of {', '.join(done)} in `checkpoints/<run>_scratch/` and "
               "`checkpoints/<run>_finetune/`." if done else "no pruned net was retrained."))


def save_checkpoints(folder, o):
    for i, r in enumerate(o.runs):
        checkpoints.save(folder / "checkpoints" / r.name, model.unstack(o.trained.params, i), o.cfg.activation)


def main(cfg) -> None:
    """`reproduce prune`: prune one saved model, optionally retrain it, write <out>/pruned/."""
    started = time.time()
    params = checkpoints.load(cfg.checkpoint)
    data = prepare(cfg, 1, prune.sizes_of(params), 0, cfg.batch_size)
    pen = run_penalty(cfg, cfg.method)
    error = float(test_errors([params], data, pen, cfg.activation)[0])
    p = analyse(Path(cfg.checkpoint).name, cfg.seed, params, data, cfg.tol, error, pen, cfg.activation)
    if p.pruning.constant:
        k = next(k for k, d in enumerate(p.pruning.dead) if len(d) == params[f"dense{k + 1}/W"].shape[1])
        print(f"every unit of dense{k + 1} is dead at tol {cfg.tol:g}: the network computes a constant; "
              "nothing written")
        return
    if not any(p.pruning.dead):
        print(f"nothing to prune: every hidden unit has an incoming and an outgoing weight with "
              f"|w| >= {cfg.tol:g}; nothing written")
        return
    with staged(cfg.out, owns=("pruned",), force=cfg.force) as stage:
        if cfg.retrain != "none":
            retrain([p], data, cfg, cfg.retrain)
        write_pruned(stage / "pruned", p, cfg)
        record.write(stage / "pruned" / "config.json", cfg, started, data_sha256=data.sha256)
    print(summary_line(p, cfg))


def write_pruned(folder, p, cfg):
    """<out>/pruned/: report.md, the pruned net in checkpoint/ and the retrained one in retrained_<how>/."""
    folder.mkdir()
    checkpoints.save(folder / "checkpoint", p.pruning.params, cfg.activation)
    saved = ("Checkpoints (read them with `l1l2.checkpoints.load`): the pruned net, not retrained, in "
             "`pruned/checkpoint/`")
    for how, params in p.retrained.items():
        checkpoints.save(folder / f"retrained_{how}", params, cfg.activation)
        saved += f"; retrained ({how}) in `pruned/retrained_{how}/`"
    (folder / "report.md").write_text(to_markdown([p], cfg.tol, cfg, saved + "."), encoding="utf-8")


def summary_line(p, cfg):
    after = sizes_text(prune.sizes_of(p.pruning.params))
    return (f"{sizes_text(prune.sizes_of(p.before))} -> {after} (dead: {prune.describe(p.pruning.dead)}); "
            f"test error {p.error_before:.2f} -> {p.error_pruned:.2f} pruned (max |change| {p.max_diff:.1e} "
            f"<= bound {p.bound:.1e})"
            + (f" -> {getattr(p, 'error_' + cfg.retrain):.2f} retrained ({cfg.retrain})"
               if cfg.retrain != "none" else "")
            + f"; wrote {cfg.out}/pruned/")
