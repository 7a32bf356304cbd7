"""The runs of a comparison: who is trained (method, run, seed, order), with what penalty, and
the rows every table reads, with one rule for what counts as diverged."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import tf1
from ..config import Config, Display, Files
from ..core import data as data_mod
from ..core import model, optimum, regularizers
from ..core.sgd import Trained
from ..core.train import evaluate, train
from ..errors import require
from ..output.folder import check_writable
from ..output.progress import Progress

MAX_GB = 4  # memory the arrays of one command may need (this machine class has 24 GB)
ABSURD = 1e30  # a cost or error beyond this is an overflow on its way to inf, not a result


@dataclass(frozen=True)
class Run:
    method: str
    run: int
    seed: int
    order: str = "file"  # the sample order: file or shuffle (from the seed)

    @property
    def name(self) -> str:
        return f"{self.method}_run{self.run}"


def plan(cfg: Config, order: str | None = None) -> list[Run]:
    """Every (method, run, seed); run k of every method shares seed cfg.seed + k, so it starts
    from the same weights and, shuffled, visits the samples in the same order."""
    order = order or cfg.order
    return [Run(m, k, cfg.seed + k, order) for m in cfg.methods for k in range(cfg.runs)]


def run_penalty(cfg: Config, method: str) -> regularizers.Targets:
    """What one run penalizes: its method's kernel penalty at cfg.lam (or cfg.kernel_reg), plus
    the bias and activity penalties of the config."""
    spec = cfg.kernel_reg
    kernel = regularizers.parse(spec) if spec else regularizers.for_method(method, cfg.lam)
    return regularizers.Targets(
        kernel, regularizers.parse(cfg.bias_reg), regularizers.parse(cfg.activity_reg)
    )


def train_runs(
    cfg: Config,
    data: data_mod.Dataset,
    runs: list[Run],
    progress: Callable[[int], object] | None = None,
    record: bool = False,
) -> tuple[dict[str, np.ndarray], regularizers.Targets, Trained]:
    """Train all runs together (stacked models); (initial params, penalty, Trained).

    Each run visits the samples in its order (drawn from its seed when shuffled); the test error
    is measured after every step of the last cfg.tail_epochs epochs and, with `record`, after
    every epoch too, when the weights are also kept."""
    params0 = model.init_stack(cfg.sizes, [r.seed for r in runs], cfg.activation)
    penalty = regularizers.stack([run_penalty(cfg, r.method) for r in runs])
    trained = train(
        data.x_train,
        data.y_train,
        params0,
        penalty,
        cfg.sgd(every_epoch=record, record=record),
        seeds=[r.seed for r in runs],
        orders=[r.order for r in runs],
        test=(data.x_test, data.y_test),
        engine=cfg.engine,
        progress=progress,
    )
    return params0, penalty, trained


def optimum_of(cfg: Config, data: data_mod.Dataset, method: str) -> optimum.Optimum | None:
    """The exact optimum of the objective a run of `method` descends (its kernel penalty paid at
    every one of an epoch's steps), or None where it is not known exactly: a nonlinear
    activation, or a penalty on the biases or layer outputs."""
    pen = run_penalty(cfg, method)
    if cfg.activation != "identity" or pen.bias or pen.activity:
        return None
    return optimum.of_sgd(data, len(cfg.sizes) - 1, pen.kernel, cfg.batch_size)


def result_rows(
    cfg: Config,
    data: data_mod.Dataset,
    runs: list[Run],
    penalty: regularizers.Targets,
    trained: Trained,
) -> list[dict[str, Any]]:
    """One dict per run: final and tail-averaged test error, the objective of its final weights
    (the sum of an epoch's step costs: data loss + steps per epoch x penalty) and the exact
    optimum's objective and test error where known (else nan), whether it diverged
    (is_diverged: the one rule every table and CSV uses), near-zero weights per layer."""
    _, train_loss, train_pen = evaluate(
        trained.params, data.x_train, data.y_train, penalty, cfg.activation
    )
    steps = len(data.x_train) // cfg.batch_size
    tail = trained.tail_error(cfg.tail_epochs * steps)
    best = {m: optimum_of(cfg, data, m) for m in dict.fromkeys(r.method for r in runs)}
    rows = []
    for i, r in enumerate(runs):
        o = best[r.method]
        row = {
            "method": r.method,
            "run": r.run,
            "seed": r.seed,
            "test_error_final": trained.test_error[-1, i],
            "test_error_tail_mean": tail[i],
            "objective": train_loss[i] + steps * train_pen[i],
            "optimum_objective": o.objective if o else np.nan,
            "optimum_test_error": o.test_error if o else np.nan,
            "diverged_at_step": int(trained.diverged_at[i]),
        }
        row["diverged"] = is_diverged(
            row["diverged_at_step"],
            row["test_error_final"],
            row["test_error_tail_mean"],
            row["objective"],
        )
        for layer in model.layer_names(trained.params):
            w = trained.params[f"{layer}/W"][i]
            row[f"near_zero_{layer}"] = int((np.abs(w) < cfg.zero_tol).sum())
        rows.append(row)
    return rows


def is_diverged(diverged_at: int, *values: float) -> bool:
    """A run diverged when its step costs became non-finite (diverged_at >= 0) or any of its
    results (test errors, training cost) is non-finite or absurd: one rule for every table."""
    return bool(diverged_at >= 0 or not all(abs(float(v)) <= ABSURD for v in values))


def mean_std(values: np.ndarray | Sequence[float]) -> str:
    """'mean ± std' (ddof=1) of the finite values, saying how many were left out (non-finite or
    absurd values: diverged). Below two finite values there is no mean to print: '-'."""
    v = np.asarray(values, float)
    ok = v[np.abs(v) <= ABSURD]  # also drops nan
    lost = f"{len(v) - len(ok)} of {len(v)} diverged" if len(ok) < len(v) else ""
    if len(ok) < 2:
        return "- (" + "; ".join(filter(None, [lost, "fewer than 2 finite values"])) + ")"
    return f"{ok.mean():.2f} ± {ok.std(ddof=1):.2f}" + (f" ({lost})" if lost else "")


def show(cfg: Display, tensorflow: bool = True) -> Progress:
    """The phase lines and bars cfg asks for; the first phase imports TensorFlow (unless it is
    imported already)."""
    say = Progress(bars=cfg.progress, lines=not cfg.quiet)
    if tensorflow and not tf1.loaded():
        with say.phase("importing TensorFlow"):
            tf1.load()
    return say


def prepare(
    cfg: Files,
    n_models: int,
    sizes: Sequence[int],
    epochs: int,
    frames: int | Callable[[int], int],
    batch_size: int = 1,
    drawing_gb: float = 0,
) -> data_mod.Dataset:
    """Load the data and check, before any work, that the batch size divides the training set,
    that the arrays (and drawing_gb for the GIFs) fit in MAX_GB and that cfg.out can be
    written; the data set. `frames` may depend on the steps of an epoch: frames(steps)."""
    data = data_mod.load(cfg.data)
    n_train = len(data.x_train)
    if callable(frames):
        frames = frames(n_train // batch_size)
    check_fits(n_train, batch_size, cfg.data, n_models, sizes, epochs, frames, drawing_gb)
    check_writable(cfg.out)
    return data


def check_fits(
    n_train: int,
    batch_size: int,
    data: str,
    n_models: int,
    sizes: Sequence[int],
    epochs: int,
    frames: int,
    drawing_gb: float = 0.0,
) -> None:
    """`frames` recorded copies of every model's weights, its cost and its samples (x and y) at
    every SGD step, and the frames of the GIFs (drawing_gb, drawn while the weights are still
    held) fit in MAX_GB."""
    require(
        n_train % batch_size == 0,
        f"--batch-size {batch_size} does not divide the {n_train} training samples of {data}",
    )
    n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    per_step = epochs * n_train // batch_size + 2 * epochs * n_train  # costs; x and y samples
    gb = 4 * n_models * (n_params * (frames + 4) + per_step) / 1e9
    gifs = drawing_gb >= 0.05
    require(
        gb + drawing_gb <= MAX_GB,
        f"this needs about {gb + drawing_gb:,.1f} GB of memory, more than the {MAX_GB} GB "
        "allowed"
        + (f" ({drawing_gb:,.1f} GB of it to draw the GIFs)" if gifs else "")
        + ": lower --epochs, --sizes or the number of models"
        + (", or use --no-gifs" * gifs),
    )
