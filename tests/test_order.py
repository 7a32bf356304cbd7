"""Sample orders as an experimental factor, and the tail-averaged test error."""

import numpy as np
import pytest

from l1l2.core import data, engine, model, regularizers, train

D = data.load("data/line.csv")
SIZES = (1, 10, 10, 10, 1)


def test_file_order_visits_the_rows_as_listed_every_epoch():
    order = train.file_order(6, epochs=2, batch_size=2, n_models=3)
    assert order.shape == (6, 3, 2)
    assert order[:, 0].ravel().tolist() == [0, 1, 2, 3, 4, 5] * 2
    assert (order == order[:, :1]).all()  # every model the same


def test_shuffled_order_is_a_new_permutation_each_epoch_fixed_by_the_seed():
    a = train.shuffled_order(D.x_train, D.y_train, epochs=3, batch_size=1, seed=4)
    epochs = a.reshape(3, -1)
    assert all(sorted(e) == list(range(len(D.x_train))) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3
    np.testing.assert_array_equal(a, train.shuffled_order(D.x_train, D.y_train, 3, 1, 4))
    assert not np.array_equal(a, train.shuffled_order(D.x_train, D.y_train, 3, 1, 5))


def test_shuffled_order_does_not_depend_on_how_the_file_lists_the_rows():
    """Reordering the training rows gives the same sequence of samples, hence the same runs."""
    perm = np.random.default_rng(0).permutation(len(D.x_train))
    x2, y2 = D.x_train[perm], D.y_train[perm]
    a = train.shuffled_order(D.x_train, D.y_train, 2, 1, seed=7)
    b = train.shuffled_order(x2, y2, 2, 1, seed=7)
    np.testing.assert_array_equal(D.x_train[a], x2[b])
    np.testing.assert_array_equal(D.y_train[a], y2[b])


@pytest.mark.parametrize("kind", ["file", "shuffle"])
def test_engines_agree_for_both_orders(kind):
    """A model per method, each with its own order: the in-graph loop equals the sess.run loop
    in weights, step costs and test errors."""
    x, y = D.x_train[:8], D.y_train[:8]
    seeds = (3, 4, 5, 6)
    p0 = model.stack([model.glorot_init(SIZES, s) for s in seeds])
    pen = regularizers.stack([regularizers.for_method(m, 0.3) for m in regularizers.METHODS])
    order = np.stack([train.sample_order(kind, x, y, 4, 1, s) for s in seeds], axis=1)
    kw = dict(
        lr=0.01,
        epochs=4,
        order=order,
        eval_steps=train.evaluation_steps(32, 8, 8),
        test=(D.x_test, D.y_test),
    )
    g = engine.train_graph(x, y, p0, pen, **kw)
    r = train.train_reference(x, y, p0, pen, **kw)
    for k in p0:
        np.testing.assert_allclose(g.params[k], r.params[k], atol=1e-6, err_msg=k)
    np.testing.assert_allclose(g.test_error, r.test_error, rtol=1e-5)
    np.testing.assert_allclose(g.step_cost, r.step_cost, rtol=1e-5, atol=1e-5)


def test_a_model_sees_only_its_own_order():
    """Model 1 of a stack trained in its order equals that model trained alone in that order."""
    p = [model.glorot_init(SIZES, s) for s in (0, 1)]
    pen = regularizers.Penalty(l2=0.3)
    order = np.stack(
        [train.sample_order("shuffle", D.x_train, D.y_train, 2, 1, s) for s in (0, 1)], axis=1
    )
    both = engine.train_graph(
        D.x_train,
        D.y_train,
        model.stack(p),
        regularizers.stack([pen] * 2),
        lr=0.01,
        epochs=2,
        order=order,
    )
    alone = engine.train_graph(
        D.x_train,
        D.y_train,
        model.stack(p[1:]),
        regularizers.stack([pen]),
        lr=0.01,
        epochs=2,
        order=order[:, 1:],
    )
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
    n, epochs, tail = len(D.x_train), 3, len(D.x_train)
    steps = train.evaluation_steps(epochs * n, n, tail)
    assert steps.tolist() == [0, n, *range(2 * n, 3 * n + 1)]  # epoch ends, then every step
    t = engine.train_graph(
        D.x_train,
        D.y_train,
        p0,
        pen,
        lr=0.01,
        epochs=epochs,
        eval_steps=steps,
        test=(D.x_test, D.y_test),
        record=True,
    )
    in_tail = steps > epochs * n - tail
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
        assert t.tail_error(tail)[r] == pytest.approx(np.mean(errors), rel=1e-5)
    np.testing.assert_array_equal(
        t.test_error[-1], train.evaluate(t.params, D.x_test, D.y_test, pen)[1]
    )  # the last point is the final weights' error
