"""The hidden-layer activations, TensorFlow and NumPy side by side, and their 'name[:slope]' spec.

The NumPy twins are the activations at test time: pruning folds units and bounds its error with
them, so each must be 1-Lipschitz (all are). PReLU has none: its slopes are variables of the
layer (see model.activate), which surgery would have to cut too.
"""

from collections.abc import Callable

import numpy as np

from ..tf1 import tf

LEAKY_ALPHA = 0.2  # tf.nn.leaky_relu's default slope
PRELU_INIT = 0.25  # PReLU's initial slope (He et al. 2015)
RRELU_RANGE = (
    1 / 8,
    1 / 3,
)  # RReLU's slopes are drawn from U[1/8, 1/3] in training (Xu et al. 2015)
RRELU_MEAN = sum(RRELU_RANGE) / 2  # ... and are their mean at test time

# name: (TensorFlow f(z, a), NumPy f(z, a), TensorFlow derivative f'(z, h = f(z), a)), a being
# leaky_relu's slope (LEAKY_ALPHA unless given). The derivatives follow TensorFlow's gradients
# (0 at the kink of relu); the compiled engine, which writes its backward pass by hand, uses them.
TABLE = {
    "identity": (lambda z, a: tf.identity(z), lambda z, a: z, None),  # None: the derivative is 1
    "relu": (
        lambda z, a: tf.nn.relu(z),
        lambda z, a: np.maximum(z, 0),
        lambda z, h, a: tf.cast(z > 0, z.dtype),
    ),
    "leaky_relu": (
        lambda z, a: tf.nn.leaky_relu(z, alpha=a),
        lambda z, a: np.where(z > 0, z, a * z),
        lambda z, h, a: tf.where(z > 0, tf.ones_like(z), a * tf.ones_like(z)),
    ),
    "elu": (
        lambda z, a: tf.nn.elu(z),
        lambda z, a: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        lambda z, h, a: tf.where(h < 0, h + 1, tf.ones_like(h)),
    ),
    "tanh": (lambda z, a: tf.nn.tanh(z), lambda z, a: np.tanh(z), lambda z, h, a: 1 - h * h),
    "prelu": (None, None, None),  # a learned slope per unit: model.activate
    "rrelu": (  # at test time; random slopes in training: model.activate
        lambda z, a: tf.where(z >= 0, z, RRELU_MEAN * z),
        lambda z, a: np.where(z >= 0, z, RRELU_MEAN * z),
        None,
    ),
}
NAMES = tuple(TABLE)


def parse(spec: str) -> tuple[str, float]:
    """'leaky_relu:0.1' -> ('leaky_relu', 0.1); a bare name -> (name, LEAKY_ALPHA).

    ValueError says what is wrong: an unknown name, a slope on another activation, a slope that
    is not a number in [0, 1]."""
    name, colon, arg = spec.partition(":")
    if name not in TABLE:
        raise ValueError(f"must be one of {','.join(NAMES)}, got {spec!r}")
    if not colon:
        return name, LEAKY_ALPHA
    if name != "leaky_relu":
        raise ValueError(f"only leaky_relu takes a slope (leaky_relu:A), got {spec!r}")
    try:
        slope = float(arg)
    except ValueError:
        raise ValueError(f"expected a number, got {arg!r}") from None
    if not 0 <= slope <= 1:  # also refuses nan
        raise ValueError(f"the slope of leaky_relu must be between 0 and 1, got {arg}")
    return name, slope


def tf_activation(spec: str) -> "Callable[[tf.Tensor], tf.Tensor] | None":
    """z -> activation(z) in TensorFlow; None for prelu (it needs its layer's variable)."""
    name, slope = parse(spec)
    f = TABLE[name][0]
    return None if f is None else lambda z: f(z, slope)


def tf_derivative(spec: str) -> "Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None":
    """(z, h) -> d activation / dz in TensorFlow; None for identity (1 everywhere)."""
    name, slope = parse(spec)
    f = TABLE[name][2]
    return None if f is None else lambda z, h: f(z, h, slope)


def np_activation(spec: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """The NumPy twin at test time; None if there is none (prelu)."""
    name, slope = parse(spec)
    f = TABLE[name][1]
    return None if f is None else lambda z: f(z, slope)
