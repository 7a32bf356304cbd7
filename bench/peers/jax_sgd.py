"""A JAX peer: the whole per-sample SGD as one `jit(fori_loop)`, the model axis last.

The same network and arithmetic as the project's compiled engine (l1l2/core/models_last.py):
W [in, out, R], b [out, R], each small matmul a broadcast multiply and a sum over `in`, the
gradient of |pred - y| and the penalties written out, every kernel updated from the gradients of
the old weights, w <- w - lr * (dz h + l1 sign(w) + l2 w). With `bookkeeping`, the step's cost
(sum |e| + l1 sum |W| + l2 sum W^2 / 2, the kernels before the update) and the first step whose
cost was not finite, as the project's engines do. `unroll` SGD steps per loop iteration.
"""

import functools
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from .common import names  # noqa: E402

UNROLL = 1


def jitted(step, steps: int, unroll: int):
    """run(ws, bs, bad, x, y, l1, l2, lr) -> (ws, bs, bad): `steps` calls of step(i, carry)."""

    @jax.jit
    def run(ws, bs, bad, x, y, l1, l2, lr):
        carry = (ws, bs, bad, x, y, l1, l2, lr)
        return jax.lax.fori_loop(0, steps, step, carry, unroll=unroll)[:3]

    return run


@functools.cache
def loop(n_layers: int, steps: int, bookkeeping: bool, unroll: int):
    def step(i, carry):
        ws, bs, bad, x, y, l1, l2, lr = carry
        xi, yi = x[i % len(x)], y[i % len(x)]
        hs = [jnp.broadcast_to(xi, (1, ws[0].shape[-1]))]  # [units, R]
        for k in range(n_layers):
            z = jnp.sum(hs[-1][:, None, :] * ws[k], axis=0) + bs[k]
            hs.append(z)
        e = hs[-1] - yi  # [1, R]
        dz = jnp.sign(e)
        new_ws, new_bs = [None] * n_layers, [None] * n_layers
        for k in reversed(range(n_layers)):
            w = ws[k]
            g = hs[k][:, None, :] * dz[None] + l1 * jnp.sign(w) + l2 * w
            new_ws[k] = w - lr * g
            new_bs[k] = bs[k] - lr * dz
            if k:
                dz = jnp.sum(dz[None] * w, axis=1)
        if bookkeeping:
            s1 = sum(jnp.sum(jnp.abs(w), axis=(0, 1)) for w in ws)
            s2 = sum(jnp.sum(w * w, axis=(0, 1)) for w in ws)
            cost = jnp.abs(e[0]) + l1 * s1 + l2 * s2 / 2
            bad = jnp.where((bad < 0) & ~jnp.isfinite(cost), i, bad)
        return new_ws, new_bs, bad, x, y, l1, l2, lr

    return jitted(step, steps, unroll)


@functools.cache
def loop_vmap(n_layers: int, steps: int, bookkeeping: bool, unroll: int):
    """The same SGD with each model's weights as plain matrices (W [in, out], b [out]), the step
    of one model written with jnp.dot, and jax.vmap over the models (models first)."""

    def one_step(ws, bs, bad, xi, yi, l1, l2, lr, i):
        hs = [jnp.reshape(xi, (1,))]
        for k in range(n_layers):
            hs.append(jnp.dot(hs[-1], ws[k]) + bs[k])
        e = hs[-1] - yi  # [1]
        dz = jnp.sign(e)
        new_ws, new_bs = [None] * n_layers, [None] * n_layers
        for k in reversed(range(n_layers)):
            w = ws[k]
            g = jnp.outer(hs[k], dz) + l1 * jnp.sign(w) + l2 * w
            new_ws[k] = w - lr * g
            new_bs[k] = bs[k] - lr * dz
            if k:
                dz = jnp.dot(w, dz)
        if bookkeeping:
            s1 = sum(jnp.sum(jnp.abs(w)) for w in ws)
            s2 = sum(jnp.sum(w * w) for w in ws)
            cost = jnp.abs(e[0]) + l1 * s1 + l2 * s2 / 2
            bad = jnp.where((bad < 0) & ~jnp.isfinite(cost), i, bad)
        return new_ws, new_bs, bad

    many = jax.vmap(one_step, in_axes=(0, 0, 0, None, None, 0, 0, None, None))

    def step(i, carry):
        ws, bs, bad, x, y, l1, l2, lr = carry
        ws, bs, bad = many(ws, bs, bad, x[i % len(x)], y[i % len(x)], l1, l2, lr, i)
        return ws, bs, bad, x, y, l1, l2, lr

    return jitted(step, steps, unroll)


def data(x, y, l1, l2, lr):
    """The loops' trailing arguments: x, y, l1, l2 as float32 arrays and lr."""
    return (*(jnp.asarray(a, jnp.float32) for a in (x, y, l1, l2)), jnp.float32(lr))


def params(keys, ws, bs, models_first):
    """{dense1/W: [R, in, out], dense1/b: [R, 1, out], ...} from a loop's kernels and biases,
    `models_first` bringing each to the model axis first."""
    out = {}
    for k, w, b in zip(keys[::2], ws, bs):
        out[k] = np.ascontiguousarray(models_first(w))
        out[k.replace("/W", "/b")] = np.ascontiguousarray(models_first(b)[:, None, :])
    return {k: out[k] for k in keys}


def train_jax_vmap(x, y, params0, l1, l2, *, lr, epochs, bookkeeping=True, unroll=UNROLL):
    """train_jax with loop_vmap: (final params models first, diverged_at [R])."""
    keys = names(params0)
    ws = [jnp.asarray(params0[k]) for k in keys[::2]]  # [R, in, out]
    bs = [jnp.asarray(params0[k][:, 0]) for k in keys[1::2]]  # [R, out]
    n = len(params0[keys[0]])
    run = loop_vmap(len(ws), epochs * len(x), bookkeeping, unroll)
    ws, bs, bad = run(
        ws,
        bs,
        jnp.full(n, -1, jnp.int32),
        *data(x, y, l1, l2, lr),
    )
    return params(keys, ws, bs, np.asarray), np.asarray(bad).astype(np.int64)


@functools.cache
def loop_blocks(n_layers: int, steps: int, bookkeeping: bool, unroll: int):
    """loop() on blocks of models one after the other (lax.map over a leading block axis), all
    the steps of a block before the next, so that a block's state stays in cache."""
    one = loop(n_layers, steps, bookkeeping, unroll)

    @jax.jit
    def run(ws, bs, bad, x, y, l1, l2, lr):
        return jax.lax.map(
            lambda a: one(a[0], a[1], a[2], x, y, a[3], a[4], lr), (ws, bs, bad, l1, l2)
        )

    return run


def train_jax_blocks(x, y, params0, l1, l2, *, lr, epochs, bookkeeping=True, unroll=UNROLL,
                     block=16):  # fmt: skip
    """train_jax in blocks of `block` models (loop_blocks)."""
    keys = names(params0)
    n = len(params0[keys[0]])
    m = min(block, n)
    pad = -n % m

    def blocked(a):  # [R, ...] -> [R / m, ..., m]
        a = np.concatenate([a, np.repeat(a[-1:], pad, 0)]).reshape(-1, m, *a.shape[1:])
        return jnp.asarray(np.moveaxis(a, 1, -1))

    ws = [blocked(params0[k]) for k in keys[::2]]
    bs = [blocked(params0[k][:, 0]) for k in keys[1::2]]
    run = loop_blocks(len(ws), epochs * len(x), bookkeeping, unroll)
    ws, bs, bad = run(
        ws,
        bs,
        blocked(np.full(n, -1, np.int32)),
        *data(x, y, blocked(np.asarray(l1, np.float32)), blocked(np.asarray(l2, np.float32)), lr),
    )

    def back(a):  # [blocks, ..., m] -> [R, ...]
        a = np.moveaxis(np.asarray(a), -1, 1)
        return a.reshape(-1, *a.shape[2:])[:n]

    return params(keys, ws, bs, back), back(bad).astype(np.int64)


def train_jax(x, y, params0, l1, l2, *, lr, epochs, bookkeeping=True, unroll=UNROLL):
    """(final params models first, diverged_at [R]) after epochs of per-sample SGD in file order."""
    keys = names(params0)
    ws = [jnp.asarray(np.moveaxis(params0[k], 0, -1)) for k in keys[::2]]  # [in, out, R]
    bs = [jnp.asarray(params0[k][:, 0].T) for k in keys[1::2]]  # [out, R]
    n = len(params0[keys[0]])
    run = loop(len(ws), epochs * len(x), bookkeeping, unroll)
    ws, bs, bad = run(
        ws,
        bs,
        jnp.full(n, -1, jnp.int32),
        *data(x, y, l1, l2, lr),
    )
    models_first = lambda a: np.moveaxis(np.asarray(a), -1, 0)  # noqa: E731
    return params(keys, ws, bs, models_first), np.asarray(bad).astype(np.int64)
