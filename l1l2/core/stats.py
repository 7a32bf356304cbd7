"""Confidence intervals and the paired comparison used by the sweep."""

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..lazy import Lazy

stats = Lazy(lambda: importlib.import_module("scipy.stats"))


def mean_ci(
    values: np.ndarray | Sequence[float], level: float = 0.95
) -> tuple[float, float, float]:
    """(mean, low, high): the t-distribution interval of the mean; needs two values or more."""
    v = np.asarray(values, float)
    m = v.mean()
    half = stats.t.ppf((1 + level) / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return m, m - half, m + half


def paired(
    a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float], level: float = 0.95
) -> dict[str, Any]:
    """b - a of matched samples: the mean difference, its interval, paired t and Wilcoxon p."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    mean, lo, hi = mean_ci(b - a, level)
    return {
        "n": len(a),
        "mean_diff": mean,
        "ci": (lo, hi),
        "t_p": float(stats.ttest_rel(b, a).pvalue),
        "wilcoxon_p": float(stats.wilcoxon(b, a).pvalue) if np.any(b != a) else 1.0,
        "b_better": int((b < a).sum()),
    }
