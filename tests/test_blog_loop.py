"""The blog's loop, the file a learner opens first, trains exactly what the engines train."""

import numpy as np
import pytest

from l1l2 import blog_loop
from l1l2.core import data, model, regularizers
from l1l2.core.sgd import SGD
from l1l2.core.train import train

D = data.load("data/line.csv")


@pytest.mark.parametrize("method", ["l1", "l2"])
def test_the_blog_loop_equals_every_engine(method):
    p0 = model.glorot_init(blog_loop.SIZES, 3)
    penalty = regularizers.for_method(method, blog_loop.LAM)
    got = blog_loop.train(D.x_train, D.y_train, p0, penalty, epochs=2)
    stacked, pens = model.stack([p0]), regularizers.stack([penalty])
    for engine in ("reference", "graph", "compiled"):
        want = train(D.x_train, D.y_train, stacked, pens, SGD(epochs=2), engine=engine)
        for k in p0:
            np.testing.assert_allclose(got[k], model.unstack(want.params, 0)[k], atol=1e-6)


def test_test_error_is_the_summed_absolute_error():
    p = model.glorot_init((1, 2, 1), 0)
    pred = (D.x_test[:, None] @ p["dense1/W"] + p["dense1/b"]) @ p["dense2/W"] + p["dense2/b"]
    want = np.abs(pred[:, 0] - D.y_test).sum()
    assert blog_loop.test_error(p, D.x_test, D.y_test) == pytest.approx(want, rel=1e-6)
