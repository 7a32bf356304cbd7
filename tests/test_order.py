"""The SGD spec: sample orders, learning-rate schedules, evaluation steps, the tail mean, and
every engine following them alike."""

import numpy as np
import pytest

from l1l2.core import data, model, regularizers
from l1l2.core.sgd import SGD, sample_table
from l1l2.core.train import evaluate, train

D = data.load("data/line.csv")
SIZES = (1, 10, 10, 10, 1)


def rows(table, steps):
    """[steps, R or 1, B]: the samples of every step, by the rule 'step i reads row i % P'."""
    return table[np.arange(steps) % len(table)]


def test_file_order_visits_the_rows_as_listed_every_epoch():
    x = np.arange(6.0)
    table = sample_table(SGD(epochs=2, batch_size=2), x, x, seeds=[0, 1, 2])
    assert table.shape == (3, 1, 2)  # one epoch, one column for every model
    assert rows(table, 6)[:, 0].ravel().tolist() == [0, 1, 2, 3, 4, 5] * 2


def test_shuffled_order_is_a_new_permutation_each_epoch_fixed_by_the_seed():
    spec = SGD(epochs=3, order="shuffle")
    a = sample_table(spec, D.x_train, D.y_train, [4])[:, 0, 0]
    epochs = a.reshape(3, -1)
    assert all(sorted(e) == list(range(len(D.x_train))) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3
    np.testing.assert_array_equal(a, sample_table(spec, D.x_train, D.y_train, [4])[:, 0, 0])
    assert not np.array_equal(a, sample_table(spec, D.x_train, D.y_train, [5])[:, 0, 0])


def test_a_stack_can_mix_orders_each_model_keeping_its_own():
    spec = SGD(epochs=2, order="shuffle")
    mixed = sample_table(spec, D.x_train, D.y_train, [4, 4], orders=["file", "shuffle"])
    assert mixed.shape == (80, 2, 1)
    assert mixed[:, 0, 0].tolist() == list(range(40)) * 2
    np.testing.assert_array_equal(mixed[:, 1], sample_table(spec, D.x_train, D.y_train, [4])[:, 0])


def test_shuffled_order_does_not_depend_on_how_the_file_lists_the_rows():
    """Reordering the training rows gives the same sequence of samples, hence the same runs."""
    perm = np.random.default_rng(0).permutation(len(D.x_train))
    x2, y2 = D.x_train[perm], D.y_train[perm]
    spec = SGD(epochs=2, order="shuffle")
    a = sample_table(spec, D.x_train, D.y_train, [7])[:, 0, 0]
    b = sample_table(spec, x2, y2, [7])[:, 0, 0]
    np.testing.assert_array_equal(D.x_train[a], x2[b])
    np.testing.assert_array_equal(D.y_train[a], y2[b])


@pytest.mark.parametrize(
    "schedule, want",
    [
        ("constant", lambda t: 1.0),
        ("linear", lambda t: 1.0 - t),
        ("cosine", lambda t: 0.5 + 0.5 * np.cos(np.pi * t)),
    ],
)
def test_schedules_by_hand(schedule, want):
    """Step i of T runs at lr * f(i / T): from lr at step 0 towards 0 after the last."""
    spec = SGD(lr=0.2, epochs=3, schedule=schedule)
    rates = spec.rates(10)
    assert rates.dtype == np.float32 and len(rates) == 30
    np.testing.assert_allclose(rates, [0.2 * want(i / 30) for i in range(30)], rtol=1e-6)


def test_evaluation_steps():
    n = 40
    assert SGD(epochs=3).eval_steps(n).tolist() == [0, 120]
    assert SGD(epochs=3, every_epoch=True).eval_steps(n).tolist() == [0, 40, 80, 120]
    tail = SGD(epochs=3, every_epoch=True, tail_epochs=1).eval_steps(n).tolist()
    assert tail == [0, 40, *range(80, 121)]  # epoch ends, then every step of the last
    assert SGD(epochs=2, every_step=True).eval_steps(n).tolist() == list(range(81))


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine"])
@pytest.mark.parametrize("kind", ["file", "shuffle"])
def test_engines_agree_for_every_order_and_schedule(kind, schedule):
    """A model per method, each with its own order: the in-graph and compiled loops equal the
    sess.run loop in weights and test errors (and the graph loop in step costs)."""
    x, y = D.x_train[:8], D.y_train[:8]
    seeds = (3, 4, 5, 6)
    p0 = model.stack([model.glorot_init(SIZES, s) for s in seeds])
    pen = regularizers.stack([regularizers.for_method(m, 0.3) for m in regularizers.METHODS])
    spec = SGD(epochs=4, order=kind, schedule=schedule, every_epoch=True, tail_epochs=1)
    kw = dict(seeds=seeds, test=(D.x_test, D.y_test))
    ref = train(x, y, p0, pen, spec, engine="reference", **kw)
    for engine in ("graph", "compiled"):
        got = train(x, y, p0, pen, spec, engine=engine, **kw)
        for k in p0:
            np.testing.assert_allclose(got.params[k], ref.params[k], atol=2e-6, err_msg=k)
        np.testing.assert_allclose(got.test_error, ref.test_error, rtol=1e-5)
        if engine == "graph":
            np.testing.assert_allclose(got.step_cost, ref.step_cost, rtol=1e-5, atol=1e-5)


def test_a_model_sees_only_its_own_order():
    """Model 1 of a stack trained in its order equals that model trained alone in that order."""
    p = [model.glorot_init(SIZES, s) for s in (0, 1)]
    pen = regularizers.Penalty(l2=0.3)
    spec = SGD(epochs=2, order="shuffle")
    both = train(D.x_train, D.y_train, model.stack(p), regularizers.stack([pen] * 2), spec,
                 seeds=[0, 1])  # fmt: skip
    alone = train(D.x_train, D.y_train, model.stack(p[1:]), regularizers.stack([pen]), spec,
                  seeds=[1])  # fmt: skip
    for k in alone.params:
        np.testing.assert_array_equal(both.params[k][1], alone.params[k][0])


def np_test_error(params, x, y):
    """Total absolute error of one linear model, by NumPy in float64."""
    h = x[:, None].astype(np.float64)
    for name in model.layer_names(params):
        h = h @ params[f"{name}/W"] + params[f"{name}/b"]
    return np.abs(h[:, 0] - y).sum()


def test_tail_mean_is_the_mean_test_error_of_the_recorded_tail_weights():
    p0 = model.stack([model.glorot_init(SIZES, s) for s in (0, 1)])
    pen = regularizers.stack([regularizers.for_method(m, 0.3) for m in ("l1", "l2")])
    n, epochs = len(D.x_train), 3
    spec = SGD(epochs=epochs, every_epoch=True, tail_epochs=1, record=True)
    steps = spec.eval_steps(n)
    t = train(D.x_train, D.y_train, p0, pen, spec, test=(D.x_test, D.y_test))
    in_tail = steps > (epochs - 1) * n
    for r in range(2):
        errors = [
            np_test_error(
                {k: v[f, r] if k.endswith("/W") else v[f, r, 0] for k, v in t.frames.items()},
                D.x_test,
                D.y_test,
            )
            for f in np.flatnonzero(in_tail)
        ]
        np.testing.assert_allclose(t.test_error[in_tail, r], errors, rtol=1e-5)
        assert t.tail_error(n)[r] == pytest.approx(np.mean(errors), rel=1e-5)
    np.testing.assert_array_equal(
        t.test_error[-1], evaluate(t.params, D.x_test, D.y_test, pen)[1]
    )  # the last point is the final weights' error
