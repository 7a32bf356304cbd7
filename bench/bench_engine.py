"""Training throughput of the engines, side by side in one process, plus the default run's wall time.

    python bench/bench_engine.py            # add --no-reproduce to skip the end-to-end timing

One model-step = one per-sample SGD update of one model. "steady" leaves out building the graph.
"""
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from l1l2.core import data, engine, model, regularizers, train  # noqa: E402

SIZES = (1, 10, 10, 10, 1)

ENGINES = {"graph": engine.train_graph, "reference": train.train_reference}


def seconds(engine, n_models, epochs, d, repeats=3):
    """Wall time of one training call (graph built, session run), without a progress bar; the best of
    `repeats` calls, as the least disturbed by other work on a shared machine."""
    p0 = model.stack([model.glorot_init(SIZES, s) for s in range(n_models)])
    pen = regularizers.stack([regularizers.for_method(("l1", "l2")[s % 2], 0.3) for s in range(n_models)])
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        ENGINES[engine](d.x_train, d.y_train, p0, pen, lr=0.01, epochs=epochs)
        times.append(time.perf_counter() - t)
    return min(times)


def throughput(engine, n_models, epochs, d):
    """(model-steps/s of a whole call, model-steps/s of the marginal epochs, seconds of the call).

    The second is the extra time a call with twice the epochs takes: building the graph left out."""
    steps = n_models * epochs * len(d.x_train)
    once, twice = seconds(engine, n_models, epochs, d), seconds(engine, n_models, 2 * epochs, d)
    return steps / once, steps / (twice - once), once


def peak_rss_mb():
    """Peak RSS of the process so far; the cases run from small to large, so it is the last case's."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    d = data.load(ROOT / "data" / "line.csv")
    if "--xla-row" in sys.argv:
        print(*throughput("graph", 1000, 100, d)[:2])  # read by the parent
        return
    cases = [("reference", 1, 50), ("graph", 1, 100), ("graph", 10, 100), ("graph", 100, 100),
             ("graph", 1000, 100)]
    print(f"{'engine':<10} {'models':>6} {'steps':>6} {'seconds':>8} {'model-steps/s':>14} "
          f"{'x reference':>11} {'steady /s':>12} {'x reference':>11} {'peak RSS MB':>11}")
    base = None
    for engine, n, epochs in cases:
        rate, steady, dt = throughput(engine, n, epochs, d)
        base = base or (rate, steady)
        print(f"{engine:<10} {n:>6} {epochs * len(d.x_train):>6} {dt:>8.2f} {rate:>14,.0f} "
              f"{rate / base[0]:>10.1f}x {steady:>12,.0f} {steady / base[1]:>10.1f}x {peak_rss_mb():>11.0f}")
    env = {**os.environ, "TF_XLA_FLAGS": "--tf_xla_auto_jit=2 --tf_xla_cpu_global_jit"}
    child = subprocess.run([sys.executable, __file__, "--xla-row"], env=env, capture_output=True, text=True)
    rate, steady = map(float, child.stdout.split()[-2:])
    print(f"{'graph+XLA':<10} {1000:>6} {4000:>6} {'':>8} {rate:>14,.0f} {rate / base[0]:>10.1f}x "
          f"{steady:>12,.0f} {steady / base[1]:>10.1f}x {'(own process)':>11}")
    if "--no-reproduce" not in sys.argv:
        t = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "reproduce"), "--no-progress", "--out",
                        "/tmp/bench-reproduce"], check=True, capture_output=True)
        print(f"default ./reproduce (15 models, GIFs, pruning, TF import): "
              f"{time.perf_counter() - t:.1f} s wall")


if __name__ == "__main__":
    main()
