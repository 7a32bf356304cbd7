"""Training throughput of the engines, side by side in one process, plus the default run's wall time.

    python bench/bench_engine.py            # add --no-reproduce to skip the end-to-end timing

One model-step = one per-sample SGD update of one model.
"""
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from l1l2 import data, model, regularizers, train  # noqa: E402

SIZES = (1, 10, 10, 10, 1)


def throughput(engine, n_models, epochs, d):
    """(model-steps/s overall, model-steps/s after the first progress report, seconds overall).

    The second figure leaves out building the graph and the session (and the first epoch)."""
    p0 = model.stack([model.glorot_init(SIZES, s) for s in range(n_models)])
    pen = regularizers.stack([regularizers.for_method(("l1", "l2")[s % 2], 0.3) for s in range(n_models)])
    marks = []
    t = time.perf_counter()
    train.ENGINES[engine](d.x_train, d.y_train, p0, pen, lr=0.01, epochs=epochs,
                          progress=lambda n: marks.append((time.perf_counter(), n)))
    dt = time.perf_counter() - t
    total = n_models * epochs * len(d.x_train)
    first_t, first_n = marks[0] if engine == "graph" else marks[len(d.x_train) - 1]
    first_n = first_n if engine == "graph" else len(d.x_train)
    return total / dt, (total - first_n) / (marks[-1][0] - first_t), dt


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    d = data.load(ROOT / "data" / "line.csv")
    if "--xla-row" in sys.argv:
        print(throughput("graph", 1000, 100, d)[0])  # read by the parent
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
    if "--xla-row" in sys.argv:  # child process: TF_XLA_FLAGS must be set before TensorFlow loads
        return
    env = {**os.environ, "TF_XLA_FLAGS": "--tf_xla_auto_jit=2 --tf_xla_cpu_global_jit"}
    child = subprocess.run([sys.executable, __file__, "--xla-row"], env=env, capture_output=True, text=True)
    rate = float(child.stdout.split()[-1])
    print(f"{'graph+XLA':<10} {1000:>6} {4000:>6} {'':>8} {rate:>14,.0f} {rate / base[0]:>10.1f}x "
          f"{'':>12} {'':>11} {'(own process)':>11}")
    if "--no-reproduce" not in sys.argv:
        t = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "reproduce"), "--no-progress", "--out",
                        "/tmp/bench-reproduce"], check=True, capture_output=True)
        print(f"default ./reproduce (15 models, GIFs, pruning, TF import): "
              f"{time.perf_counter() - t:.1f} s wall")


if __name__ == "__main__":
    main()
