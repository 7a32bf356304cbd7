"""Figures and GIFs of the default run, old renderer vs new, side by side in one run; optionally
the recording overhead of training.

    python bench/bench_gifs.py                      # outputs/recording.npz, best of 3
    python bench/bench_gifs.py --recording OUT/recording.npz --repeat 5
    python bench/bench_gifs.py --training           # also: training with vs without recording

The old renderer (matplotlib redrawn for every frame, then quantized to 256 colours) is read
from git at OLD_REV, so it stays comparable without living on in the package.
"""

import argparse
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from l1l2 import blog  # noqa: E402
from l1l2.core import data, engine, model, regularizers, train  # noqa: E402
from l1l2.output import gifs, plots, recording  # noqa: E402

OLD_REV = "f03449d"  # the last commit with the per-frame matplotlib GIFs
FIGURES = ("fit", "sparsity", "weights_hist", "errors")


def old_modules():
    """(plots, gifs) as they were at OLD_REV, or None where git cannot show them."""
    mods = []
    for name in ("plots", "gifs"):
        res = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{OLD_REV}:l1l2/{name}.py"],
            capture_output=True,
            text=True,
        )
        if res.returncode:
            return None
        mod = types.ModuleType(f"old_{name}")
        exec(compile(res.stdout, f"{OLD_REV}:l1l2/{name}.py", "exec"), mod.__dict__)
        mods.append(mod)
    return tuple(mods)


def steps(plots_mod, gifs_mod, rec, d, out):
    """The default run's figures and GIFs as (name, callable), in the order reproduce draws them."""
    grid = np.linspace(0, 10, 101)
    line = np.polyval(np.polyfit(d.x_train, d.y_train, 1), grid)  # the cost ignores the values
    preds = {f"{m} (seed 0)": line + i for i, m in enumerate(plots._methods(rec))}
    figs = out / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    return [
        ("fit", lambda: plots_mod.fit_figure(d, grid, preds, figs / "fit.png", "Fits")),
        ("sparsity", lambda: plots_mod.sparsity_figure(rec, figs / "sparsity.png")),
        ("weights_hist", lambda: plots_mod.weights_hist_figure(rec, figs / "weights_hist.png")),
        ("errors", lambda: plots_mod.errors_figure(rec, figs / "errors.png", blog.L1_TEST_ERRORS)),
        ("4 GIFs", lambda: gifs_mod.write_all(out / "gifs", rec, 5.0)),
    ]


def timed(repeat, fn):
    """Best wall time and the CPU time of that run, over `repeat` runs."""
    best = (np.inf, np.inf)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def measure(plots_mod, gifs_mod, rec, d, out, repeat):
    steps(plots_mod, gifs_mod, rec, d, out)[0][1]()  # warm up: matplotlib's font cache
    return {name: timed(repeat, fn) for name, fn in steps(plots_mod, gifs_mod, rec, d, out)}


def report(new, old, new_out, old_out):
    print(
        f"{'figures + GIFs of the default run':34s} {'new s (cpu)':>14s} {'old s (cpu)':>14s}"
        f" {'speed-up':>9s}"
    )
    rows = [*new, "total"]
    tot = lambda t: tuple(map(sum, zip(*t.values())))  # noqa: E731
    for name in rows:
        n = tot(new) if name == "total" else new[name]
        o = (tot(old) if name == "total" else old[name]) if old else None
        cell = lambda t: f"{t[0]:6.2f} ({t[1]:5.2f})"  # noqa: E731
        print(
            f"{name:34s} {cell(n):>14s} {cell(o) if o else '-':>14s}"
            + (f" {o[0] / n[0]:8.1f}x" if o else "")
        )
    print("\nGIF sizes (MB), 101 frames, 5 s:")
    for gif in sorted((new_out / "gifs").glob("*.gif")):
        was = old_out / "gifs" / gif.name if old_out else None
        print(
            f"  {gif.name:24s} new {gif.stat().st_size / 1e6:5.2f}"
            + (f"   old {was.stat().st_size / 1e6:5.2f}" if was and was.exists() else "")
        )


def training_overhead():
    d = data.load(ROOT / "data" / "line.csv")
    runs = [(m, s) for m in ("none", "l1", "l2") for s in range(5)]
    p0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), s) for _, s in runs])
    pen = regularizers.stack([regularizers.for_method(m, 0.3) for m, _ in runs])
    kw = dict(lr=0.01, epochs=100)  # no progress: all 4000 steps in one session call either way
    plain = timed(3, lambda: engine.train_graph(d.x_train, d.y_train, p0, pen, **kw))[0]
    rec = timed(
        3,
        lambda: engine.train_graph(
            d.x_train,
            d.y_train,
            p0,
            pen,
            record=True,
            eval_steps=train.evaluation_steps(4000, 40),
            **kw,
        ),
    )[0]
    print(
        f"\ntraining 15 models x 4000 steps: {plain:.2f} s without recording, {rec:.2f} s with "
        f"(one frame per epoch) -> overhead {100 * (rec / plain - 1):+.1f}%  (target < 20%)"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recording", type=Path, default=ROOT / "outputs" / recording.FILE)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (new path)")
    ap.add_argument("--no-old", action="store_true", help="skip the old renderer (~12 s)")
    ap.add_argument("--training", action="store_true", help="also time recording in training")
    args = ap.parse_args()
    rec = recording.load(args.recording)
    d = data.load(ROOT / "data" / "line.csv")
    old = None if args.no_old else old_modules()
    with tempfile.TemporaryDirectory() as tmp:
        new_out, old_out = Path(tmp) / "new", Path(tmp) / "old"
        new = measure(plots, gifs, rec, d, new_out, args.repeat)
        was = measure(*old, rec, d, old_out, 1) if old else None
        if old is None and not args.no_old:
            print(f"(old renderer not shown: git cannot show {OLD_REV})")
        report(new, was, new_out, old_out if was else None)
    if args.training:
        training_overhead()


if __name__ == "__main__":
    main()
