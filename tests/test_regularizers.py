"""The regularizers against NumPy: specs, per-model stacking, bias/activity targets, proximal L1."""

import numpy as np
import pytest
from conftest import ink

from l1l2.core import data, model
from l1l2.core import pruning as prune
from l1l2.core import regularizers as R
from l1l2.core.sgd import SGD
from l1l2.core.train import evaluate, train
from l1l2.tf1 import session, tf, v1

SIZES = (1, 10, 10, 10, 1)
D = data.load("data/line.csv")


def fit(engine, x, y, params, penalty, **kw):
    """Train with `engine` and SGD(**kw)."""
    return train(x, y, params, penalty, SGD(**kw), engine=engine)


@pytest.mark.parametrize(
    "spec, l1, l2",
    [
        ("none", 0, 0),
        ("l1:0.3", 0.3, 0),
        ("l2:1e-3", 0, 1e-3),
        ("l1l2:0.1,0.2", 0.1, 0.2),
        (" L1:.5 ", 0.5, 0),
    ],
)
def test_parse_valid(spec, l1, l2):
    p = R.parse(spec)
    assert (p.l1, p.l2) == (l1, l2)


@pytest.mark.parametrize(
    "spec", ["l3:0.1", "l1:-1", "l1l2:0.1", "l2:abc", "", "l1:nan", "none:1", "l1:0.1,0.2"]
)
def test_parse_invalid(spec):
    with pytest.raises(R.SpecError, match="invalid regularizer"):
        R.parse(spec)


def np_elastic(w, a, b):
    return a * np.abs(w).sum() + b * (w.astype(np.float64) ** 2).sum() / 2


def test_stacked_coefficients_stay_per_model():
    """A vector L2 with a scalar-zero L1 must still penalize each model by its own weights."""
    ps = [model.glorot_init(SIZES, s) for s in range(3)]
    pen = R.Penalty(0.0, np.array([0.0, 0.1, 0.3], np.float32))
    _, _, reg = evaluate(model.stack(ps), np.ones(2, np.float32), np.ones(2, np.float32), pen)
    want = [
        sum(np_elastic(p[k], 0, c) for k in p if k.endswith("/W"))
        for p, c in zip(ps, (0, 0.1, 0.3))
    ]
    np.testing.assert_allclose(reg, want, rtol=1e-5)


def test_bias_and_activity_targets_against_numpy():
    p = model.glorot_init(SIZES, 4)
    p = {k: v + 0.2 if k.endswith("/b") else v for k, v in p.items()}
    reg = R.Targets(R.parse("l1:0.3"), R.parse("l2:0.05"), R.parse("l1l2:0.01,0.02"))
    x = np.array([[1.0], [2.5], [4.0]], np.float32)
    g = tf.Graph()
    with g.as_default():
        net = model.build(tf.constant(x), tf.zeros([3, 1]), p, reg, "relu")
        coll = g.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
        with session(g) as s:
            s.run(v1.global_variables_initializer())
            got = s.run(net.reg_loss)
    # 4 kernels + 4 biases through get_variable, 3 hidden outputs through the collection
    assert len(coll) == 11
    assert sum("/W/" in t.name for t in coll) == 4 and sum("/b/" in t.name for t in coll) == 4
    hs = prune.forward(p, x.astype(np.float64), "relu")
    want = sum(
        np_elastic(p[f"dense{k}/W"], 0.3, 0) + np_elastic(p[f"dense{k}/b"], 0, 0.05)
        for k in range(1, 5)
    )
    want += sum(np_elastic(h, 0.01, 0.02) for h in hs[1:-1])
    assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu"])
def test_new_activations_against_numpy(activation):
    np_act = {
        "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
        "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1),
    }[activation]
    p = model.glorot_init((1, 5, 1), 2)
    p["dense1/b"] = np.linspace(-1, 1, 5).astype(np.float32)
    x = np.linspace(-3, 3, 13, dtype=np.float32)
    pred = evaluate(model.stack([p]), x, x, R.stack([R.Penalty()]), activation)[0][0]
    want = (np_act(x[:, None] @ p["dense1/W"] + p["dense1/b"]) @ p["dense2/W"] + p["dense2/b"])[
        :, 0
    ]
    np.testing.assert_allclose(pred, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("engine", ["graph", "reference"])
def test_one_proximal_step_against_numpy(engine):
    p = model.glorot_init((1, 4, 4, 1), 3)
    p["dense1/W"][0, 0] = 0.0  # hidden unit 0 outputs 0: its row of
    p["dense2/W"][0, :] = [0.002, -0.001, 0.5, -0.0005]  # dense2 gets no data gradient
    x, y, lr, lam = np.array([2.0], np.float32), np.array([5.0], np.float32), 0.01, 0.3
    pen = R.stack([R.for_method("l1l2", lam)])
    out = fit(engine, x, y, model.stack([p]), pen, lr=lr, epochs=1, l1_update="proximal")
    # NumPy: gradient of |pred - y| + lam*sum(W^2)/2, a step, then soft-threshold kernels by lr*lam
    q = {k: v.astype(np.float64) for k, v in p.items()}
    hs = prune.forward(q, x[:, None].astype(np.float64))
    dz, want = np.sign(hs[-1] - y[0]), {}
    for k in (3, 2, 1):
        W = q[f"dense{k}/W"]
        v = W - lr * (hs[k - 1].T @ dz + lam * W)
        want[f"dense{k}/W"] = np.sign(v) * np.maximum(np.abs(v) - lr * lam, 0)
        want[f"dense{k}/b"] = q[f"dense{k}/b"] - lr * dz.sum(0)
        dz = dz @ W.T
    got = model.unstack(out.params, 0)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-7, err_msg=k)
    assert (got["dense2/W"][0, [0, 1, 3]] == 0).all() and got["dense2/W"][0, 2] != 0


def test_proximal_engines_agree_and_give_exact_zeros():
    p0 = model.stack([model.glorot_init(SIZES, 1)])
    pen = R.stack([R.for_method("l1", 0.3)])
    kw = dict(lr=0.01, epochs=5, l1_update="proximal")
    g = fit("graph", D.x_train, D.y_train, p0, pen, **kw)
    r = fit("reference", D.x_train, D.y_train, p0, pen, **kw)
    for k in p0:
        assert np.abs(g.params[k] - r.params[k]).max() <= 1e-6, k
    sub = fit("graph", D.x_train, D.y_train, p0, pen, lr=0.01, epochs=5)
    zeros = lambda t: sum(int((t.params[k] == 0).sum()) for k in t.params if k.endswith("/W"))
    assert zeros(g) > 100 and zeros(sub) == 0
    # with exact zeros, pruning at a tolerance of ~0 gives the sizes tolerance 0.01 gives
    one = model.unstack(g.params, 0)
    assert prune.sizes_of(prune.prune(one, 1e-12).params) == prune.sizes_of(
        prune.prune(one, 0.01).params
    )


def test_l1_update_command(tmp_path, capsys, saved_figures):
    from l1l2.cli import main

    main(["l1-update", "--epochs", "5", "--record-epochs", "1", "--out", str(tmp_path)])
    md = (tmp_path / "analysis" / "l1_update.md").read_text()
    zeros = next(line for line in md.splitlines() if line.startswith("| exact zeros"))
    sub, prox = (int(v) for v in zeros.strip(" |").split("|")[1:])
    assert sub == 0 and prox > 0
    fig = saved_figures["l1_update.png"]
    assert len(fig.axes) == 3 * 2 + 1  # three weights under each update, the counts below
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["-0.3", "-0.03", "-0.003", "0", "0.003", "0.03", "0.3"]  # band = lr * lam
    assert ink(tmp_path / "analysis" / "l1_update.png") > 0.02


def test_prelu_slope_is_a_trained_variable_of_the_layer():
    p = model.init_params((1, 4, 1), 5, "prelu")
    p["dense1/b"] = np.array([-1.0, 0.5, -0.3, 2.0], np.float32)
    g = tf.Graph()
    with g.as_default():
        model.build(tf.zeros([1, 1]), tf.zeros([1, 1]), p, None, "prelu")
        names = sorted(v.op.name for v in g.get_collection(v1.GraphKeys.GLOBAL_VARIABLES))
    assert names == ["dense1/W", "dense1/alpha", "dense1/b", "dense2/W", "dense2/b"]
    x, y, lr = np.array([1.5], np.float32), np.array([4.0], np.float32), 0.01
    out = {
        e: model.unstack(
            fit(
                e,
                x,
                y,
                model.stack([p]),
                R.stack([R.Penalty()]),
                lr=lr,
                epochs=1,
                activation="prelu",
            ).params,
            0,
        )
        for e in ("graph", "reference")
    }
    z = x[0] * p["dense1/W"][0] + p["dense1/b"]
    h = np.maximum(z, 0) + p["dense1/alpha"] * np.minimum(z, 0)
    dy = np.sign(h @ p["dense2/W"][:, 0] + p["dense2/b"][0] - y[0])  # d|y - t|/dy
    want_alpha = p["dense1/alpha"] - lr * dy * p["dense2/W"][:, 0] * np.minimum(z, 0)
    for e in out:
        np.testing.assert_allclose(
            out[e]["dense1/alpha"], want_alpha, rtol=1e-5, atol=1e-7, err_msg=e
        )


def test_rrelu_is_random_in_training_and_its_mean_at_test():
    z = -np.linspace(0.5, 3.0, 500).astype(np.float32)
    lo, hi = model.RRELU_RANGE
    g = tf.Graph()
    with g.as_default(), session(g) as s:
        train_h, test_h = s.run(
            [
                model.activate(tf.constant(z), "rrelu", None, noise)
                for noise in (tf.constant([3, 4], tf.int64), None)
            ]
        )
    np.testing.assert_allclose(test_h, (lo + hi) / 2 * z, rtol=1e-6)
    slopes = train_h / z
    assert slopes.min() >= lo and slopes.max() <= hi and slopes.std() > 0.03


@pytest.mark.parametrize("engine", ["graph", "reference"])
def test_rrelu_training_is_fixed_by_the_seed(engine):
    p0 = model.stack([model.glorot_init(SIZES, 0)])
    pen = R.stack([R.Penalty(l1=0.3)])
    runs = [
        fit(
            engine, D.x_train, D.y_train, p0, pen, lr=0.01, epochs=2, activation="rrelu", seed=s
        ).params["dense2/W"]
        for s in (7, 7, 8)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_rrelu_slopes_are_the_same_in_both_engines():
    """The slopes are drawn from (seed, step, layer) alone: one model trains alike in both."""
    p0 = model.stack([model.glorot_init(SIZES, 3)])
    pen = R.stack([R.Penalty(l1=0.3)])
    g, r = (
        fit(e, D.x_train, D.y_train, p0, pen, lr=0.01, epochs=3, activation="rrelu", seed=5)
        for e in ("graph", "reference")
    )
    for k in p0:
        assert np.abs(g.params[k] - r.params[k]).max() <= 1e-6, k


def test_kernel_reg_replaces_methods_and_lam():
    from l1l2 import config
    from l1l2.flags import parse
    from l1l2.shared import runs as common

    cfg = parse(
        config.Config, ["--kernel-reg", "l1l2:0.3,0.02", "--bias-reg", "l2:0.01", "--lam", "5"]
    )
    assert cfg.methods == ("l1l2",)
    pen = common.run_penalty(cfg, cfg.methods[0])
    assert (pen.kernel.l1, pen.kernel.l2, pen.bias.l1, pen.bias.l2) == (0.3, 0.02, 0.0, 0.01)
    assert common.run_penalty(parse(config.Config, ["--lam", "0.5"]), "l1l2").kernel == R.Penalty(
        0.5, 0.5
    )
