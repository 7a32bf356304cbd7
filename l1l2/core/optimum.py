"""The exact global minimum of the training objective of an identity-activation network.

With identity activations the network of sizes [1, h1, ..., 1] (L kernels) computes a line
f(x) = a*x + c, where a = W1 W2 ... WL and c gathers the biases. Its training objective

    J(W) = sum_i |y_i - f(x_i)| + l1 * sum_k |W_k|_1 + (l2 / 2) * sum_k |W_k|_F^2

depends on the kernels through a alone once they are chosen well: the least penalty of a slope a
is P(a) = l1 L |a|^(1/L) + l2 (L/2) |a|^(2/L), attained by one path of L weights of magnitude
|a|^(1/L), every other weight 0 (`least_penalty`). Biases are not penalized, so c is free and the
best c is a median of the residuals. What is left is one-dimensional: minimize
F(a) + P(a), with F(a) = min_c sum_i |y_i - a x_i - c| convex and piecewise linear, its kinks at
the slopes through two samples. For L >= 2 (and for L = 1 without l2) P is concave on each side
of 0, so the minimum is at a kink or at 0 and enumerating those is exact (`solve`). For L = 1
with l2 > 0 the objective is strictly convex and each linear piece has its own minimizer.
docs/optimum.md has the proofs. Everything is float64 NumPy; no TensorFlow.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .data import Dataset
from .regularizers import Penalty

RESIDUALS_AT_ONCE = 1 << 20  # entries of the [slopes, samples] residual block built at a time
ROUNDING = 16 * np.finfo(np.float64).eps  # per sample and unit of magnitude, for ties


@dataclass(frozen=True)
class Optimum:
    """The global minimum of J and where it is attained."""

    slope: float  # the representative optimal slope a (see solve)
    intercept: float  # the midpoint of intercept_range
    intercept_range: tuple[float, float]  # every intercept in it is optimal for `slope`
    slope_range: tuple[float, float]  # the least and greatest optimal slope
    objective: float  # J at the optimum: data_loss + penalty
    data_loss: float  # sum_i |y_i - (slope x_i + intercept)|
    penalty: float  # least_penalty(slope)
    test_error: float  # sum |y - (slope x + intercept)| over the test rows, nan if none
    constant: bool  # slope == 0: the network computes a constant


def least_penalty(a: float | np.ndarray, depth: int, l1: float, l2: float) -> float | np.ndarray:
    """The least l1*sum|W_k|_1 + (l2/2)*sum|W_k|_F^2 over the `depth` kernels whose product is a:
    l1 L |a|^(1/L) + l2 (L/2) |a|^(2/L), whatever the hidden widths (a float for a float)."""
    t = np.abs(np.asarray(a, np.float64))
    p = l1 * depth * t ** (1.0 / depth) + l2 * (depth / 2.0) * t ** (2.0 / depth)
    return float(p) if np.ndim(p) == 0 else p


def data_loss(slopes: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """(F, low, high) per slope a: F(a) = min_c sum|y - a x - c| and the interval [low, high] of
    the c attaining it, the middle order statistics of the residuals (one point for odd n)."""
    slopes = np.asarray(slopes, np.float64)
    n = len(x)
    k_low, k_high = (n - 1) // 2, n // 2
    rows = max(1, RESIDUALS_AT_ONCE // n)
    loss, low, high = (np.empty(len(slopes)) for _ in range(3))
    for i in range(0, len(slopes), rows):
        part = slice(i, i + rows)
        r = np.partition(y - slopes[part, None] * x, [k_low, k_high], axis=1)
        low[part], high[part] = r[:, k_low], r[:, k_high]
        loss[part] = np.abs(r - low[part, None]).sum(axis=1)
    return loss, low, high


def _pairwise_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The distinct slopes (y_i - y_j) / (x_i - x_j) over pairs with x_i != x_j, sorted: the only
    places where F can bend."""
    i, j = np.triu_indices(len(x), k=1)
    keep = x[i] != x[j]
    return np.unique((y[i[keep]] - y[j[keep]]) / (x[i[keep]] - x[j[keep]]))


def _convex_candidates(
    breaks: np.ndarray, x: np.ndarray, y: np.ndarray, l1: float, l2: float
) -> np.ndarray:
    """For depth 1 and l2 > 0: on each linear piece of G(a) = F(a) + l1|a| (breaks: its kinks,
    sorted, 0 among them), the minimizer of G + l2 a^2 / 2, i.e. -G'/l2 clipped to the piece.

    G' comes from G at the piece's two ends (the outer pieces: a point beyond the last kink)."""
    reach = max(1.0, float(np.max(np.abs(breaks))))
    ends = np.concatenate([[breaks[0] - reach], breaks, [breaks[-1] + reach]])
    g = data_loss(ends, x, y)[0] + l1 * np.abs(ends)
    gradient = np.diff(g) / np.diff(ends)
    lo = np.concatenate([[-np.inf], breaks])
    hi = np.concatenate([breaks, [np.inf]])
    return np.clip(-gradient / l2, lo, hi)


def _tolerance(slopes: np.ndarray, x: np.ndarray, y: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """A bound on the rounding error of J evaluated at each slope: values of J closer than the
    sum of two of these are ties."""
    size = np.abs(y).sum() + np.abs(slopes) * np.abs(x).sum() + penalty
    return ROUNDING * (len(x) + 1) * size


def _representative(tied: np.ndarray) -> float:
    """The tied slope nearest 0; between a and -a, the positive one."""
    return float(tied[np.lexsort((-tied, np.abs(tied)))[0]])


def _as_data(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y as float64 vectors of one length, at least one row, all finite."""
    x, y = np.ravel(np.asarray(x, np.float64)), np.ravel(np.asarray(y, np.float64))
    if len(x) != len(y) or not len(x):
        raise ValueError(f"x and y must have one nonzero length, got {len(x)} and {len(y)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite")
    return x, y


def _check_coefficients(depth: int, l1: float, l2: float) -> None:
    """depth >= 1 kernels and finite coefficients >= 0, or ValueError."""
    if int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a whole number of kernels >= 1, got {depth}")
    if not all(np.isfinite(c) and c >= 0 for c in (l1, l2)):
        raise ValueError(f"l1 and l2 must be finite and >= 0, got {l1}, {l2}")


def solve(
    x: np.ndarray,
    y: np.ndarray,
    depth: int,
    l1: float,
    l2: float,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
) -> Optimum:
    """The global minimum of J over every network of `depth` kernels (any widths) on (x, y).

    Candidates: the pairwise slopes and 0 (for depth 1 with l2 > 0, also each piece's clipped
    stationary point), J evaluated at all of them at once; exact up to float64 rounding.

    Ties: slope_range spans every candidate within rounding of the minimum. When P is convex
    (l1 = l2 = 0; depth 1; depth 2 with l1 = 0) J is convex in a, so every slope in the range is
    optimal; otherwise only the tied candidates are. If all x are equal and there is no penalty,
    every slope is optimal: the range is (-inf, inf). The representative slope is the tied one
    nearest 0 (between a and -a, the positive one): the smallest weights that reach the
    minimum, and the limit of the optimum when a vanishing penalty is added. The intercept is
    the middle of the best intercepts for that slope (an interval when n is even)."""
    x, y = _as_data(x, y)
    _check_coefficients(depth, l1, l2)
    depth = int(depth)
    breaks = np.union1d(_pairwise_slopes(x, y), [0.0])
    convex = depth == 1 and l2 > 0  # strictly convex: one minimizer, maybe inside a piece
    slopes = np.union1d(breaks, _convex_candidates(breaks, x, y, l1, l2)) if convex else breaks
    loss, low, high = data_loss(slopes, x, y)
    penalty = least_penalty(slopes, depth, l1, l2)
    total = loss + penalty
    margin = _tolerance(slopes, x, y, penalty)
    best = int(np.argmin(total))
    tied = slopes[total - total[best] <= margin + margin[best]]
    a = float(slopes[best]) if convex else _representative(tied)
    slope_range = (a, a) if convex else (float(tied.min()), float(tied.max()))
    if np.ptp(x) == 0 and l1 == l2 == 0:  # all x equal and no penalty: J is flat in a
        slope_range = (-np.inf, np.inf)
    i = int(np.searchsorted(slopes, a))
    c = (low[i] + high[i]) / 2
    return Optimum(
        slope=a,
        intercept=float(c),
        intercept_range=(float(low[i]), float(high[i])),
        slope_range=slope_range,
        objective=float(total[i]),
        data_loss=float(loss[i]),
        penalty=float(penalty[i]),
        test_error=_error_on(a, float(c), x_test, y_test),
        constant=a == 0,
    )


def _error_on(
    slope: float, intercept: float, x_test: np.ndarray | None, y_test: np.ndarray | None
) -> float:
    """sum |y - (slope x + intercept)| over the test rows; nan without them."""
    if x_test is None or y_test is None:
        return float("nan")
    xt, yt = (np.ravel(np.asarray(v, np.float64)) for v in (x_test, y_test))
    return float(np.abs(yt - (slope * xt + intercept)).sum())


def of_sgd(data: Dataset, depth: int, kernel: Penalty, batch_size: int = 1) -> Optimum:
    """The optimum of the objective per-sample SGD descends on `data`: each step's cost adds
    the whole kernel penalty, so an epoch of len(x_train) // batch_size steps counts it that
    many times (docs/optimum.md, "Scaling")."""
    steps = len(data.x_train) // batch_size
    l1, l2 = kernel.l1 * steps, kernel.l2 * steps
    return solve(data.x_train, data.y_train, depth, l1, l2, data.x_test, data.y_test)


def weights(optimum: Optimum | tuple[float, float], sizes: Sequence[int]) -> dict[str, np.ndarray]:
    """Single-model float32 weights of a network of `sizes` computing slope*x + intercept at the
    least penalty: one path through unit 0 of every hidden layer, every weight on it of magnitude
    |slope|^(1/L) (the first one carries the sign), the intercept in the last bias, the rest 0.

    The weights are rounded to float32, so J at them equals the optimum to float32 precision."""
    slope, intercept = (
        (optimum.slope, optimum.intercept) if isinstance(optimum, Optimum) else optimum
    )
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or sizes[0] != 1 or sizes[-1] != 1 or min(sizes) < 1:
        raise ValueError(f"sizes must be [1, h1, ..., 1] with every width >= 1, got {sizes}")
    depth = len(sizes) - 1
    step = abs(slope) ** (1.0 / depth)
    params = {}
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        w = np.zeros((n_in, n_out), np.float32)
        w[0, 0] = np.sign(slope) * step if k == 1 else step
        b = np.zeros(n_out, np.float32)
        if k == depth:
            b[0] = intercept
        params[f"dense{k}/W"], params[f"dense{k}/b"] = w, b
    return params


def _layers(params: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W, b), ...] of a parameter dict (one model or a stack) in layer order, as float64."""
    names = sorted({k.split("/")[0] for k in params}, key=lambda s: int(s.removeprefix("dense")))
    return [
        (np.asarray(params[f"{n}/W"], np.float64), np.asarray(params[f"{n}/b"], np.float64))
        for n in names
    ]


def profile(
    x: np.ndarray, y: np.ndarray, depth: int, l1: float, l2: float, reach: float
) -> tuple[np.ndarray, np.ndarray]:
    """(slopes a, J(a)): the objective minimized over every network of `depth` kernels that
    computes slope a, F(a) + least_penalty(a), on a grid from -0.5 to `reach` (0 included), for
    drawing. solve() finds its minimum exactly; a trained network lies on or above it."""
    a = np.union1d(np.linspace(-0.5, reach, 400), [0.0])
    return a, data_loss(a, *_as_data(x, y))[0] + least_penalty(a, depth, l1, l2)


def slope(params: dict[str, np.ndarray]) -> float | np.ndarray:
    """The slope a = W1 W2 ... WL an identity network computes (one per model of a stack)."""
    kernels = [np.asarray(w, np.float64) for w, _ in _layers(params)]
    a = functools.reduce(np.matmul, kernels)[..., 0, 0]
    return float(a) if np.ndim(a) == 0 else a


def predictions(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The outputs of an identity network on x [n] in float64: [n] for single-model params,
    [R, n] for a stack (W [R, in, out], b [R, 1, out])."""
    h = np.asarray(x, np.float64)[:, None]
    for w, b in _layers(params):
        h = h @ w + b  # matmul broadcasts over the model axis of a stack
    return h[..., 0]


def objective(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    l1: float | np.ndarray,
    l2: float | np.ndarray,
) -> float | np.ndarray:
    """J of an identity-activation network (any sizes) on (x, y), in float64: sum|pred - y| +
    l1 sum|W| + (l2/2) sum W^2 over the kernels; one value per model of a stack (l1, l2: a
    coefficient, or one per model)."""
    x, y = _as_data(x, y)
    kernels = [w for w, _ in _layers(params)]
    l1_sum = sum(np.abs(w).sum(axis=(-2, -1)) for w in kernels)
    l2_sum = sum((w**2).sum(axis=(-2, -1)) for w in kernels)
    j = np.abs(predictions(params, x) - y).sum(-1) + l1 * l1_sum + l2 / 2 * l2_sum
    return float(j) if np.ndim(j) == 0 else j
