"""TensorBoard events read back: the expected tags at every epoch, values matching results.csv."""
import csv

import numpy as np

from l1l2.tf1 import v1


def read_events(folder):
    (path,) = list(folder.glob("events.out.tfevents.*"))
    scalars, hists, graph = {}, {}, False
    for e in v1.train.summary_iterator(str(path)):
        graph |= e.HasField("graph_def")
        for v in e.summary.value:
            if v.HasField("histo"):
                hists.setdefault(v.tag, []).append(e.step)
            else:
                scalars.setdefault(v.tag, []).append((e.step, v.simple_value))
    return scalars, hists, graph


def test_events_hold_tags_steps_and_graph(quick_run):
    runs = sorted(p.name for p in (quick_run / "tensorboard").iterdir())
    assert runs == sorted(f"{m}_run{k}" for m in ("none", "l1", "l2") for k in range(2))
    scalars, hists, graph = read_events(quick_run / "tensorboard" / "l1_run0")
    assert graph
    assert set(scalars) == {"cost/train", "cost/data_loss", "cost/regularization", "error/test"}
    assert all([s for s, _ in v] == list(range(6)) for v in scalars.values())   # epochs 0..5
    assert set(hists) == {f"dense{k}/W" for k in range(1, 5)} and hists["dense1/W"] == list(range(6))
    # the last epoch's test error is the one in results.csv
    row = next(r for r in csv.DictReader(open(quick_run / "results.csv")) if r["method"] == "l1" and r["run"] == "0")
    assert np.isclose(scalars["error/test"][-1][1], float(row["test_error_final"]), rtol=1e-5)
    # the penalty of an L1 run is positive, of an unregularized run zero
    assert scalars["cost/regularization"][-1][1] > 0
    none, _, _ = read_events(quick_run / "tensorboard" / "none_run0")
    assert all(v == 0 for _, v in none["cost/regularization"])
