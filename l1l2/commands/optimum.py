"""`reproduce optimum`: the exact global minimum of every method's training objective.

With identity activations the network computes a line a*x + c, and the least penalty of a
slope a over all weights is known in closed form, so the minimum over all weights of the
objective SGD descends (the sum of an epoch's step costs: the summed absolute error plus the
penalty once per step) is a search over a few hundred slopes (core/optimum.py, docs/optimum.md).
Every optimum is also saved as weights that attain it, a TF1 checkpoint with its record.
"""

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..config import OptimumConfig
from ..core import checkpoints, optimum, regularizers
from ..core import data as data_mod
from ..output import plots, record
from ..output.folder import staged
from ..shared import records
from ..shared.result import Result, listing
from ..shared.runs import check_fits, show


def penalties(cfg: OptimumConfig) -> list[tuple[str, float, regularizers.Penalty]]:
    """(method, lambda, kernel penalty) of every objective to solve; lambda is nan for a
    --kernel-reg penalty."""
    if cfg.kernel_reg:
        kind = cfg.kernel_reg.strip().lower().partition(":")[0]
        return [(kind, np.nan, regularizers.parse(cfg.kernel_reg))]
    return [
        (m, lam, regularizers.for_method(m, lam))
        for lam in cfg.lams
        for m in (["none"] if lam == 0 else cfg.methods)
    ]


def name(method: str, lam: float) -> str:
    """The optimum's checkpoint folder: l1_lam0.3, none, or the method of a --kernel-reg."""
    return method if lam == 0 or np.isnan(lam) else f"{method}_lam{lam:g}"


def solve_all(cfg: OptimumConfig, d: data_mod.Dataset) -> list[dict[str, Any]]:
    """One row per objective: the optimum and where it is attained."""
    rows = []
    for method, lam, pen in penalties(cfg):
        o = optimum.of_sgd(d, len(cfg.sizes) - 1, pen, cfg.batch_size)
        rows.append(
            {
                "method": method,
                "lam": None if np.isnan(lam) else lam,
                "penalty": records.penalty_spec(pen),
                "slope": o.slope,
                "intercept": o.intercept,
                "intercept_range": list(o.intercept_range),
                "slope_range": list(o.slope_range),
                "objective": o.objective,
                "data_loss": o.data_loss,
                "penalty_value": o.penalty,
                "test_error": o.test_error,
                "constant": o.constant,
                "checkpoint": f"checkpoints/{name(method, lam)}" if cfg.checkpoints else None,
                "_optimum": o,
                "_pen": pen,
            }
        )
    return rows


def to_json(rows: list[dict[str, Any]]) -> str:
    """optimum.json: the rows without their Python objects; infinities (a flat objective) as
    null."""
    clean = [{k: _finite(v) for k, v in r.items() if not k.startswith("_")} for r in rows]
    return json.dumps(clean, indent=1) + "\n"


def _finite(v: object) -> object:
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return None if isinstance(v, float) and not np.isfinite(v) else v


def to_markdown(cfg: OptimumConfig, rows: list[dict[str, Any]], d: data_mod.Dataset) -> str:
    steps = len(d.x_train) // cfg.batch_size
    lines = [
        f"# The exact optimum of each objective ({cfg.data}, sizes "
        f"{'-'.join(map(str, cfg.sizes))})",
        "",
        f"Objective: the sum of an epoch's step costs at fixed weights, summed |pred - y| over "
        f"the {len(d.x_train)} training samples + {steps} x the kernel penalty (batch size "
        f"{cfg.batch_size}: {steps} steps an epoch, each adding the penalty): what per-sample "
        "SGD descends. Its global minimum over all weights, computed exactly "
        "(`docs/optimum.md`): the network computes slope * x + intercept; test error = total "
        f"absolute error on the {len(d.x_test)} test samples.",
        "",
        "| method | lambda | penalty | slope | intercept (range) | objective | test error | "
        "constant network |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lo, hi = r["intercept_range"]
        span = f" [{lo:.3f}, {hi:.3f}]" if hi - lo > 1e-6 else ""  # not a rounding tie
        lam = "-" if r["lam"] is None else f"{r['lam']:g}"
        lines.append(
            f"| {r['method']} | {lam} | {r['penalty']} | {r['slope']:.4f} | "
            f"{r['intercept']:.4f}{span} | {r['objective']:.3f} | {r['test_error']:.3f} | "
            f"{'yes' if r['constant'] else 'no'} |"
        )
    return "\n".join(lines + ["", "![objectives](optimum.png)", ""])


def figure_panels(cfg: OptimumConfig, rows: list[dict[str, Any]], d: data_mod.Dataset) -> list:
    """A panel per lambda > 0 (or the --kernel-reg penalty): J(a) = F(a) + P(a) per method."""
    steps, depth = len(d.x_train) // cfg.batch_size, len(cfg.sizes) - 1
    reach = 1.25 * max(2.0, max(abs(r["slope"]) for r in rows))
    panels = {}
    for r in rows:
        if r["method"] == "none" and len(rows) > 1:
            continue
        pen = r["_pen"]
        title = f"lambda = {r['lam']:g}" if r["lam"] is not None else r["penalty"]
        a, j = optimum.profile(d.x_train, d.y_train, depth, pen.l1 * steps, pen.l2 * steps, reach)
        p = panels.setdefault(title, {"title": title, "a": a, "curves": {}, "best": {}})
        p["curves"][r["method"]] = j
        p["best"][r["method"]] = (r["slope"], r["objective"])
    return list(panels.values())


def main(cfg: OptimumConfig) -> Result:
    started = time.time()
    d = data_mod.load(cfg.data)
    check_fits(len(d.x_train), cfg.batch_size, cfg.data, 1, cfg.sizes, 1, 0)
    with staged(cfg.out, owns=("optimum",), force=cfg.force) as stage:
        say = show(cfg, tensorflow=cfg.checkpoints)  # TensorFlow writes the checkpoints
        with say.phase("the exact optima, table, figure"):
            rows = solve_all(cfg, d)
            folder = stage / "optimum"
            folder.mkdir()
            report = to_markdown(cfg, rows, d)
            (folder / "optimum.json").write_text(to_json(rows), encoding="utf-8")
            (folder / "optimum.md").write_text(report, encoding="utf-8")
            note = f"Data {cfg.data}; the penalty counts {len(d.x_train) // cfg.batch_size} times."
            plots.objective_figure(figure_panels(cfg, rows, d), note, folder / "optimum.png")
        if cfg.checkpoints:
            with say.phase(f"{len(rows)} checkpoints of weights that attain the optima"):
                save_checkpoints(folder, cfg, rows, d)
        record.write(folder / "config.json", cfg, data_sha256=d.sha256)
        wrote, files = listing(stage / "optimum", Path(cfg.out) / "optimum")
    record.log_run(cfg.out, started)
    table = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    done = f"done in {time.time() - started:.1f} s; {wrote}"
    return Result(report, done, Path(cfg.out) / "optimum", files, table)


def save_checkpoints(
    folder: Path, cfg: OptimumConfig, rows: list[dict[str, Any]], d: data_mod.Dataset
) -> None:
    """checkpoints/<name>/ of every optimum: the balanced single path that attains it, with a
    record saying what it is (kind "optimum") and its test error."""
    data = records.data_record(cfg.data, d.sha256)
    entries = []
    for r in rows:
        pen = regularizers.Targets(kernel=r["_pen"])
        about = {
            "name": name(r["method"], np.nan if r["lam"] is None else r["lam"]),
            "kind": "optimum",
            "method": r["method"],
            "lam": r["lam"],
            "penalty": {t: records.penalty_spec(getattr(pen, t)) for t in records.TARGETS},
            "batch_size": cfg.batch_size,
            "data": data,
            "test_error": r["test_error"],
            "objective": r["objective"],
        }
        params = optimum.weights(r["_optimum"], cfg.sizes)
        entries.append(checkpoints.Entry(folder / r["checkpoint"], params, about))
    checkpoints.save_all(entries)
