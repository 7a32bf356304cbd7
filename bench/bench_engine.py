"""Training throughput of the engines and of their peers, each case in its own process (own peak
RSS), what the sample orders and in-loop evaluations cost, and the commands end to end.

    python bench/bench_engine.py             # the engines' table, features, commands (minutes)
    python bench/bench_engine.py ratios 3    # project / peer ratios per size, 3 interleaved rounds
    python bench/bench_engine.py goals 3     # the commands beyond their imports; peak RSS
    python bench/bench_engine.py check       # the peers compute the project's weights?
    python bench/bench_engine.py compiled 1000 100 plain   # one case, as JSON

One model-step = one per-sample SGD update of one model (batch size 1, 1-10-10-10-1, identity,
half the models L1 0.3, half L2 0.3, lr 0.01, the 40 training rows of data/line.csv in the file's
order, the project's Glorot initialisation). "steady" is the marginal rate of a call with twice
the epochs (graph build and XLA compilation left out; for `compiled` both calls reuse one cached
compilation), "end to end" the rate of one whole first call, compilation included. Times are
the best of REPEATS calls, the least disturbed on a shared machine; "per CPU-s" is the steady
rate per second of CPU time the process used (all its threads), which other processes on the
machine disturb less than the wall clock. `compiled` trains blocks of 32 models in parts side
by side, one thread per core; the Numba peer runs its blocks on every core too (prange).

Peers (bench/peers/, optional: requirements-bench.txt): `numba` a fused Numba kernel that also
computes every step's cost and first non-finite step (the project's outputs), `numba-nobook`
the same kernel without them (less output: an upper bound), `jax` JAX's jit(fori_loop) in the
layout that measured fastest at that size (models last; jax-vmap, jax-blocks are the others).
`ratios` checks that every peer computes the project's weights first, then runs every (engine,
size) case in its own process, ROUNDS rounds, the engines in a rotated order each round, and
prints each engine's median rate and range, and the project / peer ratio of each round (its
median and range): machine noise hits both sides of a ratio within a round alike.
"""

import importlib
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
from l1l2.core.train import ENGINES, train  # noqa: E402

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
COMMANDS = [  # end to end, as a user runs them: the sweep with its factorial defaults (every
    # data draw, learning rate, epoch count and schedule; ~10 s), not GOAL_COMMANDS' one cell
    ["--no-progress"],
    ["sweep", "--seeds", "500", "--lams", "0.3", "--methods", "l1,l2", "--no-progress"],
]
COMMAND_RUNS = 3
SKIPPED = "reference at 100+ models (~2.5k model-steps/s: 100 models x 4000 steps > 160 s)"


PEERS = {  # name: (module of bench/peers, function, keywords)
    "numba": ("numba_sgd", "train_numba", {"bookkeeping": True}),
    "numba-nobook": ("numba_sgd", "train_numba", {"bookkeeping": False}),
    "jax-last": ("jax_sgd", "train_jax", {}),
    "jax-vmap": ("jax_sgd", "train_jax_vmap", {}),
    "jax-blocks": ("jax_sgd", "train_jax_blocks", {}),
}
JAX_BEST = {1: "jax-last", 1000: "jax-blocks", 10000: "jax-blocks"}  # measured: bench/README.md
# tf1's region analysis (the compiled engine's weights in place) slows JAX's loop at one model
# (1.5-1.75M model-steps/s against 2.2-2.8M without it; no change at 1,000 models), and so does
# tf1's LLVM -O2 (3.07-3.11M against 3.17-3.20M at XLA's default -O3), and so does tf1's 512-bit
# vectors (jnp.sign's lowering stalls in them: one model 2.3M against 4.15M, 1,000 models 3.2M
# against 4.6M): the JAX cases run with XLA's defaults for all three (case_in_child, JAX_DEFAULTS)
JAX_DEFAULTS = {tf1.REGION_ANALYSIS: "false", tf1.OPT_LEVEL: "3", tf1.VECTOR_WIDTH: "256"}


def peer(name):
    """(x, y, params0, l1, l2, lr=, epochs=) -> (params, diverged_at) of a peer."""
    module, function, keywords = PEERS[name]
    fn = getattr(importlib.import_module(f"peers.{module}"), function)
    return lambda x, y, p0, l1, l2, **kw: fn(x, y, p0, l1, l2, **kw, **keywords)


def engine(name):
    """(x, y, params0, penalty, spec, **train keywords) -> trained, for one engine or peer."""
    if name == "numpy":
        return lambda x, y, p0, pen, spec, **kw: train_numpy(
            x, y, p0, pen, lr=spec.lr, epochs=spec.epochs
        )
    if name in PEERS:
        run = peer(name)
        return lambda x, y, p0, pen, spec, **kw: run(
            x, y, p0, pen.l1, pen.l2, lr=spec.lr, epochs=spec.epochs
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
    # JAX's XLA reads the XLA_FLAGS tf1 set too: its while loops also run as one kernel (at
    # 1,000 models 3.1M model-steps/s with it, 1.7M without; no change at one model)
    if name not in PEERS:
        tf1.load()
    d = data.load(ROOT / "data" / "line.csv")
    p0 = model.init_stack(SIZES, range(n_models))
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
        **memory(),
    }


def memory():
    """{rss_mb: the process's peak RSS, and where Linux tells (/proc/self/status) its resident
    pages now: anon_mb its own (heap, stacks, buffers), file_mb mapped from files (TensorFlow's
    code and read-only data: shared with other processes, dropped under memory pressure)}."""
    out = {"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f)
        out["anon_mb"], out["file_mb"] = (
            int(fields[k].split()[0]) / 1024 for k in ("RssAnon", "RssFile")
        )
    except (OSError, KeyError, ValueError):
        pass
    return out


def case_in_child(name, n, epochs, features="plain"):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if name.startswith("jax"):  # JAX with XLA's defaults where they suit it best (JAX_DEFAULTS)
        words = env.get("XLA_FLAGS", "").split()
        ours = [w for w in words if w.partition("=")[0] not in JAX_DEFAULTS]
        env["XLA_FLAGS"] = " ".join([*ours, *(f"{k}={v}" for k, v in JAX_DEFAULTS.items())])
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


# ---------------------------------------------------------------- project / peer ratios

RATIO_SIZES = {1: 5000, 1000: 100, 10000: 20}  # models: epochs (a call of 0.1-1 s)
RATIO_ENGINES = ("compiled", "numba", "numba-nobook", "jax")
# issue 25's goals: compiled / peer at least this, per (peer, models)
RATIO_GOALS = {("numba", 1): 1.0, ("numba", 1000): 1.0, ("numba", 10000): 1.0, ("jax", 1): 1.0}
CHECK_MODELS, CHECK_EPOCHS = 20, 3  # short: L1's sign(w) flips would amplify rounding
CHECK_TOL = 2e-5  # float32 rounding of 120 steps, relative to max(1, |w|)


def check_peers():
    """Max |peer - compiled| / max(1, |w|) over all weights of CHECK_MODELS models after
    CHECK_EPOCHS epochs, and whether the first non-finite steps agree, for every peer; the
    graph engine beside them (it sums in another order, like the peers)."""
    tf1.load()
    d = data.load(ROOT / "data" / "line.csv")
    n = CHECK_MODELS
    p0 = model.init_stack(SIZES, range(n))
    pen = regularizers.stack([regularizers.for_method(("l1", "l2")[s % 2], 0.3) for s in range(n)])
    ref = train(d.x_train, d.y_train, p0, pen, SGD(epochs=CHECK_EPOCHS), engine="compiled")
    got = {"graph": (lambda t: (t.params, t.diverged_at))(
        train(d.x_train, d.y_train, p0, pen, SGD(epochs=CHECK_EPOCHS), engine="graph")
    )}  # fmt: skip
    for name in PEERS:
        got[name] = peer(name)(
            d.x_train, d.y_train, p0, pen.l1, pen.l2, lr=0.01, epochs=CHECK_EPOCHS
        )
    out = {}
    for name, (params, diverged) in got.items():
        err = max(
            float(np.max(np.abs(params[k] - ref.params[k]) / np.maximum(1, np.abs(ref.params[k]))))
            for k in ref.params
        )
        same = name == "numba-nobook" or bool(np.array_equal(diverged, ref.diverged_at))
        out[name] = {
            "max_rel_diff": err,
            "diverged_at_equal": same,
            "ok": err <= CHECK_TOL and same,
        }
    return out


def ratios(rounds):
    """One interleaved run: every (engine, size) case in its own process, `rounds` rounds, the
    engines in a rotated order each round. Prints each engine's median steady rate (range) and
    the compiled / peer ratio of each round, its median and range."""
    checked = json.loads(run_child(["check"]).splitlines()[-1])
    print(f"the peers against the compiled engine ({CHECK_MODELS} models, {CHECK_EPOCHS} epochs):")
    for name, r in checked.items():
        print(f"  {name:<13} max |diff| / max(1, |w|) {r['max_rel_diff']:.1e}, "
              f"first non-finite steps equal: {r['diverged_at_equal']}")  # fmt: skip
    bad = [n for n, r in checked.items() if not r["ok"] and n in PEERS]
    if bad:
        sys.exit(f"peers that do not compute the project's weights: {bad}")
    seen = {}  # (engine, models) -> [result per round]
    for r in range(rounds):
        for models, epochs in RATIO_SIZES.items():
            names = (
                RATIO_ENGINES[r % len(RATIO_ENGINES) :] + RATIO_ENGINES[: r % len(RATIO_ENGINES)]
            )
            for name in names:
                real = JAX_BEST[models] if name == "jax" else name
                res = case_in_child(real, models, epochs)
                if isinstance(res, str):
                    sys.exit(f"{real} {models} failed: {res}")
                seen.setdefault((name, models), []).append(res)
        print(f"  round {r + 1} of {rounds} done", flush=True)
    return seen


def ratios_table(seen, rounds):
    def span(values, scale=1e6, unit="M"):
        v = np.array(values)
        return f"{np.median(v) / scale:.2f}{unit} ({v.min() / scale:.2f}-{v.max() / scale:.2f})"

    print(f"\nsteady model-steps/s, median (range) of {rounds} rounds; wall clock, then per CPU-s:")
    for models in RATIO_SIZES:
        for name in RATIO_ENGINES:
            rs = seen[(name, models)]
            what = JAX_BEST[models] if name == "jax" else name
            wall, cpu = span([r["steady"] for r in rs]), span([r["steady_cpu"] for r in rs])
            rss = rs[0]["rss_mb"]
            print(f"  {models:>6} {what:<13} {wall:>22} {cpu:>22}  peak RSS {rss:.0f} MB")
    print(f"\ncompiled / peer, the ratio of each round: median (range) of {rounds}:")
    for models in RATIO_SIZES:
        ours = seen[("compiled", models)]
        cells = []
        for name in RATIO_ENGINES[1:]:
            theirs = seen[(name, models)]
            wall = [a["steady"] / b["steady"] for a, b in zip(ours, theirs)]
            cpu = [a["steady_cpu"] / b["steady_cpu"] for a, b in zip(ours, theirs)]
            goal = RATIO_GOALS.get((name, models))
            cells.append(
                f"{name}: {span(wall, 1, 'x')}, per CPU-s {span(cpu, 1, 'x')}"
                + ("" if goal is None else " " + against(np.median(wall), ">=", goal, "x"))
            )
        print(f"  {models:>6} models: " + "; ".join(cells))


def against(value, op, goal, unit):
    """'(goal <= 1.0 s: met)': a median against one of issue 25's goals."""
    met = value >= goal if op == ">=" else value <= goal
    return f"(goal {op} {goal:g}{unit}: {'met' if met else 'not met'})"


def run_child(args, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    res = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True)
    if res.returncode:
        sys.exit(f"{' '.join(args)} failed: {res.stderr[-2000:]}")
    return res.stdout


# ---------------------------------------------------------------- issue 25's goals

IMPORTS = {  # the floor of each command: Python's start, the imports, exit
    "sweep": "import tensorflow, scipy, matplotlib",
    "default": "import tensorflow",
}
GOAL_SECONDS = {"sweep": 1.0, "default": 1.5}  # issue 25's goals: at most this beyond the imports
RSS_GOAL_MB = 60  # ...and peak RSS at 10,000 models at most this beyond TensorFlow's import
GOAL_COMMANDS = {
    # 2,000 models (500 seeds x 2 methods x 2 orders) x 4,000 steps: 8M model-steps
    "sweep": "sweep --seeds 500 --lams 0.3 --methods l1,l2 --data-seeds 0 --lrs 0.01 "
    "--epochs 100 --lr-schedule constant --no-progress".split(),
    "default": "--no-progress".split(),
}


RSS_MODELS, RSS_FEW = 10000, 2  # the goal's models; the few that show the loop's fixed cost


def rss_floor(xla=False):
    """Peak RSS (MB) of a process that imports TensorFlow (as tf1 does) and nothing else, or
    (xla) then runs one trivial XLA-compiled function (a * 3 + 1 on 4 floats) in a TF1 session,
    as the compiled engine runs its loop: what any compiled loop costs before its first model."""
    tf1.load()
    if xla:
        graph = tf1.tf.Graph()
        with graph.as_default():
            a = tf1.v1.placeholder(tf1.tf.float32, [4])
            out = tf1.tf.function(lambda a: a * 3 + 1, jit_compile=True, autograph=False)(a)
            with tf1.session(graph) as s:
                s.run(out, {a: np.ones(4, np.float32)})
    return memory()


def goals(rounds):
    """The commands against their imports, interleaved, `rounds` times: each command's wall
    seconds beyond `python -c IMPORTS[...]` (median, range), and peak RSS at 10,000 models
    beyond TensorFlow's import, beside what a trivial XLA call and 2 models take and what grows
    from 2 models to 10,000."""
    print(
        "the commands end to end, beyond their imports (wall s, each round the pair back to back):"
    )
    for key, args in GOAL_COMMANDS.items():
        extra = []
        for _ in range(rounds):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", IMPORTS[key]], cwd=ROOT, check=True,
                           capture_output=True)  # fmt: skip
            floor = time.perf_counter() - t
            wall = run_command(args)[0]
            extra.append((wall - floor, wall, floor))
        d = np.array(extra)
        print(f"  reproduce {' '.join(args)}: {np.median(d[:, 0]):.2f} s beyond "
              f"`{IMPORTS[key]}` ({d[:, 0].min():.2f}-{d[:, 0].max():.2f}; the command "
              f"{np.median(d[:, 1]):.2f} s, the imports {np.median(d[:, 2]):.2f} s) "
              + against(np.median(d[:, 0]), "<=", GOAL_SECONDS[key], " s"))  # fmt: skip
    runs = {"floor": [], "xla": [], "peak": [], "small": []}
    for _ in range(rounds):  # interleaved
        runs["floor"].append(json.loads(run_child(["rss-floor"]).splitlines()[-1]))
        runs["xla"].append(json.loads(run_child(["rss-floor", "xla"]).splitlines()[-1]))
        runs["peak"].append(case_in_child("compiled", RSS_MODELS, 20))
        runs["small"].append(case_in_child("compiled", RSS_FEW, 20))
    floors, xla_floors, peaks, smalls = ([r["rss_mb"] for r in runs[k]] for k in runs)
    floor, peak, small = np.median(floors), np.median(peaks), np.median(smalls)
    print(f"  peak RSS at 10,000 models: {peak:.0f} MB, importing TensorFlow alone "
          f"{floor:.0f} MB: {peak - floor:.0f} MB beyond "
          f"({min(peaks) - max(floors):.0f}-{max(peaks) - min(floors):.0f}) "
          + against(peak - floor, "<=", RSS_GOAL_MB, " MB"))  # fmt: skip
    # what grows with the models: 10,000 models against 2, per byte of their float32 weights
    n_weights = sum(a * b + b for a, b in zip(SIZES, SIZES[1:]))  # 251
    weights_mb = (RSS_MODELS - RSS_FEW) * n_weights * 4 / 2**20
    print(f"  beyond the import, a trivial XLA call alone {np.median(xla_floors) - floor:.0f} MB, "
          f"2 models {small - floor:.0f} MB; 10,000 models against 2: {peak - small:.0f} MB, "
          f"{(peak - small) / weights_mb:.1f} bytes per byte of weights")  # fmt: skip
    if all("file_mb" in r for k in ("floor", "peak") for r in runs[k]):
        grown = {
            kind: np.median([r[kind] for r in runs["peak"]])
            - np.median([r[kind] for r in runs["floor"]])
            for kind in ("anon_mb", "file_mb")
        }
        print(f"  at the end of the 10,000 models' run, its resident pages beyond the import: "
              f"{grown['anon_mb']:.0f} MB its own, {grown['file_mb']:.0f} MB mapped from files "
              f"(TensorFlow's code: shared, and dropped under memory pressure)")  # fmt: skip


def main():
    if sys.argv[1:2] in (["-h"], ["--help"]):
        print(__doc__)
        return
    if len(sys.argv) == 5:
        name, models, epochs, features = sys.argv[1:]
        if name not in ("numpy", *ENGINES, *PEERS):
            sys.exit(f"unknown engine {name!r}: one of numpy, {', '.join((*ENGINES, *PEERS))}")
        if not (models.isdigit() and epochs.isdigit()):
            sys.exit(f"MODELS and EPOCHS must be whole numbers, got {models!r} {epochs!r}")
        if features not in ("plain", "evaluated", "both"):
            sys.exit(f"unknown features {features!r}: plain, evaluated or both")
        print(json.dumps(run_case(name, int(models), int(epochs), features)))
        return
    if sys.argv[1:] == ["check"]:
        print(json.dumps(check_peers()))
        return
    if sys.argv[1:2] == ["rss-floor"] and sys.argv[2:] in ([], ["xla"]):
        print(json.dumps(rss_floor(sys.argv[2:] == ["xla"])))
        return
    if len(sys.argv) in (2, 3) and sys.argv[1] in ("ratios", "goals"):
        rounds = sys.argv[2] if len(sys.argv) > 2 else "3"
        if not (rounds.isdigit() and int(rounds) > 0):
            sys.exit(f"ROUNDS must be a whole number from 1, got {rounds!r}")
        rounds = int(rounds)
        if sys.argv[1] == "ratios":
            ratios_table(ratios(rounds), rounds)
        else:
            goals(rounds)
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        return
    if sys.argv[1:]:
        sys.exit(f"unknown arguments {' '.join(sys.argv[1:])}: see --help")
    engines_table()
    features_table()
    commands_table()
    imports_floor()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
