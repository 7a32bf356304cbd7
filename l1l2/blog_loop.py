"""The blog's experiment as one plain TF1 loop: `python -m l1l2.blog_loop`.

The network is built by model.build: each layer in variable_scope("denseK"), its kernel from
get_variable(..., regularizer=...), which puts the penalty into the REGULARIZATION_LOSSES
collection; the cost is the summed absolute error plus that collection. Training is plain SGD,
one sample and one sess.run per step, in the file's order. The engines that train the runs of
`./reproduce` (core/train.py) are tested equal to this loop.
"""

import numpy as np

from .core import data, model, regularizers
from .core.train import evaluate
from .tf1 import session, tf, v1

SIZES, LR, EPOCHS, LAM = (1, 10, 10, 10, 1), 0.01, 100, 0.3  # the blog's settings


def train(
    x: np.ndarray,
    y: np.ndarray,
    params0: dict[str, np.ndarray],
    penalty: regularizers.Penalty,
    lr: float = LR,
    epochs: int = EPOCHS,
) -> dict[str, np.ndarray]:
    """One model trained by per-sample SGD on (x, y); its final weights."""
    g = tf.Graph()
    with g.as_default():
        x_in = v1.placeholder(tf.float32, [None, 1], name="x")
        y_in = v1.placeholder(tf.float32, [None, 1], name="y")
        net = model.build(x_in, y_in, params0, penalty)  # cost = sum|pred - y| + penalties
        step = v1.train.GradientDescentOptimizer(lr).minimize(net.cost)
        weights = model.variables_named(list(params0))  # dense1/W, dense1/b, ...
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            for _ in range(epochs):
                for i in range(len(x)):
                    sess.run(step, {x_in: x[i : i + 1, None], y_in: y[i : i + 1, None]})
            return dict(zip(params0, sess.run(weights)))


def test_error(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """Total absolute error of one model on (x, y), the blog's metric."""
    return float(evaluate(model.stack([params]), x, y, None)[1][0])


def main() -> None:
    d = data.load("data/line.csv")
    for method in ("none", "l1", "l2"):
        params0 = model.glorot_init(SIZES, seed=0)  # every method starts from these weights
        final = train(d.x_train, d.y_train, params0, regularizers.for_method(method, LAM))
        error = test_error(final, d.x_test, d.y_test)
        print(f"{method:>4}: total absolute error on the {len(d.x_test)} test samples {error:.2f}")


if __name__ == "__main__":
    main()
