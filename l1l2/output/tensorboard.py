"""TensorBoard event files per run, written after training from the per-epoch frames.

The in-graph engine trains every run inside one while_loop, so the summaries are
produced afterwards: each frame's weights are evaluated on the train and test sets
(all frames of all runs in one graph) and written as Summary protocol buffers.
Each run's graph tab shows that run's model, the graph saved with its checkpoint
(checkpoints.graph): its own penalty ops in REGULARIZATION_LOSSES and its activation.
"""

from pathlib import Path

import numpy as np

from ..core import checkpoints, model, regularizers, train
from ..tf1 import v1

TAGS = ("cost/train", "cost/data_loss", "cost/regularization", "error/test")


def epoch_metrics(o: object, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[F, R] data loss, penalty and test error of the recorded frames `keep`."""
    t, R = o.trained, len(o.runs)
    F = int(keep.sum())
    pen = regularizers.stack([o.penalty.pick(r) for r in range(R)] * F)
    params = {k: v[keep].reshape(-1, *v.shape[2:]) for k, v in t.frames.items()}  # f * R + r
    _, loss, reg = train.evaluate(params, o.data.x_train, o.data.y_train, pen, o.cfg.activation)
    return loss.reshape(F, R), reg.reshape(F, R), t.test_error[keep]


def write_all(folder: Path, o: object) -> None:
    """tensorboard/<method>_run<k>/: scalars per epoch, a histogram per kernel, and the run's
    model graph. The summaries are written as protocol buffers, no session needed."""
    steps_per_epoch = len(o.data.x_train) // o.cfg.batch_size
    keep = o.trained.frame_steps % steps_per_epoch == 0  # epoch ends
    loss, reg, test = epoch_metrics(o, keep)
    epochs = o.trained.frame_steps[keep] // steps_per_epoch
    F, R = len(epochs), len(o.runs)
    hists = {
        n: histograms(f[keep].reshape(F * R, -1))
        for n, f in o.trained.frames.items()
        if n.endswith("/W")
    }
    graphs = model_graphs(o)
    for r, run in enumerate(o.runs):
        writer = v1.summary.FileWriter(str(folder / "tensorboard" / run.name), graph=graphs[r])
        for f, epoch in enumerate(epochs):
            scalars = (loss[f, r] + reg[f, r], loss[f, r], reg[f, r], test[f, r])
            values = [v1.Summary.Value(tag=t, simple_value=float(v)) for t, v in zip(TAGS, scalars)]
            values += [v1.Summary.Value(tag=n, histo=h[f * R + r]) for n, h in hists.items()]
            writer.add_summary(v1.Summary(value=values), int(epoch))
        writer.close()


BUCKETS = 30


def histograms(w: np.ndarray) -> list:
    """TensorBoard histograms of each row of w [N, M]: BUCKETS equal buckets over the range of
    its finite values (a diverged model has fewer), all rows counted at once."""
    w = w.astype(np.float64)
    ok = np.isfinite(w)
    lo = np.where(ok, w, np.inf).min(1, keepdims=True)
    hi = np.where(ok, w, -np.inf).max(1, keepdims=True)
    width = np.where(hi > lo, hi - lo, 1.0)
    with np.errstate(invalid="ignore"):
        bucket = np.clip(np.floor((w - lo) / width * BUCKETS), 0, BUCKETS - 1)
    row = np.broadcast_to(np.arange(len(w))[:, None], w.shape)
    counts = np.bincount(
        (row * BUCKETS + np.where(ok, bucket, 0).astype(int))[ok], minlength=len(w) * BUCKETS
    ).reshape(len(w), BUCKETS)
    edges = lo + width * np.arange(1, BUCKETS + 1) / BUCKETS
    z = np.where(ok, w, 0.0)
    return [
        v1.HistogramProto(
            min=lo[i, 0],
            max=hi[i, 0],
            num=int(ok[i].sum()),
            sum=z[i].sum(),
            sum_squares=(z[i] * z[i]).sum(),
            bucket_limit=edges[i].tolist(),
            bucket=counts[i].tolist(),
        )
        if ok[i].any()
        else v1.HistogramProto()
        for i in range(len(w))
    ]


def model_graphs(o: object) -> list:
    """The model graph of each run, with its penalties and activation and SGD at its lr; runs
    of equal penalties (the runs of one method) share one graph."""
    built = {}
    for r in range(len(o.runs)):
        pen = o.penalty.pick(r)
        if pen not in built:
            built[pen] = checkpoints.graph(
                model.unstack(o.params0, r), pen, o.cfg.activation, o.cfg.lr
            )
    return [built[o.penalty.pick(r)] for r in range(len(o.runs))]
