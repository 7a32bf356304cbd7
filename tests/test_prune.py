"""Pruning: detection on hand-built weights, function preservation, the bound, checkpoints."""

import json
import os
import re

import numpy as np
import pytest

from l1l2 import config
from l1l2.cli import main
from l1l2.commands import prune as prune_command
from l1l2.core import checkpoints, data, model, regularizers
from l1l2.core import pruning as prune
from l1l2.core.sgd import SGD, Trained
from l1l2.core.train import evaluate, train
from l1l2.shared import pruned as retrain
from l1l2.shared import runs as common


def net(sizes, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    p = {}
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        p[f"dense{k}/W"] = (rng.normal(size=(a, b)) * scale).astype(np.float32)
        p[f"dense{k}/b"] = rng.normal(size=b).astype(np.float32)
    return p


def test_dead_in_dead_out_and_cascade():
    p = net((1, 4, 3, 1))
    p["dense1/W"][0, 1] = 0.001  # hidden1 unit 1: dead in
    p["dense2/W"][2, :] = -0.002  # hidden1 unit 2: dead out
    p["dense2/W"][[0, 3], 0] = 0.0  # hidden2 unit 0: only live input is unit 1 ... cascade
    p["dense2/W"][1, 0] = 5.0  # ... from a dead-in unit, whose weight no longer counts
    dead = prune.find_dead(p, tol=0.01)
    assert dead == [{1: "in", 2: "out"}, {0: "in"}]
    pr = prune.prune(p, 0.01)
    assert prune.sizes_of(pr.params) == (1, 2, 2, 1)


def test_cascade_backwards_through_dead_out():
    p = net((1, 3, 2, 1))
    p["dense3/W"][1, 0] = 0.0  # hidden2 unit 1: dead out
    p["dense2/W"][:, 0] = [0.0, 0.0, 3.0]  # hidden2 unit 0 reads only hidden1 unit 2
    p["dense2/W"][0, 1] = 2.0  # hidden1 unit 0 feeds only the dead unit 1 of hidden2
    p["dense2/W"][1, 1] = 2.0  # so do hidden1 unit 1
    assert prune.find_dead(p, 0.01) == [{0: "out", 1: "out"}, {1: "out"}]
    assert prune.sizes_of(prune.prune(p, 0.01).params) == (1, 1, 1, 1)


def test_describe_names_the_dead_units():
    p = net((1, 10, 3, 8, 1))
    p["dense1/W"][0, [0, 1, 2, 3, 5, 6, 7, 8, 9]] = 0.0  # hidden1: all but unit 4 dead in
    p["dense3/W"][:, 1] = 0.0  # hidden3 unit 1: dead in
    p["dense4/W"][[4, 7], 0] = 0.0  # hidden3 units 4, 7: dead out
    p["dense2/W"][4, 2] = 0.0  # hidden2 unit 2 reads only dead units: cascade
    dead = prune.find_dead(p, 0.01)
    assert dead == [
        {u: "in" for u in (0, 1, 2, 3, 5, 6, 7, 8, 9)},
        {2: "in"},
        {1: "in", 4: "out", 7: "out"},
    ]
    assert prune.describe(dead) == "dense1: in 0-3,5-9; dense2: in 2; dense3: in 1, out 4,7"
    assert prune.describe([{}, {}]) == "none"
    assert prune.ranges([9, 0, 1, 4, 5, 6, 7]) == "0,1,4-7,9"


def test_whole_layer_dead_is_reported_as_constant():
    p = net((1, 3, 3, 1))
    p["dense1/W"][:] = 0.0
    pr = prune.prune(p, 0.01)
    assert pr.constant and pr.dead[0] == {0: "in", 1: "in", 2: "in"}


def tf_predict(params, x, activation):
    pen = regularizers.stack([regularizers.Penalty()])
    return evaluate(model.stack([params]), x, np.zeros_like(x), pen, activation)[0][0]


@pytest.mark.parametrize(
    "activation", ["identity", "relu", "tanh", "leaky_relu", "leaky_relu:0.05", "elu", "rrelu"]
)
def test_pruned_network_computes_the_same_function(activation):
    p = net((1, 6, 6, 5, 1), seed=3, scale=0.7)
    p["dense1/W"][0, [0, 4]] = 0.0  # constant units, folded into dense2's bias
    p["dense3/W"][:, 2] = 0.0  # dead in deeper down
    p["dense3/W"][[1, 5], :] = 0.0  # hidden2 units 1, 5: dead out
    pr = prune.prune(p, 1e-6, activation)
    assert prune.sizes_of(pr.params) == (1, 4, 4, 4, 1)
    x = np.linspace(-3, 3, 41, dtype=np.float32)
    np.testing.assert_allclose(
        tf_predict(pr.params, x, activation),
        prune.forward(p, x[:, None].astype(np.float64), activation)[-1][:, 0],
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize(
    "activation", ["identity", "relu", "tanh", "leaky_relu", "leaky_relu:0.05", "elu", "rrelu"]
)
def test_small_weights_change_the_function_within_the_bound(activation):
    rng = np.random.default_rng(4)
    p = net((1, 8, 8, 1), seed=5)
    p["dense1/W"][0, :3] = rng.uniform(-0.005, 0.005, 3)  # dead in, not exactly zero
    p["dense2/W"][:, :2] = rng.uniform(-0.005, 0.005, (8, 2))
    p["dense3/W"][5, 0] = 0.004  # dead out
    pr = prune.prune(p, 0.01, activation)
    x = np.linspace(-4, 4, 57)[:, None]
    diff = np.abs(
        prune.forward(p, x, activation)[-1] - prune.forward(pr.params, x, activation)[-1]
    )[:, 0]
    bound = prune.error_bound(p, pr.zeroed, x, activation)
    assert diff.max() > 0 and (diff <= bound * (1 + 1e-6) + 1e-7).all()
    # the bound is the zeroed weights' contribution: every zeroed weight is below tol
    for k, m in enumerate(pr.zeroed, 1):
        assert (np.abs(p[f"dense{k}/W"][m]) < 0.01).all()


def test_checkpoint_round_trip(tmp_path):
    p = net((1, 10, 3, 1), seed=6)
    checkpoints.save(tmp_path / "ck", p)
    q, record = checkpoints.load(tmp_path / "ck")
    assert q.keys() == p.keys() and all(np.array_equal(p[k], q[k]) for k in p)
    assert record is None  # saved without one


def save_raw(prefix, arrays):
    """A checkpoint of arbitrary variables, written without the model builder."""
    from l1l2.tf1 import session, tf, v1

    g = tf.Graph()
    with g.as_default():
        for name, a in arrays.items():
            v1.get_variable(name, initializer=tf.constant(a))
        with session(g) as s:
            s.run(v1.global_variables_initializer())
            v1.train.Saver().save(s, str(prefix), write_meta_graph=False)


def test_checkpoint_with_wrong_shapes_is_refused(tmp_path):
    p = net((1, 4, 1))
    p["dense2/W"] = np.ones((5, 1), np.float32)  # does not chain after dense1 [1, 4]
    save_raw(tmp_path / "model", p)
    with pytest.raises(checkpoints.CheckpointError, match=r"dense2 has W \[5, 1\]"):
        checkpoints.load(tmp_path)


def test_checkpoint_missing_a_variable_is_refused(tmp_path):
    p = net((1, 4, 1))
    del p["dense2/b"]
    save_raw(tmp_path / "model", p)
    with pytest.raises(checkpoints.CheckpointError, match="lacks dense2/b"):
        checkpoints.load(tmp_path)


def at(path):
    """path as a regular expression matching itself"""
    return re.escape(str(path))


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_checkpoint_index_that_is_not_a_file_is_refused(tmp_path, kind):
    os.mkfifo(tmp_path / "model.index") if kind == "fifo" else (tmp_path / "model.index").mkdir()
    what = "is not a regular file" if kind == "fifo" else "is a directory"
    with pytest.raises(
        checkpoints.CheckpointError,
        match=f"checkpoint {at(tmp_path)} cannot be read: .*model.index {what}",
    ):
        checkpoints.load(tmp_path)


def test_checkpoint_data_file_that_is_a_fifo_is_refused(tmp_path):
    checkpoints.save(tmp_path, net((1, 2, 1)))
    [shard] = tmp_path.glob("model.data-*")
    shard.unlink()
    os.mkfifo(shard)
    with pytest.raises(checkpoints.CheckpointError, match=f"{shard.name} is not a regular file"):
        checkpoints.load(tmp_path)


def test_prelu_checkpoint_is_refused(tmp_path):
    checkpoints.save(tmp_path, model.init_params((1, 3, 2, 1), 0, "prelu"), "prelu")
    with pytest.raises(
        checkpoints.CheckpointError,
        match=f"checkpoint {at(tmp_path)} holds dense1/alpha, dense2/alpha, the slopes of a "
        "PReLU network: pruning does not support the prelu activation",
    ):
        checkpoints.load(tmp_path)


def test_checkpoint_with_other_variables_is_refused(tmp_path):
    save_raw(
        tmp_path / "model",
        {**net((1, 2, 1)), "step": np.int64(3), "dense1/W/Adam": np.zeros((1, 2))},
    )
    with pytest.raises(
        checkpoints.CheckpointError,
        match="holds variables other than denseK/W and denseK/b: dense1/W/Adam, step$",
    ):
        checkpoints.load(tmp_path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_checkpoint_with_nan_or_inf_is_refused(tmp_path, bad):
    p = net((1, 3, 1))
    p["dense1/b"][1] = bad
    checkpoints.save(tmp_path, p)
    with pytest.raises(
        checkpoints.CheckpointError,
        match=f"checkpoint {at(tmp_path)}: dense1/b holds NaN or inf " r"\(1 of 3 values\)",
    ):
        checkpoints.load(tmp_path)


def test_checkpoint_beyond_float32_is_refused(tmp_path):
    p = {k: v.astype(np.float64) for k, v in net((1, 3, 1)).items()}
    p["dense2/W"][2, 0] = 1e300
    save_raw(tmp_path / "model", p)
    with pytest.raises(
        checkpoints.CheckpointError, match="dense2/W holds values beyond the float32 range"
    ):
        checkpoints.load(tmp_path)


def test_float64_and_int32_checkpoints_load_as_float32(tmp_path):
    p = net((1, 3, 1))
    raw = {
        "dense1/W": p["dense1/W"].astype(np.float64),
        "dense1/b": np.array([1, -2, 3], np.int32),
        "dense2/W": p["dense2/W"].astype(np.float64),
        "dense2/b": np.array([7], np.int32),
    }
    save_raw(tmp_path / "model", raw)
    q = checkpoints.load(tmp_path / "model.index").params  # the index file names it too
    assert all(q[k].dtype == np.float32 for k in raw)
    np.testing.assert_array_equal(q["dense1/W"], p["dense1/W"])
    np.testing.assert_array_equal(q["dense1/b"], [1, -2, 3])


def test_checkpoint_folder_can_be_moved(tmp_path):
    from l1l2.tf1 import tf

    p = net((1, 3, 1))
    checkpoints.save(tmp_path / "staging", p)
    (tmp_path / "staging").rename(tmp_path / "final")
    latest = tf.train.latest_checkpoint(str(tmp_path / "final"))
    assert latest == str(tmp_path / "final" / "model") and os.path.isfile(latest + ".index")
    assert str(tmp_path / "staging") not in (tmp_path / "final" / "checkpoint").read_text()


def prunable():
    """A net that prunes to 1-3-2-1: hidden1 unit 1 dead in, hidden2 unit 2 dead out."""
    p = net((1, 4, 3, 1), seed=1, scale=0.5)
    p["dense1/W"][0, 1] = 0.0
    p["dense3/W"][2, 0] = 0.004
    return p


def fake_outcome(cfg, nets):
    """prune_runs' arguments after the folder and cfg, for a main run whose trained L1 runs
    are `nets`."""
    trained = Trained(model.stack(nets), None, np.full(len(nets), -1), np.array([0]), {}, None)
    return (
        data.load(cfg.data),
        [common.Run("l1", k, k) for k in range(len(nets))],
        [{"test_error_final": 9.0, "diverged_at_step": -1, "diverged": False}] * len(nets),
        regularizers.stack([common.run_penalty(cfg, "l1")] * len(nets)),
        trained,
    )


def test_main_run_saves_the_pruned_and_retrained_nets(tmp_path, monkeypatch):
    cfg = config.Config(runs=2, epochs=2, methods=("l1",), out=str(tmp_path / "out"))
    calls = []

    def counting(*args, **kw):
        calls.append(1)
        return train(*args, **kw)

    monkeypatch.setattr(retrain, "train", counting)
    items = retrain.prune_runs(tmp_path, cfg, *fake_outcome(cfg, [prunable(), prunable()]))
    assert len(calls) == 1  # both runs, scratch and finetune: one training call
    for p in items:
        for kind in ("pruned", "scratch", "finetune"):
            q, rec = checkpoints.load(tmp_path / "checkpoints" / f"{p.name}_{kind}")
            assert prune.sizes_of(q) == (1, 3, 2, 1) and rec["kind"] == kind
            assert rec["name"] == f"{p.name}_{kind}" and rec["seed"] == p.seed
            source = tmp_path / "out" / "checkpoints" / p.name
            assert rec["derived_from"]["checkpoint"] == str(source)
            assert rec["derived_from"]["removed"] == {
                "dense1": {"in": [1], "out": []},
                "dense2": {"in": [], "out": [2]},
            }
            want = p.pruning.params if kind == "pruned" else p.retrained[kind]
            assert all(np.array_equal(q[k], want[k]) for k in q)
    [a, b] = items
    assert not np.array_equal(a.retrained["finetune"]["dense1/W"], a.pruning.params["dense1/W"])
    assert not np.array_equal(
        a.retrained["scratch"]["dense1/W"], b.retrained["scratch"]["dense1/W"]
    )
    text = (tmp_path / "pruning.md").read_text()
    assert (
        "of l1_run0, l1_run1 in `checkpoints/<run>_pruned/`, retrained in "
        "`checkpoints/<run>_scratch/`"
    ) in text
    assert "| dense1: in 1; dense2: out 2 |" in text


def test_main_run_without_checkpoints_still_prunes(tmp_path):
    cfg = config.Config(runs=1, epochs=1, methods=("l1",), checkpoints=False)
    [item] = retrain.prune_runs(tmp_path, cfg, *fake_outcome(cfg, [prunable()]))
    assert item.retrained and not (tmp_path / "checkpoints").exists()
    assert "No checkpoints were saved (--no-checkpoints)." in (tmp_path / "pruning.md").read_text()


def test_prune_command_saves_the_retrained_net(tmp_path, capsys):
    checkpoints.save(tmp_path / "ck", prunable())
    result = prune_command.main(
        config.PruneConfig(
            checkpoint=str(tmp_path / "ck"), retrain="finetune", epochs=2, out=str(tmp_path / "out")
        )
    )
    folder = tmp_path / "out" / "pruned"
    names = sorted(f.name for f in folder.iterdir())
    assert names == ["ck_finetune", "ck_pruned", "config.json", "report.md"]
    run = json.loads((folder / "config.json").read_text())["config"]
    assert (run["retrain"], run["epochs"], run["seed"], run["tol"]) == ("finetune", 2, 0, 0.01)
    q, rec = checkpoints.load(folder / "ck_finetune")
    assert prune.sizes_of(q) == (1, 3, 2, 1) and rec["kind"] == "finetune" and rec["epochs"] == 2
    assert rec["derived_from"]["checkpoint"] == str(tmp_path / "ck")
    assert prune.sizes_of(checkpoints.load(folder / "ck_pruned").params) == (1, 3, 2, 1)
    report = (folder / "report.md").read_text()
    assert "`pruned/ck_finetune/` (finetune)" in report
    assert "fewer than 2 finite values" not in report  # one checkpoint: its own numbers
    assert "The checkpoint has no record (`model.json`): the settings are the flags'" in report
    err = capsys.readouterr().err
    out = result.done
    assert "1-4-3-1 -> 1-3-2-1 (dead: dense1: in 1; dense2: out 2)" in out and "fine-tuned" in out
    assert result.report == report and result.rows[0]["sizes_after"] == [1, 3, 2, 1]
    assert len([line for line in err.splitlines() if line.startswith("note:")]) == 1
    assert f"note: {tmp_path / 'ck'} has no record (model.json): using the flags" in err


def test_prune_command_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["prune", "--checkpoint", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "no checkpoint at" in err and err.count("\n") == 1


def test_l1_prunes_and_l2_barely_on_the_committed_data():
    """Protocol defaults but 30 epochs instead of 100, to stay fast: L1 has cut its
    network down to a few units by then, L2 (same initial weights) keeps nearly all."""
    d = data.load("data/line.csv")
    p0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), 2)] * 2)
    pen = regularizers.stack([regularizers.for_method(m, 0.3) for m in ("l1", "l2")])
    out = train(d.x_train, d.y_train, p0, pen, SGD(epochs=30))
    l1, l2 = (prune.prune(model.unstack(out.params, i), 0.01) for i in (0, 1))
    assert sum(prune.sizes_of(l1.params)[1:-1]) <= 6
    assert sum(len(d) for d in l2.dead) <= 1


def test_prelu_is_refused():
    with pytest.raises(ValueError, match="does not support the prelu activation"):
        prune.prune(net((1, 3, 1)), 0.01, "prelu")


def test_dead_counts_of_a_stack_equal_find_dead_model_by_model():
    rng = np.random.default_rng(0)
    nets = []
    for s in range(60):
        p = model.glorot_init((1, 10, 10, 10, 1), s)
        keep = rng.uniform(0.05, 0.5)  # from nearly every unit dead to nearly none
        nets.append(
            {k: v * (rng.random(v.shape) < keep) if k.endswith("/W") else v for k, v in p.items()}
        )
    got = prune.dead_counts(model.stack(nets), 0.01)
    want = [[len(d) for d in prune.find_dead(p, 0.01)] for p in nets]
    np.testing.assert_array_equal(got, want)
    assert got.sum() > 100 and (got.sum(1) < 30).any()
