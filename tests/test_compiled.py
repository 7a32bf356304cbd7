"""The XLA-compiled engine against the TF1 model, train_graph and NumPy.

Tolerances: one step agrees to ~1e-6 (XLA sums a layer's products in its own order, so the
last bit may differ from TF's MatMul). Over a few epochs such differences stay ~1e-6 relative
with L2; with L1 the subgradient sign(w) flips for weights near 0, so short runs are used.

Speed: each distinct set of shapes is one XLA compilation (~1 s), so most tests share one:
3 models, the 40 training samples in file order, a test set, recording, 6 eval steps, and an
L1 and an L2 term somewhere in the stack (see run()).
"""

import _thread
import time

import numpy as np
import pytest

from l1l2.core import compiled, data, engine, model, models_last, regularizers
from l1l2.core.sgd import SGD, sample_table
from l1l2.tf1 import session, tf

D = data.load("data/line.csv")
SIZES = (1, 10, 10, 10, 1)
LR = 0.01


def stacked(seeds, sizes=SIZES):
    return model.stack([model.glorot_init(sizes, s) for s in seeds])


def penalties(specs):
    return regularizers.stack([regularizers.Penalty(*s) for s in specs])


NP_ACT = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.2 * z), lambda z: np.where(z > 0, 1.0, 0.2)),
}


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


FILE_ORDER = np.arange(len(D.x_train), dtype=np.int32).reshape(-1, 1, 1)  # step i: row i % 40


def spec(epochs=3, **kw):
    return SGD(**{"lr": LR, "epochs": epochs, **kw})


def graph(p0, pens, epochs, x=D.x_train, y=D.y_train, **kw):
    """train_graph on the file's order."""
    table = np.arange(len(x), dtype=np.int32).reshape(-1, 1, 1)
    return engine.train_graph(x, y, p0, penalties(pens), spec(epochs, **kw), table)


def run(p0, pens, epochs=3, table=FILE_ORDER, progress=None, test=True, **kw):
    """train_compiled in the shared configuration: evaluated and recorded after every step."""
    s = spec(epochs, **{"every_step": True, "record": True, **kw})
    t = (D.x_test, D.y_test) if test else None
    return compiled.train_compiled(D.x_train, D.y_train, p0, penalties(pens), s, table, t, progress)


def frame(t, f):
    return {k: v[f] for k, v in t.frames.items()}


PENS = [(0.3, 0.0), (0.0, 0.3), (0.3, 0.2)]  # L1, L2, L1+L2


@pytest.fixture(scope="module")
def trained():
    p0 = stacked([3, 4, 5])
    return p0, run(p0, PENS)


def test_one_step_matches_graph_engine_and_numpy(trained):
    p0, t = trained
    one = frame(t, 1)  # the weights after step 1: one SGD step on sample 0
    ref = graph(p0, PENS, 1, D.x_train[:1], D.y_train[:1])
    assert_params_close(one, ref.params, atol=1e-6)
    for r, pen in enumerate(PENS):
        want = np_sgd(model.unstack(p0, r), D.x_train, D.y_train, [[0]], *pen, LR)
        assert_params_close(model.unstack(one, r), want, atol=1e-6)


def test_test_error_matches_recorded_frames(trained):
    p0, t = trained
    assert t.frame_steps.tolist() == list(range(121)) and t.test_error.shape == (121, 3)
    assert_params_close(frame(t, -1), t.params, atol=0)
    assert_params_close(frame(t, 0), p0, atol=0)
    for f in (0, 1, 2, 40, 119, 120):
        for r in range(3):
            p = {k: v.astype(np.float64) for k, v in model.unstack(frame(t, f), r).items()}
            want = np.abs(np_forward(p, D.x_test[:, None])[1][-1][:, 0] - D.y_test).sum()
            assert t.test_error[f, r] == pytest.approx(want, rel=1e-5)


def test_short_training_matches_graph_engine():
    """3 epochs in file order: L2 and no penalty within 1e-5, L1 (sign flips) within 1e-4."""
    p0, pens = stacked(range(3)), [(0.0, 0.1), (0.0, 0.0), (0.01, 0.05)]
    got = run(p0, pens)
    ref = graph(p0, pens, 3)
    for r, atol in enumerate((1e-5, 1e-5, 1e-4)):
        assert_params_close(model.unstack(got.params, r), model.unstack(ref.params, r), atol=atol)
    assert (got.diverged_at == -1).all()


def test_per_model_order_matches_numpy():
    """Each model visits the samples in its own order; batch size 2, 3 epochs, L2 and L1."""
    epochs, models = 3, 3
    s = spec(epochs, batch_size=2, order="shuffle")
    order = sample_table(s, D.x_train, D.y_train, range(models))  # [steps, R, B]
    p0, pens = stacked(range(models)), [(0.0, 0.2), (0.0, 0.0), (0.05, 0.0)]
    got = compiled.train_compiled(D.x_train, D.y_train, p0, penalties(pens), s, order)
    for r in range(models):
        want = np_sgd(model.unstack(p0, r), D.x_train, D.y_train, order[:, r], *pens[r], LR)
        assert_params_close(model.unstack(got.params, r), want, atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("activation", ["tanh"])  # the others: test_model, derivatives
def test_one_step_with_activations(activation):
    p0 = stacked([7, 8, 9])
    p0 = {k: v + 0.05 if k.endswith("/b") else v for k, v in p0.items()}  # some units off
    t = run(p0, PENS, epochs=2, activation=activation)
    for r, pen in enumerate(PENS):
        want = np_sgd(model.unstack(p0, r), D.x_train, D.y_train, [[0], [1]], *pen, LR, activation)
        assert_params_close(model.unstack(frame(t, 2), r), want, atol=1e-5)


def test_penalty_targets_and_activations_are_checked(trained):
    p0, t = trained
    kernel_only = regularizers.Targets(kernel=penalties(PENS))
    s = spec(3, every_step=True, record=True)
    test = (D.x_test, D.y_test)
    again = compiled.train_compiled(D.x_train, D.y_train, p0, kernel_only, s, FILE_ORDER, test)
    assert_params_close(again.params, t.params, atol=0)
    bias = regularizers.Targets(bias=penalties(PENS))
    with pytest.raises(ValueError, match="kernel"):
        compiled.train_compiled(D.x_train, D.y_train, p0, bias, spec(1), FILE_ORDER)
    for bad in ("prelu", "rrelu", "softplus"):
        with pytest.raises(ValueError, match="activation"):
            s = spec(1, activation=bad)
            compiled.train_compiled(D.x_train, D.y_train, p0, penalties(PENS), s, FILE_ORDER)
    with pytest.raises(ValueError, match="subgradient"):
        s = spec(1, l1_update="proximal")
        compiled.train_compiled(D.x_train, D.y_train, p0, penalties(PENS), s, FILE_ORDER)


def test_progress_splits_give_the_same_result(trained, monkeypatch):
    monkeypatch.setattr(compiled, "PROGRESS_MIN_WORK", 1)  # a split however little the work
    p0, t = trained
    seen = []
    split = run(p0, PENS, progress=seen.append)
    calls = compiled.PROGRESS_CALLS * len(compiled.model_parts(3))  # each part its calls
    assert sum(seen) == 120 * 3 and len(seen) == calls
    assert_params_close(split.params, t.params, atol=0)
    assert_params_close(split.frames, t.frames, atol=0)
    np.testing.assert_array_equal(split.test_error, t.test_error)


def test_progress_takes_fewer_calls_for_little_work():
    """A session call feeds the whole sample table again: short trainings report in fewer."""
    m = compiled.PROGRESS_MIN_WORK
    assert [compiled.progress_calls(w) for w in (0, m - 1, m, 3 * m, 100 * m)] == [1, 1, 1, 3, 10]


def test_model_parts_cover_the_models_in_equal_slices():
    for n in (1, 2, 127, 128, 1000, 1025, 10000):
        parts = compiled.model_parts(n)
        sizes = [p.stop - p.start for p in parts]
        assert [i for p in parts for i in range(p.start, p.stop)] == list(range(n))
        assert sizes[0] <= compiled.PART_MODELS and 0 < sizes[-1] <= sizes[0]
        assert sizes[:-1] == [sizes[0]] * (len(sizes) - 1)  # padded to sizes[0]: one compilation
        assert len(parts) >= min(n, 2, compiled.cores())  # side by side where they can be


@pytest.mark.parametrize("n, block, pad", [(6, 3, 0), (5, 2, 1), (1, 2, 1)])
def test_blocks_hold_every_model_and_give_them_back(n, block, pad):
    """to_blocks: model r in block r // block at position r % block, models last, the data
    aligned; the padding repeats the last model; from_blocks gives the first n back, frames (a
    lead axis) in front."""
    w = np.arange(n * 3 * 4, dtype=np.float32).reshape(n, 3, 4)
    blocks = compiled.to_blocks(w, block, pad)
    padded = np.concatenate([w, np.repeat(w[-1:], pad, axis=0)])
    assert blocks.shape == ((n + pad) // block, 3, 4, block) and blocks.flags.c_contiguous
    assert blocks.ctypes.data % compiled.ALIGN == 0  # a session reads it without a copy
    for r in range(n + pad):
        np.testing.assert_array_equal(blocks[r // block, ..., r % block], padded[r])
    np.testing.assert_array_equal(compiled.from_blocks(blocks, n), w)
    frames = np.stack([blocks, 2 * blocks], axis=1)  # [blocks, F=2, 3, 4, M]
    back = compiled.from_blocks(frames, n, lead=1)
    np.testing.assert_array_equal(back, np.stack([w, 2 * w]))
    assert back.flags.c_contiguous


def test_parts_give_what_one_loop_gives(trained, monkeypatch):
    """3 models with their own orders in parts of 2 (the last padded) side by side: every
    weight, frame, error and step count as in one loop."""
    p0, _ = trained
    order = sample_table(spec(3, order="shuffle"), D.x_train, D.y_train, [4, 5, 6])
    whole = run(p0, PENS, table=order)
    monkeypatch.setattr(compiled, "PART_MODELS", 2)
    assert len(compiled.model_parts(3)) == 2
    seen = []
    parts = run(p0, PENS, table=order, progress=seen.append)
    assert sum(seen) == 120 * 3
    assert_params_close(parts.params, whole.params, atol=0)
    assert_params_close(parts.frames, whole.frames, atol=0)
    np.testing.assert_array_equal(parts.test_error, whole.test_error)
    np.testing.assert_array_equal(parts.diverged_at, whole.diverged_at)


def test_an_interrupt_stops_the_parts_after_their_current_call(trained, monkeypatch):
    """Ctrl-C while the parts train in their threads reaches the caller at once, and the parts
    stop: 3 parts of 1 model on the threads, 10 calls each; the interrupt comes at the first
    call's report, which then takes a second (the caller wakes up meanwhile): no other report
    follows, where without the stop all 30 would."""
    p0, _ = trained
    monkeypatch.setattr(compiled, "PART_MODELS", 1)
    monkeypatch.setattr(compiled, "PROGRESS_MIN_WORK", 1)
    seen = []

    def progress(n):
        seen.append(n)
        if len(seen) == 1:
            _thread.interrupt_main()  # what SIGINT does: KeyboardInterrupt in the main thread
            time.sleep(1.0)

    with pytest.raises(KeyboardInterrupt):
        run(p0, PENS, progress=progress)
    assert len(seen) == 1


def test_a_diverging_model_leaves_its_neighbour_untouched():
    pens = [(0.0, 1e6), (0.3, 0.0), (0.0, 0.1)]  # model 0: w <- w (1 - 1e4), explodes
    both = run(stacked([0, 1, 2]), pens)
    test = (D.x_test, D.y_test)
    alone = compiled.train_compiled(
        D.x_train, D.y_train, stacked([1]), penalties(pens[1:2]), spec(3), FILE_ORDER, test
    )
    assert both.diverged_at[0] >= 0 and (both.diverged_at[1:] == -1).all()
    for k in both.params:
        np.testing.assert_array_equal(both.params[k][1], alone.params[k][0])
    np.testing.assert_array_equal(both.test_error[-1, 1], alone.test_error[-1, 0])
    assert not np.isfinite(both.test_error[-1, 0])


@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_a_models_numbers_do_not_depend_on_the_penalties_beside_it(activation):
    """An L1, an L2 and an unpenalised model trained together give, bit for bit, what each
    gives trained alone, test errors included (XLA once fused an L2 model's update another way
    when no model of its call had an L1 term; one model alone, a model axis of 1, once summed
    its test predictions in another order: models_last.predict)."""
    pens = [(0.3, 0.0), (0.0, 0.3), (0.0, 0.0)]
    s = spec(20, activation=activation, every_epoch=True, record=True)
    test = (D.x_test, D.y_test)
    together = compiled.train_compiled(
        D.x_train, D.y_train, stacked([0, 1, 2]), penalties(pens), s, FILE_ORDER, test
    )
    for r, pen in enumerate(pens):
        alone = compiled.train_compiled(
            D.x_train, D.y_train, stacked([r]), penalties([pen]), s, FILE_ORDER, test
        )
        for k in alone.params:
            np.testing.assert_array_equal(together.params[k][r], alone.params[k][0], err_msg=k)
            np.testing.assert_array_equal(together.frames[k][:, r], alone.frames[k][:, 0], k)
        np.testing.assert_array_equal(together.test_error[:, r], alone.test_error[:, 0])


def test_one_models_kernels_are_carried_in_whole_rows():
    """in_whole_rows pads each row of one model's [10, 10] kernel with zeros to ROW_FLOATS
    entries and leaves the others (rows of one entry, one row, several models, biases) as they
    are; written puts new entries back into the padded array's leading corner."""
    rng = np.random.default_rng(0)
    square, new = rng.normal(size=(2, 10, 10, 1)).astype(np.float32)
    others = [np.ones(s, np.float32) for s in [(1, 10, 1), (10, 1, 1), (10, 10, 16), (10, 1)]]
    g = tf.Graph()
    with g.as_default(), session(g) as sess:
        carried = compiled.in_whole_rows(tf.constant(square))
        kept = [compiled.in_whole_rows(tf.constant(w)) for w in others]
        put = compiled.written(carried, tf.constant(new))
        carried, kept, put = sess.run([carried, kept, put])
    width = compiled.ROW_FLOATS
    np.testing.assert_array_equal(carried, np.pad(square, [(0, 0), (0, width - 10), (0, 0)]))
    np.testing.assert_array_equal(put, np.pad(new, [(0, 0), (0, width - 10), (0, 0)]))
    assert [w.shape for w in kept] == [w.shape for w in others]


def test_one_models_delta_through_the_transposed_kernels_is_numpys():
    """transposed_layers picks one model's kernels of more than one row and column that pass a
    delta back (not the first layer's, not a stack's). One model's gradients computed through
    their transposes, compiled by XLA, are bit for bit what the same model gets in a stack of
    three (along W's rows, in a function of its own, LLVM summed one model's deltas in another
    order), and NumPy's chain rule to float32 rounding."""
    rng = np.random.default_rng(1)
    sizes = (1, 10, 10, 10, 1)
    ws = []
    for a, b in zip(sizes, sizes[1:]):
        ws += [rng.normal(size=(a, b, 1)).astype(np.float32), np.zeros((b, 1), np.float32)]
    x, y = np.float32([[[0.7]]]), np.float32([[[3.0]]])
    g = tf.Graph()
    with g.as_default():
        consts = [tf.constant(w) for w in ws]
        assert compiled.transposed_layers(consts) == [1, 2]
        stack = [tf.constant(np.repeat(w, 3, axis=-1)) for w in ws]
        assert compiled.transposed_layers(stack) == []
        act = models_last.activation_fn("identity")

        @tf.function(jit_compile=True, autograph=False)
        def grads(ws, ts):
            return models_last.cost_grads_and_scales(ws, x, y, act, None, None, ts)[1]

        ts = {k: tf.transpose(consts[2 * k], [1, 0, 2]) for k in (1, 2)}
        through, stacked_ = grads(consts, ts), grads(stack, {})
        with session(g) as sess:
            through, stacked_ = sess.run([through, stacked_])
    for t, st in zip(through, stacked_):
        np.testing.assert_array_equal(t, st[..., :1])
    # NumPy: the same network, one sample, d|e|/de = sign(e)
    W = [w[..., 0] for w in ws[0::2]]
    hs = [x[0, :, 0]]
    for w in W:
        hs.append(hs[-1] @ w)
    dz = np.sign(hs[-1] - y[0, :, 0])
    for k in reversed(range(len(W))):
        np.testing.assert_allclose(through[2 * k][..., 0], np.outer(hs[k], dz), rtol=1e-5)
        dz = W[k] @ dz


def test_diverged_at_is_the_first_non_finite_cost():
    """train_graph keeps every step's cost: its first non-finite one is where ours says."""
    p0, pens = stacked([0, 1, 2]), [(0.0, 0.0), (0.0, 1e6), (0.01, 0.0)]
    got = run(p0, pens, lr=5.0)
    ref = graph(p0, pens, 3, lr=5.0)
    assert (ref.diverged_at >= 0).all()
    np.testing.assert_array_equal(got.diverged_at, ref.diverged_at)


def test_penalty_overflow_alone_counts_as_divergence():
    """A finite loss whose penalty overflows (sum W^2 > float32 max) is a non-finite cost."""
    p0 = stacked([0, 1, 2])
    p0["dense2/W"][0, 0, 0] = 3e19  # W^2 overflows; the prediction stays finite
    p0["dense3/W"][0, 0, :] = 0.0
    got = run(p0, [(0.0, 1e-3), (0.0, 1e-3), (0.1, 0.0)], lr=0.0)
    assert got.diverged_at.tolist() == [0, -1, -1]


def test_fresh_compilations_give_byte_identical_results(trained):
    p0, t = trained
    compiled.clear_cache()
    again = run(p0, PENS)
    for k in t.params:
        assert t.params[k].tobytes() == again.params[k].tobytes()
        assert t.frames[k].tobytes() == again.frames[k].tobytes()
    assert t.test_error.tobytes() == again.test_error.tobytes()
    assert t.diverged_at.tobytes() == again.diverged_at.tobytes()


def test_other_layer_sizes():
    """A 1-4-3-1 network."""
    sizes = (1, 4, 3, 1)
    p0 = stacked([0, 1], sizes)
    got = compiled.train_compiled(
        D.x_train, D.y_train, p0, penalties([(0.0, 0.1)] * 2), spec(1), FILE_ORDER
    )
    assert {k: v.shape for k, v in got.params.items()} == {k: v.shape for k, v in p0.items()}
    assert got.frames == {} and got.test_error is None and got.frame_steps.tolist() == [0, 40]
    for r in range(2):
        want = np_sgd(
            model.unstack(p0, r), D.x_train, D.y_train, np.arange(40)[:, None], 0, 0.1, LR
        )
        assert_params_close(model.unstack(got.params, r), want, atol=1e-5)


def test_weights_beyond_the_bound_with_a_finite_cost_are_no_divergence():
    """A kernel entry over the weight limit makes the step compute its cost (the bounds cannot
    vouch for it): finite here (1e18^2 fits in float32), so no divergence, as in the graph
    engine; a squared entry that overflows is one (test_penalty_overflow_alone_...)."""
    p0 = stacked([0, 1, 2])
    p0["dense2/W"][0, 0, 0] = 1e18
    p0["dense3/W"][0, 0, :] = 0.0
    pens = [(0.0, 1e-3), (0.0, 1e-3), (0.1, 0.0)]
    got = run(p0, pens, lr=0.0)
    ref = graph(p0, pens, 3, lr=0.0)
    assert got.diverged_at.tolist() == ref.diverged_at.tolist() == [-1, -1, -1]


@pytest.mark.parametrize("lr, l2", [(0.01, 0.3), (0.5, 2.0), (0.5, 2.0000002), (2.0, 5.0)])
def test_kernel_bounds_hold_after_an_update(lr, l2):
    """|w| <= bound before sgd_update and |g| <= scale give |w'| <= kernel_bounds(...), also
    where w (1 - lr l2) cancels (lr l2 = 1) and rounding is all that is left."""
    rng = np.random.default_rng(0)
    w = (rng.uniform(-1, 1, (10, 10, 64)) * 10.0 ** rng.integers(-3, 18, (1, 1, 64))).astype(
        np.float32
    )
    bound = np.abs(w).max(axis=(0, 1))
    scale = rng.uniform(0, 5, 64).astype(np.float32)
    g = (rng.uniform(-1, 1, w.shape) * scale).astype(np.float32)
    l1 = np.full(64, 0.3, np.float32)
    with tf.Graph().as_default() as graph_, session(graph_) as sess:
        lr_t, l1_t, l2_t = (
            tf.constant(np.float32(lr)),
            tf.constant(l1),
            tf.constant(np.full(64, l2, np.float32)),
        )
        new = models_last.sgd_update([w, w[0]], [g, g[0]], lr_t, l1_t, l2_t)[0]
        new_bound = models_last.kernel_bounds([bound], [scale], lr_t, l1_t, l2_t)[0]
        new, new_bound = sess.run([new, new_bound])
    assert (np.abs(new).max(axis=(0, 1)) <= new_bound).all()


def test_weight_limit_keeps_the_penalty_finite():
    l1 = np.array([0.0, 0.3, 0.0, 1e6, 0.3], np.float32)
    l2 = np.array([0.0, 0.0, 0.3, 0.0, 1e6], np.float32)
    n = 220
    limit = compiled.weight_limit(l1, l2, n).astype(np.float64)
    assert (limit <= compiled.WEIGHT_LIMIT).all() and (limit > 0).all()
    penalty = l1 * n * limit + l2 * n * limit**2 / 2
    assert (penalty <= 2 * compiled.PENALTY_LIMIT).all()
    assert (n * limit**2 < np.finfo(np.float32).max).all()  # the sums themselves are finite


def test_a_constant_rate_compiles_one_loop_for_any_number_of_epochs():
    """At a constant learning rate the loop's shapes do not depend on the number of steps: 1 and
    3 epochs share one compiled loop, and 3 epochs give what the graph engine gives; a decaying
    rate (one per step) needs a loop per length."""
    p0, pen, x, y = (
        stacked([0, 1], (1, 3, 1)),
        penalties([(0.1, 0), (0, 0.1)]),
        D.x_train,
        D.y_train,
    )
    for schedule, loops in (("constant", 1), ("cosine", 2)):
        compiled.clear_cache()
        for epochs in (1, 3):
            spec = SGD(epochs=epochs, lr=LR, schedule=schedule)
            t = compiled.train_compiled(x, y, p0, pen, spec, sample_table(spec, x, y, [0, 1]))
        assert len(compiled._LOOPS) == loops
        g = engine.train_graph(x, y, p0, pen, spec, sample_table(spec, x, y, [0, 1]))
        for k in p0:
            np.testing.assert_allclose(t.params[k], g.params[k], rtol=1e-5, atol=1e-6)


def test_shape_epochs_shares_one_loop_across_epochs_and_schedules_with_the_same_numbers(
    monkeypatch,
):
    """Sized for 3 epochs, runs of 1 and 3 epochs, constant and cosine, with the 3-epoch table
    and the evaluations of a sweep share one compiled loop, also split into a progress bar's
    calls, and each gives, bit for bit, what it gives in one call sized for itself (with its
    own table)."""
    monkeypatch.setattr(compiled, "PROGRESS_MIN_WORK", 100)  # several calls per run
    p0, pen = stacked([0, 1, 2]), penalties([(0.1, 0), (0, 0.1), (0.1, 0.1)])
    x, y = D.x_train, D.y_train
    seeds, orders = [0, 1, 2], ["shuffle", "file", "shuffle"]
    long = sample_table(SGD(epochs=3), x, y, seeds, orders)
    test = D.x_test, D.y_test
    specs = [
        SGD(epochs=e, lr=LR, schedule=s, every_epoch=True, tail_epochs=1)
        for e in (1, 3)
        for s in ("constant", "cosine")
    ]
    compiled.clear_cache()
    done = []
    shared = [
        compiled.train_compiled(x, y, p0, pen, s, long, test, done.append, shape_epochs=3)
        for s in specs
    ]
    assert len(compiled._LOOPS) == 1 and len(done) > len(specs)
    for spec, got in zip(specs, shared):
        table = sample_table(spec, x, y, seeds, orders)
        alone = compiled.train_compiled(x, y, p0, pen, spec, table, test)
        assert got.frame_steps.tolist() == spec.eval_steps(len(x)).tolist()
        for k in p0:
            np.testing.assert_array_equal(got.params[k], alone.params[k])
        np.testing.assert_array_equal(got.test_error, alone.test_error)
        np.testing.assert_array_equal(got.diverged_at, alone.diverged_at)


@pytest.mark.parametrize("models", [1, 2, 32])
def test_the_sign_is_xlas_tf_sign_but_at_negative_zeros(models):
    """models_last.sign (two selects) gives what tf.sign gives inside an XLA-compiled function,
    bit for bit, at +-inf, +0.0, NaN, subnormal and normal values; at -0.0 and negative
    subnormals, which no run reaches, it returns them as they are, where XLA returns |t|."""
    values = np.array(
        [-np.inf, -3.0, -1e-40, -0.0, 0.0, np.nan, 1e-40, 1e-30, 0.5, np.inf], np.float32
    )
    w = np.broadcast_to(values[:, None, None], (len(values), 3, models)).copy()
    both = tf.function(lambda t: (models_last.sign(t), tf.sign(t)), jit_compile=True)
    g = tf.Graph()
    with g.as_default(), session(g) as sess:
        ours, xlas = sess.run(both(tf.constant(w)))
    negative_zero = np.signbit(w) & (np.abs(w) < np.finfo(np.float32).tiny)
    bits = ours.view(np.uint32), xlas.view(np.uint32)
    np.testing.assert_array_equal(bits[0][~negative_zero], bits[1][~negative_zero])
    np.testing.assert_array_equal(
        ours.view(np.uint32)[negative_zero], w.view(np.uint32)[negative_zero]
    )
    np.testing.assert_array_equal(xlas[negative_zero], np.abs(w[negative_zero]))
