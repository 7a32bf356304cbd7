"""TensorBoard event files per run, written after training from the per-epoch frames.

The in-graph engine trains every run inside one while_loop, so the summaries are
produced afterwards: each frame's weights are evaluated on the train and test sets
(all frames of all runs in one graph) and written as Summary protocol buffers.
Each run's graph tab shows that run's model, the graph saved with its checkpoint
(checkpoints.graph): its own penalty ops in REGULARIZATION_LOSSES and its activation.
The runs' settings are hparams (the hparams plugin's summaries), so TensorBoard's table
view filters and compares them by method, lambda, order, seed and schedule.
"""

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core import checkpoints, model, regularizers
from ..core.data import Dataset
from ..core.sgd import SGD, Trained
from ..core.train import evaluate
from ..lazy import Lazy
from ..tf1 import v1

hparams_summary = Lazy(lambda: importlib.import_module("tensorboard.plugins.hparams.summary"))
hparams_api = Lazy(lambda: importlib.import_module("tensorboard.plugins.hparams.api_pb2"))

TAGS = {  # tag: what it is, shown in TensorBoard beside the chart
    "cost/objective": "data loss + steps per epoch x penalty: the sum of an epoch's step costs "
    "at these weights, what per-sample SGD descends",
    "cost/data_loss": "summed absolute error over the training samples",
    "cost/penalty": "the sum of the REGULARIZATION_LOSSES collection (one step's penalty)",
    "error/test": "total absolute error over the test samples (the blog's metric)",
}


def epoch_metrics(
    trained: Trained,
    penalty: regularizers.Targets,
    data: Dataset,
    activation: str,
    keep: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[F, R] data loss, penalty and test error of the recorded frames `keep`."""
    R, F = trained.test_error.shape[1], int(keep.sum())
    pen = regularizers.stack([penalty.pick(r) for r in range(R)] * F)
    params = {k: v[keep].reshape(-1, *v.shape[2:]) for k, v in trained.frames.items()}  # f*R+r
    _, loss, reg = evaluate(params, data.x_train, data.y_train, pen, activation)
    return loss.reshape(F, R), reg.reshape(F, R), trained.test_error[keep]


def write_all(
    folder: Path,
    names: Sequence[str],
    settings: Sequence[dict[str, Any]],
    params0: dict[str, np.ndarray],
    penalty: regularizers.Targets,
    trained: Trained,
    data: Dataset,
    spec: SGD,
) -> None:
    """tensorboard/<name>/ of each stacked model: its settings as hparams, scalars per epoch, a
    histogram per kernel, and its model graph; tensorboard/ itself: the hparams experiment.
    The summaries are written as protocol buffers, no session needed."""
    write_experiment(folder / "tensorboard", settings)
    steps_per_epoch = spec.steps_per_epoch(len(data.x_train))
    keep = trained.frame_steps % steps_per_epoch == 0  # epoch ends
    loss, reg, test = epoch_metrics(trained, penalty, data, spec.activation, keep)
    epochs = trained.frame_steps[keep] // steps_per_epoch
    F, R = len(epochs), len(names)
    hists = {
        n: histograms(f[keep].reshape(F * R, -1))
        for n, f in trained.frames.items()
        if n.endswith("/W")
    }
    graphs = model_graphs(params0, penalty, spec)
    for r, name in enumerate(names):
        writer = v1.summary.FileWriter(str(folder / "tensorboard" / name), graph=graphs[r])
        writer.add_summary(hparams_summary.session_start_pb(hparams=settings[r]), 0)
        for f, epoch in enumerate(epochs):
            objective = loss[f, r] + steps_per_epoch * reg[f, r]
            scalars = (objective, loss[f, r], reg[f, r], test[f, r])
            values = [scalar(t, v, first=f == 0) for t, v in zip(TAGS, scalars)]
            values += [v1.Summary.Value(tag=n, histo=h[f * R + r]) for n, h in hists.items()]
            writer.add_summary(v1.Summary(value=values), int(epoch))
        writer.add_summary(hparams_summary.session_end_pb(hparams_api.Status.STATUS_SUCCESS))
        writer.close()
        fixed_name(folder / "tensorboard" / name)


def scalar(tag: str, value: float, first: bool) -> "v1.Summary.Value":
    """A scalar summary value; the first of its tag carries its description."""
    scalars = v1.SummaryMetadata.PluginData(plugin_name="scalars")
    about = (
        v1.SummaryMetadata(plugin_data=scalars, summary_description=TAGS[tag]) if first else None
    )
    return v1.Summary.Value(tag=tag, simple_value=float(value), metadata=about)


def write_experiment(folder: Path, settings: Sequence[dict[str, Any]]) -> None:
    """The hparams experiment in tensorboard/ itself: which settings the runs vary and which
    metrics the table view shows beside them."""
    api = hparams_api
    infos = [
        api.HParamInfo(
            name=k,
            type=api.DataType.DATA_TYPE_STRING
            if isinstance(v, str)
            else api.DataType.DATA_TYPE_FLOAT64,
        )  # fmt: skip
        for k, v in settings[0].items()
    ]
    metrics = [
        api.MetricInfo(name=api.MetricName(tag=t), description=TAGS[t])
        for t in ("error/test", "cost/objective")
    ]
    writer = v1.summary.FileWriter(str(folder))
    writer.add_summary(hparams_summary.experiment_pb(infos, metrics, time_created_secs=0.0))
    writer.close()
    fixed_name(folder)


EVENTS = "events.out.tfevents.l1l2"  # TensorBoard reads any file with "tfevents" in its name


def fixed_name(run: Path) -> None:
    """Rename the run's event file (TensorFlow names it by time and host) to EVENTS, so that
    running the command again writes the same file names."""
    [written] = [p for p in run.glob("events.out.tfevents.*") if p.name != EVENTS]
    written.rename(run / EVENTS)


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


def model_graphs(
    params0: dict[str, np.ndarray], penalty: regularizers.Targets, spec: SGD
) -> list["v1.Graph"]:
    """The model graph of each stacked model, with its penalties and activation and SGD at its
    lr; models of equal penalties (the runs of one method) share one graph."""
    built, n = {}, len(params0["dense1/W"])
    for r in range(n):
        pen = penalty.pick(r)
        if pen not in built:
            built[pen] = checkpoints.graph(model.unstack(params0, r), pen, spec.activation, spec.lr)
    return [built[penalty.pick(r)] for r in range(n)]
