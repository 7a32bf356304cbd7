"""The TF1 model against NumPy: forward pass, penalties, the collection, one SGD step."""

import numpy as np
import pytest

from l1l2.core import model, regularizers
from l1l2.core.sgd import SGD
from l1l2.core.train import evaluate, train
from l1l2.tf1 import session, tf, v1

SIZES = (1, 10, 10, 10, 1)
LAM, LR = 0.3, 0.01


def fit(engine, x, y, params, penalty, **kw):
    """Train with `engine` and SGD(**kw)."""
    return train(x, y, params, penalty, SGD(**kw), engine=engine)


def np_forward(p, x, act=lambda z: z):
    """Activations h_0..h_L and pre-activations z_1..z_L of one model, x [B, 1]."""
    hs, zs, names = [x], [], model.layer_names(p)
    for k, n in enumerate(names):
        z = hs[-1] @ p[f"{n}/W"] + p[f"{n}/b"]
        zs.append(z)
        hs.append(act(z) if k < len(names) - 1 else z)
    return hs, zs


COEFS = {"none": (0, 0), "l1": (1, 0), "l2": (0, 1), "l1l2": (1, 1)}  # (L1, L2) multiples of lam


def np_penalty(p, method, lam):
    a, b = (lam * c for c in COEFS[method])
    ws = [v.astype(np.float64) for k, v in p.items() if k.endswith("/W")]
    return a * sum(np.abs(w).sum() for w in ws) + b * sum((w**2).sum() for w in ws) / 2


def np_sgd_step(p, x, y, method, lam, lr, act=lambda z: z, dact=lambda z: np.ones_like(z)):
    """One SGD step on |pred - y| + penalty, the gradients by the chain rule, by hand."""
    hs, zs = np_forward(p, x, act)
    names = model.layer_names(p)
    dz = np.sign(zs[-1] - y)  # d|e|/de = sign(e)
    new = {}
    for k in reversed(range(len(names))):
        n, W = names[k], p[f"{names[k]}/W"]
        a, b = (lam * c for c in COEFS[method])
        dW = hs[k].T @ dz + a * np.sign(W) + b * W
        new[f"{n}/W"], new[f"{n}/b"] = W - lr * dW, p[f"{n}/b"] - lr * dz.sum(0)
        if k:
            dz = (dz @ W.T) * dact(zs[k - 1])
    return new


def build_single(params, method, activation="identity"):
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, 1])
        net = model.build(
            x, tf.zeros([1, 1]), params, regularizers.for_method(method, LAM), activation
        )
    return g, x, net


@pytest.mark.parametrize(
    "activation, act",
    [
        ("identity", lambda z: z),
        ("relu", lambda z: np.maximum(z, 0)),
        ("leaky_relu:0.1", lambda z: np.where(z > 0, z, 0.1 * z)),
    ],
)
def test_forward_matches_numpy(activation, act):
    p = model.glorot_init(SIZES, 7)
    p = {k: v + 0.1 if k.endswith("/b") else v for k, v in p.items()}
    x = np.linspace(0.5, 9.5, 6, dtype=np.float32)[:, None]
    g, xp, net = build_single(p, "none", activation)
    with session(g) as s:
        s.run(v1.global_variables_initializer())
        pred = s.run(net.pred, {xp: x})
    np.testing.assert_allclose(pred, np_forward(p, x, act)[0][-1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", regularizers.METHODS)
def test_penalty_and_collection(method):
    p = model.glorot_init(SIZES, 1)
    g, _, net = build_single(p, method)
    losses = g.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
    # exactly one entry per kernel, named after it; none for biases
    assert len(losses) == (0 if method == "none" else 4)
    assert sorted(t.name.split("/")[0] for t in losses) == (
        [] if method == "none" else ["dense1", "dense2", "dense3", "dense4"]
    )
    assert all("/W/" in t.name for t in losses)
    with session(g) as s:
        s.run(v1.global_variables_initializer())
        assert s.run(net.reg_loss) == pytest.approx(np_penalty(p, method, LAM), rel=1e-5)


def test_variables_are_scoped_like_tf1():
    g, _, _ = build_single(model.glorot_init(SIZES, 0), "l1")
    shapes = {v.op.name: v.shape.as_list() for v in g.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)}
    assert shapes == {
        "dense1/W": [1, 10],
        "dense1/b": [10],
        "dense2/W": [10, 10],
        "dense2/b": [10],
        "dense3/W": [10, 10],
        "dense3/b": [10],
        "dense4/W": [10, 1],
        "dense4/b": [1],
    }


def test_stacked_penalty_is_per_model():
    ps = [model.glorot_init(SIZES, s) for s in range(3)]
    pen = regularizers.stack([regularizers.for_method(m, LAM) for m in ("none", "l1", "l2")])
    _, loss, reg = evaluate(model.stack(ps), np.ones(4, np.float32), np.ones(4, np.float32), pen)
    np.testing.assert_allclose(
        reg, [np_penalty(p, m, LAM) for p, m in zip(ps, ("none", "l1", "l2"))], rtol=1e-5
    )


@pytest.mark.parametrize("engine", ["reference", "graph"])
def test_one_sgd_step_matches_hand_derived_gradients(engine):
    """One model per method, stacked: each takes the step the chain rule gives."""
    p = model.glorot_init(SIZES, 11)
    x, y = np.array([3.0], np.float32), np.array([7.5], np.float32)
    pen = regularizers.stack([regularizers.for_method(m, LAM) for m in regularizers.METHODS])
    out = fit(engine, x, y, model.stack([p] * len(regularizers.METHODS)), pen, lr=LR, epochs=1)
    for r, method in enumerate(regularizers.METHODS):
        want = np_sgd_step(
            {k: v.astype(np.float64) for k, v in p.items()},
            x[:, None].astype(np.float64),
            y[:, None].astype(np.float64),
            method,
            LAM,
            LR,
        )
        got = model.unstack(out.params, r)
        for k in p:
            np.testing.assert_allclose(
                got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=f"{method} {k}"
            )


def test_one_sgd_step_with_relu():
    p = model.glorot_init(SIZES, 2)
    x, y = np.array([4.0], np.float32), np.array([9.0], np.float32)
    out = fit(
        "graph",
        x,
        y,
        model.stack([p]),
        regularizers.stack([regularizers.for_method("l1", LAM)]),
        lr=LR,
        epochs=1,
        activation="relu",
    )
    want = np_sgd_step(
        {k: v.astype(np.float64) for k, v in p.items()},
        x[:, None].astype(np.float64),
        y[:, None].astype(np.float64),
        "l1",
        LAM,
        LR,
        act=lambda z: np.maximum(z, 0),
        dact=lambda z: (z > 0).astype(float),
    )
    for k, v in model.unstack(out.params, 0).items():
        np.testing.assert_allclose(v, want[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_activation_derivatives_are_the_gradients_tensorflow_takes():
    """The table's hand-written derivatives (the compiled engine's backward pass) equal
    tf.gradients of each activation, kinks included (z = 0 is in the grid)."""
    from l1l2.core import activations

    z = np.linspace(-3, 3, 61, dtype=np.float32)
    for spec in ("identity", "relu", "leaky_relu", "leaky_relu:0.05", "elu", "tanh"):
        f, d = activations.tf_activation(spec), activations.tf_derivative(spec)
        g = tf.Graph()
        with g.as_default():
            zt = tf.constant(z)
            h = f(zt)
            want = tf.gradients(h, zt)[0]
            got = tf.ones_like(zt) if d is None else d(zt, h)
            with session(g) as s:
                np.testing.assert_allclose(*s.run([got, want]), rtol=1e-6, atol=1e-7, err_msg=spec)


@pytest.mark.parametrize("activation", ["identity", "prelu"])
def test_init_stack_is_the_stack_of_each_models_weights(activation):
    seeds = [3, 1, 4, 1, 5]
    want = model.stack([model.init_params(SIZES, s, activation) for s in seeds])
    got = model.init_stack(SIZES, seeds, activation)
    assert list(got) == list(want)
    for k in want:
        assert got[k].dtype == want[k].dtype and got[k].shape == want[k].shape, k
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
