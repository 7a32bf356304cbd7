"""TensorBoard event files per run, written after training from the per-epoch frames.

The in-graph engine trains every run inside one while_loop, so the summaries are
produced afterwards: each frame's weights are evaluated on the train and test sets
(all frames of all runs in one graph) and fed to tf.compat.v1.summary ops, built once.
Each run's graph tab shows that run's model, the graph saved with its checkpoint
(checkpoints.graph): its own penalty ops in REGULARIZATION_LOSSES and its activation.
"""
import numpy as np

from ..core import checkpoints, model, regularizers, train
from ..tf1 import session, tf, v1

TAGS = ("cost/train", "cost/data_loss", "cost/regularization", "error/test")


def epoch_metrics(o, keep):
    """[F, R] data loss, penalty and test error of the recorded frames `keep`."""
    t, R = o.trained, len(o.runs)
    F = int(keep.sum())
    pen = regularizers.stack([o.penalty.pick(r) for r in range(R)] * F)
    params = {k: v[keep].reshape(-1, *v.shape[2:]) for k, v in t.frames.items()}  # f * R + r
    _, loss, reg = train.evaluate(params, o.data.x_train, o.data.y_train, pen,
                                  o.cfg.activation)
    return loss.reshape(F, R), reg.reshape(F, R), t.test_error[keep]


def write_all(folder, o):
    """tensorboard/<method>_run<k>/: scalars per epoch, a histogram per kernel, and the run's
    model graph."""
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
        graphs = model_graphs(o)
        with session(g) as sess:
            for r, run in enumerate(o.runs):
                writer = v1.summary.FileWriter(str(folder / "tensorboard" / run.name),
                                               graph=graphs[r])
                for f, epoch in enumerate(epochs):
                    scalars = (loss[f, r] + reg[f, r], loss[f, r], reg[f, r], test[f, r])
                    feed = {feeds[t]: v for t, v in zip(TAGS, scalars)}
                    for n, k in kernels.items():  # a diverged model: its finite weights only
                        feed[hist[n]] = k[f, r][np.isfinite(k[f, r])]
                    writer.add_summary(sess.run(merged, feed), int(epoch))
                writer.close()


def model_graphs(o) -> list:
    """The model graph of each run, with its penalties and activation and SGD at its lr; runs
    of equal penalties (the runs of one method) share one graph."""
    built = {}
    for r in range(len(o.runs)):
        pen = o.penalty.pick(r)
        if pen not in built:
            built[pen] = checkpoints.graph(model.unstack(o.params0, r), pen, o.cfg.activation,
                                           o.cfg.lr)
    return [built[o.penalty.pick(r)] for r in range(len(o.runs))]
