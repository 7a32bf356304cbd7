"""What the sweep's new evaluations cost beside the training they evaluate, measured side by side
in one run: the exact optima, and the objective, function and dead units of every model.

    python bench/bench_evaluations.py            # one setting of the default sweep, best of 3

One setting of the default sweep: 640 models (2 orders x 16 method/lambda cells x 20 seeds) of
1-10-10-10-1, 100 epochs on data/line.csv, the compiled engine (its compilation done before the
clock starts). The evaluations: `optimum.of_sgd` for every (method, lambda) of 10 data draws
(what the sweep solves), and per model the objective of its final weights, whether it computes
a constant and its dead units (`evaluate`, `dead_counts`).
"""

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from l1l2 import tf1  # noqa: E402
from l1l2.core import data, model, optimum, regularizers  # noqa: E402
from l1l2.core import pruning as prune  # noqa: E402
from l1l2.core.sgd import SGD  # noqa: E402
from l1l2.core.train import train  # noqa: E402

LAMS, METHODS, SEEDS, REPEATS = (0.0, 0.01, 0.1, 0.3, 1.0, 3.0), ("l1", "l2", "l1l2"), 20, 3


def best_of(fn, n=REPEATS):
    """The least wall time of n calls, and the last result."""
    times, out = [], None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    tf1.load()
    d = data.load(ROOT / "data" / "line.csv")
    cells = [(m, lam) for lam in LAMS for m in (["none"] if lam == 0 else METHODS)]
    models = [(m, lam, s, o) for o in ("shuffle", "file") for m, lam in cells for s in range(SEEDS)]
    p0 = model.init_stack((1, 10, 10, 10, 1), [s for _, _, s, _ in models])
    pen = regularizers.stack([regularizers.for_method(m, lam) for m, lam, _, _ in models])
    spec = SGD(epochs=100, every_epoch=True, tail_epochs=1)
    kw = dict(seeds=[s for *_, s, _ in models], orders=[o for *_, o in models],
              test=(d.x_test, d.y_test), engine="compiled")  # fmt: skip
    train(d.x_train, d.y_train, p0, pen, spec, **kw)  # compile once, off the clock
    t_train, out = best_of(lambda: train(d.x_train, d.y_train, p0, pen, spec, **kw))

    def per_model():  # as the sweep does it
        j = optimum.objective(out.params, d.x_train, d.y_train, 40 * pen.l1, 40 * pen.l2)
        flat = np.ptp(optimum.predictions(out.params, d.x_train), axis=1)
        return j, flat, prune.dead_counts(out.params, 0.01)

    draws = [data.generate(seed=s) for s in range(10)]
    optima = lambda: [
        optimum.of_sgd(x, 4, regularizers.for_method(m, lam)) for x in draws for m, lam in cells
    ]
    t_models, _ = best_of(per_model)
    t_optima, _ = best_of(optima)
    print(f"{len(models)} models x 4,000 steps, compiled engine: {t_train:.2f} s training")
    print(f"  objective, function and dead units of every model: {t_models:.3f} s "
          f"({t_models / t_train:.1%} of the training)")  # fmt: skip
    print(f"  exact optima of {len(draws) * len(cells)} objectives (10 draws): {t_optima:.3f} s, "
          f"once per sweep: {t_optima / (40 * t_train):.2%} of the training of the default "
          "sweep's 40 such settings")  # fmt: skip


if __name__ == "__main__":
    main()
