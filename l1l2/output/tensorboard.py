"""TensorBoard event files per run, written after training from the per-epoch frames.

The in-graph engine trains every run inside one while_loop, so the summaries are
produced afterwards: each frame's weights are evaluated on the train and test sets
(all frames of all runs in one graph) and fed to tf.compat.v1.summary ops.
"""
import numpy as np

from ..core import model, regularizers, train
from ..tf1 import session, tf, v1

TAGS = ("cost/train", "cost/data_loss", "cost/regularization", "error/test")


def epoch_metrics(o, keep):
    """[F, R] data loss, penalty and test error of the recorded frames `keep`."""
    t, R = o.trained, len(o.runs)
    F = int(keep.sum())
    pen = regularizers.stack([o.penalty.pick(r) for r in range(R)] * F)
    params = {k: v[keep].reshape(-1, *v.shape[2:]) for k, v in t.frames.items()}  # f * R + r
    _, loss, reg = train.evaluate(params, o.data.x_train, o.data.y_train, pen, o.cfg.activation)
    return loss.reshape(F, R), reg.reshape(F, R), t.test_error[keep]


def write_all(folder, o):
    """tensorboard/<method>_run<k>/: scalars per epoch, a histogram per kernel, and the model graph."""
    steps_per_epoch = len(o.data.x_train) // o.cfg.batch_size
    keep = o.trained.frame_steps % steps_per_epoch == 0  # epoch ends
    loss, reg, test = epoch_metrics(o, keep)
    epochs = o.trained.frame_steps[keep] // steps_per_epoch
    g = tf.Graph()
    with g.as_default():
        feeds = {t: v1.placeholder(tf.float32, []) for t in TAGS}
        kernels = {n: f[keep] for n, f in o.trained.frames.items() if n.endswith("/W")}
        hist = {n: v1.placeholder(tf.float32, None) for n in kernels}
        merged = v1.summary.merge([v1.summary.scalar(t, p) for t, p in feeds.items()] +
                                  [v1.summary.histogram(n, p) for n, p in hist.items()])
        graph_def = _model_graph(o)
        with session(g) as sess:
            for r, run in enumerate(o.runs):
                writer = v1.summary.FileWriter(str(folder / "tensorboard" / run.name), graph=graph_def)
                for f, epoch in enumerate(epochs):
                    values = dict(zip(TAGS, (loss[f, r] + reg[f, r], loss[f, r], reg[f, r], test[f, r])))
                    feed = {feeds[t]: v for t, v in values.items()}
                    weights = {n: k[f, r] for n, k in kernels.items()}
                    feed.update({hist[n]: w[np.isfinite(w)] for n, w in weights.items()})  # diverged: none
                    writer.add_summary(sess.run(merged, feed), int(epoch))
                writer.close()


def _model_graph(o):
    """The TF1 graph of one model, as TensorBoard's graph tab shows it."""
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, 1], name="x")
        y = v1.placeholder(tf.float32, [None, 1], name="y")
        net = model.build(x, y, model.unstack(o.params0, 0), o.penalty.pick(0), o.cfg.activation)
        v1.train.GradientDescentOptimizer(o.cfg.lr).minimize(net.cost)
    return g
