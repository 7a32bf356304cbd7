"""Training throughput of four engines side by side, each case in its own process (own peak RSS),
what the sample orders and in-loop evaluations cost, and the commands end to end with their phases.

    python bench/bench_engine.py             # the whole table (several minutes)
    python bench/bench_engine.py compiled 1000 100 plain   # one case, as JSON

One model-step = one per-sample SGD update of one model (batch size 1, 1-10-10-10-1, identity,
half the models L1 0.3, half L2 0.3). "steady" is the marginal rate of a call with twice the
epochs (graph build and XLA compilation left out; for `compiled` both calls reuse one cached
compilation), "end to end" the rate of one whole first call, compilation included. Times are
the best of REPEATS calls, the least disturbed on a shared machine; "per CPU-s" is the steady
rate per second of CPU time the process used (all its threads), which other processes on the
machine disturb less than the wall clock. `compiled` trains its models in parts side by side, one
thread per core, from 64 models on: there the wall-clock rate is that of all the cores.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from numpy_engine import train_numpy  # noqa: E402

from l1l2 import tf1  # noqa: E402
from l1l2.core import data, model, regularizers  # noqa: E402
from l1l2.core.sgd import SGD  # noqa: E402
from l1l2.core.train import train  # noqa: E402

SIZES = (1, 10, 10, 10, 1)
REPEATS = 3
# (engine, models, epochs); an engine is left out where one call would take over ~60 s
CASES = [
    ("reference", 1, 25),
    ("graph", 1, 500),
    ("graph", 100, 100),
    ("graph", 1000, 100),
    ("graph", 10000, 10),
    ("numpy", 1, 10),
    ("numpy", 100, 25),
    ("numpy", 1000, 25),
    ("numpy", 10000, 5),
    ("compiled", 1, 100),
    ("compiled", 100, 100),
    ("compiled", 1000, 100),
    ("compiled", 10000, 100),
]
# what the evaluations cost: the blog's protocol (file order, no evaluation) against a shuffled
# order per model with the test error after every epoch and every step of the last one
FEATURES = [("graph", 1000, 100), ("compiled", 1000, 100)]
COMMANDS = [  # end to end, as a user runs them
    ["--no-progress"],
    ["sweep", "--seeds", "500", "--lams", "0.3", "--methods", "l1,l2", "--no-progress"],
]
COMMAND_RUNS = 3
SKIPPED = "reference at 100+ models (~2.5k model-steps/s: 100 models x 4000 steps > 160 s)"


def engine(name):
    """(x, y, params0, penalty, spec, **train keywords) -> trained, for one engine."""
    if name == "numpy":
        return lambda x, y, p0, pen, spec, **kw: train_numpy(
            x, y, p0, pen, lr=spec.lr, epochs=spec.epochs
        )
    return lambda x, y, p0, pen, spec, **kw: train(x, y, p0, pen, spec, engine=name, **kw)


def evaluations(d, n_models, epochs):
    """A run with a shuffled order per model and the test error measured after every epoch and
    after every step of the last epoch (what the main run and the sweep do): (spec, keywords)."""
    spec = SGD(epochs=epochs, order="shuffle", every_epoch=True, tail_epochs=1)
    return spec, {"seeds": range(n_models), "test": (d.x_test, d.y_test)}


def run_case(name, n_models, epochs, features="plain"):
    """{e2e, steady (model-steps/s), first_s (seconds of the first call), rss_mb} of one case.
    TensorFlow is imported before the clock starts (the commands table shows that import);
    `first_s` is one whole call: graph building, XLA compilation, training."""
    tf1.load()
    d = data.load(ROOT / "data" / "line.csv")
    p0 = model.stack([model.glorot_init(SIZES, s) for s in range(n_models)])
    pen = regularizers.stack(
        [regularizers.for_method(("l1", "l2")[s % 2], 0.3) for s in range(n_models)]
    )
    run = engine(name)

    def seconds(ep, features=features):
        """(wall, CPU) seconds of one call."""
        spec, kw = evaluations(d, n_models, ep) if features == "evaluated" else (SGD(epochs=ep), {})
        t, c = time.perf_counter(), time.process_time()
        run(d.x_train, d.y_train, p0, pen, spec, **kw)
        return time.perf_counter() - t, time.process_time() - c

    first = seconds(epochs)[0]  # compiled: builds and compiles, then trains
    if features == "both":  # the two side by side, interleaved: machine noise hits both alike
        seconds(epochs, "evaluated")  # its own compilation, left out
        pairs = [
            (seconds(epochs, "plain")[0], seconds(epochs, "evaluated")[0])
            for _ in range(REPEATS + 2)
        ]
        plain, evaluated = (min(t) for t in zip(*pairs))
        return {"plain_s": plain, "evaluated_s": evaluated}
    once = [min(t) for t in zip(*(seconds(epochs) for _ in range(REPEATS)))]
    twice = [min(t) for t in zip(*(seconds(2 * epochs) for _ in range(REPEATS)))]
    steps = n_models * epochs * len(d.x_train)
    return {
        "e2e": steps / first,
        "steady": steps / max(twice[0] - once[0], 1e-9),
        "steady_cpu": steps / max(twice[1] - once[1], 1e-9),
        "first_s": first,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def case_in_child(name, n, epochs, features="plain"):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    child = subprocess.run(
        [sys.executable, __file__, name, str(n), str(epochs), features],
        env=env,
        capture_output=True,
        text=True,
    )
    if child.returncode:
        return child.stderr.strip().splitlines()[-1]
    return json.loads(child.stdout.strip().splitlines()[-1])


def engines_table():
    print(
        f"{'engine':<10} {'models':>6} {'epochs':>6} {'1st call s':>10} {'end to end /s':>14} "
        f"{'x ref':>7} {'steady /s':>12} {'x ref':>7} {'per CPU-s':>12} {'peak RSS MB':>11}",
        flush=True,
    )
    base = None
    for name, n, epochs in CASES:
        r = case_in_child(name, n, epochs)
        if isinstance(r, str):
            print(f"{name:<10} {n:>6} failed: {r}")
            continue
        base = base or r
        print(
            f"{name:<10} {n:>6} {epochs:>6} {r['first_s']:>10.2f} {r['e2e']:>14,.0f} "
            f"{r['e2e'] / base['e2e']:>6.0f}x {r['steady']:>12,.0f} "
            f"{r['steady'] / base['steady']:>6.0f}x {r['steady_cpu']:>12,.0f} "
            f"{r['rss_mb']:>11.0f}",
            flush=True,
        )
    print(f"skipped: {SKIPPED}")


def features_table():
    print(
        "\nwhat orders and evaluations cost: seconds of one call, 1000 models x 4000 steps, "
        "the two interleaved, best of 5:"
    )
    for name, n, epochs in FEATURES:
        r = case_in_child(name, n, epochs, "both")
        print(
            f"  {name:<9} file order, no evaluation {r['plain_s']:6.2f} s;  shuffled per model, "
            f"test error after every epoch and every step of the last: {r['evaluated_s']:6.2f} s"
            f"  ({r['evaluated_s'] / r['plain_s'] - 1:+.0%})",
            flush=True,
        )


def commands_table():
    print(
        f"\nthe commands end to end (wall seconds, process start to exit; {COMMAND_RUNS} runs, "
        "the phases of the fastest):"
    )
    for args in COMMANDS:
        runs = sorted(run_command(args) for _ in range(COMMAND_RUNS))
        walls = [w for w, _ in runs]
        print(
            f"  reproduce {' '.join(args)}: {walls[0]:.1f}-{walls[-1]:.1f} s, "
            f"median {float(np.median(walls)):.1f} s"
        )
        for line in runs[0][1]:
            print(f"      {line}")


def imports_floor():
    """What every sweep pays before its first model: Python's start, the sweep's imports
    (SciPy, matplotlib) and TensorFlow's, then exit; wall seconds of COMMAND_RUNS runs."""
    code = "import os, l1l2.commands.sweep; from l1l2 import tf1; tf1.load(); os._exit(0)"
    walls = []
    for _ in range(COMMAND_RUNS):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        walls.append(time.perf_counter() - t)
    print(
        f"  the sweep's imports alone (start, imports, exit; no work): "
        f"{min(walls):.1f}-{max(walls):.1f} s"
    )


def run_command(args):
    """(wall seconds, phase lines) of one run of ./reproduce args into a fresh folder."""
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        res = subprocess.run(
            [sys.executable, str(ROOT / "reproduce"), *args, "--out", out],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        wall = time.perf_counter() - t
    if res.returncode:
        sys.exit(f"reproduce {' '.join(args)} failed: {res.stderr[-300:]}")
    return wall, [line for line in res.stderr.splitlines() if line.endswith(" s") and ": " in line]


def main():
    if len(sys.argv) == 5:
        print(json.dumps(run_case(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])))
        return
    engines_table()
    features_table()
    commands_table()
    imports_floor()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
