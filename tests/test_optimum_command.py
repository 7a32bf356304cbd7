"""`reproduce optimum`: the exact optima on the file, as checkpoints TensorFlow agrees with; what
it refuses; no trained run ever ends below its optimum."""

import csv
import json

import numpy as np
import pytest

from l1l2.cli import main
from l1l2.core import checkpoints, data, model, regularizers
from l1l2.core.train import evaluate

D = data.load("data/line.csv")


def test_optimum_command_writes_what_tensorflow_confirms(tmp_path, capsys):
    main(["optimum", "--lams", "0,0.3,1", "--methods", "l1,l2", "--out", str(tmp_path)])
    folder = tmp_path / "optimum"
    rows = json.loads((folder / "optimum.json").read_text())
    assert [(r["method"], r["lam"]) for r in rows] == [
        ("none", 0.0), ("l1", 0.3), ("l2", 0.3), ("l1", 1.0), ("l2", 1.0)
    ]  # fmt: skip
    keys = {"method", "lam", "slope", "intercept", "objective", "test_error", "constant"}
    assert all(keys <= set(r) for r in rows)
    steps = len(D.x_train)  # batch size 1: the penalty once per step of an epoch
    for r in rows:
        params, rec = checkpoints.load(folder / r["checkpoint"])
        assert rec["kind"] == "optimum" and rec["test_error"] == pytest.approx(r["test_error"])
        pen = regularizers.for_method(r["method"], r["lam"])
        scaled = regularizers.stack([regularizers.Penalty(pen.l1 * steps, pen.l2 * steps)])
        pred, loss, reg = evaluate(model.stack([params]), D.x_train, D.y_train, scaled)
        assert loss[0] + reg[0] == pytest.approx(r["objective"], rel=1e-6)  # TF's own cost
        test = evaluate(model.stack([params]), D.x_test, D.y_test, None)[1][0]
        assert test == pytest.approx(r["test_error"], rel=1e-5)
        assert r["constant"] == (np.ptp(pred) == 0)
    by = {(r["method"], r["lam"]): r for r in rows}
    assert by["l1", 1.0]["constant"] and not by["l2", 1.0]["constant"]
    assert "| l2 | 1 | l2:1 |" in (folder / "optimum.md").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--activation", "relu"], "identity networks with kernel penalties only"),
        (["--bias-reg", "l1:0.1"], "identity networks with kernel penalties only"),
        (["--lams", "0.3,0.3"], "--lams lists a value twice"),
        (["--kernel-reg", "l4:1"], "--kernel-reg: invalid regularizer"),
    ],
)
def test_what_it_cannot_solve_is_refused_in_one_line(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as e:
        main(["optimum", *args, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_no_run_of_the_main_comparison_ends_below_its_optimum(quick_run):
    for r in csv.DictReader(open(quick_run / "results.csv")):
        assert float(r["objective"]) >= float(r["optimum_objective"]) * (1 - 1e-6), r
        assert float(r["optimum_test_error"]) > 0


def test_the_profile_is_the_best_objective_of_each_slope():
    """J(a) = min over weights computing slope a: its data term by a dense search over the
    intercept, its penalty by hand; trained networks lie on or above it."""
    from l1l2.core import optimum

    a, j = optimum.profile(D.x_train, D.y_train, 4, 12.0, 0.0, reach=3.0)
    for k in range(0, len(a), 57):
        c = np.linspace(-20, 40, 60001)
        loss = np.abs(D.y_train[None] - a[k] * D.x_train[None] - c[:, None]).sum(1).min()
        assert j[k] == pytest.approx(loss + 12.0 * 4 * abs(a[k]) ** 0.25, abs=2e-2)
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = {
            k: v * rng.uniform(0.5, 2) for k, v in model.glorot_init((1, 10, 10, 10, 1), 3).items()
        }
        s = optimum.slope(p)
        loss = optimum.data_loss(np.array([s]), D.x_train, D.y_train)[0][0]
        at = loss + optimum.least_penalty(s, 4, 12.0, 0.0)  # the profile at the net's slope
        assert optimum.objective(p, D.x_train, D.y_train, 12.0, 0.0) >= at - 1e-6


def test_the_objective_of_a_stack_is_each_models():
    from l1l2.core import optimum

    nets = [model.glorot_init((1, 10, 10, 10, 1), s) for s in range(4)]
    l1 = np.array([0.0, 12.0, 0.0, 12.0])
    l2 = np.array([0.0, 0.0, 12.0, 12.0])
    got = optimum.objective(model.stack(nets), D.x_train, D.y_train, l1, l2)
    want = [optimum.objective(p, D.x_train, D.y_train, a, b) for p, a, b in zip(nets, l1, l2)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    pen = regularizers.stack([regularizers.Penalty(a, b) for a, b in zip(l1, l2)])
    _, loss, reg = evaluate(model.stack(nets), D.x_train, D.y_train, pen)  # TensorFlow's
    np.testing.assert_allclose(got, loss + reg, rtol=1e-5)
