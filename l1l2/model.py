"""The fully connected network, built the TF1 way.

Layer k lives in variable_scope("dense{k}") with get_variable("W", regularizer=...)
and get_variable("b"); the kernel penalties land in REGULARIZATION_LOSSES and the
cost is the summed absolute error plus the sum of that collection.

Parameters are a dict {"dense1/W": array, ...}. One model has W [in, out] and
b [out]; R models trained together have W [R, in, out] and b [R, 1, out], and the
same graph code serves both (matmul broadcasts over the model axis).
"""
import dataclasses
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from ._tf import tf, v1
from .checks import split_activation
from .regularizers import Penalty, as_targets

LEAKY_ALPHA = 0.2             # tf.nn.leaky_relu's default slope
PRELU_INIT = 0.25             # PReLU's initial slope (He et al. 2015)
RRELU_RANGE = (1 / 8, 1 / 3)  # RReLU's slopes are drawn from U[1/8, 1/3] in training (Xu et al. 2015)
ACTIVATIONS = {"identity": tf.identity, "relu": tf.nn.relu, "tanh": tf.nn.tanh,
               "leaky_relu": lambda z: tf.nn.leaky_relu(z, alpha=LEAKY_ALPHA), "elu": tf.nn.elu,
               "prelu": None, "rrelu": None}  # these two need the layer: see activate()
REG = v1.GraphKeys.REGULARIZATION_LOSSES


def layer_names(params):
    """['dense1', 'dense2', ...] in order."""
    return sorted({k.split("/")[0] for k in params}, key=lambda s: int(s[5:]))


def glorot_init(sizes, seed):
    """Glorot-uniform kernels and zero biases for one model; the same seed gives the same weights in every engine."""
    rng = np.random.default_rng(seed)
    params = {}
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        limit = np.sqrt(6.0 / (n_in + n_out))
        params[f"dense{k}/W"] = rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)
        params[f"dense{k}/b"] = np.zeros(n_out, np.float32)
    return params


def init_params(sizes, seed, activation="identity"):
    """glorot_init plus, for PReLU, a learned slope per hidden unit ("denseK/alpha")."""
    params = glorot_init(sizes, seed)
    if activation == "prelu":
        for k, n in enumerate(sizes[1:-1], start=1):
            params[f"dense{k}/alpha"] = np.full(n, PRELU_INIT, np.float32)
    return params


def stack(models):
    """R single-model parameter dicts -> one dict with a leading model axis (biases [R, 1, out])."""
    return {k: np.stack([m[k] if k.endswith("/W") else m[k][None] for m in models])
            for k in models[0]}


def unstack(params, r):
    """Model r of a stacked parameter dict, in single-model shapes."""
    return {k: v[r] if k.endswith("/W") else v[r, 0] for k, v in params.items()}


@dataclass
class Net:
    pred: object       # [B, 1], or [R, B, 1] for stacked models
    data_loss: object  # sum |pred - y|, per model
    reg_loss: object   # sum of the REGULARIZATION_LOSSES this build registered, per model
    cost: object       # data_loss + reg_loss, per model


def activate(z, activation, alpha0, noise):
    """The activation of a layer (inside its variable scope): PReLU owns a variable, RReLU draws its
    slopes from the seed `noise` in training (a [2] int tensor), and uses their mean when it is None."""
    name, leaky_slope = split_activation(activation)   # 'leaky_relu:0.1' carries its slope
    if name == "prelu":
        alpha = v1.get_variable("alpha", alpha0.shape, initializer=v1.constant_initializer(alpha0))
        return tf.nn.relu(z) + alpha * tf.minimum(z, 0.0)
    if name == "rrelu":
        lo, hi = RRELU_RANGE
        slope = (lo + hi) / 2 if noise is None else tf.random.stateless_uniform(tf.shape(z), noise, lo, hi)
        return tf.where(z >= 0, z, slope * z)
    if name == "leaky_relu" and leaky_slope is not None:
        return tf.nn.leaky_relu(z, alpha=leaky_slope)
    return ACTIVATIONS[name](z)


def dense(x, scope, params, reg, activation, noise):
    """One layer; reg is a regularizers.Targets (kernel, bias, activity)."""
    w0, b0 = params[f"{scope}/W"], params[f"{scope}/b"]
    with v1.variable_scope(scope):
        W = v1.get_variable("W", w0.shape, initializer=v1.constant_initializer(w0),
                            regularizer=reg.kernel or None)
        b = v1.get_variable("b", b0.shape, initializer=v1.constant_initializer(b0),
                            regularizer=reg.bias or None)
        h = activate(tf.matmul(x, W) + b, activation, params.get(f"{scope}/alpha"), noise)
        if reg.activity:
            v1.add_to_collection(REG, reg.activity(h))  # <- activity penalty, same collection
        return h


def build(x, y, params, penalty, activation="identity", weights=None, noise=None):
    """Build the network on x [B, 1] and its cost against y [B, 1].

    params gives the shapes and initial values; penalty is a kernel Penalty or a
    regularizers.Targets. With `weights` (a dict name -> tensor), the same code
    runs on those tensors instead of the variables: the in-graph training loop
    uses this to evaluate the model on its loop state. `noise`, a [2] int seed
    tensor, means training: RReLU draws its slopes from it (layer k from the seed
    folded with k); without it RReLU uses their mean.
    """
    reg = as_targets(penalty)
    output_reg = dataclasses.replace(reg, activity=Penalty())  # the prediction has no activity penalty
    n_reg = len(v1.get_collection(REG))
    scope = v1.variable_scope(v1.get_variable_scope(), custom_getter=_substitute(weights)) \
        if weights is not None else nullcontext()
    with scope:
        h = x
        names = layer_names(params)
        for name in names:
            last = name == names[-1]
            layer_noise = None if noise is None else tf.random.experimental.stateless_fold_in(noise, int(name[5:]))
            h = dense(h, name, params, output_reg if last else reg,
                      "identity" if last else activation, layer_noise)
    data_loss = tf.reduce_sum(tf.abs(h - y), axis=[-2, -1])
    new_losses = v1.get_collection(REG)[n_reg:]
    reg_loss = tf.add_n(new_losses) if new_losses else tf.zeros_like(data_loss)
    return Net(h, data_loss, reg_loss, data_loss + reg_loss)


def _substitute(weights):
    """A custom getter that hands out weights[name] and registers its penalty like get_variable would."""
    def getter(getter, name, *args, regularizer=None, **kwargs):  # noqa: ARG001
        w = weights[name]
        if regularizer is not None:
            loss = regularizer(w)
            if loss is not None:
                v1.add_to_collection(REG, loss)
        return w
    return getter
