"""The in-graph engine: many stacked models trained by one tf.while_loop, all epochs in one call.

The reference loop (train.py) pays a sess.run per SGD step. Here the SGD step itself is part of
the graph: the loop state is the stacked weights (W [R, in, out]), the loop body builds the same
TF1 model on that state (model.build under a custom getter that hands out the loop tensors
instead of variables and registers their penalties like get_variable would), takes
tf.gradients of the cost and writes the updated weights back into the state. Recorded weights
go to TensorArrays inside the loop. The tests prove it equal to the reference loop.
"""

from collections.abc import Callable

import numpy as np

from ..tf1 import session, tf, v1
from . import model
from .regularizers import Penalty, Targets, l1_term, proximal_split, soft_threshold
from .sgd import SGD, Trained, first_nonfinite

PROGRESS_CALLS = 10  # session calls when a progress bar wants updates (one call is ~10% faster)
# at most this many models: the loop's ops run one at a time on the calling thread, else on
# TensorFlow's pool of threads (tf1.session). With the test error after every epoch and every
# step of the last, a whole call took 0.77 s one at a time against 0.94 s on the pool at 30
# models, 0.98 s and 1.01 s at 63, 1.24 s and 1.14 s at 129, 2.10 s and 1.64 s at 255 (2 cores)
ONE_THREAD_MODELS = 64


def train_graph(
    x: np.ndarray,
    y: np.ndarray,
    params0: dict[str, np.ndarray],
    penalty: Penalty | Targets | None,
    spec: SGD,
    table: np.ndarray,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Callable[[int], object] | None = None,
) -> Trained:
    """Train the stacked models params0 on (x, y) with the in-graph loop; see train.train.

    The SGD steps between two eval steps form a segment; after each, the models' test errors
    on test=(x, y) are computed and, with spec.record, their weights written to TensorArrays,
    all inside the loop (the tail mean's steps are segments of one step). All of it runs in one
    session call, or in PROGRESS_CALLS calls if `progress` wants updates.
    """
    if table.shape[1] == 1:
        table = table[:, 0]  # one order for every model: one batch, broadcast over the models
    bounds = spec.eval_steps(len(x)).astype(np.int32)
    names = list(params0)
    g = tf.Graph()
    with g.as_default():
        xs, ys = tf.constant(x[:, None]), tf.constant(y[:, None])
        model.build(xs, ys, params0, penalty, spec.activation)  # the variables, the graph to see
        variables = model.variables_named(names)
        seq = [v1.placeholder(tf.float32, (*table.shape, 1)) for _ in "xy"]  # samples per row
        f0, f1 = (v1.placeholder(tf.int32, []) for _ in range(2))  # this call's segments
        ends = tf.constant(bounds)  # segment f: steps ends[f] .. ends[f + 1] - 1
        step = _sgd_step(*seq, params0, penalty, spec, len(x), first=ends[f0])
        test_error = _test_error(test, params0, spec.activation)

        def segment(f, costs, frames, errors, *w):
            out = v1.while_loop(lambda i, *_: i < ends[f + 1], step, [ends[f], costs, *w])
            w = out[2:]
            frames = [ta.write(f - f0, wi) for ta, wi in zip(frames, w)]  # after segment f
            errors = [ta.write(f - f0, test_error(w)) for ta in errors]
            return (f + 1, out[1], frames, errors, *w)

        costs = tf.TensorArray(tf.float32, size=ends[f1] - ends[f0])
        frames = [tf.TensorArray(tf.float32, size=f1 - f0) for _ in names] if spec.record else []
        errors = [tf.TensorArray(tf.float32, size=f1 - f0)] if test is not None else []
        w0 = [v.read_value() for v in variables]
        out = v1.while_loop(lambda f, *_: f < f1, segment, [f0, costs, frames, errors, *w0])
        final = out[4:]
        with tf.control_dependencies([v.assign(w) for v, w in zip(variables, final)]):
            fetch = {
                "cost": out[1].stack(),
                "frames": [ta.stack() for ta in out[2]],
                "errors": [ta.stack() for ta in out[3]],
                "final": [tf.identity(w) for w in final],
            }  # and the next call goes on
        initial_error = [test_error(w0)] if test is not None else []
        samples = dict(zip(seq, (x[table][..., None], y[table][..., None])))
        with session(g, one_thread=len(params0["dense1/W"]) <= ONE_THREAD_MODELS) as sess:
            sess.run(v1.global_variables_initializer())
            first = sess.run(initial_error)

            def run(part):
                return sess.run(fetch, {**samples, f0: part[0], f1: part[1]})

            return _run_parts(run, params0, bounds, spec.record, first, progress)


def _sgd_step(x_seq, y_seq, params0, penalty, spec, n_train, first):
    """The loop body: one SGD step of every stacked model on its batch of step i (x_seq[i % P]:
    [batch, 1] for all models, or [R, batch, 1], one per model), its cost written at
    i - first."""
    grad_penalty, l1 = proximal_split(penalty, spec.l1_update)
    rates = tf.constant(spec.rates(n_train))
    names = list(params0)

    def step(i, costs, *w):
        row = tf.math.floormod(i, tf.shape(x_seq)[0])
        with on_tensors(dict(zip(names, w))):
            net = model.build(
                tf.gather(x_seq, row),
                tf.gather(y_seq, row),
                params0,
                grad_penalty,
                spec.activation,
                model.step_noise(spec.seed, i),
            )
        grads = tf.gradients(tf.reduce_sum(net.cost), w)
        lr = rates[i]
        new = [wi - lr * gi for wi, gi in zip(w, grads)]  # plain SGD step
        cost = net.cost
        if l1 is not None:
            new = [
                soft_threshold(v, lr, l1) if name.endswith("/W") else v
                for name, v in zip(names, new)
            ]
            cost += l1_term(names, w, l1)
        return (i + 1, costs.write(i - first, cost), *new)

    return step


def _test_error(test, params0, activation):
    """weights -> [R] total absolute error on test=(x, y), the same model built on them."""
    if test is None:
        return None
    x_test, y_test = (tf.constant(a[:, None]) for a in test)
    names = list(params0)

    def error(w):
        with on_tensors(dict(zip(names, w))):
            return model.build(x_test, y_test, params0, None, activation).data_loss

    return error


def _run_parts(run, params0, bounds, record, first_error, progress):
    """Run the segments between bounds in one call of run((f0, f1)), or in PROGRESS_CALLS calls
    for progress; collect the results."""
    names, n_models = list(params0), len(params0["dense1/W"])
    split = np.array_split(np.arange(len(bounds) - 1), PROGRESS_CALLS if progress else 1)
    parts = [(int(c[0]), int(c[-1]) + 1) for c in split if len(c)] or [(0, 0)]
    costs, frames, errors = [], [[params0[n][None]] for n in names], [e[None] for e in first_error]
    for part in parts:
        got = run(part)
        costs.append(got["cost"])
        for have, f in zip(frames, got["frames"]):
            have.append(f)
        errors += got["errors"]
        if progress:
            progress(int(bounds[part[1]] - bounds[part[0]]) * n_models)
    step_cost = np.concatenate(costs).reshape(bounds[-1], -1)
    return Trained(
        dict(zip(names, got["final"])),
        step_cost,
        first_nonfinite(step_cost),
        bounds,
        {n: np.concatenate(f) for n, f in zip(names, frames)} if record else {},
        np.concatenate(errors) if first_error else None,
    )


def on_tensors(weights: "dict[str, tf.Tensor]") -> "v1.variable_scope":
    """A variable scope in which get_variable(name) returns weights[name], registering its
    penalty in REGULARIZATION_LOSSES like get_variable would: model.build runs on loop tensors."""

    def getter(getter, name, *args, regularizer=None, **kwargs):  # noqa: ARG001
        w = weights[name]
        if regularizer is not None:
            loss = regularizer(w)
            if loss is not None:
                v1.add_to_collection(v1.GraphKeys.REGULARIZATION_LOSSES, loss)
        return w

    return v1.variable_scope(v1.get_variable_scope(), custom_getter=getter)
