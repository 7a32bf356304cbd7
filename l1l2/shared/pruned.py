"""Pruning trained runs: find what L1 disconnected, check the function is kept, retrain the
smaller net, and the checkpoints and table rows of it all.

Every checkpoint written here carries a record (core/checkpoints.RECORD_TYPES): how its model
was trained and what it was derived from, so `reproduce prune` on a checkpoint of the main run
redoes that run's row of pruning.md without retyping its flags (records.py). One name scheme
serves both: <run> for a trained run, <run>_pruned, <run>_scratch and <run>_finetune for the
nets derived from it.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import blog
from ..config import Config, PruneConfig
from ..core import checkpoints, model, optimum, regularizers
from ..core import pruning as prune
from ..core.activations import np_activation
from ..core.activations import parse as parse_activation
from ..core.data import Dataset, is_protocol_data
from ..core.sgd import Trained
from ..core.train import evaluate, train
from . import records
from .runs import Run, mean_std

HOWS = ("scratch", "finetune")  # the ways of retraining; the main run does both
RETRAINED = {"scratch": "retrained from scratch", "finetune": "fine-tuned"}


def checkpoint_name(run: str, kind: str = "trained") -> str:
    """The one name scheme: <run> for a trained run, <run>_<kind> for a net derived from it
    (kind pruned, scratch or finetune), in the main run's checkpoints/ and in prune's pruned/."""
    return run if kind == "trained" else f"{run}_{kind}"


@dataclass
class Pruned:
    """One trained model on its way through pruning and retraining."""

    name: str
    seed: int
    order: str  # the run's sample order, file or shuffle: retraining uses it
    penalty: regularizers.Targets  # the run's, used again for retraining
    before: dict  # trained params (one model)
    error_before: float
    settings: dict = field(default_factory=dict)  # records.run_settings: derived nets' records
    source: str = ""  # the checkpoint of the trained params
    overrides: dict = field(default_factory=dict)  # prune flags given that differ from its record
    pruning: prune.Pruning | None = None
    error_pruned: float = np.nan
    max_diff: float = np.nan  # max |f - f_pruned| over every sample of the data set
    bound: float = np.nan  # the stated bound on it, max over samples
    error_scratch: float = np.nan
    error_finetune: float = np.nan
    error_optimum: float = np.nan  # the exact optimum of the run's objective (any sizes)
    retrained: dict = field(default_factory=dict)  # "scratch" / "finetune" -> the retrained params


def test_errors(
    models: list[dict[str, np.ndarray]],
    data: Dataset,
    penalty: regularizers.Penalty | regularizers.Targets,
    activation: str = "identity",
) -> np.ndarray:
    """Test error of each single-model param dict (all of one shape)."""
    pen = regularizers.stack([penalty] * len(models))
    return evaluate(model.stack(models), data.x_test, data.y_test, pen, activation)[1]


def analyse(
    items: list[Pruned],
    data: Dataset,
    tol: float,
    activation: str = "identity",
    batch_size: int = 1,
) -> list[Pruned]:
    """Prune each trained model; measure the prediction change against the bound, the pruned
    nets' test errors (one evaluation per pruned size) and, for identity networks with kernel
    penalties only, the test error of the exact optimum of the run's objective."""
    x = data.x[:, None].astype(np.float64)
    groups = defaultdict(list)
    for p in items:
        if activation == "identity" and not (p.penalty.bias or p.penalty.activity):
            depth = len(prune.sizes_of(p.before)) - 1
            best = optimum.of_sgd(data, depth, p.penalty.kernel, batch_size)
            p.error_optimum = best.test_error
        p.pruning = prune.prune(p.before, tol, activation)
        if p.pruning.constant or not any(p.pruning.dead):
            continue
        diff = (
            prune.forward(p.before, x, activation)[-1]
            - prune.forward(p.pruning.params, x, activation)[-1]
        )
        p.max_diff = float(np.abs(diff).max())
        p.bound = float(prune.error_bound(p.before, p.pruning.zeroed, x, activation).max())
        groups[prune.sizes_of(p.pruning.params)].append(p)
    for ps in groups.values():
        pen = regularizers.stack([p.penalty for p in ps])
        nets = model.stack([p.pruning.params for p in ps])
        for p, e in zip(ps, evaluate(nets, data.x_test, data.y_test, pen, activation)[1]):
            p.error_pruned = float(e)
    return items


def retrain(
    items: list[Pruned], data: Dataset, cfg: Config | PruneConfig, hows: tuple = HOWS
) -> None:
    """Retrain every pruned net each way in `hows` with its run's penalty, sample order and seed:
    from scratch (Glorot weights from the seed) or from its pruned weights. Nets of one size are
    trained together, every way at once: one training call per pruned size. RReLU draws its
    slopes for the whole stack from the call's seed: there each run gets a call of its own,
    seeded by the run's seed, so that `reproduce prune` (one run, both ways) draws the same."""
    groups = defaultdict(list)
    own_call = parse_activation(cfg.activation)[0] == "rrelu"
    for p in items if hows else ():
        if not p.pruning.constant and any(p.pruning.dead):
            key = (prune.sizes_of(p.pruning.params), p.seed if own_call else cfg.seed)
            groups[key] += [(p, how) for how in hows]
    for (sizes, seed), jobs in groups.items():
        starts = [
            model.glorot_init(sizes, p.seed) if how == "scratch" else p.pruning.params
            for p, how in jobs
        ]
        pen = regularizers.stack([p.penalty for p, _ in jobs])
        out = train(
            data.x_train,
            data.y_train,
            model.stack(starts),
            pen,
            cfg.sgd(tail_epochs=0, seed=seed),
            seeds=[p.seed for p, _ in jobs],
            orders=[p.order for p, _ in jobs],
            engine=cfg.engine,
        )
        errs = evaluate(out.params, data.x_test, data.y_test, pen, cfg.activation)[1]
        for i, ((p, how), e) in enumerate(zip(jobs, errs)):
            setattr(p, f"error_{how}", float(e))
            p.retrained[how] = model.unstack(out.params, i)


def sizes_text(sizes: Sequence[int]) -> str:
    return "-".join(map(str, sizes))


MAIN_RUN_NOTE = (
    "Retraining uses the run's penalties, activation, lr, epochs, batch size, sample "
    "order and seed: from scratch, Glorot weights drawn from that seed; fine-tuned, "
    "the pruned weights."
)
HEADER = (
    "| run | sizes before → after | params | dead units (why) | test error before | "
    "pruned, not retrained | max \\|Δ prediction\\| (bound) | retrained from scratch | "
    "fine-tuned |"
)
MEANS = (
    ("before pruning", "error_before"),
    ("pruned, not retrained", "error_pruned"),
    ("retrained from scratch", "error_scratch"),
    ("fine-tuned", "error_finetune"),
    ("the exact optimum of the run's objective (any sizes; `reproduce optimum`)", "error_optimum"),
)


BY_EYE = (
    "The blog pruned by eye and kept the first two hidden layers whole "
    f"({sizes_text(blog.PRUNED_SIZES)}). Our rule also removes the units whose only input "
    "weight died: they output a constant, which the next layer's bias absorbs exactly, so they "
    "are not needed either."
)


def to_markdown(
    items: list[Pruned],
    tol: float,
    intro: str = MAIN_RUN_NOTE,
    saved: str = "",
    blog_anchor: bool = True,
) -> str:
    """The pruning table and the means, beside the blog's if blog_anchor (the protocol's data
    set); `intro` says how retraining was set up, `saved` where the checkpoints are."""
    rows = [HEADER, "|---|---|---|---|---|---|---|---|---|", *(table_row(p) for p in items)]
    ok = [p for p in items if np.isfinite(p.error_scratch)]
    one = len(items) == 1  # one checkpoint: its numbers, not a mean of one
    summary = ["", f"| | test error{'' if one else ', mean ± std'} |", "|---|---|"]
    for label, attr in MEANS:
        values = [getattr(p, attr) for p in (items if one else ok)]
        shown = f"{values[0]:.2f}" if one else mean_std(values) if ok else "-"
        summary.append(f"| {'' if attr == 'error_optimum' else 'ours: '}{label} | {shown} |")
    blog_errors = ", ".join(f"{e:.2f}" for e in blog.PRUNED_TEST_ERRORS)
    if blog_anchor:
        summary.append(
            f"| blog: retrained {sizes_text(blog.PRUNED_SIZES)} (its own data) | "
            f"{mean_std(blog.PRUNED_TEST_ERRORS)} ({blog_errors}) |"
        )
    return "\n".join(
        [
            f"# Pruning the units L1 disconnected (tol = {tol:g})",
            "",
            "A hidden unit is dead when all its incoming weights (from live units) have |w| < "
            f"{tol:g} -- it outputs a constant, folded into the next layer's bias -- or all its "
            "outgoing weights (to live units) do. Detection repeats until nothing changes. The "
            "pruned network equals the original with a set of weights below tol set to zero; the "
            "bound in brackets follows from that (see `l1l2/core/pruning.py`). " + intro,
            "",
            *rows,
            *summary,
            "",
            *([saved, ""] if saved else []),
            *([BY_EYE, ""] if blog_anchor else []),
        ]
    )


def table_row(p: Pruned) -> str:
    """The run's row of pruning.md (and of prune's report.md: the same row for the same run)."""
    before = prune.sizes_of(p.before)
    if p.pruning.constant:
        after, n_after = "constant network (a whole layer died)", "-"
    else:
        after = sizes_text(prune.sizes_of(p.pruning.params))
        n_after = prune.n_params(p.pruning.params)
    return (
        f"| {p.name} (seed {p.seed}) | {sizes_text(before)} → {after} | "
        f"{prune.n_params(p.before)} → {n_after} | {prune.describe(p.pruning.dead)} | "
        f"{p.error_before:.2f} | {p.error_pruned:.2f} | {p.max_diff:.1e} ({p.bound:.1e}) | "
        f"{p.error_scratch:.2f} | {p.error_finetune:.2f} |"
    )


def has_l1(penalty: regularizers.Targets) -> bool:
    """Whether the penalty has an L1 term on the kernels (the runs pruning is about)."""
    return bool(np.any(penalty.kernel.l1))


def derived_entries(folder: str | Path, p: Pruned, tol: float) -> list[checkpoints.Entry]:
    """The checkpoints of the pruned net and of its retrained versions, with their records:
    the run's settings, what they were derived from, their test error."""
    origin = {
        "checkpoint": p.source,
        "name": p.name,
        "sizes": list(map(int, prune.sizes_of(p.before))),
        "tol": tol,
        "removed": records.removed_units(p.pruning.dead),
        **({"overrides": p.overrides} if p.overrides else {}),
    }
    nets = {"pruned": p.pruning.params, **p.retrained}
    return [
        checkpoints.Entry(
            Path(folder) / checkpoint_name(p.name, kind),
            params,
            {
                "name": checkpoint_name(p.name, kind),
                "kind": kind,
                **p.settings,
                "derived_from": origin,
                "test_error": getattr(p, f"error_{kind}"),
            },
        )
        for kind, params in nets.items()
    ]


def saved_runs_note(items: list[Pruned], saved: bool = True) -> str:
    """pruning.md's sentence on where the checkpoints are, naming the folders of the scheme."""
    if not saved:
        return "No checkpoints were saved (--no-checkpoints)."
    done = [p.name for p in items if p.retrained]
    return (
        "Checkpoints (read them with `l1l2.core.checkpoints.load`, prune one with "
        "`./reproduce prune --checkpoint`; each holds its record, `model.json`, and its "
        "graph, `model.meta`): every trained run in `checkpoints/<run>/`; "
        + (
            f"the pruned nets of {', '.join(done)} in `checkpoints/<run>_pruned/`, retrained "
            "in `checkpoints/<run>_scratch/` and `checkpoints/<run>_finetune/`."
            if done
            else "no pruned net was retrained."
        )
    )


def save_checkpoints(
    folder: Path,
    cfg: Config,
    sha256: str,
    runs: list[Run],
    rows: list[dict],
    penalty: regularizers.Targets,
    trained: Trained,
) -> None:
    """checkpoints/<run>/ of every trained run, with its record."""
    data = records.data_record(cfg.data, sha256)
    entries = []
    for i, r in enumerate(runs):
        about = {
            "name": r.name,
            "kind": "trained",
            **records.run_settings(cfg, r.method, r.seed, penalty.pick(i), cfg.zero_tol, data),
            "derived_from": None,
            "test_error": rows[i]["test_error_final"],
            "test_error_tail_mean": rows[i]["test_error_tail_mean"],
        }
        folder_i = folder / "checkpoints" / checkpoint_name(r.name)
        entries.append(checkpoints.Entry(folder_i, model.unstack(trained.params, i), about))
    checkpoints.save_all(entries, cfg.activation)


def prune_runs(
    folder: Path,
    cfg: Config,
    data: Dataset,
    runs: list[Run],
    rows: list[dict],
    penalty: regularizers.Targets,
    trained: Trained,
) -> list[Pruned]:
    """Prune every run with an L1 kernel term, retrain both ways, write pruning.md (and, with
    cfg.checkpoints, the pruned and retrained nets)."""
    if np_activation(cfg.activation) is None:
        (folder / "pruning.md").write_text(
            f"# Pruning\n\nNot done: pruning does not support the {cfg.activation} "
            "activation (its slopes are learned).\n",
            encoding="utf-8",
        )
        return []
    about_data = records.data_record(cfg.data, data.sha256)
    items = [
        Pruned(
            r.name,
            r.seed,
            r.order,
            penalty.pick(i),
            model.unstack(trained.params, i),
            rows[i]["test_error_final"],
            records.run_settings(cfg, r.method, r.seed, penalty.pick(i), cfg.zero_tol, about_data),
            str(Path(cfg.out) / "checkpoints" / checkpoint_name(r.name)),
        )
        for i, r in enumerate(runs)
        if has_l1(penalty.pick(i)) and not rows[i]["diverged"]
    ]
    analyse(items, data, cfg.zero_tol, cfg.activation, cfg.batch_size)
    retrain(items, data, cfg, HOWS)
    if cfg.checkpoints:
        entries = [
            e
            for p in items
            if p.retrained
            for e in derived_entries(folder / "checkpoints", p, cfg.zero_tol)
        ]
        checkpoints.save_all(entries, cfg.activation)
    text = (
        to_markdown(
            items,
            cfg.zero_tol,
            MAIN_RUN_NOTE,
            saved_runs_note(items, cfg.checkpoints),
            is_protocol_data(data),
        )
        if items
        else "# Pruning\n\nNo run with an L1 term converged.\n"
    )
    (folder / "pruning.md").write_text(text, encoding="utf-8")
    return items
