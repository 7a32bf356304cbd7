"""Weight penalties with the TF1 contrib semantics, one code path for every method.

Every penalty is an elastic net  l1*sum|w| + l2*sum(w^2)/2,  so `none`, `l1`, `l2`
and `l1l2` differ only in their two coefficients. A coefficient is a float (one
model) or a vector with one entry per model (a batch of models stacked along the
leading axis of every weight); the penalty is then one value per model.
"""
from dataclasses import dataclass

import numpy as np

METHODS = ("none", "l1", "l2")


@dataclass(frozen=True)
class Penalty:
    l1: object = 0.0  # float, or np.ndarray [R] for R stacked models
    l2: object = 0.0

    def __call__(self, w):
        """The penalty of weight tensor w, per model: usable as get_variable(regularizer=...)."""
        from ._tf import tf
        terms = []
        if np.any(self.l1):
            terms.append(self.l1 * tf.reduce_sum(tf.abs(w), axis=self._axes(w)))          # <- L1: lam*sum|W|
        if np.any(self.l2):
            terms.append(self.l2 * tf.reduce_sum(tf.square(w), axis=self._axes(w)) / 2)   # <- L2: lam*sum(W^2)/2
        return tf.add_n(terms) if terms else None

    def _axes(self, w):
        return list(range(np.ndim(self.l1), w.shape.ndims))  # all but the model axis

    def __repr__(self):
        return f"Penalty(l1={self.l1}, l2={self.l2})"


def for_method(method: str, lam: float) -> Penalty:
    """The protocol's three methods at strength lam."""
    return {"none": Penalty(), "l1": Penalty(l1=lam), "l2": Penalty(l2=lam)}[method]


def stack(penalties) -> Penalty:
    """One Penalty for R stacked models from R single-model penalties."""
    l1 = np.array([p.l1 for p in penalties], np.float32)
    l2 = np.array([p.l2 for p in penalties], np.float32)
    return Penalty(l1, l2)
