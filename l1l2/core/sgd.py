"""What a training is: the SGD spec, the order of the samples, the learning rate of every step,
and what every engine returns.

Step i of model r trains on the samples `table[i % P, r]` of its sample table (P rows; one column
serves every model when they share an order), at learning rate `rates[i]`. Every engine reads
these two arrays, made here and nowhere else, so engines cannot disagree about them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ORDERS = ("file", "shuffle")
SCHEDULES = ("constant", "linear", "cosine")
ORDER_STREAM = 1  # seed s draws its weights from the stream [s], its shuffled order from [s, 1]


@dataclass(frozen=True)
class SGD:
    """Plain SGD on the summed absolute error plus the penalties; the defaults are the blog's."""

    lr: float = 0.01  # learning rate of the first step
    schedule: str = "constant"  # constant (the blog's), or linear / cosine decay towards 0
    epochs: int = 100  # passes over the training samples
    batch_size: int = 1  # samples per step (the blog's 1: noisier on purpose)
    order: str = "file"  # file: the CSV's order every epoch; shuffle: new each epoch, per seed
    every_epoch: bool = False  # evaluate the models after every epoch ...
    every_step: bool = False  # ... or after every step ...
    tail_epochs: int = 0  # ... and after every step of the last this many epochs
    record: bool = False  # keep the weights at every evaluation
    activation: str = "identity"  # hidden activation (core/activations.py)
    l1_update: str = "subgradient"  # subgradient: SGD on l1*|w|; proximal: soft-thresholding
    seed: int = 0  # seed of RReLU's random slopes

    def steps(self, n_train: int) -> int:
        """SGD steps of the whole training."""
        return self.epochs * self.steps_per_epoch(n_train)

    def steps_per_epoch(self, n_train: int) -> int:
        return n_train // self.batch_size

    def eval_steps(self, n_train: int) -> np.ndarray:
        """The steps after which the models are evaluated: 0 (the initial weights), every epoch
        or every step as asked, every step of the tail, and the last."""
        total, per_epoch = self.steps(n_train), self.steps_per_epoch(n_train)
        every = 1 if self.every_step else per_epoch if self.every_epoch else total
        tail = self.tail_epochs * per_epoch
        ends = set(range(every, total, every)) | set(range(total - tail + 1, total + 1))
        return np.array(sorted({0, total} | ends))

    def rates(self, n_train: int) -> np.ndarray:
        """[steps] float32: the learning rate of every step, from lr at step 0 towards 0."""
        total = self.steps(n_train)
        t = np.arange(total) / total
        decay = {  # only the asked one is computed (all three: ~10% of a one-model call)
            "constant": np.ones_like,
            "linear": lambda t: 1 - t,
            "cosine": lambda t: (1 + np.cos(np.pi * t)) / 2,
        }
        return (self.lr * decay[self.schedule](t)).astype(np.float32)


def sample_table(
    spec: SGD,
    x: np.ndarray,
    y: np.ndarray,
    seeds: Sequence[int],
    orders: Sequence[str] | None = None,
) -> np.ndarray:
    """[P, 1 or R, batch_size] int32: the samples of step i of model r are row i % P, column r
    (column 0 for all when every model takes the file's order).

    Each model's order is spec.order, or orders[r] for a stack that mixes them. file: one epoch
    in the file's order, repeated. shuffle: every epoch a new permutation drawn from the model's
    seed, acting on the samples sorted by (x, y), so the order, like every result, does not
    depend on how the data file happens to list its rows."""
    orders = [spec.order] * len(seeds) if orders is None else list(orders)
    epoch = np.arange(len(x), dtype=np.int32)
    if all(o == "file" for o in orders):
        return epoch.reshape(-1, 1, spec.batch_size)
    rank = np.lexsort((y, x)).astype(np.int32)  # sample indices sorted by x, then y

    def shuffled(seed):
        rng = np.random.default_rng([seed, ORDER_STREAM])
        return rng.permuted(np.tile(rank, (spec.epochs, 1)), axis=1).ravel()

    shuffle_seeds = dict.fromkeys(s for o, s in zip(orders, seeds) if o != "file")
    drawn = {s: shuffled(s) for s in shuffle_seeds}  # once per seed, for all models of that seed
    file_order = np.tile(epoch, spec.epochs)
    columns = [file_order if o == "file" else drawn[s] for o, s in zip(orders, seeds)]
    return np.stack(columns, axis=1).reshape(-1, spec.batch_size, len(seeds)).swapaxes(1, 2)


@dataclass
class Trained:
    """What an engine returns for R stacked models."""

    params: dict  # final weights, stacked: W [R, in, out], b [R, 1, out]
    step_cost: np.ndarray | None  # [steps, R] cost of each SGD step on its batch, before the update
    diverged_at: np.ndarray  # [R] first step whose cost was not finite, -1 if none
    frame_steps: np.ndarray  # [F] steps after which the models were evaluated (0 = initial)
    frames: dict  # name -> [F, R, ...] weights at frame_steps ({} if not recorded)
    test_error: np.ndarray | None  # [F, R] total absolute test error at frame_steps

    def take(self, models: np.ndarray | Sequence[int]) -> "Trained":
        """The models `models` (indices) alone."""
        m = np.asarray(models)
        return Trained(
            {k: v[m] for k, v in self.params.items()},
            None if self.step_cost is None else self.step_cost[:, m],
            self.diverged_at[m],
            self.frame_steps,
            {k: v[:, m] for k, v in self.frames.items()},
            None if self.test_error is None else self.test_error[:, m],
        )

    def tail_error(self, tail_steps: int) -> np.ndarray:
        """[R] the test error averaged over the iterates after each of the last tail_steps steps."""
        tail = self.frame_steps > self.frame_steps[-1] - tail_steps
        assert tail.sum() == tail_steps, "the tail steps were not all evaluated"
        return self.test_error[tail].mean(0)


def first_nonfinite(step_cost: np.ndarray) -> np.ndarray:
    """[R] first step whose cost was not finite, -1 if none."""
    bad = ~np.isfinite(step_cost)
    return np.where(bad.any(0), bad.argmax(0), -1)
