"""The in-graph engine: many stacked models trained by one tf.while_loop, all epochs in one call.

The reference loop (train.py) pays a sess.run per SGD step. Here the SGD step itself is part of
the graph: the loop state is the stacked weights (W [R, in, out]), the loop body builds the same
TF1 model on that state (model.build under a custom getter that hands out the loop tensors
instead of variables and registers their penalties like get_variable would), takes
tf.gradients of the cost and writes the updated weights back into the state. Recorded weights
go to TensorArrays inside the loop. The tests prove it equal to the reference loop.
"""

import numpy as np

from ..tf1 import session, tf, v1
from . import model
from .regularizers import proximal_split, soft_threshold
from .train import Trained, batches, l1_term, segment_ends, step_noise, variables_named

PROGRESS_CALLS = 10  # session calls when a progress bar wants updates (one call is ~10% faster)


def train_graph(x, y, params0, penalty, *, lr, epochs, batch_size=1, activation="identity",
                every=0, record=False, progress=None, l1_update="subgradient", seed=0):
    """Train the stacked models params0 on (x, y) with the in-graph loop.

    The SGD steps form segments of `every` steps (default: one epoch); with `record`, the
    weights after each segment are written to TensorArrays inside the loop (a frame). All
    segments run in one session call, or in PROGRESS_CALLS calls if `progress` wants updates.
    `seed` and the step number seed RReLU's random slopes (see step_noise).
    """
    idx = batches(len(x), batch_size)
    ends = segment_ends(epochs * len(idx), every or len(idx))
    names = list(params0)
    g = tf.Graph()
    with g.as_default():
        xs, ys = tf.constant(x[:, None]), tf.constant(y[:, None])
        model.build(xs, ys, params0, penalty, activation)  # the variables, and the TF1 graph to inspect
        variables = variables_named(names)
        f0, f1 = v1.placeholder(tf.int32, []), v1.placeholder(tf.int32, [])  # segments [f0, f1) this call
        bounds = tf.constant(np.append(0, ends).astype(np.int32))          # segment f: steps bounds[f:f+2]
        step = _sgd_step(xs, ys, idx, params0, penalty, lr, activation, l1_update, seed, first=bounds[f0])

        def segment(f, costs, frames, *w):
            out = v1.while_loop(lambda i, *_: i < bounds[f + 1], step, [bounds[f], costs, *w])
            frames = [ta.write(f - f0, wi) for ta, wi in zip(frames, out[2:])]  # weights after segment f
            return (f + 1, out[1], frames, *out[2:])

        costs = tf.TensorArray(tf.float32, size=bounds[f1] - bounds[f0])
        frames = [tf.TensorArray(tf.float32, size=f1 - f0) for _ in names] if record else []
        out = v1.while_loop(lambda f, *_: f < f1, segment,
                            [f0, costs, frames, *[v.read_value() for v in variables]])
        final = out[3:]
        with tf.control_dependencies([v.assign(w) for v, w in zip(variables, final)]):  # the next call goes on
            fetch = [out[1].stack(), [ta.stack() for ta in out[2]], [tf.identity(w) for w in final]]
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            return _run_segments(sess, (f0, f1), fetch, params0, ends, record, progress)


def _sgd_step(xs, ys, idx, params0, penalty, lr, activation, l1_update, seed, first):
    """The loop body: one SGD step of every stacked model on batch i, its cost written at i - first."""
    grad_penalty, l1 = proximal_split(penalty, l1_update)
    names = list(params0)

    def step(i, costs, *w):
        b = tf.gather(tf.constant(idx), i % len(idx))
        with on_tensors(dict(zip(names, w))):
            net = model.build(tf.gather(xs, b), tf.gather(ys, b), params0, grad_penalty,
                              activation, step_noise(seed, i))
        grads = tf.gradients(tf.reduce_sum(net.cost), w)
        new = [wi - lr * gi for wi, gi in zip(w, grads)]  # plain SGD step
        cost = net.cost
        if l1 is not None:
            new = [soft_threshold(v, lr * l1) if name.endswith("/W") else v for name, v in zip(names, new)]
            cost += l1_term(names, w, l1)
        return (i + 1, costs.write(i - first, cost), *new)
    return step


def _run_segments(sess, feeds, fetch, params0, ends, record, progress):
    """Run the segments in one session call (or PROGRESS_CALLS for progress) and collect the results."""
    names, n_models = list(params0), len(params0["dense1/W"])
    calls = [c for c in np.array_split(np.arange(len(ends)), PROGRESS_CALLS if progress else 1) if len(c)]
    costs, frames = [], [[params0[k][None]] for k in names]
    for c in calls:
        cost, fr, w = sess.run(fetch, dict(zip(feeds, (c[0], c[-1] + 1))))
        costs.append(cost)
        for got, f in zip(frames, fr):
            got.append(f)
        if progress:
            progress(int(ends[c[-1]] - (ends[c[0] - 1] if c[0] else 0)) * n_models)
    recorded = {k: np.concatenate(f) for k, f in zip(names, frames)} if record else {}
    steps = np.concatenate([[0], ends]) if record else np.zeros(0, int)
    return Trained(dict(zip(names, w)), np.concatenate(costs).reshape(ends[-1], -1), steps, recorded)


def on_tensors(weights):
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
