"""The blog's payoff: prune what L1 disconnected, check the function is kept, retrain the small net.

Every checkpoint written here carries a record (core/checkpoints.RECORD_TYPES): how its model
was trained and what it was derived from, so `reproduce prune` on a checkpoint of the main run
redoes that run's row of pruning.md without retyping its flags (records.py). One name scheme
serves both: <run> for a trained run, <run>_pruned, <run>_scratch and <run>_finetune for the
nets derived from it.
"""

import dataclasses
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import blog
from ..core import checkpoints, model, regularizers, train
from ..core import data as data_mod
from ..core import pruning as prune
from ..core.activations import np_activation
from ..core.activations import parse as parse_activation
from ..core.data import Dataset
from ..core.train import sample_order
from ..output import record
from ..output.folder import staged
from . import records
from .common import mean_std, prepare, show, written
from .common import train as train_models

HOWS = ("scratch", "finetune")  # the ways of retraining; the main run does both
RETRAINED = {"scratch": "retrained from scratch", "finetune": "fine-tuned"}


def checkpoint_name(run: str, kind: str = "trained") -> str:
    """The one name scheme: <run> for a trained run, <run>_<kind> for a net derived from it
    (kind pruned, scratch or finetune), in the main run's checkpoints/ and in prune's pruned/."""
    return run if kind == "trained" else f"{run}_{kind}"


@dataclass
class Pruned:
    name: str
    seed: int
    order: str  # the run's sample order, file or shuffle: retraining uses it
    penalty: object  # regularizers.Targets of the run, used again for retraining
    before: dict  # trained params (one model)
    error_before: float
    settings: dict = field(default_factory=dict)  # records.run_settings: derived nets' records
    source: str = ""  # the checkpoint of the trained params
    overrides: dict = field(default_factory=dict)  # prune flags given that differ from its record
    pruning: prune.Pruning = None
    error_pruned: float = np.nan
    max_diff: float = np.nan  # max |f - f_pruned| over every sample of the data set
    bound: float = np.nan  # the stated bound on it, max over samples
    error_scratch: float = np.nan
    error_finetune: float = np.nan
    retrained: dict = field(default_factory=dict)  # "scratch" / "finetune" -> the retrained params


def test_errors(
    models: list[dict[str, np.ndarray]],
    data: Dataset,
    penalty: regularizers.Penalty | regularizers.Targets,
    activation: str = "identity",
) -> np.ndarray:
    """Test error of each single-model param dict (all of one shape)."""
    pen = regularizers.stack([penalty] * len(models))
    return train.evaluate(model.stack(models), data.x_test, data.y_test, pen, activation)[1]


def analyse(items: list, data: Dataset, tol: float, activation: str = "identity") -> list:
    """Prune each trained model; measure the prediction change against the bound, and the
    pruned nets' test errors (one evaluation per pruned size)."""
    x = data.x[:, None].astype(np.float64)
    groups = defaultdict(list)
    for p in items:
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
        for p, e in zip(ps, train.evaluate(nets, data.x_test, data.y_test, pen, activation)[1]):
            p.error_pruned = float(e)
    return items


def retrain(items: list, data: Dataset, cfg: object, hows: tuple = HOWS) -> None:
    """Retrain every pruned net each way in `hows` with its run's penalty, sample order and seed:
    from scratch (Glorot weights from the seed) or from its pruned weights. Nets of one size are
    trained together, every way at once: one training call per pruned size. RReLU draws its
    slopes for the whole stack from the call's seed: there each run gets a call of its own,
    seeded by the run's seed, so that `reproduce prune` (one run, both ways) draws the same."""
    groups = defaultdict(list)
    own_call = parse_activation(cfg.activation)[0] == "rrelu"
    for p in items if hows else ():
        if not p.pruning.constant and any(p.pruning.dead):
            key = (prune.sizes_of(p.pruning.params), p.seed if own_call else None)
            groups[key] += [(p, how) for how in hows]
    for (sizes, seed), jobs in groups.items():
        starts = [
            model.glorot_init(sizes, p.seed) if how == "scratch" else p.pruning.params
            for p, how in jobs
        ]
        pen = regularizers.stack([p.penalty for p, _ in jobs])
        order = np.stack(
            [
                sample_order(
                    p.order, data.x_train, data.y_train, cfg.epochs, cfg.batch_size, p.seed
                )
                for p, _ in jobs
            ],
            axis=1,
        )
        call = cfg if seed is None else dataclasses.replace(cfg, seed=seed)
        out = train_models(call, data.x_train, data.y_train, model.stack(starts), pen, order=order)
        errs = train.evaluate(out.params, data.x_test, data.y_test, pen, cfg.activation)[1]
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
    summary = ["", "| | test error, mean ± std |", "|---|---|"]
    for label, attr in MEANS:
        mean = mean_std([getattr(p, attr) for p in ok]) if ok else "-"
        summary.append(f"| ours: {label} | {mean} |")
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
    return bool(np.any(penalty.kernel.l1))


def derived_entries(folder: str | Path, p: Pruned, tol: float) -> list:
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


# --- the main run ---------------------------------------------------------------------------


def prune_runs(cfg: object, o: object, folder: Path) -> list:
    """Prune every run with an L1 kernel term, retrain both ways, write pruning.md (and, with
    cfg.checkpoints, the pruned and retrained nets)."""
    if np_activation(cfg.activation) is None:
        (folder / "pruning.md").write_text(
            f"# Pruning\n\nNot done: pruning does not support "
            f"the {cfg.activation} activation (its slopes are "
            "learned).\n",
            encoding="utf-8",
        )
        return []
    data = records.data_record(cfg.data, o.data.sha256)
    items = []
    for i, r in enumerate(o.runs):
        pen = o.penalty.pick(i)
        if has_l1(pen) and not o.rows[i]["diverged"]:
            items.append(
                Pruned(
                    r.name,
                    r.seed,
                    r.order,
                    pen,
                    model.unstack(o.trained.params, i),
                    o.rows[i]["test_error_final"],
                    records.run_settings(cfg, r.method, r.seed, pen, cfg.zero_tol, data),
                    str(Path(cfg.out) / "checkpoints" / checkpoint_name(r.name)),
                )
            )
    analyse(items, o.data, cfg.zero_tol, cfg.activation)
    retrain(items, o.data, cfg, HOWS)
    if cfg.checkpoints:
        checkpoints.save_all(
            [
                e
                for p in items
                if p.retrained
                for e in derived_entries(folder / "checkpoints", p, cfg.zero_tol)
            ],
            cfg.activation,
        )
    text = (
        to_markdown(
            items,
            cfg.zero_tol,
            MAIN_RUN_NOTE,
            saved_runs_note(items, cfg.checkpoints),
            data_mod.is_protocol_data(o.data),
        )
        if items
        else "# Pruning\n\nNo run with an L1 term converged.\n"
    )
    Path(folder / "pruning.md").write_text(text, encoding="utf-8")
    return items


def saved_runs_note(items: list, saved: bool = True) -> str:
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


def save_checkpoints(folder: Path, o: object) -> None:
    """checkpoints/<run>/ of every trained run, with its record."""
    cfg, data = o.cfg, records.data_record(o.cfg.data, o.data.sha256)
    entries = []
    for i, r in enumerate(o.runs):
        row = o.rows[i]
        about = {
            "name": r.name,
            "kind": "trained",
            **records.run_settings(cfg, r.method, r.seed, o.penalty.pick(i), cfg.zero_tol, data),
            "derived_from": None,
            "test_error": row["test_error_final"],
            "test_error_tail_mean": row["test_error_tail_mean"],
        }
        entries.append(
            checkpoints.Entry(
                folder / "checkpoints" / checkpoint_name(r.name),
                model.unstack(o.trained.params, i),
                about,
            )
        )
    checkpoints.save_all(entries, cfg.activation)


# --- `reproduce prune` ----------------------------------------------------------------------


def main(cfg: object) -> None:
    """`reproduce prune`: prune one saved model with the settings of its record (or the flags
    given), optionally retrain it, write <out>/pruned/."""
    started = time.time()
    ck = checkpoints.load(cfg.checkpoint)
    run, penalty = records.settle(cfg, ck)
    data = prepare(run, 2, prune.sizes_of(ck.params), 0, run.batch_size)
    say = show(run)
    error = float(test_errors([ck.params], data, penalty, run.activation)[0])
    for note in records.notes(cfg, run, ck, penalty, error, data.sha256):
        print(f"note: {note}", file=sys.stderr)
    [p] = analyse(
        [
            Pruned(
                (ck.record or {}).get("name") or Path(cfg.checkpoint).name,
                run.seed,
                run.order,
                penalty,
                ck.params,
                error,
                records.run_settings(
                    run,
                    run.method,
                    run.seed,
                    penalty,
                    run.tol,
                    records.data_record(run.data, data.sha256),
                ),
                str(cfg.checkpoint),
                records.overrides(cfg, run, ck.record),
            )
        ],
        data,
        run.tol,
        run.activation,
    )
    if not prunable(p, run.tol):
        return
    with staged(run.out, owns=("pruned",), force=run.force) as stage:
        with say.phase(f"retraining the pruned net ({run.retrain})"):
            retrain([p], data, run, hows(run.retrain))
        with say.phase("checkpoints and report"):
            intro = records.provenance(run, penalty, ck.record, p.overrides)
            warned = records.warnings(run, ck.record, error, data.sha256) if ck.record else []
            write_pruned(stage / "pruned", p, run, intro, warned, data_mod.is_protocol_data(data))
            record.write(stage / "pruned" / "config.json", run, started, data_sha256=data.sha256)
            wrote = written(stage / "pruned", Path(run.out) / "pruned")
    print(summary_line(p, run) + f"; {wrote}")


def prunable(p: Pruned, tol: float) -> bool:
    """Whether there is a smaller net to write; if not, say why."""
    if p.pruning.constant:
        k = next(
            k
            for k, d in enumerate(p.pruning.dead)
            if len(d) == p.before[f"dense{k + 1}/W"].shape[1]
        )
        print(
            f"every unit of dense{k + 1} is dead at tol {tol:g}: the network computes a "
            "constant; nothing written"
        )
        return False
    if not any(p.pruning.dead):
        print(
            f"nothing to prune: every hidden unit has an incoming and an outgoing weight with "
            f"|w| >= {tol:g}; nothing written"
        )
        return False
    return True


def hows(retrain_flag: str) -> tuple:
    """--retrain's ways of retraining: both, none or the one it names."""
    return {"both": HOWS, "none": ()}.get(retrain_flag, (retrain_flag,))


def write_pruned(
    folder: Path,
    p: Pruned,
    cfg: object,
    intro: str,
    warned: Sequence[str] = (),
    blog_anchor: bool = True,
) -> None:
    """<out>/pruned/: report.md (with the warnings), the pruned net in <run>_pruned/, the
    retrained in <run>_<how>/."""
    folder.mkdir()
    entries = derived_entries(folder, p, cfg.tol)
    checkpoints.save_all(entries, cfg.activation)
    saved = (
        "Checkpoints (read them with `l1l2.core.checkpoints.load`; each holds its record, "
        "`model.json`, and its graph, `model.meta`): "
        + ", ".join(f"`pruned/{e.folder.name}/` ({e.record['kind']})" for e in entries)
        + "."
    )
    text = to_markdown([p], cfg.tol, intro, saved, blog_anchor)
    (folder / "report.md").write_text(
        text + "".join(f"\nWarning: {w}.\n" for w in warned), encoding="utf-8"
    )


def summary_line(p: Pruned, cfg: object) -> str:
    """The line prune prints: sizes, dead units, the test errors."""
    after = sizes_text(prune.sizes_of(p.pruning.params))
    retrained = ", ".join(
        f"{getattr(p, 'error_' + how):.2f} {RETRAINED[how]}" for how in p.retrained
    )
    return (
        f"{sizes_text(prune.sizes_of(p.before))} -> {after} "
        f"(dead: {prune.describe(p.pruning.dead)}); test error {p.error_before:.2f} -> "
        f"{p.error_pruned:.2f} pruned (max |change| {p.max_diff:.1e} <= bound "
        f"{p.bound:.1e})" + (f" -> {retrained}" if retrained else "")
    )
