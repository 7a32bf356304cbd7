"""Recording overhead and GIF rendering speed, measured side by side in one run.

    python bench/bench_gifs.py
"""
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from l1l2.core import data, model, regularizers, train, engine
from l1l2.output import gifs  # noqa: E402


def best_of(n, fn):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    d = data.load(Path(__file__).resolve().parent.parent / "data" / "line.csv")
    runs = [(m, s) for m in ("none", "l1", "l2") for s in range(5)]
    p0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), s) for _, s in runs])
    pen = regularizers.stack([regularizers.for_method(m, 0.3) for m, _ in runs])
    kw = dict(lr=0.01, epochs=100)  # no progress: all 4000 steps in one session call either way
    plain = best_of(3, lambda: engine.train_graph(d.x_train, d.y_train, p0, pen, **kw))
    rec = best_of(3, lambda: engine.train_graph(d.x_train, d.y_train, p0, pen, record=True, **kw))
    print(f"training 15 models x 4000 steps: {plain:.2f} s without recording, {rec:.2f} s with "
          f"(one frame per epoch, in a TensorArray) -> overhead {100 * (rec / plain - 1):+.1f}%  (target < 20%)")

    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(120, a, b)) * np.linspace(1, 0.1, 120)[:, None, None]
              for a, b in ((1, 10), (10, 10), (10, 10), (10, 1))]
    panels = [(f"dense{k + 1} W", f) for k, f in enumerate(frames)]
    with tempfile.TemporaryDirectory() as tmp:
        t = best_of(3, lambda: gifs.animate(Path(tmp) / "a.gif", panels, [f"frame {i}" for i in range(120)],
                                            (2, 2), 5.0))
        size = (Path(tmp) / "a.gif").stat().st_size
    print(f"120-frame 2x2 GIF rendered and written in {t:.2f} s ({120 / t:.0f} frames/s, "
          f"{size / 1e6:.2f} MB)  (target < 3 s)")


if __name__ == "__main__":
    main()
