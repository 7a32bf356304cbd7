"""The peers' shared work: data, initial weights and penalties, as bench_engine.py sets them."""

from pathlib import Path

import numpy as np

from l1l2.core import data, model

ROOT = Path(__file__).resolve().parents[2]
SIZES = (1, 10, 10, 10, 1)
LR = 0.01
LAM = 0.3


def work(n_models: int) -> tuple:
    """(x, y, params0 models first, l1 [R], l2 [R]): model r has seed r, L1 if r is even."""
    d = data.load(ROOT / "data" / "line.csv")
    p0 = model.stack([model.glorot_init(SIZES, s) for s in range(n_models)])
    l1 = np.array([LAM if r % 2 == 0 else 0.0 for r in range(n_models)], np.float32)
    l2 = np.array([0.0 if r % 2 == 0 else LAM for r in range(n_models)], np.float32)
    return d.x_train, d.y_train, p0, l1, l2


def names(params: dict) -> list[str]:
    """["dense1/W", "dense1/b", ...] in layer order."""
    return [f"{n}/{p}" for n in model.layer_names(params) for p in ("W", "b")]
