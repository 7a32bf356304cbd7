"""The fully connected network, built the TF1 way.

Layer k lives in variable_scope("dense{k}"): get_variable("W", regularizer=...) puts the kernel's
penalty into the REGULARIZATION_LOSSES collection, get_variable("b") holds the bias, and the cost
is the summed absolute error plus the sum of that collection. The scope names are the checkpoint
names ("dense1/W", ...).

Parameters are a dict {"dense1/W": array, ...}. One model has W [in, out] and b [out]; R models
trained together have W [R, in, out] and b [R, 1, out], and the same code serves both (matmul
broadcasts over the model axis).
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..tf1 import tf, v1
from .activations import PRELU_INIT, RRELU_RANGE, parse, tf_activation
from .regularizers import Penalty, Targets, as_targets

# The largest network any command builds or reads (--sizes, a checkpoint, a recording): far above
# any sensible run, low enough that a typo or a crafted file fails at once.
MAX_WIDTH = 10_000  # units of one layer
MAX_LAYERS = 100  # sizes of a network, input and output included


def layer_names(params: dict) -> list[str]:
    """['dense1', 'dense2', ...] in order."""
    return sorted({k.split("/")[0] for k in params}, key=lambda s: int(s[5:]))


def glorot_init(sizes: Sequence[int], seed: int) -> dict:
    """Glorot-uniform kernels and zero biases; the same seed gives the same weights everywhere."""
    rng = np.random.default_rng(seed)
    params = {}
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        limit = np.sqrt(6.0 / (n_in + n_out))
        params[f"dense{k}/W"] = rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)
        params[f"dense{k}/b"] = np.zeros(n_out, np.float32)
    return params


def init_params(sizes: Sequence[int], seed: int, activation: str = "identity") -> dict:
    """glorot_init plus, for PReLU, a learned slope per hidden unit ("denseK/alpha")."""
    params = glorot_init(sizes, seed)
    if parse(activation)[0] == "prelu":
        for k, n in enumerate(sizes[1:-1], start=1):
            params[f"dense{k}/alpha"] = np.full(n, PRELU_INIT, np.float32)
    return params


def variables_named(names: Sequence[str]) -> "list[tf.Variable]":
    """The global variables of the default graph, in the order of `names` ("dense1/W", ...)."""
    by_name = {v.op.name: v for v in v1.global_variables()}
    return [by_name[n] for n in names]


def step_noise(seed: int, step: "int | tf.Tensor") -> "tf.Tensor":
    """The seed of SGD step `step`'s random draws (RReLU's slopes): a function of the run's seed
    and the step alone, so every engine draws the same, whatever the thread scheduling."""
    return tf.random.experimental.stateless_fold_in(tf.constant([seed, 0], tf.int64), step)


def stack(models: list[dict]) -> dict:
    """R single-model parameter dicts -> one dict with a leading model axis (biases [R, 1, out])."""
    return {
        k: np.stack([m[k] if k.endswith("/W") else m[k][None] for m in models]) for k in models[0]
    }


def init_stack(sizes: Sequence[int], seeds: Sequence[int], activation: str = "identity") -> dict:
    """stack() of init_params(sizes, s, activation) for s in seeds, filled model by model: the
    same arrays without every model's dict held at once (drawing 10,000 models peaks at 12 MB,
    against 43 MB for stack() of a list)."""
    out = {}
    for r, seed in enumerate(seeds):
        for k, v in init_params(sizes, seed, activation).items():
            if r == 0:
                lead = (len(seeds),) if k.endswith("/W") else (len(seeds), 1)
                out[k] = np.empty(lead + v.shape, v.dtype)
            out[k][r] = v
    return out


def unstack(params: dict, r: int) -> dict:
    """Model r of a stacked parameter dict, in single-model shapes."""
    return {k: v[r] if k.endswith("/W") else v[r, 0] for k, v in params.items()}


@dataclass
class Net:
    pred: object  # [B, 1], or [R, B, 1] for stacked models
    data_loss: object  # sum |pred - y|, per model
    reg_loss: object  # sum of the REGULARIZATION_LOSSES this build added, per model
    cost: object  # data_loss + reg_loss, per model


def activate(
    z: "tf.Tensor", activation: str, alpha0: np.ndarray | None, noise: "tf.Tensor | None"
) -> "tf.Tensor":
    """A hidden layer's activation, inside its variable scope. PReLU owns a variable; RReLU draws
    its slopes from the seed `noise` (a [2] int tensor) in training, uses their mean without it."""
    name, _ = parse(activation)
    if name == "prelu":
        init = v1.constant_initializer(alpha0)
        alpha = v1.get_variable("alpha", alpha0.shape, initializer=init)
        return tf.nn.relu(z) + alpha * tf.minimum(z, 0.0)
    if name == "rrelu" and noise is not None:
        slope = tf.random.stateless_uniform(tf.shape(z), noise, *RRELU_RANGE)
        return tf.where(z >= 0, z, slope * z)
    return tf_activation(activation)(z)


def dense(
    x: "tf.Tensor",
    scope: str,
    params: dict,
    reg: Targets,
    activation: str,
    noise: "tf.Tensor | None" = None,
) -> "tf.Tensor":
    """One layer: h = activation(x W + b), its penalties in REGULARIZATION_LOSSES."""
    w0, b0 = params[f"{scope}/W"], params[f"{scope}/b"]
    with v1.variable_scope(scope):
        W = v1.get_variable(
            "W",
            w0.shape,
            initializer=v1.constant_initializer(w0),
            regularizer=reg.kernel or None,  # <- the kernel penalty: L1, L2 or both
        )
        b = v1.get_variable(
            "b", b0.shape, initializer=v1.constant_initializer(b0), regularizer=reg.bias or None
        )
        h = activate(tf.matmul(x, W) + b, activation, params.get(f"{scope}/alpha"), noise)
        if reg.activity:
            v1.add_to_collection(v1.GraphKeys.REGULARIZATION_LOSSES, reg.activity(h))
        return h


def build(
    x: "tf.Tensor",
    y: "tf.Tensor",
    params: dict,
    penalty: Penalty | Targets | None,
    activation: str = "identity",
    noise: "tf.Tensor | None" = None,
) -> Net:
    """The network on x [B, 1] (or [R, B, 1]) and its cost against y of the same shape.

    params gives the shapes and initial values; penalty is a kernel Penalty or a
    regularizers.Targets. `noise`, a [2] int seed tensor, means training: RReLU draws its slopes
    from it (layer k from the seed folded with k); without it RReLU uses their mean.
    """
    reg = as_targets(penalty)
    last_reg = dataclasses.replace(reg, activity=Penalty())  # the prediction is not penalized
    losses = v1.get_collection_ref(v1.GraphKeys.REGULARIZATION_LOSSES)
    n_before = len(losses)  # a graph may hold several builds (training loop, evaluation)
    h, names = x, layer_names(params)
    for k, name in enumerate(names, start=1):
        last = k == len(names)
        layer_noise = None if noise is None else tf.random.experimental.stateless_fold_in(noise, k)
        h = dense(
            h,
            name,
            params,
            last_reg if last else reg,
            "identity" if last else activation,
            layer_noise,
        )
    data_loss = tf.reduce_sum(tf.abs(h - y), axis=[-2, -1])
    new_losses = losses[n_before:]
    reg_loss = tf.add_n(new_losses) if new_losses else tf.zeros_like(data_loss)  # <- the penalty
    return Net(h, data_loss, reg_loss, data_loss + reg_loss)
