"""TensorBoard events read back: the expected tags at every epoch, values matching results.csv."""

import csv

import numpy as np

from l1l2 import config
from l1l2.core import data
from l1l2.output import tensorboard
from l1l2.shared import runs as common
from l1l2.tf1 import v1


def read_events(folder):
    (path,) = list(folder.glob("events.out.tfevents.*"))
    scalars, hists, graph = {}, {}, False
    for e in v1.train.summary_iterator(str(path)):
        graph |= e.HasField("graph_def")
        for v in e.summary.value:
            if v.tag.startswith("_hparams_/"):
                continue
            if v.HasField("histo"):
                hists.setdefault(v.tag, []).append(e.step)
            else:
                scalars.setdefault(v.tag, []).append((e.step, v.simple_value))
    return scalars, hists, graph


def test_events_hold_tags_steps_and_graph(quick_run):
    runs = sorted(p.name for p in (quick_run / "tensorboard").iterdir() if p.is_dir())
    assert runs == sorted(f"{m}_run{k}" for m in ("none", "l1", "l2") for k in range(2))
    scalars, hists, graph = read_events(quick_run / "tensorboard" / "l1_run0")
    assert graph
    assert set(scalars) == {"cost/objective", "cost/data_loss", "cost/penalty", "error/test"}
    assert all([s for s, _ in v] == list(range(6)) for v in scalars.values())  # epochs 0..5
    assert set(hists) == {f"dense{k}/W" for k in range(1, 5)} and hists["dense1/W"] == list(
        range(6)
    )
    # the last epoch's test error is the one in results.csv
    row = next(
        r
        for r in csv.DictReader(open(quick_run / "results.csv"))
        if r["method"] == "l1" and r["run"] == "0"
    )
    assert np.isclose(scalars["error/test"][-1][1], float(row["test_error_final"]), rtol=1e-5)
    # the penalty of an L1 run is positive, of an unregularized run zero
    assert scalars["cost/penalty"][-1][1] > 0
    assert np.isclose(scalars["cost/objective"][-1][1], float(row["objective"]), rtol=1e-5)
    none, _, _ = read_events(quick_run / "tensorboard" / "none_run0")
    assert all(v == 0 for _, v in none["cost/penalty"])


def test_tensorboards_own_reader_sees_hparams_descriptions_and_every_epoch(quick_run):
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.hparams import plugin_data_pb2

    root = ea.EventAccumulator(str(quick_run / "tensorboard"))
    root.Reload()
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        root.PluginTagToContent("hparams")["_hparams_/experiment"]
    ).experiment
    assert {h.name for h in experiment.hparam_infos} >= {"method", "lambda", "order", "seed"}
    for method in ("none", "l1", "l2"):
        for k in range(2):
            run = ea.EventAccumulator(
                str(quick_run / "tensorboard" / f"{method}_run{k}"),
                size_guidance={ea.HISTOGRAMS: 0, ea.SCALARS: 0},  # 0: keep every step
            )
            run.Reload()
            start = plugin_data_pb2.HParamsPluginData.FromString(
                run.PluginTagToContent("hparams")["_hparams_/session_start_info"]
            ).session_start_info.hparams
            assert (start["method"].string_value, start["seed"].number_value) == (method, k)
            assert [e.step for e in run.Histograms("dense1/W")] == list(range(6))
            assert "test samples" in run.SummaryMetadata("error/test").summary_description


def graph_ops(folder):
    """{op name: op type} of the graph in a run's event file."""
    (path,) = list(folder.glob("events.out.tfevents.*"))
    events = v1.train.summary_iterator(str(path))
    (graph,) = [e.graph_def for e in events if e.HasField("graph_def")]
    g = v1.GraphDef()
    g.ParseFromString(graph)
    return {n.name: n.op for n in g.node}


def penalty_ops(ops, var="W"):
    """The op types get_variable's regularizer added for the variables denseK/<var>."""
    return {t for n, t in ops.items() if f"/{var}/Regularizer/" in n}


def test_each_run_shows_its_own_models_graph(quick_run):
    """none: no penalty ops; l1: |W| (Abs) and no square; l2: W^2 (Square) and no Abs."""
    want = {"none": set(), "l1": {"Abs"}, "l2": {"Square"}}
    for method, kinds in want.items():
        for k in range(2):
            ops = graph_ops(quick_run / "tensorboard" / f"{method}_run{k}")
            assert penalty_ops(ops) & {"Abs", "Square"} == kinds, (method, k)
            assert {"x", "y", "prediction", "cost", "train"} <= set(ops)
            assert "Relu" not in ops.values()  # identity, the default


def test_graphs_follow_the_run_whatever_the_method_order(tmp_path):
    """l2 listed first and a bias penalty on every run: each run still has its own kernel
    penalty, every run the bias one, and the relu activation."""
    cfg = config.Config(
        runs=1, epochs=1, methods=("l2", "l1"), activation="relu", bias_reg="l2:0.1"
    )
    d = data.load(cfg.data)
    runs = common.plan(cfg)
    params0, penalty, trained = common.train_runs(cfg, d, runs, record=True)
    names, settings = [r.name for r in runs], [{"method": r.method} for r in runs]
    tensorboard.write_all(tmp_path, names, settings, params0, penalty, trained, d, cfg.sgd())
    l2, l1 = (graph_ops(tmp_path / "tensorboard" / f"{m}_run0") for m in ("l2", "l1"))
    assert penalty_ops(l2) & {"Abs", "Square"} == {"Square"}
    assert penalty_ops(l1) & {"Abs", "Square"} == {"Abs"}
    assert all(penalty_ops(ops, "b") & {"Abs", "Square"} == {"Square"} for ops in (l1, l2))
    assert all("Relu" in ops.values() for ops in (l1, l2))


def test_histograms_count_like_numpy_and_skip_what_is_not_finite():
    from l1l2.output.tensorboard import histograms

    w = np.random.default_rng(0).normal(size=(4, 100))
    w[2, :50], w[3] = np.nan, np.inf
    hs = histograms(w)
    for i in range(3):
        x = w[i][np.isfinite(w[i])]
        counts, edges = np.histogram(x, bins=30)
        assert hs[i].bucket == counts.tolist() and hs[i].num == len(x)
        np.testing.assert_allclose(hs[i].bucket_limit, edges[1:])
        assert (hs[i].min, hs[i].max) == (x.min(), x.max())
        assert np.isclose(hs[i].sum, x.sum()) and np.isclose(hs[i].sum_squares, (x * x).sum())
    assert hs[3].num == 0  # a diverged model: no histogram
