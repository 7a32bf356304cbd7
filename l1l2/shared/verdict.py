"""The L1-vs-L2 verdict of a sweep, cell by cell, decided by rules fixed before the run.

A cell is one setting of the fixed factors: lambda, learning rate, epochs, schedule, sample
order. In it, L1 and L2 are paired by (data draw, seed): the same data, initial weights and
order. The evaluation is the tail mean (the test error averaged over the last epoch's
iterates), the test the two-stage t test of core/stats.py (its interval covers seeds and draws),
and for every cell:
- "equivalent" if the two one-sided tests put the mean L2 - L1 inside +-margin (a fraction of
  the cell's mean error): whatever the sign, the difference is too small to matter;
- else "l1" or "l2" (the better one) if the mean difference is not 0;
- else "inconclusive".
Both families of p values are adjusted by Holm's method over all cells, at level alpha. No
verdict comes from a cell with too few finite pairs (stats.difference returns None).
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import SweepConfig
from ..core import stats

EVALUATION = "test_error_tail_mean"
CONVERGED = 1.01  # SGD converged: both methods' mean objective within 1% of the optimum's
CELL = ("lam", "lr", "epochs", "schedule", "order")  # the fixed factors of a cell
SHORT = {"l1": "L1 better", "l2": "L2 better", "equivalent": "equivalent", None: "inconclusive"}


def pairs(rows: list[dict[str, Any]]) -> dict[tuple, dict[Any, list[float]]]:
    """{cell: {draw: [L2 - L1 per seed]}} over the seeds where both converged."""
    errors = defaultdict(dict)
    for r in rows:
        if r["method"] in ("l1", "l2") and r["lam"] > 0 and not r["diverged"]:
            errors[tuple(r[k] for k in CELL), r["draw"], r["seed"]][r["method"]] = r[EVALUATION]
    out = defaultdict(lambda: defaultdict(list))
    for (cell, draw, _), e in sorted(errors.items(), key=lambda kv: str(kv[0])):
        if len(e) == 2 and np.isfinite(e["l1"]) and np.isfinite(e["l2"]):
            out[cell][draw].append(e["l2"] - e["l1"])
    return out


def cell_means(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, float]]:
    """{cell: {"error": mean error of L1 and L2 (the scale of the margin), "ratio": the larger
    of L1's and L2's mean objective over their optimum's, "optimum_diff": L2 - L1 of the exact
    optima's test errors}}, over the models that did not diverge."""
    groups = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["method"] in ("l1", "l2") and not r["diverged"] and np.isfinite(r[EVALUATION]):
            groups[tuple(r[k] for k in CELL)][r["method"]].append(r)
    out = {}
    for cell, by in groups.items():
        mean = lambda m, k, by=by: float(np.mean([r[k] for r in by[m]])) if by[m] else np.nan
        out[cell] = {
            "error": float(np.mean([r[EVALUATION] for m in by for r in by[m]])),
            "ratio": max(mean(m, "objective") / mean(m, "optimum_objective") for m in by),
            "optimum_diff": mean("l2", "optimum_test_error") - mean("l1", "optimum_test_error"),
        }
    return out


def cells(cfg: SweepConfig) -> list[tuple]:
    """Every cell with lambda > 0, in the order of the flags."""
    return [
        (lam, lr, epochs, schedule, order)
        for lam in cfg.lams
        if lam > 0
        for lr in cfg.lrs
        for epochs in cfg.epochs
        for schedule in cfg.lr_schedule
        for order in cfg.orders
    ]


def verdicts(cfg: SweepConfig, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per cell: the difference, its interval, both tests (raw and Holm-adjusted) and
    the verdict; [] without both l1 and l2 in the sweep."""
    if not {"l1", "l2"} <= set(cfg.methods):
        return []
    paired, means = pairs(rows), cell_means(rows)
    entries = []
    for cell in cells(cfg):
        d = stats.difference(list(paired[cell].values())) if cell in paired else None
        m = means.get(cell, {"error": np.nan, "ratio": np.nan, "optimum_diff": np.nan})
        entries.append(
            {
                **dict(zip(CELL, cell)),
                **_tests(d, cfg.margin * m["error"]),
                "objective_ratio": m["ratio"],
                "converged": bool(m["ratio"] <= CONVERGED),
                "optimum_diff": m["optimum_diff"],
            }
        )
    for key in ("p_difference", "p_equivalence"):
        for e, p in zip(entries, stats.holm([e[key] for e in entries])):
            e[key + "_holm"] = None if np.isnan(p) else float(p)
    for e in entries:
        e["verdict"] = _verdict(e, cfg.alpha)
    return entries


def _tests(d: stats.Difference | None, margin: float) -> dict[str, Any]:
    if d is None:
        return {"n_draws": 0, "n_pairs": 0, "covers": None, "mean_diff": None, "ci_low": None,
                "ci_high": None, "margin": None, "p_difference": np.nan,
                "p_equivalence": np.nan}  # fmt: skip
    lo, hi = d.interval(0.95)
    return {
        "n_draws": d.n_draws,
        "n_pairs": d.n_pairs,
        "covers": d.covers,
        "mean_diff": float(d.mean),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "margin": float(margin),
        "p_difference": d.p_difference(),
        "p_equivalence": d.p_equivalence(margin),
    }


def _verdict(e: dict[str, Any], alpha: float) -> str | None:
    """The rule of the module docstring, on the Holm-adjusted p values."""
    if e["mean_diff"] is None:
        return None
    if e["p_equivalence_holm"] < alpha:
        return "equivalent"
    if e["p_difference_holm"] < alpha:
        return "l1" if e["mean_diff"] > 0 else "l2"
    return None


def to_json(entries: list[dict[str, Any]]) -> str:
    """paired.json: the entries, NaN written as null."""
    clean = [{k: None if _is_nan(v) else v for k, v in e.items()} for e in entries]
    return json.dumps(clean, indent=1) + "\n"


def _is_nan(v: object) -> bool:
    return isinstance(v, float) and np.isnan(v)


def design(cfg: SweepConfig, covers: str) -> list[str]:
    """What varies, what is held fixed, and the rules, stated as they were fixed before the run."""
    draws = (
        f"{len(cfg.data_seeds)} draws of the data (generator seeds "
        f"{', '.join(map(str, cfg.data_seeds))})"
        if cfg.data_seeds
        else f"one data set (`{cfg.data}`): the intervals cover seeds only"
    )
    return [
        f"**Design.** Random: {cfg.seeds} seeds (initial weights and shuffled order) and "
        f"{draws}. Fixed, one cell per combination: lambda, lr "
        f"({', '.join(f'{v:g}' for v in cfg.lrs)}), epochs ({', '.join(map(str, cfg.epochs))}), "
        f"schedule ({', '.join(cfg.lr_schedule)}), sample order ({', '.join(cfg.orders)}). "
        f"Batch size {cfg.batch_size}, sizes {'-'.join(map(str, cfg.sizes))}.",
        "",
        "**Rules, fixed before the run.** Evaluation: the tail mean (test error averaged over "
        f"the iterates of the last {cfg.tail_epochs} epoch(s)). Test: the two-stage paired t "
        f"test (per-draw means of L2 - L1; the interval covers {covers}). Equivalence: two "
        f"one-sided t tests against a margin of {cfg.margin:.0%} of the cell's mean error. Holm's "
        f"correction over all cells at family-wise level {cfg.alpha:g}. Verdict: equivalent if "
        "the equivalence test rejects; else the better method if the difference test rejects; "
        "else inconclusive.",
    ]


def to_markdown(cfg: SweepConfig, entries: list[dict[str, Any]]) -> list[str]:
    """The verdict table (a row per cell) and a sentence per lambda."""
    if not entries:
        return ["## Paired comparison", "", "Needs both l1 and l2 in --methods and a lambda > 0."]
    covers = next((e["covers"] for e in entries if e["covers"]), "seeds")
    lines = [
        f"## Does L2 beat L1? {len(entries)} cells, Holm-corrected",
        "",
        *design(cfg, covers),
        "",
        "| lambda | order | schedule | lr | epochs | draws, pairs | L2 - L1 [95% CI] | margin | "
        "p (Holm): difference | p (Holm): equivalence | verdict | objective / optimum | "
        "L2 - L1 of the optima |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| {e['lam']:g} | {e['order']} | {e['schedule']} | {e['lr']:g} | {e['epochs']} | "
            f"{_cell_text(e)} | {SHORT[e['verdict']]} | {e['objective_ratio']:.3f} | "
            f"{e['optimum_diff']:+.2f} |"
        )
    return lines + ["", "**In plain words.**", ""] + [f"- {s}" for s in plain_words(entries)]


def _cell_text(e: dict[str, Any]) -> str:
    if e["mean_diff"] is None:
        return f"{e['n_draws']}, {e['n_pairs']} | - (too few finite pairs) | - | - | -"
    return (
        f"{e['n_draws']}, {e['n_pairs']} | {e['mean_diff']:+.3f} [{e['ci_low']:+.3f}, "
        f"{e['ci_high']:+.3f}] | ±{e['margin']:.3f} | {e['p_difference_holm']:.2g} | "
        f"{e['p_equivalence_holm']:.2g}"
    )


def plain_words(entries: Sequence[dict[str, Any]]) -> list[str]:
    """Per lambda: what the exact optima say, then the verdicts where SGD converged (about the
    regularizers) apart from those where it did not (about SGD's iterates)."""
    out = []
    for lam in dict.fromkeys(e["lam"] for e in entries):
        mine = [e for e in entries if e["lam"] == lam]
        gaps = [e["optimum_diff"] for e in mine if np.isfinite(e["optimum_diff"])]
        text = f"lambda = {lam:g}:" + (
            f" the exact optima differ by {np.mean(gaps):+.2f} in test error (L2 - L1, mean "
            "over draws)."
            if gaps
            else ""
        )
        for converged, words in ((True, "SGD converged"), (False, "SGD did not converge")):
            es = [e for e in mine if e["converged"] == converged]
            if es:
                text += f" {words} in {len(es)} of {len(mine)} cells: {_counts(es)}."
        out.append(text)
    return out


def _counts(es: Sequence[dict[str, Any]]) -> str:
    """'equivalent in 3 (schedule linear); inconclusive in 1 (...)': verdicts, most first."""
    by = defaultdict(list)
    for e in es:
        by[e["verdict"]].append(e)
    return "; ".join(
        f"{SHORT[v]} in {len(group)} ({_settings(group)})"
        for v, group in sorted(by.items(), key=lambda kv: -len(kv[1]))
    )


def _settings(es: Sequence[dict[str, Any]]) -> str:
    """What the cells share: 'every setting', or the factor levels common to all of them."""
    common = [
        f"{k} {es[0][k]}"
        for k in ("schedule", "order", "lr", "epochs")
        if len({e[k] for e in es}) == 1
    ]
    return ", ".join(common) if common else "mixed settings"
