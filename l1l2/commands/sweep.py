"""Many seeds x lambdas x methods at once: does "L2 did better than L1" survive more than five runs?"""
import csv
import time
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..core import model, regularizers, stats, train
from ..core import pruning as prune
from ..core.engine import train_graph
from ..output import record
from ..output.folder import staged
from ..output.plots import METHOD_COLORS, plt
from .common import prepare

FIELDS = ["method", "lam", "seed", "test_error", "train_cost", "dead_fraction", "pruned_sizes"]


def plan(cfg):
    """Every (method, lam, seed); seed s gives the same initial weights to every method and lambda."""
    return [(m, lam, cfg.seed + s) for m in cfg.methods for lam in cfg.lams for s in range(cfg.seeds)]


def run_chunk(cfg, d, chunk, bar):
    """Train one chunk of models together; yield one CSV row per model."""
    params0 = model.stack([model.glorot_init(cfg.sizes, s) for _, _, s in chunk])
    pen = regularizers.stack([regularizers.for_method(m, lam) for m, lam, _ in chunk])
    out = train_graph(d.x_train, d.y_train, params0, pen, lr=cfg.lr, epochs=cfg.epochs,
                            batch_size=cfg.batch_size, progress=bar.update)
    _, test, _ = train.evaluate(out.params, d.x_test, d.y_test, pen)
    _, loss, reg = train.evaluate(out.params, d.x_train, d.y_train, pen)
    n_hidden = sum(cfg.sizes[1:-1])
    for i, (m, lam, seed) in enumerate(chunk):
        dead = prune.find_dead(model.unstack(out.params, i), cfg.zero_tol)
        sizes = [n - len(x) for n, x in zip(cfg.sizes[1:-1], dead)]
        yield {"method": m, "lam": lam, "seed": seed, "test_error": test[i], "train_cost": loss[i] + reg[i],
               "dead_fraction": sum(map(len, dead)) / n_hidden,
               "pruned_sizes": "constant" if 0 in sizes else "-".join(map(str, (1, *sizes, 1)))}


def main(cfg) -> None:
    started = time.time()
    models = plan(cfg)
    chunk = min(cfg.chunk, len(models))
    d = prepare(cfg, chunk, cfg.sizes, 1, cfg.batch_size)
    steps = cfg.epochs * len(d.x_train) // cfg.batch_size
    rows = []
    with staged(cfg.out) as stage, tqdm(total=steps * len(models), unit="model-step", unit_scale=True,
                                        disable=not cfg.progress, leave=False) as bar:
        (stage / "sweep").mkdir()
        with open(stage / "sweep" / "sweep.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
            w.writeheader()
            for start in range(0, len(models), chunk):
                for row in run_chunk(cfg, d, models[start:start + chunk], bar):
                    w.writerow({k: f"{v:.6f}" if isinstance(v, (float, np.floating)) else v
                                for k, v in row.items()})
                    rows.append({k: row[k] for k in ("method", "lam", "seed", "test_error",
                                                     "dead_fraction", "pruned_sizes")})
        report = to_markdown(cfg, rows)
        (stage / "sweep" / "sweep.md").write_text(report)
        figure(cfg, rows, stage / "sweep" / "sweep.png")
        record.write(stage / "sweep" / "config.json", cfg, started)
    print(report)
    print(f"done: {len(models)} models in {time.time() - started:.1f} s -> {Path(cfg.out) / 'sweep'}")


def _select(rows, method, lam):
    return [r for r in rows if r["method"] == method and r["lam"] == lam]


def _errors(rows):
    e = np.array([r["test_error"] for r in rows], float)
    return e[np.isfinite(e)]


def to_markdown(cfg, rows):
    lines = [f"# Sweep: {cfg.seeds} seeds per cell, {cfg.epochs} epochs, lr {cfg.lr}", "",
             "Test error = total absolute error on the test samples. CI: 95% t-interval of the mean. "
             f"Dead: hidden units with all incoming or all outgoing |w| < {cfg.zero_tol:g}.", "",
             "| method | lambda | n | mean test error [95% CI] | median | dead units | pruned sizes (most common) |",
             "|---|---|---|---|---|---|---|"]
    for m in cfg.methods:
        for lam in cfg.lams:
            sel = _select(rows, m, lam)
            e = _errors(sel)
            mean, lo, hi = stats.mean_ci(e) if len(e) > 1 else (np.nan,) * 3
            common = pruned_sizes_text(Counter(r["pruned_sizes"] for r in sel))
            lines.append(f"| {m} | {lam:g} | {len(e)}{'' if len(e) == len(sel) else f' ({len(sel) - len(e)} diverged)'} "
                         f"| {mean:.2f} [{lo:.2f}, {hi:.2f}] | {np.median(e):.2f} | "
                         f"{np.mean([r['dead_fraction'] for r in sel]):.0%} | {common} |")
    return "\n".join(lines + ["", *paired_section(cfg, rows), ""])


def pruned_sizes_text(counts, shown=3):
    """'1-1-1-1-1 ×174, 1-1-1-2-1 ×18, 1-2-1-1-1 ×5, 3 other sizes ×3': the distribution, most common first."""
    top = counts.most_common(shown)
    rest = counts.most_common()[shown:]
    return ", ".join(f"{s} ×{c}" for s, c in top) + (
        f", {len(rest)} other size{'s' * (len(rest) > 1)} ×{sum(c for _, c in rest)}" if rest else "")


def paired_section(cfg, rows, lam=0.3):
    if not {"l1", "l2"} <= set(cfg.methods) or lam not in cfg.lams:
        return []
    l1 = {r["seed"]: r["test_error"] for r in _select(rows, "l1", lam)}
    l2 = {r["seed"]: r["test_error"] for r in _select(rows, "l2", lam)}
    seeds = [s for s in l1 if np.isfinite(l1[s]) and np.isfinite(l2.get(s, np.nan))]
    p = stats.paired([l1[s] for s in seeds], [l2[s] for s in seeds])
    lo, hi = p["ci"]
    if hi < 0:
        verdict = "L2 is better than L1: the blog's conclusion holds on our data."
    elif lo > 0:
        verdict = "L1 is better than L2: the blog's conclusion does not hold on our data."
    else:
        verdict = "the interval contains 0: on our data neither method is shown better than the other."
    return [f"## Paired comparison at lambda = {lam:g} (same initial weights per seed)", "",
            f"Test error of L2 minus L1 over {p['n']} seeds: mean {p['mean_diff']:+.2f} "
            f"(95% CI [{lo:+.2f}, {hi:+.2f}]); paired t-test p = {p['t_p']:.3g}, Wilcoxon p = "
            f"{p['wilcoxon_p']:.3g}; L2 lower in {p['b_better']} of {p['n']} seeds.", "",
            f"In plain words: {verdict}"]


def figure(cfg, rows, path):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    x = np.array(cfg.lams, float)
    for m in cfg.methods:
        cis = [stats.mean_ci(e) if len(e := _errors(_select(rows, m, lam))) > 1 else (np.nan,) * 3
               for lam in cfg.lams]
        mean, lo, hi = np.array(cis).T
        a.plot(x, mean, "o-", c=METHOD_COLORS.get(m), label=m)
        a.fill_between(x, lo, hi, color=METHOD_COLORS.get(m), alpha=0.2)
        b.plot(x, [np.mean([r["dead_fraction"] for r in _select(rows, m, lam)]) for lam in cfg.lams],
               "o-", c=METHOD_COLORS.get(m), label=m)
    for ax in (a, b):
        ax.set_xscale("symlog", linthresh=min([v for v in x if v > 0], default=1e-3))
        ax.set_xlabel("lambda (symlog axis: 0 included)")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    a.set(ylabel="test error (mean, 95% CI band)", title=f"Test error vs lambda, {cfg.seeds} seeds")
    b.set(ylabel="fraction of dead hidden units", title="Units disconnected", ylim=(-0.02, 1.02))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
