"""Figures and GIFs of the default run, the renderers side by side in one run; optionally the
recording overhead of training.

    python bench/bench_gifs.py                      # outputs/recording.npz, best of 3
    python bench/bench_gifs.py --recording OUT/recording.npz --repeat 5
    python bench/bench_gifs.py --training           # also: training with vs without recording

new: the package's (matplotlib draws what never changes once, Pillow encodes the GIFs). The
earlier renderers are read from git, so they stay comparable without living on in the package:
old (OLD_REV: matplotlib redrawn for every frame, then quantized to 256 colours) and pillow
(PILLOW_REV: everything drawn with Pillow and a hand-written GIF writer).
"""

import argparse
import importlib
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
from l1l2.core import data, model, regularizers  # noqa: E402
from l1l2.core.sgd import SGD  # noqa: E402
from l1l2.core.train import train  # noqa: E402
from l1l2.output import gifs, plots, recording  # noqa: E402

OLD_REV = "f03449d"  # the last commit with the per-frame matplotlib GIFs
PILLOW_REV = "486319b"  # the last commit with the Pillow-drawn GIFs and hand-written GIF writer
PILLOW_MODULES = ("plots", "gifs", "frames", "gif_timing", "palette", "text", "sheet")
FIGURES = ("fit", "sparsity", "weights_hist", "errors")


def git_show(spec):
    """The text of REV:PATH from git, or None where git cannot show it."""
    res = subprocess.run(["git", "-C", str(ROOT), "show", spec], capture_output=True, text=True)
    return None if res.returncode else res.stdout


def old_modules():
    """(plots, gifs) as they were at OLD_REV, or None where git cannot show them."""
    mods = []
    for name in ("plots", "gifs"):
        source = git_show(f"{OLD_REV}:l1l2/{name}.py")
        if source is None:
            return None
        mod = types.ModuleType(f"old_{name}")
        exec(compile(source, f"{OLD_REV}:l1l2/{name}.py", "exec"), mod.__dict__)
        mods.append(mod)
    return tuple(mods)


def pillow_modules(tmp):
    """(plots, gifs) of l1l2/output as they were at PILLOW_REV, or None where git cannot show
    them: the modules written to tmp and imported as the package l1l2.pillow_rev (a sibling of
    l1l2.output, so their imports of each other and of ..core resolve)."""
    for name in PILLOW_MODULES:
        source = git_show(f"{PILLOW_REV}:l1l2/output/{name}.py")
        if source is None:
            return None
        (Path(tmp) / f"{name}.py").write_text(source)
    package = types.ModuleType("l1l2.pillow_rev")
    package.__path__ = [str(tmp)]
    sys.modules[package.__name__] = package
    return tuple(importlib.import_module(f"l1l2.pillow_rev.{m}") for m in ("plots", "gifs"))


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


def report(times, outs):
    """times: {renderer: {step: (wall, cpu)}}, new first; the others' wall time as x new's."""
    names = list(times)
    head = "".join(f" {n + ' s (cpu)':>15s}" for n in names)
    print(
        f"{'figures + GIFs of the default run':34s}{head}"
        + "".join(f" {n + '/new':>11s}" for n in names[1:])
    )
    tot = lambda t: tuple(map(sum, zip(*t.values())))  # noqa: E731
    cell = lambda t: f"{t[0]:6.2f} ({t[1]:5.2f})"  # noqa: E731
    for step in [*times["new"], "total"]:
        row = [tot(t) if step == "total" else t[step] for t in times.values()]
        ratios = "".join(f" {r[0] / row[0][0]:10.2f}x" for r in row[1:])
        print(f"{step:34s}" + "".join(f" {cell(r):>15s}" for r in row) + ratios)
    print("\nGIF sizes (MB), 101 frames, 5 s:")
    for gif in sorted((outs["new"] / "gifs").glob("*.gif")):
        paths = {n: outs[n] / "gifs" / gif.name for n in names}
        sizes = "".join(
            f"  {n} {p.stat().st_size / 1e6:5.2f}" for n, p in paths.items() if p.exists()
        )
        print(f"  {gif.name:24s}{sizes}")


def training_overhead():
    d = data.load(ROOT / "data" / "line.csv")
    runs = [(m, s) for m in ("none", "l1", "l2") for s in range(5)]
    p0 = model.init_stack((1, 10, 10, 10, 1), [s for _, s in runs])
    pen = regularizers.stack([regularizers.for_method(m, 0.3) for m, _ in runs])
    # no progress: all 4000 steps in one session call either way
    plain = timed(3, lambda: train(d.x_train, d.y_train, p0, pen, SGD()))[0]
    recorded = SGD(every_epoch=True, record=True)
    rec = timed(3, lambda: train(d.x_train, d.y_train, p0, pen, recorded))[0]
    print(
        f"\ntraining 15 models x 4000 steps: {plain:.2f} s without recording, {rec:.2f} s with "
        f"(one frame per epoch) -> overhead {100 * (rec / plain - 1):+.1f}%  (target < 20%)"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recording", type=Path, default=ROOT / "outputs" / recording.FILE)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (new path)")
    ap.add_argument("--no-old", action="store_true", help="skip the old renderer (~12 s)")
    ap.add_argument("--no-pillow", action="store_true", help="skip the Pillow renderer")
    ap.add_argument("--training", action="store_true", help="also time recording in training")
    args = ap.parse_args()
    rec = recording.load(args.recording)
    d = data.load(ROOT / "data" / "line.csv")
    with tempfile.TemporaryDirectory() as tmp:
        renderers = {"new": (plots, gifs, args.repeat)}
        pillow = None if args.no_pillow else pillow_modules(Path(tmp))
        old = None if args.no_old else old_modules()
        for name, mods, rev in (("pillow", pillow, PILLOW_REV), ("old", old, OLD_REV)):
            if mods:
                renderers[name] = (*mods, args.repeat if name == "pillow" else 1)
            elif not getattr(args, f"no_{name}"):
                print(f"({name} renderer not shown: git cannot show {rev})")
        outs = {name: Path(tmp) / name for name in renderers}
        times = {n: measure(p, g, rec, d, outs[n], r) for n, (p, g, r) in renderers.items()}
        report(times, outs)
    if args.training:
        training_overhead()


if __name__ == "__main__":
    main()
