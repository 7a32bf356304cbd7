"""Batched models are independent; divergence stays with its model. (The in-graph engine
against the reference loop, every method and both orders: test_order.py.)"""

import numpy as np

from l1l2.core import data, engine, model, regularizers
from l1l2.core.sgd import SGD
from l1l2.core.train import train

D = data.load("data/line.csv")
SIZES = (1, 10, 10, 10, 1)


def fit(params, penalties, **kw):
    spec = SGD(**{"epochs": 5, **kw})
    return train(D.x_train, D.y_train, model.stack(params), regularizers.stack(penalties), spec)


def test_batched_models_are_independent():
    a = model.glorot_init(SIZES, 1), regularizers.for_method("l1", 0.3)
    b = model.glorot_init(SIZES, 2), regularizers.for_method("l2", 0.1)
    both = fit([a[0], b[0]], [a[1], b[1]])
    for i, (p, pen) in enumerate((a, b)):
        alone = fit([p], [pen])
        for k in alone.params:
            assert np.abs(both.params[k][i] - alone.params[k][0]).max() <= 1e-6, k


def test_divergence_is_located_per_model():
    t = fit([model.glorot_init(SIZES, 0)] * 2, [regularizers.Penalty()] * 2, lr=5.0, epochs=3)
    at = t.diverged_at
    assert (at >= 0).all() and np.isfinite(t.step_cost[: at[0], 0]).all()
    assert not np.isfinite(t.step_cost[at[0], 0])


def test_a_diverging_model_leaves_its_neighbour_untouched():
    p0 = [model.glorot_init(SIZES, 0), model.glorot_init(SIZES, 1)]
    pens = [regularizers.Penalty(l2=1e6), regularizers.Penalty(l1=0.3)]  # w <- w (1 - 1e4)
    both = fit(p0, pens, epochs=3)
    alone = fit(p0[1:], pens[1:], epochs=3)
    assert both.diverged_at.tolist()[0] >= 0 and both.diverged_at.tolist()[1] == -1
    for k in alone.params:
        np.testing.assert_array_equal(both.params[k][1], alone.params[k][0])


def test_one_thread_and_the_pool_give_the_same_bits(monkeypatch):
    """A stack at most ONE_THREAD_MODELS runs its ops one at a time, a bigger one on the pool of
    threads: the executor must not change a number."""
    p0 = [model.glorot_init(SIZES, s) for s in range(3)]
    pens = [regularizers.for_method(m, 0.3) for m in ("none", "l1", "l2")]
    kw = {"epochs": 3, "order": "shuffle", "record": True, "every_epoch": True, "tail_epochs": 1}
    test = (D.x_test, D.y_test)
    runs = []
    for limit in (engine.ONE_THREAD_MODELS, 0):  # one thread, then the pool
        monkeypatch.setattr(engine, "ONE_THREAD_MODELS", limit)
        stack, pen = model.stack(p0), regularizers.stack(pens)
        runs.append(train(D.x_train, D.y_train, stack, pen, SGD(**kw), test=test, seeds=[0, 1, 2]))
    one, pool = runs
    for k in one.params:
        np.testing.assert_array_equal(one.params[k], pool.params[k])
        np.testing.assert_array_equal(one.frames[k], pool.frames[k])
    np.testing.assert_array_equal(one.step_cost, pool.step_cost)
    np.testing.assert_array_equal(one.test_error, pool.test_error)
