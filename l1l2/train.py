"""Per-sample SGD, two engines with one result type.

`graph`: the SGD loop runs inside the graph (tf.while_loop, gradients from
tf.gradients on the loop state), many stacked models at once, all epochs in one
session call, recorded weights written to TensorArrays in the loop. `reference`:
the plain TF1 loop, one sess.run per step and a GradientDescentOptimizer, one
model at a time. Both build the model with model.build, so they train exactly
the same network.
"""
from dataclasses import dataclass

import numpy as np

from . import model
from ._tf import session, tf, v1
from .regularizers import Penalty, proximal_split, soft_threshold

PROGRESS_CALLS = 10  # session calls when a progress bar wants updates (one call is ~10% faster)


@dataclass
class Trained:
    params: dict             # final weights, stacked: W [R, in, out], b [R, 1, out]
    step_cost: np.ndarray    # [steps, R] cost of each SGD step on its batch, before the update
    frame_steps: np.ndarray  # [F] step after which each frame was taken (0 = initial weights)
    frames: dict             # name -> [F, R, ...] weights at frame_steps ({} if not recorded)

    @property
    def diverged_at(self):
        """[R] first step whose cost was not finite, -1 if none."""
        bad = ~np.isfinite(self.step_cost)
        return np.where(bad.any(0), bad.argmax(0), -1)


def batches(n_train, batch_size):
    """[steps_per_epoch, batch_size] sample indices: the file order, cut into batches."""
    return np.arange(n_train).reshape(-1, batch_size)


def segment_ends(total, every):
    """Steps after which a frame is taken: every `every` steps, and after the last one."""
    return np.append(np.arange(every, total, every), total)


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
        variables = _variables(names)
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


def step_noise(seed, step):
    """The seed of SGD step `step`'s random draws: a function of the run's seed and the step alone, so
    both engines draw the same and nothing depends on thread scheduling (stateful ops in a loop do)."""
    return tf.random.experimental.stateless_fold_in(tf.constant([seed, 0], tf.int64), step)


def _sgd_step(xs, ys, idx, params0, penalty, lr, activation, l1_update, seed, first):
    """The loop body: one SGD step of every stacked model on batch i, its cost written at i - first."""
    grad_penalty, l1 = proximal_split(penalty, l1_update)
    names = list(params0)

    def step(i, costs, *w):
        b = tf.gather(tf.constant(idx), i % len(idx))
        net = model.build(tf.gather(xs, b), tf.gather(ys, b), params0, grad_penalty, activation,
                          weights=dict(zip(names, w)), noise=step_noise(seed, i))
        grads = tf.gradients(tf.reduce_sum(net.cost), w)
        new = [wi - lr * gi for wi, gi in zip(w, grads)]  # plain SGD step
        cost = net.cost
        if l1 is not None:
            new = [soft_threshold(v, lr * l1) if name.endswith("/W") else v for name, v in zip(names, new)]
            cost += l1_term(names, w, l1)
        return (i + 1, costs.write(i - first, cost), *new)
    return step


def l1_term(names, weights, l1):
    """The kernels' L1 penalty that a proximal update keeps out of the gradient (for reporting)."""
    return tf.add_n([Penalty(l1=l1)(w) for n, w in zip(names, weights) if n.endswith("/W")])


def _variables(names):
    by_name = {v.op.name: v for v in v1.global_variables()}
    return [by_name[n] for n in names]


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


def train_reference(x, y, params0, penalty, *, lr, epochs, batch_size=1, activation="identity",
                    every=0, record=False, progress=None, l1_update="subgradient", seed=0):
    """Train each stacked model alone with GradientDescentOptimizer, one sess.run per step."""
    ends = segment_ends(epochs * len(batches(len(x), batch_size)), every or len(x) // batch_size)
    runs = []
    for r in range(len(params0["dense1/W"])):
        runs.append(_train_one(x, y, model.unstack(params0, r), penalty.pick(r), lr, batch_size,
                               activation, ends, record, progress, l1_update, seed))
    finals, costs, frames = zip(*runs)
    per_frame = [model.stack(models) for models in zip(*frames)]
    return Trained(model.stack(finals), np.stack(costs, axis=1),
                   np.concatenate([[0], ends]) if record else np.zeros(0, int),
                   {k: np.stack([f[k] for f in per_frame]) for k in params0} if record else {})


def _train_one(x, y, params0, penalty, lr, batch_size, activation, ends, record, progress, l1_update, seed):
    """(final params, step costs [steps], frames [dict per frame]) of one model."""
    idx = batches(len(x), batch_size)
    total, record_at = ends[-1], set(ends.tolist()) if record else set()
    grad_penalty, l1 = proximal_split(penalty, l1_update)
    g = tf.Graph()
    with g.as_default():
        xp, yp = v1.placeholder(tf.float32, [None, 1]), v1.placeholder(tf.float32, [None, 1])
        step_p = v1.placeholder(tf.int32, [])
        net = model.build(xp, yp, params0, grad_penalty, activation, noise=step_noise(seed, step_p))
        names, variables = list(params0), _variables(list(params0))
        cost = net.cost if l1 is None else net.cost + l1_term(names, variables, l1)
        with tf.control_dependencies([cost]):   # the reported cost is read before the update
            train_op = v1.train.GradientDescentOptimizer(lr).minimize(net.cost)
        if l1 is not None:
            with tf.control_dependencies([train_op]):
                train_op = tf.group([v.assign(soft_threshold(v, lr * l1))
                                     for n, v in zip(names, variables) if n.endswith("/W")])
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            costs, frames = [], [params0] if record else []
            for step in range(total):
                b = idx[step % len(idx)]
                _, c = sess.run([train_op, cost], {xp: x[b, None], yp: y[b, None], step_p: step})
                costs.append(c)
                if step + 1 in record_at:
                    frames.append(dict(zip(names, sess.run(variables))))
                if progress:
                    progress(1)
            final = dict(zip(names, sess.run(variables)))
    return final, np.array(costs, np.float32), frames


def evaluate(params, x, y, penalty, activation="identity"):
    """(predictions [R, n], data loss [R], penalty [R]) of stacked models on (x, y)."""
    g = tf.Graph()
    with g.as_default():
        net = model.build(tf.constant(x[:, None]), tf.constant(y[:, None]), params, penalty,
                          activation)
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            pred, data_loss, reg_loss = sess.run([net.pred, net.data_loss, net.reg_loss])
    return pred[..., 0], data_loss, reg_loss


ENGINES = {"graph": train_graph, "reference": train_reference}
