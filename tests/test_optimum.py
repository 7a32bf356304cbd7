"""The exact optimum of an identity-activation network against independent checks: hand values,
random factorizations, dense grids, a generic optimizer from random starts, a linear program and
the TF1 graph's own cost."""

from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

from l1l2.core import data, model, optimum
from l1l2.core.regularizers import Penalty
from l1l2.tf1 import session, tf, v1

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 10, 10, 10, 1)
LINE = data.load(ROOT / "data" / "line.csv")
X, Y = LINE.x_train.astype(np.float64), LINE.y_train.astype(np.float64)
XT, YT = LINE.x_test.astype(np.float64), LINE.y_test.astype(np.float64)
METHODS = {"none": (0, 0), "l1": (1, 0), "l2": (0, 1), "l1l2": (1, 1)}  # multiples of lam
CASES = [("none", 0.0)] + [(m, lam) for m in ("l1", "l2", "l1l2") for lam in (0.3, 12, 30, 40)]


def coefficients(method, lam):
    return tuple(lam * c for c in METHODS[method])


def np_loss(a, c, x=X, y=Y):
    """sum |y - a x - c| for every (a, c) of a grid: [len(a), len(c)]."""
    out = np.empty((len(a), len(c)))
    for i, ai in enumerate(a):
        out[i] = np.abs(y[None, :] - ai * x[None, :] - c[:, None]).sum(axis=1)
    return out


def best_intercept_loss(a, x, y):
    """min over c of sum |y - a x - c|, the median's way."""
    r = y - a * x
    return np.abs(r - np.median(r)).sum()


# --- the least penalty of a product --------------------------------------------------------------


def test_least_penalty_hand_values():
    assert optimum.least_penalty(-3.0, 1, 2.0, 0.5) == pytest.approx(2 * 3 + 0.5 * 9 / 2)
    assert optimum.least_penalty(4.0, 2, 1.0, 1.0) == pytest.approx(2 * 2 + 1 * 4)
    assert optimum.least_penalty(16.0, 4, 0.3, 0.7) == pytest.approx(0.3 * 4 * 2 + 0.7 * 2 * 4)
    assert optimum.least_penalty(0.0, 4, 1.0, 1.0) == 0.0
    got = optimum.least_penalty(np.array([-8.0, 8.0]), 3, 1.0, 0.0)
    np.testing.assert_allclose(got, [6.0, 6.0])


@pytest.mark.parametrize("l1, l2", [(1.0, 0.0), (0.0, 1.0), (0.7, 0.4)])
def test_least_penalty_of_a_two_weight_chain_by_brute_force(l1, l2):
    """Sizes 1-1-1: w and a/w, w over a fine grid."""
    a = 2.7
    w = np.linspace(1e-3, 6, 600_001)
    brute = l1 * (w + a / w) + l2 / 2 * (w**2 + (a / w) ** 2)
    assert brute.min() >= optimum.least_penalty(a, 2, l1, l2) - 1e-12
    assert brute.min() == pytest.approx(optimum.least_penalty(a, 2, l1, l2), rel=1e-9)


@pytest.mark.parametrize("sizes", [(1, 3, 1), (1, 3, 4, 2, 1), SIZES])
def test_random_factorizations_never_beat_the_least_penalty(sizes):
    rng = np.random.default_rng(len(sizes))
    depth, models = len(sizes) - 1, 2000
    kernels = [
        rng.normal(size=(models, i, o)) * (rng.uniform(size=(models, i, o)) < 0.4)
        for i, o in zip(sizes[:-1], sizes[1:])
    ]
    product = kernels[0]
    for w in kernels[1:]:
        product = product @ w
    product = product[:, 0, 0]
    ok = np.abs(product) > 1e-6
    a = rng.uniform(-5, 5, models)[ok]
    kernels = [w[ok] for w in kernels]
    kernels[0] = kernels[0] * (a / product[ok])[:, None, None]  # now the product is a
    l1_sum = sum(np.abs(w).sum(axis=(1, 2)) for w in kernels)
    l2_sum = sum((w**2).sum(axis=(1, 2)) for w in kernels)
    for l1, l2 in [(1.0, 0.0), (0.0, 1.0), (0.3, 2.0)]:
        least = optimum.least_penalty(a, depth, l1, l2)
        assert (l1 * l1_sum + l2 / 2 * l2_sum >= least * (1 - 1e-12)).all()


# --- the weights that attain it ------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(1, 1), (1, 2, 1), (1, 3, 2, 1), SIZES])
@pytest.mark.parametrize("method, lam", [("none", 0), ("l1", 12), ("l2", 12), ("l1l2", 0.3)])
def test_weights_attain_the_optimum(sizes, method, lam):
    l1, l2 = coefficients(method, lam)
    opt = optimum.solve(X, Y, len(sizes) - 1, l1, l2)
    params = optimum.weights(opt, sizes)
    shapes = {k: v.shape for k, v in model.glorot_init(sizes, 0).items()}
    assert {k: v.shape for k, v in params.items()} == shapes
    assert all(v.dtype == np.float32 for v in params.values())
    # float32 weights: the slope they make is the optimum's to float32 precision
    assert optimum.objective(params, X, Y, l1, l2) == pytest.approx(opt.objective, rel=1e-6)
    assert opt.objective == pytest.approx(opt.data_loss + opt.penalty, rel=1e-14)


def test_weights_of_a_negative_slope_are_one_balanced_path():
    params = optimum.weights((-8.0, 1.5), (1, 3, 2, 1))
    nonzero = {k: np.argwhere(v).tolist() for k, v in params.items()}
    assert nonzero == {
        "dense1/W": [[0, 0]],
        "dense1/b": [],
        "dense2/W": [[0, 0]],
        "dense2/b": [],
        "dense3/W": [[0, 0]],
        "dense3/b": [[0]],
    }
    assert [params[f"dense{k}/W"][0, 0] for k in (1, 2, 3)] == [-2.0, 2.0, 2.0]
    x = np.array([0.0, 1.0, 2.0])
    assert optimum.objective(params, x, 1.5 - 8 * x, 1.0, 1.0) == pytest.approx(6 + 12 / 2)


def tf_cost(params, l1, l2):
    g = tf.Graph()
    with g.as_default():
        x, y = (tf.constant(v[:, None], tf.float32) for v in (X, Y))
        net = model.build(x, y, model.stack([params]), Penalty(l1=l1, l2=l2))
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            return float(sess.run(net.cost)[0])


@pytest.mark.parametrize("method, lam", CASES)
def test_the_tf1_graph_costs_the_optimum_at_those_weights(method, lam):
    l1, l2 = coefficients(method, lam)
    opt = optimum.solve(X, Y, len(SIZES) - 1, l1, l2)
    assert tf_cost(optimum.weights(opt, SIZES), l1, l2) == pytest.approx(opt.objective, rel=1e-6)


# --- no point of a dense grid does better --------------------------------------------------------

GRID_A = np.union1d(np.linspace(-0.5, 3.0, 701), [0.0])
GRID_C = np.linspace(-3.0, 16.0, 1901)


@pytest.fixture(scope="module")
def grid_loss():
    return np_loss(GRID_A, GRID_C)


@pytest.mark.parametrize("depth", [4, 2, 1])
@pytest.mark.parametrize("method, lam", CASES)
def test_no_grid_point_does_better(grid_loss, depth, method, lam):
    l1, l2 = coefficients(method, lam)
    opt = optimum.solve(X, Y, depth, l1, l2)
    rounding = 1e-12 * opt.objective
    coarse = grid_loss + optimum.least_penalty(GRID_A, depth, l1, l2)[:, None]
    assert coarse.min() >= opt.objective - rounding
    a = opt.slope + np.linspace(-0.01, 0.01, 201)
    c = opt.intercept + np.linspace(-0.05, 0.05, 201)
    fine = np_loss(a, c) + optimum.least_penalty(a, depth, l1, l2)[:, None]
    assert fine.min() >= opt.objective - rounding
    assert fine.min() == pytest.approx(opt.objective, rel=1e-12)  # its centre is the optimum


# --- a generic optimizer from random starts ------------------------------------------------------


def flat_objective(sizes, x, y, l1, l2):
    """J as a function of one flat vector holding every kernel and bias of `sizes`."""
    shapes = [((i, o), (o,)) for i, o in zip(sizes[:-1], sizes[1:])]
    ends = np.cumsum([0] + [i * o + o for (i, o), _ in shapes])
    xs = x[:, None]

    def f(theta):
        h, pen1, pen2 = xs, 0.0, 0.0
        for ((i, o), _), start in zip(shapes, ends):
            w = theta[start : start + i * o].reshape(i, o)
            h = h @ w + theta[start + i * o : start + i * o + o]
            pen1 += np.abs(w).sum()
            pen2 += (w * w).sum()
        return np.abs(h[:, 0] - y).sum() + l1 * pen1 + l2 / 2 * pen2

    return f, ends[-1]


@pytest.mark.parametrize(
    "sizes, l1, l2, close", [((1, 2, 1), 5.0, 2.0, 1e-6), ((1, 2, 2, 1), 8.0, 1.0, 1e-4)]
)
def test_random_starts_of_a_generic_optimizer_never_do_better(sizes, l1, l2, close):
    """Both optima here are lines. (Where the optimum is the constant, e.g. l1 = 20 on 1-2-2-1,
    starts like these end on lines above it: the all-zero kernels are a local minimum that
    random starts do not fall into.)"""
    x, y = X[::2], Y[::2]  # 20 rows keep the thousands of evaluations quick
    opt = optimum.solve(x, y, len(sizes) - 1, l1, l2)
    f, dim = flat_objective(sizes, x, y, l1, l2)
    assert f(flatten(optimum.weights(opt, sizes))) == pytest.approx(opt.objective, rel=1e-6)
    rng = np.random.default_rng(1)
    ends = []
    for _ in range(6):
        theta = rng.normal(0.0, 1.5, dim)
        for method in ("Powell", "Nelder-Mead", "Powell"):
            theta = optimize.minimize(f, theta, method=method, options={"maxfev": 8000}).x
        ends.append(f(theta))
    assert min(ends) >= opt.objective * (1 - 1e-12)
    assert min(ends) <= opt.objective * (1 + close)


def flatten(params):
    names = model.layer_names(params)
    return np.concatenate(
        [np.concatenate([params[f"{n}/W"].ravel(), params[f"{n}/b"]]) for n in names]
    ).astype(np.float64)


# --- depth 1 with l2: a strictly convex objective ------------------------------------------------


def test_depth_one_with_l2_by_hand_even_n():
    """Two rows: J(a) = 2|1 - a| + l2 a^2 / 2."""
    x, y = np.array([-1.0, 1.0]), np.array([-1.0, 1.0])
    opt = optimum.solve(x, y, 1, 0.0, 4.0)  # stationary point 1/2, inside the piece a < 1
    assert opt.slope == pytest.approx(0.5)
    assert opt.objective == pytest.approx(1.5)
    assert opt.intercept_range == pytest.approx((-0.5, 0.5))
    assert opt.intercept == pytest.approx(0.0)
    opt = optimum.solve(x, y, 1, 0.0, 1.0)  # stationary point 2, clipped to the kink at 1
    assert opt.slope == pytest.approx(1.0)
    assert opt.objective == pytest.approx(0.5)


def test_depth_one_with_l2_by_hand_odd_n():
    """Three rows: F(a) = 6 - a on [0, 1], so J = 6 - a + a^2 is least at a = 1/2."""
    x, y = np.array([-1.0, 0.0, 1.0]), np.array([-1.0, 5.0, 1.0])
    opt = optimum.solve(x, y, 1, 0.0, 2.0)
    assert opt.slope == pytest.approx(0.5)
    assert opt.objective == pytest.approx(5.75)
    assert opt.intercept_range == pytest.approx((0.5, 0.5))
    assert opt.slope_range == (opt.slope, opt.slope)


@pytest.mark.parametrize("rows", [40, 39])
@pytest.mark.parametrize("l1, l2", [(0.0, 12.0), (0.0, 300.0), (5.0, 40.0)])
def test_depth_one_with_l2_against_a_scalar_minimizer(rows, l1, l2):
    x, y = X[:rows], Y[:rows]
    j = lambda a: best_intercept_loss(a, x, y) + l1 * abs(a) + l2 * a * a / 2
    ref = optimize.minimize_scalar(j, bounds=(-5, 5), method="bounded", options={"xatol": 1e-10})
    opt = optimum.solve(x, y, 1, l1, l2)
    assert opt.objective <= ref.fun + 1e-12 * ref.fun
    assert opt.objective == pytest.approx(ref.fun, rel=1e-9)
    assert opt.slope == pytest.approx(ref.x, abs=1e-6)


# --- intercepts, ties, degenerate data -----------------------------------------------------------


def test_even_n_gives_an_interval_of_intercepts():
    """L1 at 30 on data/line.csv gives the constant network: c is any median of y."""
    opt = optimum.solve(X, Y, 4, 30.0, 0.0)
    ys = np.sort(Y)
    assert opt.constant and opt.slope == 0.0
    assert opt.intercept_range == (ys[19], ys[20])
    assert opt.intercept == (ys[19] + ys[20]) / 2
    assert opt.objective == pytest.approx(np.abs(Y - np.median(Y)).sum(), rel=1e-12)
    assert opt.penalty == 0.0


@pytest.mark.parametrize("shift, range_, rep", [(0.0, (-1.0, 1.0), 0.0), (2.0, (1.0, 3.0), 1.0)])
def test_tied_slopes(shift, range_, rep):
    """Four corners of a unit square (tilted by `shift`): without a penalty F = 2 for every
    slope in range_, and the representative is the one nearest 0."""
    x = np.array([0.0, 0.0, 1.0, 1.0])
    y = np.array([0.0, 1.0, 0.0, 1.0]) + shift * x
    opt = optimum.solve(x, y, 4, 0.0, 0.0)
    assert opt.slope_range == pytest.approx(range_)
    assert opt.slope == pytest.approx(rep)
    assert opt.objective == pytest.approx(2.0)
    # with depth 2 and l2 only, J = F + l2|a| is still flat where F is: nothing moves for a = 0
    if shift == 0:
        assert optimum.solve(x, y, 2, 0.0, 0.5).slope_range == pytest.approx((0.0, 0.0))


def test_degenerate_data():
    x, y = np.full(3, 2.0), np.array([1.0, 2.0, 7.0])
    free = optimum.solve(x, y, 4, 0.0, 0.0)  # every slope fits as well: J is flat in a
    assert free.slope == 0.0 and free.slope_range == (-np.inf, np.inf)
    assert free.intercept == 2.0 and free.objective == 6.0
    for depth, l1, l2 in [(4, 1.0, 0.0), (1, 0.0, 1.0), (2, 0.0, 3.0)]:
        opt = optimum.solve(x, y, depth, l1, l2)
        assert opt.slope == 0.0 and opt.slope_range == (0.0, 0.0) and opt.objective == 6.0
    one = optimum.solve([3.0], [4.0], 4, 0.0, 0.0)
    assert one.slope_range == (-np.inf, np.inf) and one.intercept == 4.0 and one.objective == 0.0
    assert optimum.solve([3.0], [4.0], 1, 1.0, 1.0).intercept == 4.0
    flat = optimum.solve([0.0, 1.0], [5.0, 5.0], 4, 0.0, 0.0)  # one breakpoint, and it is 0
    assert flat.slope_range == (0.0, 0.0) and flat.intercept == 5.0 and flat.objective == 0.0


def test_rows_in_any_order_give_the_same_optimum():
    perm = np.random.default_rng(0).permutation(len(X))
    shuffled = optimum.solve(X[perm], Y[perm], 4, 12.0, 12.0, XT, YT)
    assert shuffled == optimum.solve(X, Y, 4, 12.0, 12.0, XT, YT)


@pytest.mark.parametrize(
    "args", [([], [], 4, 0, 0), ([1.0], [1.0, 2.0], 4, 0, 0), ([1.0], [np.nan], 4, 0, 0)]
)
def test_bad_data_is_refused(args):
    with pytest.raises(ValueError):
        optimum.solve(*args)


@pytest.mark.parametrize("depth, l1, l2", [(0, 0, 0), (2.5, 0, 0), (4, -1, 0), (4, 0, np.inf)])
def test_bad_coefficients_are_refused(depth, l1, l2):
    with pytest.raises(ValueError):
        optimum.solve(X, Y, depth, l1, l2)


# --- known values on data/line.csv ---------------------------------------------------------------


def test_no_penalty_is_least_absolute_deviations_by_linear_programming():
    """min sum(u + v) with a x_i + c + u_i - v_i = y_i, u, v >= 0: the same line."""
    n = len(X)
    eq = np.hstack([X[:, None], np.ones((n, 1)), np.eye(n), -np.eye(n)])
    cost = np.concatenate([[0.0, 0.0], np.ones(2 * n)])
    bounds = [(None, None)] * 2 + [(0, None)] * (2 * n)
    lp = optimize.linprog(cost, A_eq=eq, b_eq=Y, bounds=bounds, method="highs")
    opt = optimum.solve(X, Y, 4, 0.0, 0.0, XT, YT)
    assert opt.objective == pytest.approx(lp.fun, rel=1e-9)
    assert (opt.slope, opt.intercept) == pytest.approx(tuple(lp.x[:2]), abs=1e-7)
    assert opt.slope_range == (opt.slope, opt.slope)
    assert (round(opt.slope, 3), round(opt.intercept, 3)) == (1.965, 1.561)
    assert round(opt.test_error, 3) == 5.282
    assert opt.test_error == pytest.approx(np.abs(YT - lp.x[0] * XT - lp.x[1]).sum(), rel=1e-9)


def test_the_line_is_the_line_through_two_training_rows():
    """A least-absolute-deviations line passes through two samples: find them by brute force."""
    opt = optimum.solve(X, Y, 4, 0.0, 0.0)
    i, j = np.triu_indices(len(X), k=1)
    slopes = (Y[i] - Y[j]) / (X[i] - X[j])
    losses = [best_intercept_loss(s, X, Y) for s in slopes]
    assert opt.slope == pytest.approx(slopes[int(np.argmin(losses))], abs=1e-12)


def test_strong_l1_makes_the_network_constant():
    """l1 = 30 on four kernels: the constant beats every breakpoint (checked one by one)."""
    opt = optimum.solve(X, Y, 4, 30.0, 0.0, XT, YT)
    assert opt.constant
    i, j = np.triu_indices(len(X), k=1)
    slopes = (Y[i] - Y[j]) / (X[i] - X[j])
    line = min(best_intercept_loss(s, X, Y) + 30 * 4 * abs(s) ** 0.25 for s in slopes)
    assert line > opt.objective
    assert opt.test_error == pytest.approx(np.abs(YT - opt.intercept).sum(), rel=1e-12)
