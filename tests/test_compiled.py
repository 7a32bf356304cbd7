"""The XLA-compiled engine against the TF1 model, train_graph and NumPy.

Tolerances: one step agrees to ~1e-6 (XLA sums a layer's products in its own order, so the
last bit may differ from TF's MatMul). Over a few epochs such differences stay ~1e-6 relative
with L2; with L1 the subgradient sign(w) flips for weights near 0, so short runs are used.
"""
import numpy as np
import pytest

from l1l2 import compiled, data, model, regularizers, train

D = data.load("data/line.csv")
SIZES = (1, 10, 10, 10, 1)
LR = 0.01


def stacked(seeds, sizes=SIZES):
    return model.stack([model.glorot_init(sizes, s) for s in seeds])


def penalties(specs):
    return regularizers.stack([regularizers.Penalty(*s) for s in specs])


NP_ACT = {"identity": (lambda z: z, lambda z: np.ones_like(z)),
          "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
          "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
          "leaky_relu": (lambda z: np.where(z > 0, z, 0.2 * z),
                         lambda z: np.where(z > 0, 1.0, 0.2))}


def np_forward(p, x, act="identity"):
    """Inputs and pre-activations of one model (single-model params) on x [B, 1]."""
    f = NP_ACT[act][0]
    hs, zs, names = [x], [], model.layer_names(p)
    for k, n in enumerate(names):
        zs.append(hs[-1] @ p[f"{n}/W"] + p[f"{n}/b"])
        if k < len(names) - 1:
            hs.append(f(zs[-1]))
    return hs, zs


def np_sgd(p, x, y, order, l1, l2, lr, act="identity"):
    """Per-sample SGD of one model in float64, visiting the batches order [steps, B]."""
    p = {k: v.astype(np.float64) for k, v in p.items()}
    names, dact = model.layer_names(p), NP_ACT[act][1]
    for rows in order:
        hs, zs = np_forward(p, x[rows, None], act)
        dz = np.sign(zs[-1] - y[rows, None])
        for k in reversed(range(len(names))):
            n, W = names[k], p[f"{names[k]}/W"]
            p[f"{n}/W"] = W - lr * (hs[k].T @ dz + l1 * np.sign(W) + l2 * W)
            p[f"{n}/b"] = p[f"{n}/b"] - lr * dz.sum(0)
            if k:
                dz = (dz @ W.T) * dact(zs[k - 1])
    return p


def assert_params_close(a, b, atol, rtol=0.0):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("pen", [(0.3, 0.0), (0.0, 0.3), (0.3, 0.2), (0.0, 0.0)])
def test_one_step_matches_graph_engine_and_numpy(pen):
    p0 = stacked([3, 4, 5])
    x, y = D.x_train[:1], D.y_train[:1]
    penalty = penalties([pen] * 3)
    got = compiled.train_compiled(x, y, p0, penalty, lr=LR, epochs=1)
    ref = train.train_graph(x, y, p0, penalty, lr=LR, epochs=1)
    assert_params_close(got.params, ref.params, atol=1e-6)
    for r in range(3):
        want = np_sgd(model.unstack(p0, r), x, y, [[0]], *pen, LR)
        assert_params_close(model.unstack(got.params, r), want, atol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu"])
def test_one_step_with_activations(activation):
    p0 = stacked([7, 8])
    p0 = {k: v + 0.05 if k.endswith("/b") else v for k, v in p0.items()}  # some units off
    got = compiled.train_compiled(D.x_train[:2], D.y_train[:2], p0, penalties([(0.3, 0.1)] * 2),
                                  lr=LR, epochs=1, activation=activation)
    for r in range(2):
        want = np_sgd(model.unstack(p0, r), D.x_train, D.y_train, [[0], [1]], 0.3, 0.1, LR,
                      activation)
        assert_params_close(model.unstack(got.params, r), want, atol=1e-5)


def test_penalty_targets_and_activations_are_checked():
    p0, kw = stacked([0]), dict(lr=LR, epochs=1)
    kernel_only = regularizers.Targets(kernel=penalties([(0.1, 0.0)]))
    compiled.train_compiled(D.x_train, D.y_train, p0, kernel_only, **kw)
    with pytest.raises(ValueError, match="kernel"):
        compiled.train_compiled(D.x_train, D.y_train, p0,
                                regularizers.Targets(bias=penalties([(0.1, 0.0)])), **kw)
    for bad in ("prelu", "rrelu", "softplus"):
        with pytest.raises(ValueError, match="activation"):
            compiled.train_compiled(D.x_train, D.y_train, p0, penalties([(0, 0)]), activation=bad,
                                    **kw)


def test_short_training_matches_graph_engine():
    """3 epochs, file order, batch size 1 and 4: L2 and no penalty stay within 1e-5."""
    p0 = stacked(range(4))
    penalty = penalties([(0.0, 0.1), (0.0, 0.3), (0.0, 0.0), (0.0, 0.05)])
    for b in (1, 4):
        got = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, lr=LR, epochs=3,
                                      batch_size=b)
        ref = train.train_graph(D.x_train, D.y_train, p0, penalty, lr=LR, epochs=3, batch_size=b)
        assert_params_close(got.params, ref.params, atol=1e-5)
        assert (got.diverged_at == -1).all()


def test_short_l1_training_matches_graph_engine():
    """One epoch with L1: sign(w) may flip on a last-bit difference, so a looser bound."""
    p0 = stacked(range(3))
    penalty = penalties([(0.3, 0.0), (0.1, 0.1), (0.01, 0.0)])
    got = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, lr=LR, epochs=1)
    ref = train.train_graph(D.x_train, D.y_train, p0, penalty, lr=LR, epochs=1)
    assert_params_close(got.params, ref.params, atol=1e-4)


def test_per_model_order_matches_numpy():
    """Each model visits the samples in its own order; batch size 2, 3 epochs, L2 and L1."""
    rng = np.random.default_rng(0)
    n, b, epochs, models = len(D.x_train), 2, 3, 3
    steps = epochs * n // b
    order = np.stack([np.concatenate([rng.permutation(n) for _ in range(epochs)]).reshape(steps, b)
                      for _ in range(models)], axis=1)                   # [steps, R, B]
    p0, pens = stacked(range(models)), [(0.0, 0.2), (0.0, 0.0), (0.05, 0.0)]
    got = compiled.train_compiled(D.x_train, D.y_train, p0, penalties(pens), lr=LR,
                                  epochs=epochs, batch_size=b, order=order)
    for r in range(models):
        want = np_sgd(model.unstack(p0, r), D.x_train, D.y_train, order[:, r], *pens[r], LR)
        assert_params_close(model.unstack(got.params, r), want, atol=2e-5, rtol=1e-5)


def test_test_error_matches_recorded_frames():
    p0 = stacked(range(3))
    steps = 2 * len(D.x_train)
    ev = [0, 1, 2, 40, 57, steps - 1, steps]
    got = compiled.train_compiled(D.x_train, D.y_train, p0, penalties([(0.1, 0.1)] * 3), lr=LR,
                                  epochs=2, eval_steps=ev, x_test=D.x_test, y_test=D.y_test,
                                  record=True)
    assert got.frame_steps.tolist() == ev and got.test_error.shape == (len(ev), 3)
    assert_params_close({k: v[-1] for k, v in got.frames.items()}, got.params, atol=0)
    assert_params_close({k: v[0] for k, v in got.frames.items()}, p0, atol=0)
    for f in range(len(ev)):
        for r in range(3):
            p = model.unstack({k: v[f] for k, v in got.frames.items()}, r)
            pred = np_forward({k: v.astype(np.float64) for k, v in p.items()}, D.x_test[:, None])[1][-1]
            want = np.abs(pred[:, 0] - D.y_test).sum()
            assert got.test_error[f, r] == pytest.approx(want, rel=1e-5)


def test_progress_splits_give_the_same_result():
    p0, penalty = stacked(range(2)), penalties([(0.1, 0.0), (0.0, 0.1)])
    kw = dict(lr=LR, epochs=3, eval_steps=[0, 5, 40, 41, 119, 120], x_test=D.x_test,
              y_test=D.y_test, record=True)
    one = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, **kw)
    seen = []
    split = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, progress=seen.append, **kw)
    assert sum(seen) == 120 * 2 and len(seen) == compiled.PROGRESS_CALLS
    assert_params_close(split.params, one.params, atol=0)
    assert_params_close(split.frames, one.frames, atol=0)
    np.testing.assert_array_equal(split.test_error, one.test_error)


def test_unrolled_loop_gives_the_same_result(monkeypatch):
    p0, penalty = stacked(range(2)), penalties([(0.1, 0.0), (0.0, 0.1)])
    kw = dict(lr=LR, epochs=2, eval_steps=[0, 3, 40, 41, 80], x_test=D.x_test, y_test=D.y_test)
    plain = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, **kw)
    monkeypatch.setattr(compiled, "UNROLL_MIN_WORK", 0)
    unrolled = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, **kw)
    assert_params_close(unrolled.params, plain.params, atol=0)
    np.testing.assert_array_equal(unrolled.test_error, plain.test_error)


def test_a_diverging_model_leaves_its_neighbour_untouched():
    p0 = stacked([0, 1])
    pens = [(0.0, 1e6), (0.3, 0.0)]  # w <- w (1 - 1e4): explodes
    kw = dict(lr=LR, epochs=3, x_test=D.x_test, y_test=D.y_test)
    both = compiled.train_compiled(D.x_train, D.y_train, p0, penalties(pens), **kw)
    alone = compiled.train_compiled(D.x_train, D.y_train, stacked([1]), penalties(pens[1:]), **kw)
    assert both.diverged_at[0] >= 0 and both.diverged_at[1] == -1
    for k in p0:
        np.testing.assert_array_equal(both.params[k][1], alone.params[k][0])
    np.testing.assert_array_equal(both.test_error[:, 1], alone.test_error[:, 0])
    assert not np.isfinite(both.test_error[-1, 0])


def test_diverged_at_is_the_first_non_finite_cost():
    """train_graph keeps every step's cost: its first non-finite one is where ours says."""
    p0 = stacked([0, 1, 2])
    penalty = penalties([(0.0, 0.0), (0.0, 1e6), (0.0, 0.0)])
    kw = dict(lr=5.0, epochs=3)
    got = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, **kw)
    ref = train.train_graph(D.x_train, D.y_train, p0, penalty, **kw)
    assert (ref.diverged_at >= 0).all()
    np.testing.assert_array_equal(got.diverged_at, ref.diverged_at)


def test_penalty_overflow_alone_counts_as_divergence():
    """A finite loss whose penalty overflows (sum W^2 > float32 max) is a non-finite cost."""
    p0 = stacked([0, 1])
    p0["dense2/W"][0, 0, 0] = 3e19  # W^2 overflows; the prediction stays finite
    p0["dense3/W"][0, 0, :] = 0.0
    got = compiled.train_compiled(D.x_train[:1], D.y_train[:1], p0,
                                  penalties([(0.0, 1e-3), (0.0, 1e-3)]), lr=0.0, epochs=1)
    assert got.diverged_at.tolist() == [0, -1]


def test_two_calls_are_byte_identical():
    p0, penalty = stacked(range(3)), penalties([(0.3, 0.0), (0.0, 0.3), (0.1, 0.1)])
    kw = dict(lr=LR, epochs=2, x_test=D.x_test, y_test=D.y_test, record=True,
              eval_steps=[0, 40, 79, 80])
    a = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, **kw)
    b = compiled.train_compiled(D.x_train, D.y_train, p0, penalty, **kw)
    for k in a.params:
        assert a.params[k].tobytes() == b.params[k].tobytes()
        assert a.frames[k].tobytes() == b.frames[k].tobytes()
    assert a.test_error.tobytes() == b.test_error.tobytes()


def test_other_layer_sizes_and_bad_inputs():
    sizes = (1, 4, 3, 1)
    p0 = stacked([0, 1], sizes)
    got = compiled.train_compiled(D.x_train, D.y_train, p0, penalties([(0.0, 0.1)] * 2), lr=LR,
                                  epochs=1)
    assert {k: v.shape for k, v in got.params.items()} == {k: v.shape for k, v in p0.items()}
    for r in range(2):
        want = np_sgd(model.unstack(p0, r), D.x_train, D.y_train, np.arange(40)[:, None], 0, 0.1,
                      LR)
        assert_params_close(model.unstack(got.params, r), want, atol=1e-5)
    with pytest.raises(ValueError, match="eval_steps"):
        compiled.train_compiled(D.x_train, D.y_train, p0, penalties([(0, 0)] * 2), lr=LR,
                                epochs=1, eval_steps=[0, 10])
    with pytest.raises(ValueError, match="order"):
        compiled.train_compiled(D.x_train, D.y_train, p0, penalties([(0, 0)] * 2), lr=LR,
                                epochs=1, order=np.zeros((40, 1, 1), np.int32))
