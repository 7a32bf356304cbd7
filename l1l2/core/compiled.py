"""Per-sample SGD of many stacked models, the whole multi-epoch loop compiled by XLA.

The network and its gradients, with the model axis last, are in models_last.py.

Why XLA: one `tf.function(jit_compile=True)` holds the while loops over all the SGD
steps, so a step costs no executor dispatch, and XLA fuses each layer's ops into a few
loops. It is called from a TF1 graph (eager is off in this repo): a fresh tf.Graph holds
one call op of the compiled function, fed with placeholders and run by a v1.Session. tf1.py
raises XLA's small-while-loop threshold, so that the whole loop is one kernel: XLA's runtime
would otherwise launch each fused op of every step on its own; and it turns on the region
analysis of XLA's copy insertion, so that each step updates the weights in place instead of
copying every weight array first.

Why blocks: the models are trained BLOCK_MODELS at a time, all the steps of one block before
the next (a leading block axis, W [blocks, in, out, M]), so that a block's whole state (its
weights, activations and gradients, ~60 KB at 32 models) stays in the L1/L2 cache for all its
steps and 10,000 models run as fast per model as 1,000. A part of fewer models is padded to
whole vectors (VECTOR_MODELS): a block of 10 or 12 models, its vectors partly masked, ran 4-5x
fewer steps a second than a block of 16. One model alone trains unpadded, its [10, 10] kernels
carried with rows of whole vectors (in_whole_rows): 4.4-5.3M steps a second against 2.8M; and
transposed too, for the delta that goes back through them (transposed_layers): 4.55-4.60M
against 4.15-4.33M.

Why parts: one compiled loop runs on one core, so the blocks are trained in parts side by
side, one thread per core (model_parts).

Why a graph cache: tracing the loop's ~950 ops in Python takes ~0.5 s, as long as a sweep's
first training; a later process imports the traced graph from its file (loop_graph).

Only kernel penalties (L1 and/or L2, one pair of coefficients per model) are supported.
"""

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import DTypeLike

from .. import graph_cache
from ..tf1 import seal_xla_cache, session, tf, v1, xla_cache_dir
from .activations import parse
from .model import layer_names
from .models_last import (
    activation_fn,
    cost,
    cost_grads_and_scales,
    kernel_bounds,
    kernel_update,
    predict,
    sgd_update,
)
from .regularizers import Penalty, Targets
from .sgd import SGD, Trained

BLOCK_MODELS = 32  # models whose steps run together: a block's state stays in the cache
VECTOR_MODELS = 16  # a part of two or more models is padded to a multiple of this (see above)
ROW_FLOATS = 16  # one model's kernels are carried in rows of this many floats (in_whole_rows)
PART_MODELS = 8192  # at most this many models in one compiled loop (one core, block by block)
PROGRESS_CALLS = 10  # session calls when a progress callback wants updates, at most...
PROGRESS_MIN_WORK = 4_000_000  # ...one per this many model-steps (a call feeds the whole
# sample table again: 320 models of 100 epochs trained in 0.091 s in one call, 0.135 s in 10)
WAKE_S = 0.1  # how often the caller wakes up while the parts train (to take a Ctrl-C)
ACTIVATIONS = ("identity", "relu", "tanh", "elu", "leaky_relu")  # prelu, rrelu: not here


# ---------------------------------------------------------------- checks


def kernel_penalty(penalty: Penalty | Targets) -> tuple[float | np.ndarray, float | np.ndarray]:
    """(l1 [R], l2 [R]) of a Penalty, or of a Targets that penalises only kernels."""
    if hasattr(penalty, "kernel"):
        if penalty.bias or penalty.activity:
            raise ValueError(
                "train_compiled supports kernel penalties only, not bias or activity ones"
            )
        penalty = penalty.kernel
    return penalty.l1, penalty.l2


def check_spec(spec: SGD) -> None:
    """ValueError unless the compiled engine supports spec's activation and L1 update."""
    try:
        name = parse(spec.activation)[0]
    except ValueError:
        name = None
    if name not in ACTIVATIONS:
        raise ValueError(
            f"train_compiled does not support activation {spec.activation!r}: "
            f"use one of {', '.join(ACTIVATIONS)} (or leaky_relu:A)"
        )
    if spec.l1_update != "subgradient":
        raise ValueError("train_compiled supports only the subgradient L1 update")


# ---------------------------------------------------------------- the compiled loop


@dataclass(frozen=True)
class LoopSpec:
    """What the traced loop depends on (each distinct value is one XLA compilation)."""

    activation: str
    has_l1: bool
    has_l2: bool
    has_test: bool
    record: bool
    n_frames: int  # frame slots of one call
    own_orders: bool  # a sample order per model (table [blocks, P, M, B]), or one for all


def sample_batch(
    table: "tf.Tensor", i: "tf.Tensor", x: "tf.Tensor", y: "tf.Tensor"
) -> "tuple[tf.Tensor, tf.Tensor]":
    """x and y [B, 1, 1 or M] of step i: row i mod len(table) of table [P, 1 or M, B]."""
    rows = tf.transpose(table[tf.math.floormod(i, tf.shape(table)[0])])  # [B, 1 or R]
    return tf.gather(x, rows)[:, None, :], tf.gather(y, rows)[:, None, :]


def make_loop(spec: LoopSpec) -> Callable[..., tuple]:
    """The compiled function: SGD steps s0..s1 of every block of models, one block after the
    other, evaluating (and recording) at the eval steps eval_steps[f_first:f_stop] that fall in
    [s0, s1], into frame slots 0, 1, ...

    Models come in blocks (a leading axis: W [blocks, in, out, M], diverged [blocks, M]); the
    loop over the steps runs inside the loop over the blocks, so that a block's state stays in
    the cache for all its steps."""
    act = activation_fn(spec.activation)

    def step(i, ws, ts, diverged, bounds, data):
        """SGD step i; `ts` {layer k: its kernel transposed} (transposed_layers), `bounds` [R]
        per kernel bound its entries (see surely_finite)."""
        x, y, table, rates, l1, l2, limit = data
        xb, yb = sample_batch(table, i, x, y)
        lr = rates[i % tf.shape(rates)[0]]  # one rate for every step when it is constant
        loss, grads, scales = cost_grads_and_scales(ws, xb, yb, act, None, None, ts)
        if l1 is None and l2 is None:
            step_cost = loss
        else:  # the penalty only when the bounds cannot tell that the cost is finite
            unsure = ~surely_finite(loss, bounds, limit) & (diverged < 0)
            # lr passes through the cond: the update waits for the cost's reads of the old
            # weights, so XLA can write the new ones in place (tf1.REGION_ANALYSIS)
            step_cost, lr = tf.cond(
                tf.reduce_any(unsure),
                lambda: (cost(ws, xb, yb, act, l1, l2), lr),
                lambda: (loss, lr),
            )
        diverged = tf.where((diverged < 0) & ~tf.math.is_finite(step_cost), i, diverged)
        bounds = kernel_bounds(bounds, scales, lr, l1, l2)
        new_ts = [
            kernel_update(t, tf.transpose(grads[2 * k], [1, 0, 2]), lr, l1, l2)
            for k, t in ts.items()
        ]  # the same float operations as the kernel's own update: its exact transpose
        return sgd_update(ws, grads, lr, l1, l2) + new_ts, diverged, bounds

    def evaluate(ws, slot, errs, frames, x_test, y_test):
        if spec.has_test:
            pred = predict(ws, x_test[:, None, None], act)
            err = tf.reduce_sum(tf.abs(pred - y_test[:, None, None]), axis=[0, 1])
            errs = tf.tensor_scatter_nd_update(errs, [[slot]], err[None])
        if spec.record:
            frames = [tf.tensor_scatter_nd_update(f, [[slot]], w[None]) for f, w in zip(frames, ws)]
        return errs, frames

    def train_block(ws, diverged, data, x_test, y_test, evals, s0, s1, f_first, f_stop):
        """One block's steps s0..s1: (ws, diverged, errs [F, M], frames [F, ..., M])."""
        n_models = diverged.shape[0]
        errs = tf.zeros([spec.n_frames if spec.has_test else 0, n_models])
        frames = [tf.zeros([spec.n_frames if spec.record else 0, *w.shape]) for w in ws]
        bounds = [tf.reduce_max(tf.abs(w), axis=[0, 1]) for w in ws[0::2]]
        flip = transposed_layers(ws)
        n = len(ws)
        shapes = [w.shape for w in ws] + [ws[2 * k].shape[1::-1] + [1] for k in flip]

        def sgd_step(i, carried, diverged, bounds, data):
            ws = [trimmed(w, s) for w, s in zip(carried, shapes)]
            ts = dict(zip(flip, ws[n:]))
            new, diverged, bounds = step(i, ws[:n], ts, diverged, bounds, data)
            return i + 1, [written(c, w) for c, w in zip(carried, new)], diverged, bounds

        def segment(i, f, ws, diverged, bounds, errs, frames):
            evaluates = f < f_stop
            end = tf.where(evaluates, evals[tf.minimum(f, tf.size(evals) - 1)], s1)
            ts = [tf.transpose(ws[2 * k], [1, 0, 2]) for k in flip]
            i, carried, diverged, bounds = tf.while_loop(
                lambda i, *_: i < end,
                lambda i, carried, d, b: sgd_step(i, carried, d, b, data),
                [i, [in_whole_rows(w) for w in ws + ts], diverged, bounds],
            )
            ws = [trimmed(w, s) for w, s in zip(carried[:n], shapes)]
            errs, frames = tf.cond(
                evaluates,
                lambda: evaluate(ws, f - f_first, errs, frames, x_test, y_test),
                lambda: (errs, frames),
            )
            return i, f + tf.cast(evaluates, tf.int32), ws, diverged, bounds, errs, frames

        out = tf.while_loop(
            lambda i, f, *_: (i < s1) | (f < f_stop),
            segment,
            [s0, f_first, list(ws), diverged, bounds, errs, frames],
        )
        return out[2], out[3], out[5], out[6]

    @tf.function(jit_compile=True, autograph=False)
    def run(
        ws,
        diverged,
        x,
        y,
        x_test,
        y_test,
        table,
        rates,
        l1,
        l2,
        limit,
        evals,
        s0,
        s1,
        f_first,
        f_stop,
    ):
        n_blocks, n_models = diverged.shape
        errs = tf.zeros([n_blocks, spec.n_frames if spec.has_test else 0, n_models])
        n_frames = spec.n_frames if spec.record else 0
        frames = [tf.zeros([n_blocks, n_frames, *w.shape[1:]]) for w in ws]

        def block(j, ws, diverged, errs, frames):
            data = (
                x,
                y,
                table[j] if spec.own_orders else table,
                rates,
                l1[j] if spec.has_l1 else None,
                l2[j] if spec.has_l2 else None,
                limit[j],
            )
            call = (x_test, y_test, evals, s0, s1, f_first, f_stop)
            got = train_block([w[j] for w in ws], diverged[j], data, *call)

            def put(a, v):
                return tf.tensor_scatter_nd_update(a, [[j]], v[None])

            new_ws, new_diverged, block_errs, block_frames = got
            return (
                j + 1,
                [put(w, v) for w, v in zip(ws, new_ws)],
                put(diverged, new_diverged),
                put(errs, block_errs) if spec.has_test else errs,
                [put(f, v) for f, v in zip(frames, block_frames)] if spec.record else frames,
            )

        out = tf.while_loop(
            lambda j, *_: j < n_blocks, block, [0, list(ws), diverged, errs, frames]
        )
        return out[1], out[2], out[3], out[4]

    return run


def transposed_layers(ws: "Sequence[tf.Tensor]") -> list[int]:
    """The layers whose kernel the SGD steps carry transposed too: one model's kernels of more
    than one row and column that pass a delta back (every layer but the first).

    Why: the delta going back through W [in, out] sums along each of its rows; for one model a
    row is ten floats in one vector, so the sums are chains of scalar multiply-adds (a fifth of
    the step, perf showed). Along the rows of W's transpose the same sums take a vector per
    term, in the order a stack of models sums them (a model's numbers do not depend on
    whether others train beside it: tests/test_compiled.py). The transpose is updated with the
    kernel's own float operations, so it stays the kernel's exact transpose."""
    n = len(ws) // 2
    return [k for k in range(1, n) if ws[2 * k].shape[2] == 1 and 1 not in ws[2 * k].shape[:2]]


def in_whole_rows(w: "tf.Tensor") -> "tf.Tensor":
    """w as the SGD steps carry it: a kernel [in, out, 1] of one model whose rows are more than
    one entry and less than whole vectors padded with zeros to whole rows of ROW_FLOATS entries.

    Why: one model's [10, 10] kernels are 10 rows of 10 floats each; updated in place, each
    row's masked vector load waited for the masked store of the row before it, which covers
    part of the same 64 bytes (a quarter of one model's time, perf showed). With every row in a
    vector of its own, the step writes the new entries into the padded array in place
    (`written`): the same float operations, so the same bits."""
    if w.shape.rank != 3 or w.shape[2] != 1 or 1 in w.shape[:2] or w.shape[1] % ROW_FLOATS == 0:
        return w
    return tf.pad(w, [[0, 0], [0, -w.shape[1] % ROW_FLOATS], [0, 0]])


def trimmed(carried: "tf.Tensor", shape: "tf.TensorShape") -> "tf.Tensor":
    """The kernel of this shape that the carried array (in_whole_rows) holds."""
    return carried if carried.shape == shape else carried[:, : shape[1]]


def written(carried: "tf.Tensor", w: "tf.Tensor") -> "tf.Tensor":
    """w in the leading corner of the carried array (in_whole_rows): XLA writes it in place."""
    if carried.shape == w.shape:
        return w
    start = [0] * w.shape.rank
    return tf.raw_ops.TensorStridedSliceUpdate(
        input=carried, begin=start, end=w.shape, strides=[1] * w.shape.rank, value=w
    )


# ---------------------------------------------------------------- the step's cost, when needed

LOSS_LIMIT = 1e38  # a loss under this plus a penalty under 2 * PENALTY_LIMIT: a finite cost
PENALTY_LIMIT = 1e37  # each of the L1 and the L2 penalty stays under this...
WEIGHT_LIMIT = 1e17  # ...while every kernel entry stays under weight_limit (at most this)


def weight_limit(l1: np.ndarray, l2: np.ndarray, n_weights: int) -> np.ndarray:
    """[...] float32: per model, the largest |w| for which the penalty of n_weights kernel
    entries, l1 sum |w| + l2 sum w^2 / 2, stays under PENALTY_LIMIT per term (and the sums
    themselves finite, for a model whose coefficient is 0 in a stack that has the term)."""
    with np.errstate(divide="ignore"):
        l1_limit = PENALTY_LIMIT / (n_weights * l1.astype(np.float64))
        l2_limit = np.sqrt(PENALTY_LIMIT / (n_weights * l2.astype(np.float64) / 2))
    return np.minimum(np.minimum(l1_limit, l2_limit), WEIGHT_LIMIT).astype(np.float32)


def surely_finite(loss: "tf.Tensor", bounds: "list[tf.Tensor]", limit: "tf.Tensor") -> "tf.Tensor":
    """[R] bool: the step's cost (loss + penalty) is finite for sure. Its penalty needs a pass
    over every kernel entry (a third of a step's work); bounds on the entries, carried from
    step to step (models_last.kernel_bounds), tell without one: a finite loss under LOSS_LIMIT
    and entries under `limit` make a finite cost. Where this cannot tell, the step computes the
    cost as it is (a model diverging, or a huge loss), so the first non-finite step is exact."""
    largest = bounds[0]
    for b in bounds[1:]:
        largest = tf.maximum(largest, b)
    return (largest <= limit) & (loss < LOSS_LIMIT)  # False for NaN too


# ---------------------------------------------------------------- the driver


def plan_calls(steps: int, eval_steps: np.ndarray, n_calls: int) -> list:
    """(s0, s1, f_first, f_stop) of each session call: steps [s0, s1), and the eval points
    f_first..f_stop-1 it evaluates (step 0 in the first call, the others in [s0+1, s1])."""
    bounds = np.linspace(0, steps, min(n_calls, steps) + 1).round().astype(int)
    calls = []
    for s0, s1 in zip(bounds[:-1], bounds[1:]):
        f_first = 0 if s0 == 0 else int(np.searchsorted(eval_steps, s0, side="right"))
        f_stop = int(np.searchsorted(eval_steps, s1, side="right"))
        calls.append((int(s0), int(s1), f_first, f_stop))
    return calls


def progress_calls(work: int) -> int:
    """Session calls for a progress callback: PROGRESS_CALLS, fewer for less than PROGRESS_CALLS x
    PROGRESS_MIN_WORK model-steps (at least one)."""
    return max(1, min(PROGRESS_CALLS, work // PROGRESS_MIN_WORK))


def model_parts(n_models: int) -> list[slice]:
    """The parts the models are trained in, side by side, one per thread: equal slices of at
    most PART_MODELS models, as many as a multiple of the cores (no core waits for a last part)
    unless there are fewer models. A model's numbers do not depend on its part: its block
    computes it alone, whatever the block's size (tests/test_compiled.py)."""
    n = -(-n_models // PART_MODELS)
    n = -(-n // cores()) * cores()
    size = -(-n_models // min(n, n_models))
    return [slice(a, min(a + size, n_models)) for a in range(0, n_models, size)]


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def train_compiled(
    x: np.ndarray,
    y: np.ndarray,
    params0: dict,
    penalty: Penalty | Targets,
    spec: SGD,
    table: np.ndarray,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Callable[[int], object] | None = None,
    shape_epochs: int | None = None,
) -> Trained:
    """Train the stacked models params0 (models first, as model.stack makes them) by per-sample
    SGD on (x, y), all the steps inside an XLA-compiled loop (one compilation for all parts);
    see train.train.

    shape_epochs: the loop's inputs sized as for this many epochs (rates, eval steps and slots:
    their entries beyond this run are never read), so that runs of fewer epochs or of another
    schedule share one compilation (a sweep's settings, given one table as long as the longest
    run); the same numbers.

    The models are trained in blocks of BLOCK_MODELS (one after the other inside the compiled
    loop) and in parts (model_parts), one thread per CPU core: one compiled loop runs on one
    core. `progress(n_model_steps)` splits each part's loop into progress_calls() calls of one
    compilation.
    """
    check_spec(spec)
    n_models = len(params0["dense1/W"])
    l1, l2 = (
        np.broadcast_to(np.asarray(c, np.float32), (n_models,)) for c in kernel_penalty(penalty)
    )
    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
    ev = spec.eval_steps(len(x)).astype(np.int32)
    steps = int(ev[-1])
    calls = plan_calls(steps, ev, progress_calls(n_models * steps) if progress else 1)
    rates = spec.rates(len(x))
    n_frames = max(f1 - f0 for *_, f0, f1 in calls)
    if shape_epochs is None:
        # a constant rate as one value: the loop's shapes, and so its compilation, then do not
        # depend on the number of steps
        rates = rates[: 1 if spec.schedule == "constant" else None]
    else:
        like = replace(spec, epochs=max(shape_epochs, spec.epochs))
        steps = like.steps(len(x))
        n_frames = len(like.eval_steps(len(x)))
        rates = np.pad(rates, (0, steps - len(rates)))
        ev = np.pad(ev, (0, n_frames - len(ev)), mode="edge")
    has_l2 = bool(np.any(l2))
    loop_spec = LoopSpec(
        spec.activation,
        # with an L2 term, the L1 term too (0 where l1 is 0): without it, XLA fuses the L2
        # term's multiply-add another way, and an L2 model's last bits would depend on whether
        # L1 models train in the same call
        has_l2 or bool(np.any(l1)),
        has_l2,
        test is not None,
        spec.record,
        n_frames,
        table.shape[1] > 1,
    )
    data = {
        "x": x,
        "y": y,
        "rates": rates,
        "x_test": np.asarray(test[0] if test else [], np.float32),
        "y_test": np.asarray(test[1] if test else [], np.float32),
        "eval_steps": ev,
    }
    parts = model_parts(n_models)
    # every part padded to the size of the first, in whole vectors and blocks, so that all share
    # one compilation
    size = parts[0].stop
    if size > 1:  # one model runs alone: a block of 16 makes 1.8M steps a second, it 2.8M
        size = -(-size // VECTOR_MODELS) * VECTOR_MODELS
    block = min(size, BLOCK_MODELS)
    size = -(-size // block) * block
    stop = threading.Event()
    report = one_at_a_time(progress, stop) if progress else None

    def train_part(part: slice) -> Trained:
        params = {k: v[part] for k, v in params0.items()}
        part_table = table[:, part] if loop_spec.own_orders else table
        pad = size - (part.stop - part.start)
        return train_padded(
            params, l1[part], l2[part], part_table, pad, block, loop_spec, data, calls, report
        )

    pool = ThreadPoolExecutor(min(len(parts), cores()))
    try:
        running = [pool.submit(train_part, part) for part in parts]
        while wait(running, timeout=WAKE_S).not_done:
            pass  # waking up now and then lets a Ctrl-C through at once
        return joined([r.result() for r in running])
    finally:  # after an interrupt: parts not started do not start, the others stop early
        stop.set()
        pool.shutdown(cancel_futures=True)


class Stopped(Exception):
    """A part's training stops after its current call: the caller has left (an interrupt)."""


def one_at_a_time(fn: Callable[[int], object], stop: threading.Event) -> Callable[[int], None]:
    """fn behind a lock, for the threads of the parts; it stops a part once `stop` is set."""
    lock = threading.Lock()

    def locked(n: int) -> None:
        with lock:
            if stop.is_set():
                raise Stopped
            fn(n)

    return locked


def joined(parts: Sequence[Trained]) -> Trained:
    """One Trained of the models of consecutive parts (frames and errors [F, R, ...])."""
    first = parts[0]
    return Trained(
        params={k: np.concatenate([t.params[k] for t in parts]) for k in first.params},
        step_cost=None,
        diverged_at=np.concatenate([t.diverged_at for t in parts]),
        frame_steps=first.frame_steps,
        frames={k: np.concatenate([t.frames[k] for t in parts], 1) for k in first.frames},
        test_error=None
        if first.test_error is None
        else np.concatenate([t.test_error for t in parts], 1),
    )


def train_padded(
    params0: dict,
    l1: np.ndarray,
    l2: np.ndarray,
    table: np.ndarray,
    pad: int,
    block: int,
    spec: LoopSpec,
    data: dict[str, np.ndarray],
    calls: list,
    progress: Callable[[int], object] | None,
) -> Trained:
    """train_compiled on one part, run with `pad` copies of its last model appended, in blocks
    of `block` models."""
    n_models = len(l1)
    names = [f"{n}/{p}" for n in layer_names(params0) for p in ("W", "b")]
    # b [R, 1, out] is carried as [R, out]
    ws = [to_blocks(params0[k] if k.endswith("W") else params0[k][:, 0], block, pad) for k in names]
    l1, l2 = (to_blocks(c, block, pad) for c in (l1, l2))
    n_kernel = sum(params0[k][0].size for k in names[0::2])
    data = {**data, "l1": l1, "l2": l2, "limit": weight_limit(l1, l2, n_kernel)}
    if spec.own_orders:  # an order per model [steps, R, B] -> [blocks, steps, M, B]
        table = to_blocks(np.moveaxis(table, 1, 0), block, pad, models_at=-2)
    loop = compiled_loop(spec, ws, data, table.shape)

    diverged = np.full(l1.shape, -1, np.int32)
    errs, frames = [], []
    for s0, s1, f0, f1 in calls:
        # the whole table every call, read at row i mod its length (an offset that changed
        # from call to call made XLA compile the loop again for each value)
        ws, diverged, err, fr = loop.run(ws, diverged, data, table, (s0, s1, f0, f1))
        errs.append(from_blocks(err, n_models, lead=1)[: f1 - f0])
        frames.append([from_blocks(f, n_models, lead=1)[: f1 - f0] for f in fr])
        if progress:
            progress((s1 - s0) * n_models)
    params = {k: from_blocks(w, n_models) for k, w in zip(names, ws)}
    recorded = {k: np.concatenate([f[j] for f in frames]) for j, k in enumerate(names)}
    return Trained(
        params={k: v if k.endswith("W") else v[:, None] for k, v in params.items()},
        step_cost=None,
        diverged_at=from_blocks(diverged, n_models),
        frame_steps=data["eval_steps"][: calls[-1][3]],  # the steps evaluated
        frames={k: v if k.endswith("W") else v[:, :, None] for k, v in recorded.items()}
        if spec.record
        else {},
        test_error=np.concatenate(errs) if spec.has_test else None,
    )


def to_blocks(a: np.ndarray, block: int, pad: int = 0, models_at: int = -1) -> np.ndarray:
    """[R, ...] (models first) -> [(R + pad) / block, ..., block] (float32 if a is a float):
    `pad` copies of the last model appended, then blocks of models, each block contiguous with
    its models last (or at axis `models_at`). One copy (two with a pad), aligned (see aligned)."""
    a = np.asarray(a)
    if pad:
        a = np.concatenate([a, np.repeat(a[-1:], pad, axis=0)])
    a = np.moveaxis(a.reshape(-1, block, *a.shape[1:]), 1, models_at)
    return aligned(a, np.float32 if a.dtype.kind == "f" else a.dtype)


ALIGN = 64  # bytes: TensorFlow feeds an array that starts at a multiple of this as it is


def aligned(a: np.ndarray, dtype: DTypeLike) -> np.ndarray:
    """A C-contiguous copy of a as dtype whose data starts at a multiple of ALIGN bytes: a
    session reads such a feed in place, and copies any other first (one more copy of the
    weights while the loop runs)."""
    nbytes = a.size * np.dtype(dtype).itemsize
    buf = np.empty(nbytes + ALIGN, np.uint8)
    start = -buf.ctypes.data % ALIGN
    out = buf[start : start + nbytes].view(dtype).reshape(a.shape)
    np.copyto(out, a, casting="same_kind")
    return out


def from_blocks(a: np.ndarray, n: int, lead: int = 0) -> np.ndarray:
    """The first n models of to_blocks' layout, models first again, with `lead` axes (frames)
    kept in front: [blocks, F.., ..., M] -> [F.., n, ...], contiguous. One copy (two with a
    pad)."""
    a = np.moveaxis(np.moveaxis(a, -1, 1), (0, 1), (lead, lead + 1))  # [F.., blocks, M, ...]
    a = a.reshape(*a.shape[:lead], a.shape[lead] * a.shape[lead + 1], *a.shape[lead + 2 :])
    return a if a.shape[lead] == n else np.ascontiguousarray(a[(slice(None),) * lead + (slice(n),)])


# make_loop's arguments between `diverged` and the call's steps, by placeholder name
LOOP_ARGS = tuple(
    k if k == "table" else f"data_{k}"
    for k in ("x", "y", "x_test", "y_test", "table", "rates", "l1", "l2", "limit", "eval_steps")
)
# the ops a loop's graph may hold (graph_cache.load refuses a stored graph with any other)
LOOP_OPS = frozenset(
    "Abs AddN AddV2 Any Cast ConcatV2 Const Elu Fill FloorMod GatherV2 Greater Identity IsFinite "
    "LeakyRelu Less LessEqual LogicalAnd LogicalNot LogicalOr Max Maximum Minimum Mul Pack Pad "
    "PartitionedCall Placeholder RealDiv Relu SelectV2 Square StatelessIf StatelessWhile "
    "StridedSlice Sub Sum Tanh TensorScatterUpdate TensorStridedSliceUpdate Transpose".split()
)


def feeds(
    ws: list[np.ndarray], data: dict[str, np.ndarray], table_shape: tuple[int, ...]
) -> dict[str, tuple[str, tuple[int, ...]]]:
    """{placeholder name: (dtype, shape)} of a loop's graph: ws_k, diverged, data_<key>, table
    and call_0..3 (s0, s1, f_first, f_stop)."""
    out = {f"ws_{k}": ("float32", w.shape) for k, w in enumerate(ws)}
    out["diverged"] = ("int32", (ws[0].shape[0], ws[0].shape[-1]))
    out.update((f"data_{k}", (np.asarray(v).dtype.name, np.shape(v))) for k, v in data.items())
    out["table"] = ("int32", tuple(table_shape))
    return out | {f"call_{k}": ("int32", ()) for k in range(4)}


def traced_graph(spec: LoopSpec, placeholders: dict) -> "tf.Graph":
    """The loop's graph: the placeholders of feeds(), one call of make_loop(spec) and its
    outputs as out_0, out_1, ... (the weights, diverged, the errors, the frames)."""
    graph = tf.Graph()
    with graph.as_default():
        p = {k: v1.placeholder(dtype, shape, name=k) for k, (dtype, shape) in placeholders.items()}
        ws = [p[k] for k in placeholders if k.startswith("ws_")]
        args = [p[k] for k in LOOP_ARGS]
        out = make_loop(spec)(ws, p["diverged"], *args, *(p[f"call_{k}"] for k in range(4)))
        for k, t in enumerate(tf.nest.flatten(out)):
            tf.identity(t, name=f"out_{k}")
    return graph


def imported_graph(graph_def: "v1.GraphDef", placeholders: dict, n_out: int) -> "tf.Graph | None":
    """graph_def as a graph, if it has exactly these placeholders and outputs out_0..n_out-1."""
    graph = tf.Graph()
    try:
        with graph.as_default():
            tf.graph_util.import_graph_def(graph_def, name="")
        found = {
            op.name: (op.outputs[0].dtype.name, tuple(op.outputs[0].shape.as_list()))
            for op in graph.get_operations()
            if op.type == "Placeholder"
        }
        for k in range(n_out):
            graph.get_tensor_by_name(f"out_{k}:0")
    except (ValueError, KeyError, tf.errors.OpError):
        return None
    return graph if found == placeholders else None


def loop_graph(spec: LoopSpec, placeholders: dict, n_out: int) -> "tf.Graph":
    """The loop's graph from the graph cache (graph_cache.py), else traced and stored there."""
    key = repr((spec, sorted(placeholders.items()), LOSS_LIMIT))
    path = graph_cache.path_for(xla_cache_dir(), key)
    stored = graph_cache.load(path, LOOP_OPS) if path else None
    graph = None if stored is None else imported_graph(stored, placeholders, n_out)
    if graph is None:
        graph = traced_graph(spec, placeholders)
        if path:
            graph_cache.save(path, graph.as_graph_def(), LOOP_OPS)
    return graph


class Loop:
    """One compiled loop in its own graph and session, fed through placeholders, so that calls
    with the same shapes (a sweep, a progress bar's calls) reuse the compilation. The graph is
    traced once per set of shapes and code, then read from the graph cache (loop_graph)."""

    def __init__(self, spec: LoopSpec, ws, data, table_shape):
        placeholders = feeds(ws, data, table_shape)
        n = len(ws)
        self.graph = loop_graph(spec, placeholders, 2 * n + 2)
        get = self.graph.get_tensor_by_name
        self.ws = [get(f"ws_{k}:0") for k in range(n)]
        self.diverged = get("diverged:0")
        self.data = {k: get(f"data_{k}:0") for k in data}
        self.table = get("table:0")
        self.call = [get(f"call_{k}:0") for k in range(4)]
        out = [get(f"out_{k}:0") for k in range(2 * n + 2)]
        self.fetch = [out[:n], out[n], out[n + 1], out[n + 2 :]]
        with self.graph.as_default():
            self.session = session(self.graph)
        self.ran = False

    def run(
        self,
        ws: list[np.ndarray],
        diverged: np.ndarray,
        data: dict[str, np.ndarray],
        table: np.ndarray,
        call: tuple[int, int, int, int],
    ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, list[np.ndarray]]:
        feed = {
            **dict(zip(self.ws, ws)),
            self.diverged: diverged,
            self.table: table,
            **dict(zip(self.call, call)),
        }
        feed.update((self.data[k], v) for k, v in data.items())
        out = self.session.run(self.fetch, feed)
        if not self.ran:  # compiled (or loaded from the persistent cache) and ran: keep it
            self.ran = True
            seal_xla_cache()
        return out

    def close(self) -> None:
        self.session.close()


_LOOPS = {}  # key -> Loop, most recently used last
CACHED_LOOPS = 4  # compiled loops kept for later calls with the same shapes
_LOCK = threading.Lock()


def compiled_loop(
    spec: LoopSpec, ws: list[np.ndarray], data: dict[str, np.ndarray], table_shape: tuple[int, ...]
) -> Loop:
    """The Loop for these shapes: from the cache, or built (and compiled at its first run)."""
    key = (
        spec,
        tuple(w.shape for w in ws),
        tuple(table_shape),
        tuple((k, np.shape(v)) for k, v in sorted(data.items())),
    )
    with _LOCK:  # the parts of one run ask from several threads at once
        loop = _LOOPS.pop(key, None) or Loop(spec, ws, data, table_shape)
        _LOOPS[key] = loop
        while len(_LOOPS) > CACHED_LOOPS:
            _LOOPS.pop(next(iter(_LOOPS))).close()
    return loop


def clear_cache() -> None:
    """Close the cached compiled loops (the next call compiles again)."""
    with _LOCK:
        while _LOOPS:
            _LOOPS.popitem()[1].close()
