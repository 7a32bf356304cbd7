"""Per-sample SGD on the TF1 model: the blog's loop, one sess.run per step.

`train_one` is the whole method in TF1 terms: build the model (get_variable with a regularizer,
the REGULARIZATION_LOSSES collection), GradientDescentOptimizer(lr).minimize(cost), and one
sess.run per SGD step, feeding one batch. It is the reference: the in-graph engine
(engine.py), which trains many models inside one tf.while_loop, is tested against it.

Every engine returns a `Trained`. Many models are trained as a stack (W [R, in, out]); here
each is trained alone and the results are stacked.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..tf1 import session, tf, v1
from . import model
from .regularizers import Penalty, Targets, proximal_split, soft_threshold


def train_one(
    x: np.ndarray,
    y: np.ndarray,
    params0: dict[str, np.ndarray],
    penalty: Penalty | Targets | None,
    *,
    lr: float,
    epochs: int,
    batch_size: int = 1,
    order: np.ndarray | None = None,
    eval_steps: np.ndarray | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    record: bool = False,
    activation: str = "identity",
    l1_update: str = "subgradient",
    seed: int = 0,
    progress: Callable[[int], object] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict[str, np.ndarray]], np.ndarray]:
    """Train one model (single-model params) on (x, y): the TF1 way, one sess.run per SGD step.

    order: [steps, batch_size] the sample indices of every step (default: the file order).
    After each of eval_steps (0: the initial weights) the model's test error on test=(x, y) is
    measured and, with `record`, its weights are kept. Returns (final params, step costs [steps],
    frames [dict per eval step], test errors [per eval step])."""
    order = file_order(len(x), epochs, batch_size) if order is None else order
    eval_steps = set(default_eval_steps(len(order), eval_steps).tolist())
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
                train_op = tf.group(
                    [
                        w.assign(soft_threshold(w, lr * l1))
                        for n, w in zip(names, weights)
                        if n.endswith("/W")
                    ]
                )
        if test is not None:  # the same variables (reuse), evaluated on the test samples
            with v1.variable_scope(v1.get_variable_scope(), reuse=True):
                x_test, y_test = (tf.constant(a[:, None]) for a in test)
                test_net = model.build(x_test, y_test, params0, None, activation)
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            costs, frames, errors = [], [], []

            def evaluate_now():
                if record:
                    frames.append(dict(zip(names, sess.run(weights))))
                if test is not None:
                    errors.append(sess.run(test_net.data_loss))

            evaluate_now()
            for step, b in enumerate(order):
                feed = {x_in: x[b, None], y_in: y[b, None], step_in: step}
                _, c = sess.run([train_op, cost], feed)  # <- one SGD step
                costs.append(c)
                if step + 1 in eval_steps:
                    evaluate_now()
                if progress:
                    progress(1)
            final = dict(zip(names, sess.run(weights)))
    return final, np.array(costs, np.float32), frames, np.array(errors, np.float32)


@dataclass
class Trained:
    params: dict  # final weights, stacked: W [R, in, out], b [R, 1, out]
    step_cost: np.ndarray | None  # [steps, R] cost of each SGD step on its batch, before the update
    diverged_at: np.ndarray  # [R] first step whose cost was not finite, -1 if none
    frame_steps: np.ndarray  # [F] steps after which the models were evaluated (0 = initial)
    frames: dict  # name -> [F, R, ...] weights at frame_steps ({} if not recorded)
    test_error: np.ndarray | None  # [F, R] total absolute test error at frame_steps

    def take(self, models: np.ndarray | Sequence[int]) -> "Trained":
        """The models `models` (indices) alone."""
        m = np.asarray(models)
        return Trained(
            {k: v[m] for k, v in self.params.items()},
            None if self.step_cost is None else self.step_cost[:, m],
            self.diverged_at[m],
            self.frame_steps,
            {k: v[:, m] for k, v in self.frames.items()},
            None if self.test_error is None else self.test_error[:, m],
        )

    def tail_error(self, tail_steps: int) -> np.ndarray:
        """[R] the test error averaged over the iterates after each of the last tail_steps steps."""
        last = self.frame_steps[-1]
        tail = self.frame_steps > last - tail_steps
        assert tail.sum() == tail_steps, "the tail steps were not all evaluated"
        return self.test_error[tail].mean(0)


def first_nonfinite(step_cost: np.ndarray) -> np.ndarray:
    """[R] first step whose cost was not finite, -1 if none."""
    bad = ~np.isfinite(step_cost)
    return np.where(bad.any(0), bad.argmax(0), -1)


def train_reference(
    x: np.ndarray,
    y: np.ndarray,
    params0: dict[str, np.ndarray],
    penalty: Penalty | Targets,
    *,
    lr: float,
    epochs: int,
    batch_size: int = 1,
    order: np.ndarray | None = None,
    eval_steps: np.ndarray | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    record: bool = False,
    activation: str = "identity",
    l1_update: str = "subgradient",
    seed: int = 0,
    progress: Callable[[int], object] | None = None,
) -> Trained:
    """Train each of the stacked models params0 alone with train_one; order [steps, R, batch]."""
    n_models = len(params0["dense1/W"])
    order = file_order(len(x), epochs, batch_size, n_models) if order is None else order
    eval_steps = default_eval_steps(len(order), eval_steps)
    runs = [
        train_one(
            x,
            y,
            model.unstack(params0, r),
            penalty.pick(r),
            lr=lr,
            epochs=epochs,
            batch_size=batch_size,
            order=order[:, r],
            eval_steps=eval_steps,
            test=test,
            record=record,
            activation=activation,
            l1_update=l1_update,
            seed=seed,
            progress=progress,
        )
        for r in range(n_models)
    ]
    finals, costs, frames, errors = zip(*runs)
    per_frame = [model.stack(models) for models in zip(*frames)]
    step_cost = np.stack(costs, axis=1)
    return Trained(
        model.stack(finals),
        step_cost,
        first_nonfinite(step_cost),
        eval_steps,
        {k: np.stack([f[k] for f in per_frame]) for k in params0} if record else {},
        np.stack(errors, axis=1) if test is not None else None,
    )


def file_order(
    n_train: int, epochs: int, batch_size: int, n_models: int | None = None
) -> np.ndarray:
    """[steps, batch_size] (or [steps, n_models, batch_size]): every epoch in the file's order."""
    order = np.tile(np.arange(n_train, dtype=np.int32), epochs).reshape(-1, batch_size)
    return order if n_models is None else np.repeat(order[:, None], n_models, axis=1)


def shuffled_order(
    x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, seed: int
) -> np.ndarray:
    """[steps, batch_size]: a new random order of the training samples every epoch, drawn from
    `seed`. The permutations act on the samples sorted by (x, y), so the order, like every
    result, does not depend on how the data file happens to list its rows."""
    rank = np.lexsort((y, x)).astype(np.int32)  # sample indices sorted by x, then y
    rng = np.random.default_rng([seed, ORDER_STREAM])
    return rng.permuted(np.tile(rank, (epochs, 1)), axis=1).reshape(-1, batch_size)


ORDER_STREAM = (
    1  # the order's random stream: seed s draws its weights from [s], its order from [s, 1]
)
ORDERS = ("file", "shuffle")


def sample_order(
    kind: str, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, seed: int
) -> np.ndarray:
    """[steps, batch_size]: one model's samples at each step, in the 'file' or 'shuffle' order."""
    if kind == "file":
        return file_order(len(x), epochs, batch_size)
    return shuffled_order(x, y, epochs, batch_size, seed)


def default_eval_steps(total: int, eval_steps: np.ndarray | None = None) -> np.ndarray:
    return np.array([0, total]) if eval_steps is None else np.asarray(eval_steps)


def evaluation_steps(total: int, every: int, tail: int = 0) -> np.ndarray:
    """The steps after which models are evaluated: 0 (the initial weights), every `every` steps,
    each of the last `tail` steps, and the last."""
    ends = set(range(every, total, every)) if every else set()
    return np.array(sorted({0, total} | ends | set(range(total - tail + 1, total + 1))))


def step_noise(seed: int, step: "int | tf.Tensor") -> "tf.Tensor":
    """The seed of SGD step `step`'s random draws (RReLU's slopes): a function of the run's seed
    and the step alone, so every engine draws the same, whatever the thread scheduling."""
    return tf.random.experimental.stateless_fold_in(tf.constant([seed, 0], tf.int64), step)


def l1_term(
    names: Sequence[str], weights: "Sequence[tf.Tensor | tf.Variable]", l1: float | np.ndarray
) -> "tf.Tensor":
    """The kernels' L1 penalty that a proximal update keeps out of the gradient (for reporting)."""
    return tf.add_n([Penalty(l1=l1)(w) for n, w in zip(names, weights) if n.endswith("/W")])


def variables_named(names: Sequence[str]) -> "list[tf.Variable]":
    """The global variables of the default graph, in the order of `names` ("dense1/W", ...)."""
    by_name = {v.op.name: v for v in v1.global_variables()}
    return [by_name[n] for n in names]


def evaluate(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    penalty: Penalty | Targets | None,
    activation: str = "identity",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(predictions [R, n], data loss [R], penalty [R]) of stacked models on (x, y)."""
    g = tf.Graph()
    with g.as_default():
        net = model.build(
            tf.constant(x[:, None]), tf.constant(y[:, None]), params, penalty, activation
        )
        with session(g) as sess:
            sess.run(v1.global_variables_initializer())
            pred, data_loss, reg_loss = sess.run([net.pred, net.data_loss, net.reg_loss])
    return pred[..., 0], data_loss, reg_loss
