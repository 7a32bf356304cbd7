"""Training, whatever the engine: `train(x, y, params0, penalty, spec, engine=...)`.

Three engines, proved equal by the tests, all reading the same sample table and learning rates
(sgd.py):
- reference: the blog's loop, one sess.run per SGD step, each model alone (below);
- graph: many stacked models inside one tf.while_loop, in TF1 graph code (engine.py);
- compiled: the whole loop compiled by XLA, the model axis last in memory (compiled.py).
"""

from collections.abc import Callable, Sequence

import numpy as np

from ..tf1 import session, tf, v1
from . import model
from .compiled import train_compiled
from .engine import on_tensors, train_graph
from .regularizers import Penalty, Targets, l1_term, proximal_split, soft_threshold
from .sgd import SGD, Trained, first_nonfinite, sample_table

ENGINES = ("reference", "graph", "compiled")


def train(
    x: np.ndarray,
    y: np.ndarray,
    params0: dict[str, np.ndarray],
    penalty: Penalty | Targets,
    spec: SGD,
    *,
    seeds: Sequence[int] | None = None,
    orders: Sequence[str] | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    engine: str = "graph",
    progress: Callable[[int], object] | None = None,
    table: np.ndarray | None = None,
    shape_epochs: int | None = None,
) -> Trained:
    """Train the stacked models params0 (W [R, in, out], b [R, 1, out]; penalty: one
    coefficient per model) on (x, y) as `spec` says. seeds [R] draw each model's shuffled order
    (default: spec.seed for all); the test error on test = (x, y) is measured at
    spec.eval_steps; `progress(n)` hears of every n model-steps done. A stack that mixes sample
    orders gives each model's in `orders` (default: spec.order for all). `table`: the
    sample_table of these seeds and orders, if the caller has made it already (it may be
    longer: step i reads row i). `shape_epochs`: see train_compiled (the other engines have no
    compilation to share)."""
    n_models = len(params0["dense1/W"])
    seeds = [spec.seed] * n_models if seeds is None else list(seeds)
    if table is None:
        table = sample_table(spec, x, y, seeds, orders)
    if engine == "compiled":
        return train_compiled(x, y, params0, penalty, spec, table, test, progress, shape_epochs)
    run = {"reference": train_reference, "graph": train_graph}[engine]
    return run(x, y, params0, penalty, spec, table, test, progress)


def train_reference(
    x: np.ndarray,
    y: np.ndarray,
    params0: dict[str, np.ndarray],
    penalty: Penalty | Targets,
    spec: SGD,
    table: np.ndarray,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Callable[[int], object] | None = None,
) -> Trained:
    """Each stacked model trained alone by train_one; the results stacked."""
    n_models = len(params0["dense1/W"])
    table = np.broadcast_to(table, (len(table), n_models, table.shape[2]))
    runs = [
        train_one(
            x, y, model.unstack(params0, r), penalty.pick(r), spec, table[:, r], test, progress
        )
        for r in range(n_models)
    ]
    finals, costs, frames, errors = zip(*runs)
    step_cost = np.stack(costs, axis=1)
    per_frame = [model.stack(f) for f in zip(*frames)]
    return Trained(
        model.stack(finals),
        step_cost,
        first_nonfinite(step_cost),
        spec.eval_steps(len(x)),
        {k: np.stack([f[k] for f in per_frame]) for k in params0} if spec.record else {},
        np.stack(errors, axis=1) if test is not None else None,
    )


def train_one(
    x: np.ndarray,
    y: np.ndarray,
    params0: dict[str, np.ndarray],
    penalty: Penalty | Targets,
    spec: SGD,
    rows: np.ndarray,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Callable[[int], object] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict[str, np.ndarray]], np.ndarray]:
    """One model (single-model params), one sess.run per SGD step on the samples rows[i % P].
    Returns (final params, step costs, weights at each eval step if recorded, test errors)."""
    rates, eval_steps = spec.rates(len(x)), set(spec.eval_steps(len(x)).tolist())
    grad_penalty, l1 = proximal_split(penalty, spec.l1_update)
    g = tf.Graph()
    with g.as_default():
        x_in = v1.placeholder(tf.float32, [None, 1], name="x")
        y_in = v1.placeholder(tf.float32, [None, 1], name="y")
        step_in = v1.placeholder(tf.int32, [], name="step")
        lr_in = v1.placeholder(tf.float32, [], name="lr")
        noise = model.step_noise(spec.seed, step_in)
        net = model.build(x_in, y_in, params0, grad_penalty, spec.activation, noise)
        names = list(params0)
        weights = model.variables_named(names)
        cost = net.cost if l1 is None else net.cost + l1_term(names, weights, l1)
        with tf.control_dependencies([cost]):  # the reported cost is read before the update
            train_op = v1.train.GradientDescentOptimizer(lr_in).minimize(net.cost)
        if l1 is not None:  # proximal L1: soft-threshold the kernels after the step
            with tf.control_dependencies([train_op]):
                kernels = [w for n, w in zip(names, weights) if n.endswith("/W")]
                train_op = tf.group([w.assign(soft_threshold(w, lr_in, l1)) for w in kernels])
        test_error = _test_error(test, params0, spec.activation)
        with session(g, one_thread=True) as sess:
            sess.run(v1.global_variables_initializer())
            costs, frames, errors = [], [], []
            for step in range(len(rates) + 1):
                if step in eval_steps:
                    frames += [dict(zip(names, sess.run(weights)))] if spec.record else []
                    errors += [sess.run(test_error)] if test_error is not None else []
                if step == len(rates):
                    break
                b = rows[step % len(rows)]
                feed = {x_in: x[b, None], y_in: y[b, None], step_in: step, lr_in: rates[step]}
                costs.append(sess.run([train_op, cost], feed)[1])  # <- one SGD step
                if progress:
                    progress(1)
            final = dict(zip(names, sess.run(weights)))
    return final, np.array(costs, np.float32), frames, np.array(errors, np.float32)


def _test_error(test, params0, activation):
    """The same variables (reuse), evaluated on the test samples; None without them."""
    if test is None:
        return None
    with v1.variable_scope(v1.get_variable_scope(), reuse=True):
        x_test, y_test = (tf.constant(a[:, None]) for a in test)
        return model.build(x_test, y_test, params0, None, activation).data_loss


def evaluate(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    penalty: Penalty | Targets | None,
    activation: str = "identity",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(predictions [R, n], data loss [R], penalty [R]) of stacked models on (x, y). The model is
    built on the weights as constants (engine.on_tensors): no variables to create and initialise
    (a third of the time), the same ops and numbers."""
    g = tf.Graph()
    with g.as_default():
        with on_tensors({k: tf.constant(v) for k, v in params.items()}):
            net = model.build(
                tf.constant(x[:, None]), tf.constant(y[:, None]), params, penalty, activation
            )
        with session(g) as sess:
            pred, data_loss, reg_loss = sess.run([net.pred, net.data_loss, net.reg_loss])
    return pred[..., 0], data_loss, reg_loss
