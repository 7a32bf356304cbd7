"""What a checkpoint's record says, and what `reproduce prune` makes of it.

A record (core/checkpoints.RECORD_TYPES) names a model's training settings like the prune
flags, so the record's values are prune's defaults: a flag given overrides one, and the report
and a note say so. A checkpoint without a record is pruned with the flags, after a note.
"""

from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, PruneConfig
from ..core import regularizers
from ..core.checkpoints import PREFIX, Checkpoint, CheckpointError
from ..errors import InputError
from ..files import file_problem
from ..flags import flag

TARGETS = ("kernel", "bias", "activity")
# record keys named like a prune flag, read as its value
FLAG_KEYS = (
    "activation",
    "method",
    "lam",
    "l1_update",
    "lr",
    "lr_schedule",
    "epochs",
    "batch_size",
    "order",
    "seed",
)


def penalty_spec(p: regularizers.Penalty) -> str:
    """A Penalty as the spec regularizers.parse reads back (none, l1:A, l2:B, l1l2:A,B); the
    coefficients at float32 precision, at which the models compute them."""
    a, b = (np.format_float_positional(np.float32(c), unique=True, trim="-") for c in (p.l1, p.l2))
    l1, l2 = bool(p.l1), bool(p.l2)
    return f"l1l2:{a},{b}" if l1 and l2 else f"l1:{a}" if l1 else f"l2:{b}" if l2 else "none"


def data_record(path: str | Path, sha256: str) -> dict:
    """The data file as given and the SHA-256 of the bytes read: what a model was fit to."""
    return {"file": str(path), "sha256": sha256}


def run_settings(
    cfg: Config | PruneConfig,
    method: str,
    seed: int,
    penalty: regularizers.Targets,
    tol: float,
    data: dict,
) -> dict:
    """How a model is trained, as its record holds it (see checkpoints.RECORD_TYPES). cfg is the
    main run's Config or prune's settled PruneConfig: they name these settings alike."""
    return {
        "activation": cfg.activation,
        "method": method,
        "lam": cfg.lam,
        "penalty": {t: penalty_spec(getattr(penalty, t)) for t in TARGETS},
        "l1_update": cfg.l1_update,
        "lr": cfg.lr,
        "lr_schedule": cfg.lr_schedule,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "order": cfg.order,
        "seed": seed,
        **({"tail_epochs": cfg.tail_epochs} if hasattr(cfg, "tail_epochs") else {}),
        "zero_tol": tol,
        "data": data,
    }


def removed_units(dead: list[dict[int, str]]) -> dict:
    """{"dense1": {"in": [units], "out": [units]}, ...} for each layer that lost units (the
    layer whose outputs they are, as pruning.describe names them)."""
    return {
        f"dense{k + 1}": {why: sorted(u for u, w in d.items() if w == why) for why in ("in", "out")}
        for k, d in enumerate(dead)
        if d
    }


def flag_values(rec: dict) -> dict:
    """The prune flags a record supplies: keys named like them, tol from zero_tol, the bias and
    activity penalties, the data file."""
    out = {k: rec[k] for k in FLAG_KEYS if rec.get(k) is not None}
    pen = rec.get("penalty") or {}
    out.update({f"{t}_reg": pen[t] for t in ("bias", "activity") if pen.get(t) is not None})
    if rec.get("zero_tol") is not None:
        out["tol"] = rec["zero_tol"]
    if (rec.get("data") or {}).get("file"):
        out["data"] = rec["data"]["file"]
    return out


def settle(cfg: PruneConfig, ck: Checkpoint) -> tuple[PruneConfig, regularizers.Targets]:
    """(the config prune runs with, the run's penalty): each flag not given from the record,
    else its value without one, checked like the flags."""
    run = cfg.settled(flag_values(ck.record or {}))
    try:
        run.check()
        penalty = prune_penalty(run, ck.record, cfg.given())
    except InputError as e:  # only a record's value can fail here: the flags were checked
        raise CheckpointError(
            f"checkpoint {cfg.checkpoint}: its record {PREFIX}.json holds a "
            f"setting prune refuses: {e}"
        ) from None
    check_data_file(cfg, run, ck)
    return run, penalty


def prune_penalty(
    run: PruneConfig, rec: dict[str, Any] | None, given: tuple[str, ...]
) -> regularizers.Targets:
    """The record's kernel penalty, unless --method or --lam was given (or there is none); the
    bias and activity penalties of --bias-reg and --activity-reg (settled from the record)."""
    kernel = ((rec or {}).get("penalty") or {}).get("kernel")
    if kernel is None or {"method", "lam"} & set(given):
        k = regularizers.for_method(run.method, run.lam)
    else:
        k = regularizers.parse(kernel)
    return regularizers.Targets(
        k, regularizers.parse(run.bias_reg), regularizers.parse(run.activity_reg)
    )


def check_data_file(cfg: PruneConfig, run: PruneConfig, ck: Checkpoint) -> None:
    """A data file taken from the record must be there: say so naming the record, not a flag."""
    if ck.record and "data" not in cfg.given() and (problem := file_problem(run.data)):
        raise CheckpointError(
            f"checkpoint {cfg.checkpoint}: its record's data file {run.data}: "
            f"{problem}; give --data"
        )


def overrides(cfg: PruneConfig, run: PruneConfig, rec: dict[str, Any] | None) -> dict:
    """{flag: {"given": value, "record": value}} for each flag given that differs from the
    record (a flag given equal to it overrides nothing)."""
    recorded = flag_values(rec or {})
    return {
        n: {"given": getattr(run, n), "record": recorded[n]}
        for n in cfg.given()
        if n in recorded and getattr(run, n) != recorded[n]
    }


def notes(
    cfg: PruneConfig,
    run: PruneConfig,
    ck: Checkpoint,
    penalty: regularizers.Targets,
    error: float,
    sha256: str,
) -> list:
    """One line each: no record, or the flags overriding it; then the warnings."""
    if ck.record is None:
        return [
            f"{cfg.checkpoint} has no record ({PREFIX}.json): using the flags: "
            f"{settings_text(run, penalty)}"
        ]
    return [
        f"{flag(n)} {v['given']} overrides the record's {v['record']}"
        for n, v in overrides(cfg, run, ck.record).items()
    ] + warnings(run, ck.record, error, sha256)


def warnings(run: PruneConfig, rec: dict[str, Any], error: float, sha256: str) -> list:
    """Another data file than the record's; another test error than the record's (another
    activation or penalty than the model was trained with changes it)."""
    lines = []
    sha = (rec.get("data") or {}).get("sha256")
    if sha and sha != sha256:
        lines.append(
            f"{run.data} is not the data file the checkpoint was trained on (its SHA-256 "
            "differs): the numbers will differ from the run's"
        )
    saved = rec.get("test_error")
    if isinstance(saved, (int, float)) and abs(error - saved) > 1e-3 * max(1.0, abs(saved)):
        lines.append(
            f"the test error measures {error:.4f} here, {saved:.4f} in the record: the "
            "data, activation or penalties differ from the checkpoint's"
        )
    return lines


def settings_text(run: PruneConfig, penalty: regularizers.Targets) -> str:
    """Every setting prune uses, in a line."""
    pen = ", ".join(f"{t} {penalty_spec(getattr(penalty, t))}" for t in TARGETS)
    return (
        f"activation {run.activation}; penalties {pen} ({run.l1_update} L1 update); lr "
        f"{run.lr:g} ({run.lr_schedule}), {run.epochs} epochs, batch size {run.batch_size}, "
        f"{run.order} order, "
        f"seed {run.seed}; data `{run.data}`; tol {run.tol:g}"
    )


def provenance(
    run: PruneConfig, penalty: regularizers.Targets, rec: dict[str, Any] | None, changed: dict
) -> str:
    """The report's sentence on where the settings came from and which flags overrode them."""
    what = settings_text(run, penalty)
    if rec is None:
        return (
            f"The checkpoint has no record (`{PREFIX}.json`): the settings are the flags' "
            f"values: {what}."
        )
    given = [f"`{flag(n)} {v['given']}` (the record: {v['record']})" for n, v in changed.items()]
    return f"Settings from the checkpoint's record (`{PREFIX}.json`): {what}." + (
        f" Given on the command line, overriding the record: {', '.join(given)}."
        if given
        else " No flag overrode it."
    )
