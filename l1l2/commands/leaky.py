"""A post's claim, measured: does switching ReLU to LeakyReLU change the first layer's gradient
the way an L1 activity penalty on its pre-activation would? (The post: "Comparison of L1
regularization and Leaky ReLU".)

Network x1 -> x2 = A x1 + B -> relu -> y = C x3 + D, loss 1/2 sum (t - y)^2, trained with
per-sample SGD. At every epoch, with the same weights, TensorFlow gives
  delta = dL/d(A,B) with LeakyReLU(alpha) - dL/d(A,B) with ReLU     (exact, both forward passes)
  l1    = d(lambda * sum |x2|)/d(A,B)                               (the L1 activity gradient)
  formula = the post's delta: sum x1 * (y - t) C * alpha (1 - H(x2)), y from the ReLU net.
The three are built by model.build on shared variables (custom getter), not by a second model.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..config import LeakyConfig
from ..core import data as data_mod
from ..core import model
from ..core.activations import LEAKY_ALPHA, tf_activation
from ..core.engine import on_tensors
from ..core.regularizers import Penalty, Targets
from ..core.sgd import sample_table
from ..output.plots import subplots
from ..shared.analysis import write_analysis
from ..shared.result import Result
from ..tf1 import session, tf, v1


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.ravel(a), np.ravel(b)
    n = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / n) if n else np.nan


def build(
    params: dict[str, np.ndarray], lam: float, lr: float
) -> "tuple[tf.Graph, tf.Tensor, tf.Tensor, dict[str, Any], tf.Operation]":
    """The three gradients on placeholders x, t: (graph, x, t, fetches, sgd step)."""
    g = tf.Graph()
    with g.as_default():
        x, t = v1.placeholder(tf.float32, [None, 1]), v1.placeholder(tf.float32, [None, 1])
        relu = model.build(x, t, params, None, "relu")  # creates the variables
        shared = {v.op.name: v for v in v1.global_variables()}
        with on_tensors(shared):
            leaky = model.build(x, t, params, None, "leaky_relu")
            linear = model.build(x, t, params, Targets(activity=Penalty(l1=lam)), "identity")
        mse_relu, mse_leaky = (0.5 * tf.reduce_sum(tf.square(n.pred - t)) for n in (relu, leaky))
        AB = [shared["dense1/W"], shared["dense1/b"]]
        g_relu, g_leaky = tf.gradients(mse_relu, AB), tf.gradients(mse_leaky, AB)
        fetches = {
            "delta": [a - b for a, b in zip(g_leaky, g_relu)],
            "l1": tf.gradients(linear.reg_loss, AB),
            "x2": tf.matmul(x, shared["dense1/W"]) + shared["dense1/b"],
            "y": relu.pred,
            "C": shared["dense2/W"],
        }
        step = v1.train.GradientDescentOptimizer(lr).minimize(mse_relu)  # the ReLU net is trained
    return g, x, t, fetches, step


def formula(x1: np.ndarray, t: np.ndarray, f: dict[str, Any]) -> list[np.ndarray]:
    """The post's delta for A and B, from the ReLU net's y."""
    neg = (f["x2"] < 0).astype(np.float64)  # 1 - H(x2)
    per_unit = (f["y"] - t) * f["C"][:, 0][None, :] * LEAKY_ALPHA * neg  # [n, hidden]
    return [x1.T @ per_unit, per_unit.sum(0)]


def measure(
    cfg: LeakyConfig, d: data_mod.Dataset, advance: Callable[[int], object] = lambda n: None
) -> list[dict[str, float]]:
    """One row per epoch: the LeakyReLU change against the L1 term and against the formula;
    advance(1) after each epoch measured."""
    g, x, t, f, step = build(model.glorot_init((1, cfg.hidden, 1), cfg.seed), cfg.lam, cfg.lr)
    xs, ts = d.x_train[:, None], d.y_train[:, None]
    table = sample_table(cfg.sgd(), d.x_train, d.y_train, [cfg.seed])
    order = table[np.arange(cfg.epochs * len(xs)) % len(table), 0, 0]  # step i: row i % P
    rows = []
    with session(g) as sess:
        sess.run(v1.global_variables_initializer())
        for epoch in range(cfg.epochs + 1):
            out = sess.run(f, {x: xs, t: ts})
            fa, fb = formula(xs, ts, out)
            flat = lambda arrays: np.concatenate([np.ravel(a) for a in arrays])
            rows.append(
                {
                    "epoch": epoch,
                    "cos_A": cosine(out["delta"][0], out["l1"][0]),
                    "cos_B": cosine(out["delta"][1], out["l1"][1]),
                    "cos_formula": cosine(flat(out["delta"]), flat([fa, fb])),
                    "negative_units": float((out["x2"] < 0).mean()),
                }
            )
            if epoch < cfg.epochs:
                for i in order[epoch * len(xs) : (epoch + 1) * len(xs)]:
                    sess.run(step, {x: xs[i : i + 1], t: ts[i : i + 1]})
            advance(1)
    return rows


def identity_error(alpha: float = LEAKY_ALPHA) -> float:
    """max |LeakyReLU(z) - ((1+a) ReLU(z) - a|z|)| over a grid, computed by TF."""
    z = np.linspace(-5, 5, 1001, dtype=np.float32)
    g = tf.Graph()
    with g.as_default(), session(g) as s:
        zt = tf.constant(z)
        diff = tf_activation("leaky_relu")(zt) - ((1 + alpha) * tf.nn.relu(zt) - alpha * tf.abs(zt))
        return float(np.abs(s.run(diff)).max())


def figure(rows: list[dict[str, float]], path: str | Path) -> None:
    """Top: cosines of the first-layer gradient changes per epoch; bottom: the fraction of
    negative pre-activations. The epoch axis is logarithmic past 1: the change happens in the
    first epochs. Every symbol is defined on the figure."""
    e = np.array([r["epoch"] for r in rows])
    fig, (ax, frac) = subplots(
        2, 1, figsize=(9, 6.4), dpi=100, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    fig.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=0.33, hspace=0.08)
    ax.plot(e, [r["cos_A"] for r in rows], c="tab:blue",
            label="cos(LeakyReLU change, L1 activity gradient) for the weights A")  # fmt: skip
    ax.plot(e, [r["cos_B"] for r in rows], c="tab:cyan", label="the same for the bias B")
    ax.plot(e, [r["cos_formula"] for r in rows], "k--",
            label="cos(LeakyReLU change, the post's formula) for A and B together")  # fmt: skip
    ax.set(ylabel="cosine", ylim=(-1.05, 1.05),
           title=f"Switching ReLU to LeakyReLU(a = {LEAKY_ALPHA}) vs an L1 penalty on x2: "
           "first-layer gradients")  # fmt: skip
    ax.title.set_fontsize(10)
    ax.axhline(0, c="k", lw=0.5)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    frac.plot(e, [r["negative_units"] for r in rows], c="gray")
    frac.set(ylabel="x2 < 0", ylim=(-0.02, 1.02),
             xlabel="epoch of ReLU training (gradients at that epoch's weights; symlog axis: "
             "linear to 1, logarithmic after)")  # fmt: skip
    ticks = [t for t in (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if t <= e.max()]
    for a in (ax, frac):
        a.set_xscale("symlog", linthresh=1)
        a.set_xlim(0, max(e.max(), 1))
        a.set_xticks(ticks, [str(t) for t in ticks])
        a.grid(alpha=0.3)
    fig.text(
        0.09,
        0.24,
        "\n".join(
            [
                "LeakyReLU change = dL/d(A, B) with LeakyReLU - dL/d(A, B) with ReLU, "
                "L = 1/2 sum (y - t)^2 (exact, both nets' forward passes)",
                "L1 activity gradient = d(lambda sum |x2|)/d(A, B) = sum over samples of "
                "lambda sign(x2)·x1 (for B, read x1 as 1)",
                "the post's formula = sum over samples of (y - t)·C·a·(1 - H(x2))·x1, "
                "y from the ReLU net (for B, read x1 as 1)",
                "x1: input;  A, B: first-layer weights, bias;  x2 = A·x1 + B: pre-activation;  "
                "H: Heaviside step (1 where x2 >= 0, else 0);",
                "C, D: second-layer weights, bias;  y = C·relu(x2) + D: ReLU net's prediction;  "
                "t: target;",
                "bottom: the fraction of the pre-activations x2 that are < 0 (over units and "
                "samples);",
                f"a = {LEAKY_ALPHA}: LeakyReLU slope;  lambda: strength of the L1 penalty "
                "(in the report)",
            ]
        ),
        va="top",
        fontsize=8,
        linespacing=1.5,
    )
    fig.savefig(path)


def window_mean(rows: list[dict[str, float]], key: str) -> float:
    """The mean of `key` over a window of epochs; nan below 2 finite values (a cosine is nan
    when a gradient is zero): no number is made up from too few measurements."""
    v = np.array([r[key] for r in rows], float)
    ok = v[np.isfinite(v)]
    return float(ok.mean()) if len(ok) >= 2 else np.nan


def agreement(early: float, late: float) -> str:
    """What the cosines of the two gradient changes (for A) say, in words; nothing when either
    mean is missing (window_mean: fewer than 2 finite cosines)."""
    if not (np.isfinite(early) and np.isfinite(late)):
        return (
            "No conclusion on how the two gradient changes compare: the first or last 10% of "
            "epochs have fewer than 2 finite cosines (a zero gradient has no direction; "
            "train more epochs or more units)."
        )
    way = (
        "point partly the same way"
        if min(early, late) > 0
        else "point partly against each other"
        if max(early, late) < 0
        else "change from one to the other"
    )
    when = (
        "closer early in training, as the post expects"
        if early > late
        else "closer late in training than early, the opposite of what the post expects"
    )
    return (
        f"The two gradient changes {way} (cosine {early:+.2f} early, {late:+.2f} late) and "
        f"are {when}."
    )


TITLE = "Comparison of L1 regularization and Leaky ReLU"  # the post whose claim this measures
TABLE = (  # (row of the report's table, key of measure()'s rows, format)
    ("cosine(LeakyReLU change, L1 activity gradient), first-layer weights A", "cos_A", "+.3f"),
    ("same, first-layer bias B", "cos_B", "+.3f"),
    ("cosine(LeakyReLU change, the post's formula)", "cos_formula", "+.3f"),
    ("fraction of pre-activations x2 < 0", "negative_units", ".2f"),
)


def to_markdown(cfg: LeakyConfig, rows: list[dict[str, float]], ident: float, n_train: int) -> str:
    k = max(len(rows) // 10, 1)
    first, last = rows[:k], rows[-k:]
    table = [
        f"| {label} | {window_mean(first, key):{fmt}} | {window_mean(last, key):{fmt}} |"
        for label, key, fmt in TABLE
    ]
    early, late = window_mean(first, "cos_A"), window_mean(last, "cos_A")
    return "\n".join(
        [
            f'# ReLU -> LeakyReLU vs an L1 activity penalty, after the post "{TITLE}", '
            f"seed {cfg.seed}",
            "",
            f"Network 1-{cfg.hidden}-1, ReLU, MSE, per-sample SGD lr {cfg.lr:g} for {cfg.epochs} "
            f"epochs on {cfg.data}; alpha = {LEAKY_ALPHA}, lambda = {cfg.lam:g}. Gradients over "
            f"the {n_train} training samples at each epoch; `l1l2/commands/leaky.py` defines each "
            "quantity.",
            "",
            "Notation: x1 the input; A, B the first-layer weights and bias; x2 = A·x1 + B the "
            "pre-activation; H the Heaviside step (H(x2) = 1 where x2 >= 0, else 0); C, D the "
            "second-layer weights and bias; y = C·relu(x2) + D the prediction; t the target; "
            f"a = alpha = {LEAKY_ALPHA} the LeakyReLU slope; lambda = {cfg.lam:g} the L1 strength. "
            "The LeakyReLU change is dL/d(A, B) with LeakyReLU minus dL/d(A, B) with ReLU, at the "
            "same weights, L = 1/2 sum (y - t)^2; the L1 activity gradient is "
            "d(lambda sum |x2|)/d(A, B) = lambda sign(x2) x1.",
            "",
            "| what | first 10% of epochs | last 10% of epochs |",
            "|---|---|---|",
            *table,
            "",
            "What holds:",
            "",
            "- The identity LeakyReLU(x) = (1+a)ReLU(x) - a|x| is exact (max error "
            f"{ident:.1e} in float32).",
            f"- {agreement(early, late)}",
            "",
            "What does not:",
            "",
            "- The post's formula (y-t)·C·a·(1-H(x2))·x1 keeps y fixed, but LeakyReLU also changes "
            "the forward pass (negative x2 now reach y), which changes (y-t) for every unit; the "
            "cosine of the formula with the exact change shows how much of the change it misses.",
            "- The LeakyReLU change lives only on units with x2 < 0 and is weighted by (y-t)·C, "
            "whose sign varies per unit and per sample; the L1 activity gradient "
            "lambda·sign(x2)·x1 touches every unit with a fixed sign. A cosine near 1 would mean "
            "they push the same way; the table shows how far they are from that, early and late "
            "in training.",
            "",
            "![cosines](leaky_vs_l1.png)",
            "",
        ]
    )


def main(cfg: LeakyConfig) -> Result:
    started = time.time()
    d = data_mod.load(cfg.data)

    def measured(advance):
        rows = measure(cfg, d, advance)
        return to_markdown(cfg, rows, identity_error(), len(d.x_train)), lambda path: figure(
            rows, path
        )

    return write_analysis(cfg, "leaky_vs_l1", started, measured, d, cfg.epochs + 1, "epoch")
