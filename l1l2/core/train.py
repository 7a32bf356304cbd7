"""Per-sample SGD on the TF1 model: the blog's loop, one sess.run per step.

`train_one` is the whole method in TF1 terms: build the model (get_variable with a regularizer,
the REGULARIZATION_LOSSES collection), GradientDescentOptimizer(lr).minimize(cost), and one
sess.run per SGD step, feeding one batch. It is the reference: the in-graph engine
(engine.py), which trains many models inside one tf.while_loop, is tested against it.

Every engine returns a `Trained`. Many models are trained as a stack (W [R, in, out]); here
each is trained alone and the results are stacked.
"""

from dataclasses import dataclass

import numpy as np

from ..tf1 import session, tf, v1
from . import model
from .regularizers import Penalty, proximal_split, soft_threshold


def train_one(x, y, params0, penalty, *, lr, epochs, batch_size=1, activation="identity",
              record_at=(), l1_update="subgradient", seed=0, progress=None):
    """Train one model (single-model params) on (x, y); (final params, step costs, frames).

    record_at: the steps after which the weights are fetched (a frame)."""
    batch = batches(len(x), batch_size)
    grad_penalty, l1 = proximal_split(penalty, l1_update)
    g = tf.Graph()
    with g.as_default():
        x_in = v1.placeholder(tf.float32, [None, 1], name="x")
        y_in = v1.placeholder(tf.float32, [None, 1], name="y")
        step_in = v1.placeholder(tf.int32, [], name="step")
        net = model.build(x_in, y_in, params0, grad_penalty, activation, step_noise(seed, step_in))
        names = list(params0)
        weights = variables_named(names)
        cost = net.cost if l1 is None else net.cost + l1_term(names, weights, l1)
        with tf.control_dependencies([cost]):  # the reported cost is read before the update
            train_op = v1.train.GradientDescentOptimizer(lr).minimize(net.cost)
        if l1 is not None:  # proximal L1: soft-threshold the kernels after the step
            with tf.control_dependencies([train_op]):
                train_op = tf.group([w.assign(soft_threshold(w, lr * l1))
                                     for n, w in zip(names, weights) if n.endswith("/W")])
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            costs, frames = [], [params0] if record_at else []
            for step in range(epochs * len(batch)):
                b = batch[step % len(batch)]
                feed = {x_in: x[b, None], y_in: y[b, None], step_in: step}
                _, c = sess.run([train_op, cost], feed)  # <- one SGD step
                costs.append(c)
                if step + 1 in record_at:
                    frames.append(dict(zip(names, sess.run(weights))))
                if progress:
                    progress(1)
            final = dict(zip(names, sess.run(weights)))
    return final, np.array(costs, np.float32), frames


@dataclass
class Trained:
    params: dict  # final weights, stacked: W [R, in, out], b [R, 1, out]
    step_cost: np.ndarray  # [steps, R] cost of each SGD step on its batch, before the update
    frame_steps: np.ndarray  # [F] step after which each frame was taken (0 = initial weights)
    frames: dict  # name -> [F, R, ...] weights at frame_steps ({} if not recorded)

    @property
    def diverged_at(self) -> np.ndarray:
        """[R] first step whose cost was not finite, -1 if none."""
        bad = ~np.isfinite(self.step_cost)
        return np.where(bad.any(0), bad.argmax(0), -1)


def train_reference(x, y, params0, penalty, *, lr, epochs, batch_size=1, activation="identity",
                    every=0, record=False, progress=None, l1_update="subgradient", seed=0):
    """Train each of the stacked models params0 alone with train_one; a frame every `every` steps
    (default: every epoch) if `record`."""
    ends = segment_ends(epochs * len(batches(len(x), batch_size)), every or len(x) // batch_size)
    runs = []
    for r in range(len(params0["dense1/W"])):
        runs.append(train_one(x, y, model.unstack(params0, r), penalty.pick(r), lr=lr,
                              epochs=epochs, batch_size=batch_size, activation=activation,
                              record_at=set(ends.tolist()) if record else (),
                              l1_update=l1_update, seed=seed, progress=progress))
    finals, costs, frames = zip(*runs)
    per_frame = [model.stack(models) for models in zip(*frames)]
    return Trained(model.stack(finals), np.stack(costs, axis=1),
                   np.concatenate([[0], ends]) if record else np.zeros(0, int),
                   {k: np.stack([f[k] for f in per_frame]) for k in params0} if record else {})


def batches(n_train: int, batch_size: int) -> np.ndarray:
    """[steps_per_epoch, batch_size] sample indices: the file order, cut into batches."""
    return np.arange(n_train).reshape(-1, batch_size)


def segment_ends(total: int, every: int) -> np.ndarray:
    """Steps after which a frame is taken: every `every` steps, and after the last one."""
    return np.append(np.arange(every, total, every), total)


def step_noise(seed: int, step):
    """The seed of SGD step `step`'s random draws (RReLU's slopes): a function of the run's seed
    and the step alone, so every engine draws the same, whatever the thread scheduling."""
    return tf.random.experimental.stateless_fold_in(tf.constant([seed, 0], tf.int64), step)


def l1_term(names, weights, l1):
    """The kernels' L1 penalty that a proximal update keeps out of the gradient (for reporting)."""
    return tf.add_n([Penalty(l1=l1)(w) for n, w in zip(names, weights) if n.endswith("/W")])


def variables_named(names):
    """The global variables of the default graph, in the order of `names` ("dense1/W", ...)."""
    by_name = {v.op.name: v for v in v1.global_variables()}
    return [by_name[n] for n in names]


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
