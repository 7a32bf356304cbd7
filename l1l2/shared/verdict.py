"""The L1-vs-L2 verdict of a sweep: paired differences under each sample order and evaluation.

For every lambda, seed s trains L1 and L2 from the same weights (and, shuffled, the same order),
so the L2 - L1 test errors form pairs. A verdict is drawn only from at least two finite pairs:
"l1" (L1 better: the 95% interval of L2 - L1 lies above 0), "l2" (below 0) or "none".
"""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import SweepConfig
from ..core import stats
from ..output.plots import plt

EVALUATIONS = {"tail_mean": "test_error_tail_mean", "final": "test_error_final"}
WORDS = {
    "l1": "L1 does better than L2",
    "l2": "L2 does better than L1",
    "none": "neither does better: the interval contains 0",
    None: "no verdict",
}
SHORT = {"l1": "L1 better", "l2": "L2 better", "none": "no difference shown", None: "no verdict"}
DESIGN = {"shuffle": "with the samples shuffled per seed", "file": "in the file's order"}


def headline_lam(lams: Sequence[float]) -> float:
    """The lambda the plain-words answer is about: the blog's 0.3, else the nearest positive."""
    positive = [lam for lam in lams if lam > 0]
    return 0.3 if 0.3 in lams else min(positive or lams, key=lambda lam: abs(lam - 0.3))


def paired_entries(cfg: SweepConfig, rows: list[dict[str, Any]], orders: list[str]) -> list[dict]:
    """One entry per lambda > 0, order and evaluation (if the sweep has both l1 and l2)."""
    if not {"l1", "l2"} <= set(cfg.methods):
        return []
    head = headline_lam(cfg.lams)
    entries = []
    for lam in cfg.lams:
        if lam == 0:
            continue  # one model for every method
        for order in orders:
            for evaluation, column in EVALUATIONS.items():
                pairs = _pairs(rows, lam, order, column)
                entries.append(
                    {
                        "lam": lam,
                        "order": order,
                        "evaluation": evaluation,
                        **_compare(pairs),
                        "headline": (lam, order, evaluation) == (head, cfg.order, "tail_mean"),
                    }
                )
    return entries


def _pairs(rows, lam, order, column) -> np.ndarray:
    """[n, 2] finite (L1, L2) test errors of the seeds where both converged."""
    cell = {
        m: {
            r["seed"]: r[column]
            for r in rows
            if (r["method"], r["lam"], r["order"]) == (m, lam, order)
            and not r["diverged"]
            and np.isfinite(r[column])
        }
        for m in ("l1", "l2")
    }
    seeds = sorted(set(cell["l1"]) & set(cell["l2"]))
    return np.array([[cell["l1"][s], cell["l2"][s]] for s in seeds]).reshape(-1, 2)


def _compare(pairs) -> dict:
    """n, L2 - L1 mean and 95% CI, the tests, and the verdict; numbers None below 2 pairs."""
    if len(pairs) < 2:
        return {
            "n": len(pairs),
            "mean_diff": None,
            "ci_low": None,
            "ci_high": None,
            "verdict": None,
            "t_p": None,
            "wilcoxon_p": None,
            "l2_lower": None,
            "l1_mean": None,
        }
    p = stats.paired(pairs[:, 0], pairs[:, 1])
    lo, hi = (float(c) for c in p["ci"])
    verdict = "l1" if lo > 0 else "l2" if hi < 0 else "none"
    return {
        "n": p["n"],
        "mean_diff": float(p["mean_diff"]),
        "ci_low": lo,
        "ci_high": hi,
        "verdict": verdict,
        "t_p": p["t_p"],
        "wilcoxon_p": p["wilcoxon_p"],
        "l2_lower": p["b_better"],
        "l1_mean": float(pairs[:, 0].mean()),
    }


def to_json(entries: list[dict[str, Any]]) -> str:
    keys = (
        "lam",
        "order",
        "evaluation",
        "n",
        "mean_diff",
        "ci_low",
        "ci_high",
        "verdict",
        "headline",
    )
    return json.dumps([{k: e[k] for k in keys} for e in entries], indent=2) + "\n"


def design_note(cfg: SweepConfig, orders: list[str]) -> list[str]:
    """What the intervals cover and what they do not."""
    varied = "the initial weights" + (
        " and the order of the samples in every epoch (shuffle)" if "shuffle" in orders else ""
    )
    return [
        f"**What varies and what does not.** Across seeds: {varied}. Held fixed: the data "
        f"set (one draw, `{cfg.data}`), {cfg.epochs} epochs, lr {cfg.lr:g}, batch size "
        f"{cfg.batch_size}. The intervals cover only what varies. In the file's order every "
        "seed visits the samples in the same order and stops after the same last sample, "
        "so a verdict under it is about that one order: it can change when the rows of the "
        "file are listed differently. Shuffled orders are drawn over the samples sorted by "
        "value, so they do not depend on how the file lists them."
    ]


def to_markdown(cfg: SweepConfig, entries: list[dict[str, Any]]) -> list[str]:
    if not entries:
        return ["## Paired comparison", "", "Needs both l1 and l2 in --methods and a lambda > 0."]
    lines = [
        "## Does L2 beat L1? Paired L2 - L1 test error",
        "",
        "Same initial weights (and, shuffled, the same order) for both methods of a seed; "
        "L2 - L1 > 0 means L1 did better.",
        "",
        "| lambda | sample order | evaluation | n | L2 - L1 [95% CI] | paired t p | "
        "Wilcoxon p | L2 lower in | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        diff = (
            "-"
            if e["verdict"] is None
            else f"{e['mean_diff']:+.2f} [{e['ci_low']:+.2f}, {e['ci_high']:+.2f}]"
        )
        tests = (
            "- | - | -"
            if e["verdict"] is None
            else f"{e['t_p']:.2g} | {e['wilcoxon_p']:.2g} | {e['l2_lower']} of {e['n']}"
        )
        mark = " **(headline)**" if e["headline"] else ""
        lines.append(
            f"| {e['lam']:g} | {e['order']} | {e['evaluation'].replace('_', ' ')} | "
            f"{e['n']} | {diff} | {tests} | {SHORT[e['verdict']]}{mark} |"
        )
    lines += ["", "**In plain words.**", ""]
    lines += [f"- {sentence}" for sentence in plain_words(cfg, entries)]
    return lines


def plain_words(cfg: SweepConfig, entries: list[dict[str, Any]]) -> list[str]:
    """A sentence per lambda: the robust design's verdict and whether the others agree."""
    out = []
    for lam in dict.fromkeys(e["lam"] for e in entries):
        cells = [e for e in entries if e["lam"] == lam]
        head = next(e for e in cells if e["order"] == cfg.order and e["evaluation"] == "tail_mean")
        out.append(_sentence(lam, head, cells))
    head = next((e for e in entries if e["headline"]), None)
    if head is not None and head["verdict"] is not None:
        claim = {"l2": "holds", "l1": "is reversed", "none": "is not supported"}[head["verdict"]]
        out.append(
            f"The blog's claim that L2 does better than L1 {claim} at lambda = "
            f"{head['lam']:g} on this data set ({DESIGN[head['order']]}, tail mean)."
        )
    return out


def _sentence(lam, head, cells) -> str:
    if head["verdict"] is None:
        return f"lambda = {lam:g}: only {head['n']} seed(s) converged for both methods: no verdict."
    share = abs(head["mean_diff"]) / head["l1_mean"] if head["l1_mean"] else np.nan
    text = (
        f"lambda = {lam:g}, {DESIGN[head['order']]}, tail mean: {WORDS[head['verdict']]} "
        f"(L2 - L1 = {head['mean_diff']:+.2f}, {share:.1%} of L1's mean error of "
        f"{head['l1_mean']:.2f}; 95% CI [{head['ci_low']:+.2f}, {head['ci_high']:+.2f}], "
        f"{head['n']} seeds)."
    )
    others = [e for e in cells if e is not head]
    differ = [e for e in others if e["verdict"] != head["verdict"]]
    if not others:
        return text
    if not differ:
        return text + " Every other order and evaluation here says the same: robust."
    return (
        text
        + " The other designs say otherwise, so their verdicts depend on the design: "
        + "; ".join(
            f"{e['order']} order, {e['evaluation'].replace('_', ' ')}: {SHORT[e['verdict']]}"
            + ("" if e["verdict"] is None else f" ({e['mean_diff']:+.2f})")
            for e in differ
        )
        + "."
    )


def epoch_figure(cfg: SweepConfig, models: list, curves: np.ndarray, path: str | Path) -> None:
    """L2 - L1 at every epoch end (mean over seeds, 95% CI band), per order, headline lambda:
    does the verdict depend on when training stops?"""
    lam = headline_lam(cfg.lams)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    epochs = np.arange(curves.shape[0])
    for order, color in zip(dict.fromkeys(m.order for m in models), ("tab:green", "tab:orange")):
        col = {
            (m.method, m.seed): i for i, m in enumerate(models) if m.order == order and m.lam == lam
        }
        seeds = sorted({s for (_, s) in col if ("l1", s) in col and ("l2", s) in col})
        if len(seeds) < 2:
            continue
        diff = curves[:, [col["l2", s] for s in seeds]] - curves[:, [col["l1", s] for s in seeds]]
        ok = np.isfinite(diff).all(0)
        if ok.sum() < 2:
            continue
        ci = np.array([stats.mean_ci(d) for d in diff[:, ok]])
        ax.plot(epochs, ci[:, 0], c=color, label=f"order {order} ({ok.sum()} seeds)")
        ax.fill_between(epochs, ci[:, 1], ci[:, 2], color=color, alpha=0.2, lw=0)
    ax.axhline(0, c="k", lw=0.8)
    ax.set(
        xlabel="epoch (error measured after its last SGD step)",
        ylabel="L2 - L1 test error (> 0: L1 better)",
        title=f"Paired difference at every epoch end, lambda = {lam:g} "
        "(mean over seeds, 95% CI band)",
    )
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
