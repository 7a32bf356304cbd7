"""A NumPy peer of the engines for the benchmark: the same per-sample SGD, vectorised over models.

Models-last like l1l2/compiled.py (W [in, out, R], b [out, R], activations [B, units, R]), so
each NumPy call works on contiguous runs of R floats. Identity activation, kernel L1/L2
penalty, file order; float32 throughout. Returns the final weights, models first.
"""

import numpy as np


def train_numpy(x, y, params0, penalty, *, lr, epochs, batch_size=1):
    """Final stacked weights {name: W [R, in, out] / b [R, 1, out]} after per-sample SGD."""
    names = sorted({k.split("/")[0] for k in params0}, key=lambda s: int(s[5:]))
    Ws = [np.moveaxis(params0[f"{n}/W"], 0, -1).astype(np.float32, order="C") for n in names]
    bs = [params0[f"{n}/b"][:, 0].T.astype(np.float32, order="C") for n in names]  # copies
    l1, l2 = (np.asarray(c, np.float32) for c in (penalty.l1, penalty.l2))
    lr = np.float32(lr)
    batches = np.arange(len(x) // batch_size * batch_size).reshape(-1, batch_size)
    for step in range(epochs * len(batches)):
        rows = batches[step % len(batches)]
        sgd_step(Ws, bs, x[rows], y[rows], l1, l2, lr)
    out = {}
    for n, W, b in zip(names, Ws, bs):
        out[f"{n}/W"], out[f"{n}/b"] = np.moveaxis(W, -1, 0), b.T[:, None, :]
    return out


def sgd_step(Ws, bs, xb, yb, l1, l2, lr):
    """One in-place SGD step of every model on the batch xb, yb [B]."""
    hs = [np.broadcast_to(xb[:, None, None], (len(xb), 1, Ws[0].shape[-1]))]
    for W, b in zip(Ws, bs):
        hs.append(np.einsum("bir,ior->bor", hs[-1], W) + b)
    dz = np.sign(hs[-1] - yb[:, None, None])  # d|e|/de
    for k in reversed(range(len(Ws))):
        W = Ws[k]
        dh = np.einsum("bor,ior->bir", dz, W) if k else None  # before W changes
        W -= lr * (np.einsum("bir,bor->ior", hs[k], dz) + l1 * np.sign(W) + l2 * W)
        bs[k] -= lr * dz.sum(0)
        dz = dh
