"""Find the hidden units L1 disconnected and cut them out, keeping the function.

A hidden unit is dead when all its incoming weights (from units still alive) are
below tol in magnitude -- it outputs a constant, act(b) -- or all its outgoing
weights (to units still alive) are -- nothing it computes reaches the output.
Removing units can kill others, so detection repeats until nothing changes.

Surgery folds each dead-in unit's constant into the next layer's bias, so the
pruned network is *exactly* the original one with a set D of weights set to zero,
every one of them below tol. For 1-Lipschitz activations that gives, per sample,
|f(x) - f_pruned(x)| <= e_L, with e_0 = 0 and
e_k = |W_k - D_k|^T e_{k-1} + |D_k|^T |h_{k-1}(x)|     (h: the original activations).
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .activations import np_activation
from .model import layer_names


def sizes_of(params: dict[str, np.ndarray]) -> tuple[int, ...]:
    names = layer_names(params)
    return (params[f"{names[0]}/W"].shape[0], *[params[f"{n}/W"].shape[1] for n in names])


def forward(
    params: dict[str, np.ndarray], x: np.ndarray, activation: str = "identity"
) -> list[np.ndarray]:
    """Activations [h_0 = x, h_1, ..., h_L] of one model, x [n, 1]."""
    act, names, hs = np_activation(activation), layer_names(params), [x]
    for i, n in enumerate(names):
        z = hs[-1] @ params[f"{n}/W"] + params[f"{n}/b"]
        hs.append(act(z) if i < len(names) - 1 else z)
    return hs


@dataclass
class Pruning:
    dead: list  # per hidden layer: {unit: "in" | "out"}, in the order found
    params: dict  # the pruned network (None if some layer died entirely)
    zeroed: list  # per layer: boolean mask of the weights D the surgery sets to zero

    @property
    def constant(self) -> bool:
        return self.params is None

    def __repr__(self):
        return f"Pruning(dead={self.dead}, constant={self.constant})"


def find_dead(params: dict[str, np.ndarray], tol: float) -> list[dict[int, str]]:
    """Per hidden layer, {unit: 'in' | 'out'}; cascades until stable."""
    Ws = [np.abs(params[f"{n}/W"]) for n in layer_names(params)]
    alive = [np.ones(W.shape[0], bool) for W in Ws] + [np.ones(Ws[-1].shape[1], bool)]
    dead = [{} for _ in Ws[1:]]
    changed = True
    while changed:
        changed = False
        for k in range(1, len(Ws)):  # hidden layer k = output of Ws[k-1]
            for j in np.flatnonzero(alive[k]):
                if (Ws[k - 1][alive[k - 1], j] < tol).all():  # <- dead in: constant output
                    dead[k - 1][int(j)] = "in"
                elif (Ws[k][j, alive[k + 1]] < tol).all():  # <- dead out: output unused
                    dead[k - 1][int(j)] = "out"
                else:
                    continue
                alive[k][j], changed = False, True
    return dead


def dead_counts(params: dict, tol: float) -> np.ndarray:
    """[R, hidden layers] the number of dead units of each of R stacked models: the units
    find_dead finds, by the same two rules applied to every model at once until nothing changes
    (the rules only ever add dead units, so the order they are applied in does not matter)."""
    small = [np.abs(params[f"{n}/W"]) < tol for n in layer_names(params)]  # [R, in, out]
    alive = [np.ones(w.shape[:2], bool) for w in small] + [np.ones(small[-1].shape[::2], bool)]
    while True:
        before = sum(int(a.sum()) for a in alive)
        for k in range(1, len(small)):
            dead_in = (small[k - 1] | ~alive[k - 1][:, :, None]).all(axis=1)
            dead_out = (small[k] | ~alive[k + 1][:, None, :]).all(axis=2)
            alive[k] &= ~(dead_in | dead_out)
        if sum(int(a.sum()) for a in alive) == before:
            return np.stack([(~a).sum(1) for a in alive[1:-1]], axis=1)


def prune(params: dict[str, np.ndarray], tol: float, activation: str = "identity") -> Pruning:
    """Detect dead units and cut them out, folding constant units into the next bias."""
    if np_activation(activation) is None:
        raise ValueError(f"pruning does not support the {activation} activation")
    dead = find_dead(params, tol)
    names = layer_names(params)
    p = {k: v.astype(np.float64).copy() for k, v in params.items()}
    zeroed = _zeroed_weights(params, dead)
    if any(len(d) == p[f"{names[k]}/W"].shape[1] for k, d in enumerate(dead)):
        return Pruning(dead, None, zeroed)
    act = np_activation(activation)
    for k, d in enumerate(dead):  # hidden layer k+1, in order
        W_in, b, W_out, b_next = (
            f"{names[k]}/W",
            f"{names[k]}/b",
            f"{names[k + 1]}/W",
            f"{names[k + 1]}/b",
        )
        const = [j for j, why in d.items() if why == "in"]
        p[b_next] = p[b_next] + act(p[b][const]) @ p[W_out][const]  # <- fold constants forward
        keep = np.setdiff1d(np.arange(p[W_in].shape[1]), list(d))
        p[W_in], p[b], p[W_out] = p[W_in][:, keep], p[b][keep], p[W_out][keep]
    return Pruning(dead, {k: v.astype(np.float32) for k, v in p.items()}, zeroed)


def _zeroed_weights(params, dead):
    """Masks of D: weights into dead-in units from units that are not dead-in, and weights out of
    dead-out units into units that are not dead-out. Zeroing D turns the network into the pruned
    one."""
    names = layer_names(params)
    why = [{}] + dead + [{}]  # reasons for layers 0..L (ends never die)
    masks = []
    for k, n in enumerate(names):
        src, dst = why[k], why[k + 1]
        rows, cols = params[f"{n}/W"].shape
        m = np.zeros((rows, cols), bool)
        for i in range(rows):
            for j in range(cols):
                m[i, j] = (dst.get(j) == "in" and src.get(i) != "in") or (
                    src.get(i) == "out" and dst.get(j) != "out"
                )
        masks.append(m)
    return masks


def error_bound(
    params: dict[str, np.ndarray],
    zeroed: list[np.ndarray],
    x: np.ndarray,
    activation: str = "identity",
) -> np.ndarray:
    """Per sample, the bound on |f(x) - f_pruned(x)| stated in the module docstring."""
    hs, names = forward(params, x, activation), layer_names(params)
    e = np.zeros_like(x, dtype=np.float64)
    for k, (n, m) in enumerate(zip(names, zeroed)):
        W = np.abs(params[f"{n}/W"].astype(np.float64))
        e = e @ (W * ~m) + np.abs(hs[k]) @ (W * m)
    return e[:, 0]


def n_params(params: dict[str, np.ndarray]) -> int:
    return int(sum(v.size for v in params.values()))


def describe(dead: list[dict[int, str]]) -> str:
    """'dense1: in 0-3,5-9; dense3: in 1, out 4,7' -- per layer, the dead units (numbered from 0 in
    the layer, by the layer whose outputs they are) and why: dead in or dead out."""
    parts = []
    for k, d in enumerate(dead):
        whys = [
            f"{why} {ranges(u for u, w in d.items() if w == why)}"
            for why in ("in", "out")
            if why in d.values()
        ]
        if whys:
            parts.append(f"dense{k + 1}: " + ", ".join(whys))
    return "; ".join(parts) or "none"


def ranges(units: Iterable[int]) -> str:
    """[0, 1, 2, 3, 5, 7, 8] -> '0-3,5,7,8': runs of three or more as a range."""
    runs = []
    for u in sorted(units):
        if runs and u == runs[-1][-1] + 1:
            runs[-1].append(u)
        else:
            runs.append([u])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) >= 3 else ",".join(map(str, r)) for r in runs)
