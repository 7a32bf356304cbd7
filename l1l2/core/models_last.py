"""The network of model.build for R models at once, written out with the model axis LAST.

Why last: the network is tiny (1-10-10-10-1), so one model's step is a few hundred
multiply-adds, far too little for a kernel call. Stacking R models makes each op R times
bigger; putting R LAST (W [in, out, R], b [out, R], activations [B, units, R]) makes every op,
the small matmuls included, an elementwise multiply or a reduction over a leading axis, i.e. a
loop over contiguous runs of R floats that XLA vectorises with full-width SIMD loads. With R
first, the innermost loops run over 1 or 10 floats. The small matmuls are written as
broadcast-multiply + reduce_sum for that reason.

Gradients are written by hand (the chain rule of the same network as model.build), with TF's
conventions: d|e|/de = sign(e), d|w|/dw = sign(w), sign(0) = 0. The compiled engine
(compiled.py) runs them; tests hold them against model.build, the in-graph engine and NumPy.
"""

from collections.abc import Callable, Sequence

from ..tf1 import tf
from .activations import tf_activation, tf_derivative

# ---------------------------------------------------------------- the network


def activation_fn(spec: str) -> "Callable[[tf.Tensor], tuple[tf.Tensor, Callable | None]]":
    """act(z) -> (h, dh/dz as a function of z and h or None for 1), from the activation table."""
    f, d = tf_activation(spec), tf_derivative(spec)
    if d is None:
        return lambda z: (z, None)  # identity: no op at all
    return lambda z: (f(z), d)


def dense(
    h: "tf.Tensor",
    W: "tf.Tensor",
    b: "tf.Tensor",
    penalised: "Sequence[Callable[[tf.Tensor], tf.Tensor]]" = (),
) -> "tuple[tf.Tensor, list[tf.Tensor]]":
    """h [B, in, R] @ W [in, out, R] + b [out, R] -> [B, out, R]: a multiply, then a sum over `in`.

    `penalised` lists elementwise functions of W (|W|, W^2) whose sums over `in` ride along in
    the same reduction (stacked behind the batch), so the penalty costs no extra pass over W.
    Returns (z, [those sums, each [out, R]])."""
    prod = h[:, :, None, :] * W[None]
    if not penalised:
        return tf.reduce_sum(prod, axis=1) + b, []
    sums = tf.reduce_sum(tf.concat([prod] + [f(W)[None] for f in penalised], 0), axis=1)
    n = h.shape[0]
    return sums[:n] + b, [sums[n + j] for j in range(len(penalised))]


def forward(
    ws: "Sequence[tf.Tensor]",
    h: "tf.Tensor",
    act: Callable,
    l1: "tf.Tensor | None" = None,
    l2: "tf.Tensor | None" = None,
) -> "tuple[list[tf.Tensor], list[tf.Tensor], list[Callable | None], tf.Tensor | None]":
    """(inputs hs[k], pre-activations zs[k], derivatives ds[k], penalty [R] or None) of the
    network on h [B, 1, 1 or R]; the last layer is linear. The penalty, sum over kernels of
    l1*sum|W| + l2*sum(W^2)/2 as model.build's collection has it, is that of ws."""
    penalised = [f for f, c in ((tf.abs, l1), (tf.square, l2)) if c is not None]
    hs, zs, ds, terms = [h], [], [], []
    n = len(ws) // 2
    for k in range(n):
        z, sums = dense(hs[-1], ws[2 * k], ws[2 * k + 1], penalised)
        zs.append(z)
        scales = [(c, d) for c, d in ((l1, 1), (l2, 2)) if c is not None]
        terms += [c * tf.reduce_sum(s, axis=0) / d for (c, d), s in zip(scales, sums)]
        if k < n - 1:
            h, d = act(z)
            hs.append(h)
            ds.append(d)
    return hs, zs, ds, tf.add_n(terms) if terms else None


def predict(ws: "Sequence[tf.Tensor]", x: "tf.Tensor", act: Callable) -> "tf.Tensor":
    """Predictions [B, 1, R] of x [B, 1, 1 or R], each layer's products added one by one.

    Not a reduction, as in dense: XLA lets LLVM add a reduction's terms in any order (its adds
    carry the `reassoc` flag), and for one model (R = 1) LLVM added these in another order than
    for more, so a model's test errors depended on whether others trained beside it. A chain of
    adds in index order, each product its own multiply (fused into fma(., ., sum) as in the
    reductions), gives the bits the reductions gave for R > 1, for any R; in the SGD step, where
    the reductions kept their order at R = 1, such chains ran 6-30x slower."""
    n = len(ws) // 2
    for k in range(n):
        W = ws[2 * k]
        z = x[:, 0, None, :] * W[0]
        for i in range(1, W.shape[0]):
            z = x[:, i, None, :] * W[i] + z
        z = z + ws[2 * k + 1]
        x = act(z)[0] if k < n - 1 else z
    return x


def cost(
    ws: "Sequence[tf.Tensor]",
    x: "tf.Tensor",
    y: "tf.Tensor",
    act: Callable,
    l1: "tf.Tensor | None",
    l2: "tf.Tensor | None",
) -> "tf.Tensor":
    """cost [R] = sum |pred - y| + penalty: what cost_grads_and_scales computes first, alone."""
    _, zs, _, penalty = forward(ws, x, act, l1, l2)
    return _cost(zs[-1] - y, penalty)


def _cost(e: "tf.Tensor", penalty: "tf.Tensor | None") -> "tf.Tensor":
    loss = tf.reduce_sum(tf.abs(e), axis=[0, 1])
    return loss if penalty is None else loss + penalty


def cost_grads_and_scales(
    ws: "Sequence[tf.Tensor]",
    x: "tf.Tensor",
    y: "tf.Tensor",
    act: Callable,
    l1: "tf.Tensor | None",
    l2: "tf.Tensor | None",
    transposed: "dict[int, tf.Tensor] | None" = None,
) -> "tuple[tf.Tensor, list[tf.Tensor], list[tf.Tensor]]":
    """(cost [R] = sum |pred - y| + penalty, gradients of the data loss w.r.t. ws), and for each
    kernel a bound [R] on every entry of its gradient: the batch size x max |input| x max |delta|
    (the gradient is a sum over the batch of input x delta).

    `transposed` {layer k: its kernel transposed, [out, in, R]}: the delta that goes back
    through layer k is summed over `out` from it, which in memory runs over `in` (for one model
    a vector per term) instead of along each row of W (a chain of scalar terms); the same terms
    in the same order."""
    hs, zs, ds, penalty = forward(ws, x, act, l1, l2)
    e = zs[-1] - y
    dz = sign(e)  # d|e|/de
    grads = [None] * len(ws)
    scales = [None] * (len(ws) // 2)
    for k in reversed(range(len(ws) // 2)):
        grads[2 * k] = tf.reduce_sum(hs[k][:, :, None, :] * dz[:, None, :, :], axis=0)
        grads[2 * k + 1] = tf.reduce_sum(dz, axis=0)
        scales[k] = (
            float(dz.shape[0])
            * tf.reduce_max(tf.abs(hs[k]), axis=[0, 1])
            * tf.reduce_max(tf.abs(dz), axis=[0, 1])
        )
        if k:
            wt = (transposed or {}).get(k)
            if wt is None:
                dh = tf.reduce_sum(dz[:, None, :, :] * ws[2 * k][None], axis=2)
            else:
                dh = tf.reduce_sum(dz[:, :, None, :] * wt[None], axis=1)
            deriv = ds[k - 1]
            dz = dh if deriv is None else dh * deriv(zs[k - 1], hs[k])
    return _cost(e, penalty), grads, scales


def kernel_bounds(
    bounds: "Sequence[tf.Tensor]",
    scales: "Sequence[tf.Tensor]",
    lr: "tf.Tensor",
    l1: "tf.Tensor | None",
    l2: "tf.Tensor | None",
) -> "list[tf.Tensor]":
    """Bounds [R] on max |W| of each kernel after sgd_update, from bounds before it and the
    gradient bounds `scales`: |w - lr (g + l1 sign(w) + l2 w)| <= |w| |1 - lr l2| + lr (|g| + l1),
    with room for the rounding of float32 (BOUND_SLACK of |w|, relative and absolute)."""
    shrink = 1.0 if l2 is None else tf.abs(1.0 - lr * l2)
    push = 0.0 if l1 is None else l1
    return [
        (b * (shrink + BOUND_SLACK) + lr * (g + push)) * (1.0 + BOUND_SLACK)
        for b, g in zip(bounds, scales)
    ]


BOUND_SLACK = 1e-5  # >> the few float32 roundings (6e-8 each) of one update


def sign(t: "tf.Tensor") -> "tf.Tensor":
    """tf.sign(t) as two selects: -1, 1, and every other input as it is (0.0, NaN). XLA's own
    tf.sign differs at -0.0 and at negative subnormals (it returns |t| there), which a run never
    reaches. XLA lowers tf.sign to a compare into a mask, the mask widened to integers, converted
    to floats and given t's sign, and a select for NaN: in 512-bit vectors that chain runs ~6x
    slower than the selects (an update loop of 1,600 weights alone: 7.5 ns per 16 weights
    against 1.3 ns), and in 256-bit ones no faster. The same bits in every run (the digest
    tests)."""
    return tf.where(t > 0, 1.0, tf.where(t < 0, -1.0, t))


def sgd_update(
    ws: "Sequence[tf.Tensor]",
    grads: "Sequence[tf.Tensor]",
    lr: "tf.Tensor",
    l1: "tf.Tensor | None",
    l2: "tf.Tensor | None",
) -> "list[tf.Tensor]":
    """w <- w - lr * (data gradient + penalty gradient); biases carry no penalty."""
    return [
        kernel_update(w, g, lr, l1, l2) if j % 2 == 0 else w - lr * g
        for j, (w, g) in enumerate(zip(ws, grads))
    ]


def kernel_update(
    w: "tf.Tensor",
    g: "tf.Tensor",
    lr: "tf.Tensor",
    l1: "tf.Tensor | None",
    l2: "tf.Tensor | None",
) -> "tf.Tensor":
    """One kernel's SGD step: w - lr * (g + l1 * sign(w) + l2 * w), the penalty's terms as given."""
    if l1 is not None:
        g = g + l1 * sign(w)
    if l2 is not None:
        g = g + l2 * w
    return w - lr * g
