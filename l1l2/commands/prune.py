"""`reproduce prune`: prune one saved model with the settings of its record (or the flags
given), check the function is kept, optionally retrain it; the results go to <out>/pruned/."""

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..config import PruneConfig
from ..core import checkpoints
from ..core import data as data_mod
from ..core import pruning as prune
from ..output import record
from ..output.folder import finish_interrupted, staged
from ..shared import records
from ..shared.pruned import (
    HOWS,
    RETRAINED,
    Pruned,
    analyse,
    derived_entries,
    retrain,
    sizes_text,
    test_errors,
    to_markdown,
)
from ..shared.result import Result, listing
from ..shared.runs import prepare, show


def main(cfg: PruneConfig) -> Result:
    """`reproduce prune`: prune one saved model with the settings of its record (or the flags
    given), optionally retrain it, write <out>/pruned/."""
    started = time.time()
    finish_interrupted(cfg.checkpoint, cfg.out, cfg.force)  # a checkpoint of one run, not two
    ck = checkpoints.load(cfg.checkpoint)
    run, penalty = records.settle(cfg, ck)
    data = prepare(run, 2, prune.sizes_of(ck.params), run.epochs, 0, run.batch_size)
    say = show(run)
    error = float(test_errors([ck.params], data, penalty, run.activation)[0])
    for note in records.notes(cfg, run, ck, penalty, error, data.sha256):
        print(f"note: {note}", file=sys.stderr)
    [p] = analyse(
        [
            Pruned(
                checkpoints.folder_name(cfg.checkpoint),
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
        run.batch_size,
    )
    if why_not(p, run.tol):
        return Result("", why_not(p, run.tol), Path(run.out))
    with staged(run.out, owns=("pruned",), force=run.force) as stage:
        with say.phase(f"retraining the pruned net ({run.retrain})"):
            retrain([p], data, run, hows(run.retrain))
        with say.phase("checkpoints and report"):
            intro = records.provenance(run, penalty, ck.record, p.overrides)
            warned = records.warnings(run, ck.record, error, data.sha256) if ck.record else []
            write_pruned(stage / "pruned", p, run, intro, warned, data_mod.is_protocol_data(data))
            record.write(stage / "pruned" / "config.json", run, data_sha256=data.sha256)
            report = (stage / "pruned" / "report.md").read_text(encoding="utf-8")
            wrote, files = listing(stage / "pruned", Path(run.out) / "pruned")
    record.log_run(run.out, started)
    row = {
        k: getattr(p, k)
        for k in (
            "name",
            "seed",
            "error_before",
            "error_pruned",
            "max_diff",
            "bound",
            "error_scratch",
            "error_finetune",
            "error_optimum",
        )
    }
    row["sizes_after"] = list(prune.sizes_of(p.pruning.params))
    done = summary_line(p, run) + f"; {wrote}"
    return Result(report, done, Path(run.out) / "pruned", files, [row])


def why_not(p: Pruned, tol: float) -> str:
    """Why there is no smaller net to write ('' if there is one)."""
    if p.pruning.constant:
        k = next(
            k
            for k, d in enumerate(p.pruning.dead)
            if len(d) == p.before[f"dense{k + 1}/W"].shape[1]
        )
        return (
            f"every unit of dense{k + 1} is dead at tol {tol:g}: the network computes a "
            "constant; nothing written"
        )
    if not any(p.pruning.dead):
        return (
            f"nothing to prune: every hidden unit has an incoming and an outgoing weight with "
            f"|w| >= {tol:g}; nothing written"
        )
    return ""


def hows(retrain_flag: str) -> tuple[str, ...]:
    """--retrain's ways of retraining: both, none or the one it names."""
    return {"both": HOWS, "none": ()}.get(retrain_flag, (retrain_flag,))


def write_pruned(
    folder: Path,
    p: Pruned,
    cfg: PruneConfig,
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


def summary_line(p: Pruned, cfg: PruneConfig) -> str:
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
