"""Weight penalties with the TF1 contrib semantics, one code path for every method.

Every penalty is an elastic net  l1*sum|w| + l2*sum(w^2)/2,  so `none`, `l1`, `l2`
and `l1l2` differ only in their two coefficients. A coefficient is a float (one
model) or a vector with one entry per model (a batch of models stacked along the
leading axis of every weight); the penalty is then one value per model.

Like Keras, a penalty can target the kernels, the biases or the layer outputs
("activity"); `Targets` holds one Penalty per target. Sums run over every entry,
the batch included for activity, and nothing is divided by the batch size (Keras
divides its activity penalty by the batch size, and its L2(l) is l*sum(w^2), not
the l*sum(w^2)/2 used here).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..tf1 import tf

METHODS = ("none", "l1", "l2", "l1l2")


@dataclass(frozen=True)
class Penalty:
    l1: object = 0.0  # float, or np.ndarray [R] for R stacked models
    l2: object = 0.0

    def __call__(self, w):
        """The penalty of weight tensor w, per model: usable as get_variable(regularizer=...)."""
        terms = []
        if np.any(self.l1):
            terms.append(
                self.l1 * tf.reduce_sum(tf.abs(w), axis=self._axes(w))
            )  # <- L1: lam*sum|W|
        if np.any(self.l2):
            terms.append(
                self.l2 * tf.reduce_sum(tf.square(w), axis=self._axes(w)) / 2
            )  # <- L2: lam*sum(W^2)/2
        return tf.add_n(terms) if terms else None

    def _axes(self, w):
        """Every axis but the model axis (there is one if either coefficient is a vector)."""
        return list(range(max(np.ndim(self.l1), np.ndim(self.l2)), w.shape.ndims))

    def __bool__(self):
        return bool(np.any(self.l1) or np.any(self.l2))

    def pick(self, r: int) -> "Penalty":
        """The penalty of model r of a stacked Penalty."""
        return Penalty(*(float(np.ravel(c)[r]) if np.ndim(c) else c for c in (self.l1, self.l2)))

    def __repr__(self):
        return f"Penalty(l1={self.l1}, l2={self.l2})"


@dataclass(frozen=True)
class Targets:
    """What is penalized: kernels and biases (through get_variable) and hidden-layer outputs."""

    kernel: Penalty = field(default_factory=Penalty)
    bias: Penalty = field(default_factory=Penalty)
    activity: Penalty = field(default_factory=Penalty)

    def pick(self, r: int) -> "Targets":
        return Targets(self.kernel.pick(r), self.bias.pick(r), self.activity.pick(r))


def as_targets(reg: Penalty | Targets | None) -> Targets:
    """A bare Penalty means kernels only, as in the blog."""
    return (
        reg if isinstance(reg, Targets) else Targets(kernel=reg if reg is not None else Penalty())
    )


def for_method(method: str, lam: float) -> Penalty:
    """The kernel penalty of each method at strength lam (l1l2: both terms at lam)."""
    return {
        "none": Penalty(),
        "l1": Penalty(l1=lam),
        "l2": Penalty(l2=lam),
        "l1l2": Penalty(l1=lam, l2=lam),
    }[method]


def stack(penalties: Sequence[Penalty] | Sequence[Targets]) -> Penalty | Targets:
    """One Penalty (or Targets) for R stacked models from R single-model ones."""
    if isinstance(penalties[0], Targets):
        return Targets(
            *(stack([getattr(t, f) for t in penalties]) for f in ("kernel", "bias", "activity"))
        )
    l1 = np.array([p.l1 for p in penalties], np.float32)
    l2 = np.array([p.l2 for p in penalties], np.float32)
    return Penalty(l1, l2)


class SpecError(InputError):
    pass


_ARITY = {"none": 0, "l1": 1, "l2": 1, "l1l2": 2}


def parse(spec: str) -> Penalty:
    """'none', 'l1:A', 'l2:B' or 'l1l2:A,B' (non-negative numbers) -> Penalty."""
    kind, _, args = spec.strip().lower().partition(":")
    try:
        values = [float(v) for v in args.split(",")] if args else []
    except ValueError:
        values = None
    if (
        kind not in _ARITY
        or values is None
        or len(values) != _ARITY[kind]
        or not all(np.isfinite(v) and v >= 0 for v in values)
    ):
        raise SpecError(
            f"invalid regularizer {spec!r}: use none, l1:A, l2:B or l1l2:A,B with A, B >= 0"
        )
    a, b = (values + [0.0, 0.0])[:2]
    return {
        "none": Penalty(),
        "l1": Penalty(l1=a),
        "l2": Penalty(l2=a),
        "l1l2": Penalty(l1=a, l2=b),
    }[kind]


def proximal_split(
    reg: Penalty | Targets | None, l1_update: str
) -> tuple[Penalty | Targets | None, float | np.ndarray | None]:
    """(penalty to differentiate, kernel L1 coefficients handled by soft-thresholding or None).

    With l1_update='proximal' the kernels' L1 term leaves the gradient: each SGD step on
    the rest of the cost is followed by w <- sign(w) max(|w| - lr*l1, 0), which puts
    weights at exactly 0 instead of letting them hover around it."""
    t = as_targets(reg)
    if l1_update != "proximal" or not np.any(t.kernel.l1):
        return reg, None
    return Targets(
        Penalty(np.zeros_like(t.kernel.l1), t.kernel.l2), t.bias, t.activity
    ), t.kernel.l1


def soft_threshold(w: "tf.Tensor", lr: "float | tf.Tensor", l1: float | np.ndarray) -> "tf.Tensor":
    """The proximal step of lr*l1*|w|: w <- sign(w) max(|w| - lr*l1, 0). l1 is a float or one
    value per stacked model (the leading axis of w); lr a float or a scalar tensor."""
    shape = np.shape(l1) + (1,) * (w.shape.ndims - np.ndim(l1))
    t = lr * np.reshape(np.asarray(l1, np.float32), shape)
    return tf.sign(w) * tf.maximum(tf.abs(w) - t, 0.0)  # <- proximal L1: exact zeros


def l1_term(
    names: Sequence[str], weights: "Sequence[tf.Tensor | tf.Variable]", l1: float | np.ndarray
) -> "tf.Tensor":
    """The kernels' L1 penalty that a proximal update keeps out of the gradient (for reporting)."""
    return tf.add_n([Penalty(l1=l1)(w) for n, w in zip(names, weights) if n.endswith("/W")])
