"""Per-sample SGD, two engines with one result type.

`graph`: the SGD loop runs inside the graph (tf.while_loop, gradients from
tf.gradients on the loop state), many stacked models at once, one session call
per chunk of steps. `reference`: the plain TF1 loop, one sess.run per step and a
GradientDescentOptimizer, one model at a time. Both build the model with
model.build, so they train exactly the same network.
"""
from dataclasses import dataclass

import numpy as np

from . import model
from ._tf import session, tf, v1
from .regularizers import Penalty, proximal_split, soft_threshold


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


def chunk_ends(total, chunk):
    """Steps after which the loop hands control back to Python (and a frame may be taken)."""
    return np.append(np.arange(chunk, total, chunk), total)


def train_graph(x, y, params0, penalty, *, lr, epochs, batch_size=1, activation="identity",
                chunk=0, record=False, progress=None, l1_update="subgradient"):
    """Train the stacked models params0 on (x, y) with the in-graph loop.

    The loop returns to Python every `chunk` steps (default: one epoch) to report
    progress and, with `record`, to hand over the weights as a frame.
    """
    idx = batches(len(x), batch_size)
    total = epochs * len(idx)
    grad_penalty, l1 = proximal_split(penalty, l1_update)
    g = tf.Graph()
    with g.as_default():
        xs, ys = tf.constant(x[:, None]), tf.constant(y[:, None])
        model.build(xs, ys, params0, penalty, activation)  # the variables, and the TF1 graph to inspect
        names = list(params0)
        variables = _variables(names)
        start, n = v1.placeholder(tf.int32, []), v1.placeholder(tf.int32, [])

        def body(i, costs, *w):
            b = tf.gather(tf.constant(idx), i % len(idx))
            net = model.build(tf.gather(xs, b), tf.gather(ys, b), params0, grad_penalty, activation,
                              weights=dict(zip(names, w)), training=True)
            grads = tf.gradients(tf.reduce_sum(net.cost), w)
            new = [wi - lr * gi for wi, gi in zip(w, grads)]  # plain SGD step
            cost = net.cost
            if l1 is not None:
                new = [soft_threshold(v, lr * l1) if name.endswith("/W") else v for name, v in zip(names, new)]
                cost += l1_term(names, w, l1)
            return (i + 1, costs.write(i - start, cost), *new)

        costs = tf.TensorArray(tf.float32, size=n)
        out = v1.while_loop(lambda i, *_: i < start + n, body,
                            [start, costs, *[v.read_value() for v in variables]])
        final = out[2:]
        with tf.control_dependencies([v.assign(f) for v, f in zip(variables, final)]):
            step_cost = out[1].stack()
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            return _run_chunks(sess, start, n, step_cost, final, names, params0,
                               chunk_ends(total, chunk or len(idx)), record, progress)


def l1_term(names, weights, l1):
    """The kernels' L1 penalty that a proximal update keeps out of the gradient (for reporting)."""
    return tf.add_n([Penalty(l1=l1)(w) for n, w in zip(names, weights) if n.endswith("/W")])


def _variables(names):
    by_name = {v.op.name: v for v in v1.global_variables()}
    return [by_name[n] for n in names]


def _run_chunks(sess, start, n, step_cost, final, names, params0, ends, record, progress):
    frames = [list(params0.values())] if record else []
    n_models = len(params0["dense1/W"])
    costs, done = [], 0
    for end in ends:
        c, w = sess.run([step_cost, final], {start: done, n: end - done})
        costs.append(c)
        if record:
            frames.append(w)
        if progress:
            progress((end - done) * n_models)
        done = end
    params = dict(zip(names, w))
    recorded = {k: np.stack([f[i] for f in frames]) for i, k in enumerate(names)} if record else {}
    steps = np.concatenate([[0], ends]) if record else np.zeros(0, int)
    return Trained(params, np.concatenate(costs).reshape(ends[-1], -1), steps, recorded)


def train_reference(x, y, params0, penalty, *, lr, epochs, batch_size=1, activation="identity",
                    chunk=0, record=False, progress=None, l1_update="subgradient"):
    """Train each stacked model alone with GradientDescentOptimizer, one sess.run per step."""
    ends = chunk_ends(epochs * len(batches(len(x), batch_size)), chunk or len(x) // batch_size)
    runs = []
    for r in range(len(params0["dense1/W"])):
        runs.append(_train_one(x, y, model.unstack(params0, r), penalty.pick(r), lr, batch_size,
                               activation, ends, record, progress, l1_update))
    finals, costs, frames = zip(*runs)
    per_frame = [model.stack(models) for models in zip(*frames)]
    return Trained(model.stack(finals), np.stack(costs, axis=1),
                   np.concatenate([[0], ends]) if record else np.zeros(0, int),
                   {k: np.stack([f[k] for f in per_frame]) for k in params0} if record else {})


def _train_one(x, y, params0, penalty, lr, batch_size, activation, ends, record, progress, l1_update):
    """(final params, step costs [steps], frames [dict per frame]) of one model."""
    idx = batches(len(x), batch_size)
    total, record_at = ends[-1], set(ends.tolist()) if record else set()
    grad_penalty, l1 = proximal_split(penalty, l1_update)
    g = tf.Graph()
    with g.as_default():
        xp, yp = v1.placeholder(tf.float32, [None, 1]), v1.placeholder(tf.float32, [None, 1])
        net = model.build(xp, yp, params0, grad_penalty, activation, training=True)
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
                _, c = sess.run([train_op, cost], {xp: x[b, None], yp: y[b, None]})
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
