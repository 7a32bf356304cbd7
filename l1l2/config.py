"""The configs of every command: frozen dataclasses, a help text per field (see flags.py).

The defaults are the blog's protocol (docs/PROTOCOL.md); `check()` refuses bad values with one
line, `resolved()` computes the derived fields once after parsing. Fields every command shares
live in the bases `Display`, `Files` and `Training`; `sgd()` turns a config into the SGD spec the
engines take.
"""

import dataclasses
import hashlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from . import checks
from .core.activations import NAMES as ACTIVATIONS
from .core.data import overflow_problem
from .core.sgd import ORDERS, SCHEDULES, SGD
from .core.train import ENGINES
from .errors import require
from .flags import doc

FORCE_HELP = (
    "also write into an output folder that holds files no reproduce run recorded as "
    "its own (.reproduce/manifest.json); a file in the way of one this run writes is "
    "moved to <out>/.reproduce/displaced-<time>/, nothing is deleted"
)
ORDER_HELP = (
    "the order SGD visits the training samples in: file (the CSV's order, every epoch, every "
    "run, as the blog did) or shuffle (a new random order every epoch, drawn from the run's "
    "seed: the same for every method of that seed)"
)
SCHEDULE_HELP = (
    "learning rate over training: constant (the blog's), linear or cosine (decayed from --lr "
    "towards 0 over all the steps, so SGD converges)"
)
UPDATES = ("subgradient", "proximal")


@dataclass(frozen=True)
class Display:
    """What a command shows while it works (on stderr; the results go to stdout)."""

    progress: bool = doc(True, "show progress bars (--no-progress: only a line per phase)")
    quiet: bool = doc(False, "show neither bars nor phase lines")

    def check(self) -> None:
        pass


REFERENCE = "outputs"  # the committed results of the default settings of every command
RUNS = "outputs/runs"  # where runs with other settings go (not committed)
OUT_HELP = (
    "output folder; left out: outputs/ with the default settings (the committed reference "
    "results), outputs/runs/<command>-<the settings that differ>/ with any other"
)
NOT_SETTINGS = ("progress", "quiet", "out", "force")  # fields that change no result


@dataclass(frozen=True)
class Files(Display):
    """What every command that reads the data set shares."""

    COMMAND: ClassVar[str] = "run"  # the command's name, in the names of its output folders

    data: str = doc(
        "data/line.csv", "the data set: a CSV with columns x,y,split[,outlier]", path=True
    )
    out: str | None = doc(None, OUT_HELP, path=True)
    force: bool = doc(False, FORCE_HELP)

    def check(self) -> None:
        require(
            Path(self.out) != Path(REFERENCE) or not self.changed() or self.force,
            f"{REFERENCE}/ holds the reference results of the default settings; leave --out out "
            f"(these settings then go to {RUNS}/) or add --force",
        )

    def changed(self) -> dict[str, object]:
        """{field: value} of the settings that differ from the command's defaults."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in NOT_SETTINGS and getattr(self, f.name) != f.default
        }

    def __post_init__(self) -> None:
        """--out, when left out: the reference folder for the default settings, else a folder
        named by the command and what differs."""
        if self.out is None:
            changed = self.changed()
            out = f"{RUNS}/{run_name(self.COMMAND, changed)}" if changed else REFERENCE
            object.__setattr__(self, "out", out)


def run_name(command: str, changed: dict[str, object]) -> str:
    """'sweep-seeds20', 'run-epochs5-quick': the command and what differs, as a folder name
    (long ones shortened, with a hash of the whole)."""
    words = []
    for k, v in sorted(changed.items()):
        if isinstance(v, bool):
            words.append(k if v else f"no-{k}")
        elif k in ("data", "checkpoint"):
            words.append(f"{k}-{Path(str(v)).stem or 'x'}")
        else:
            value = ",".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)
            words.append(f"{k}{value}")
    name = re.sub(r"[^A-Za-z0-9.,_+-]", "_", "-".join([command, *words]))
    if len(name) > 80:
        name = name[:70] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return name.replace("_", "-")


@dataclass(frozen=True)
class Training(Files):
    """What every command that trains with SGD shares."""

    epochs: int = doc(100, "passes over the training samples")
    lr: float = doc(0.01, "learning rate of plain SGD (of its first step, with a schedule)")
    lr_schedule: str = doc("constant", SCHEDULE_HELP)
    batch_size: int = doc(
        1,
        "samples per SGD step (1, as in the blog: noisier on purpose); must "
        "divide the number of training samples",
    )
    seed: int = doc(0, "seed of the initial weights")
    order: str = doc("file", ORDER_HELP)

    def check(self) -> None:
        super().check()
        checks.sgd(self.epochs, self.lr, self.batch_size)
        checks.seed(self.seed)
        checks.choice("order", self.order, ORDERS)
        checks.choice("lr_schedule", self.lr_schedule, SCHEDULES)

    def sgd(self, **fields: object) -> SGD:
        """The SGD spec of this config; `fields` set the rest (activation, evaluations, ...)."""
        own = {
            "lr": self.lr,
            "schedule": self.lr_schedule,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "order": self.order,
            "seed": self.seed,
        }
        return SGD(**{**own, **fields})


@dataclass(frozen=True)
class Config(Training):
    """The five-run L1 vs L2 comparison; the defaults are the blog's."""

    runs: int = doc(
        5, "independent runs per method; run k of every method starts from the same weights"
    )
    lam: float = doc(0.3, "regularization strength lambda, for L1 and L2 alike")
    sizes: tuple = doc(
        (1, 10, 10, 10, 1), "layer sizes, comma separated; first and last must be 1", item=int
    )
    methods: tuple = doc(
        ("none", "l1", "l2"),
        "kernel regularizers to compare, comma separated, "
        "from none,l1,l2,l1l2 (l1l2: elastic net, both terms at --lam)",
        item=str,
    )
    kernel_reg: str = doc(
        "",
        "one kernel penalty instead of --methods/--lam: none, l1:A, l2:B or "
        "l1l2:A,B (the runs are named by its kind)",
    )
    bias_reg: str = doc("none", "penalty on every bias, for all runs: none, l1:A, l2:B or l1l2:A,B")
    activity_reg: str = doc(
        "none",
        "penalty on every hidden layer's output (summed over the batch, "
        "not divided by it): none, l1:A, l2:B or l1l2:A,B",
    )
    activation: str = doc(
        "identity",
        "hidden activation: identity (the blog's linear network), "
        "relu, leaky_relu (slope 0.2; leaky_relu:A for slope A in [0, 1]), elu, "
        "tanh, prelu (a learned slope per unit, variable denseK/alpha) or rrelu "
        "(slope drawn from U[1/8, 1/3] in training, 11/48 at test); softmax is not "
        "offered: it makes outputs sum to 1, which has no meaning for a regression",
    )
    l1_update: str = doc(
        "subgradient",
        "subgradient: SGD on lam*|w| (weights hover around 0, as "
        "in the blog); proximal: soft-threshold by lr*lam after each step (exact "
        "zeros)",
    )
    seed: int = doc(
        0,
        "base seed: run k uses seed+k for its initial weights; RReLU's random "
        "slopes are drawn from it and the step number",
    )
    tail_epochs: int = doc(
        1,
        "the tail-averaged test error averages the iterates after every SGD "
        "step of the last this many epochs",
    )
    zero_tol: float = doc(
        0.01,
        "|w| below this counts as zero, in the results and for pruning; "
        "dead L1 weights hover around 0 with amplitude about lr*lam (0.003 by "
        "default)",
    )
    tensorboard: bool = doc(
        True, "write TensorBoard event files to <out>/tensorboard/<method>_run<k>/"
    )
    prune: bool = doc(
        True,
        "prune every L1 run, retrain the smaller nets from scratch and "
        "from the pruned weights, write pruning.md",
    )
    checkpoints: bool = doc(
        True,
        "save every run in <out>/checkpoints/<run>/ as a TF1 checkpoint "
        "with model.json (how it was trained) and model.meta (its "
        "graph); with --prune also <run>_pruned, _scratch, _finetune",
    )
    engine: str = doc(
        "graph",
        "graph: the SGD loop inside the TF graph, all runs at once; reference: one "
        "sess.run per step (the blog's loop); compiled: the loop compiled by XLA (kernel "
        "penalties, subgradient L1 and the activations without random or learned slopes only)",
    )
    gifs: bool = doc(True, "animate the kernels of run 0 of each method (GIFs in <out>/gifs)")
    gif_seconds: float = doc(
        5.0, "duration of each GIF in seconds (the last frame is held 10% of it)"
    )
    quick: bool = doc(False, "smoke test: 2 runs of 5 epochs (overrides --runs and --epochs)")

    def check(self) -> None:
        if self.kernel_reg:  # before --methods, which resolved() took from it
            checks.penalty_spec("kernel_reg", self.kernel_reg)
        super().check()
        require(self.runs >= 1, "--runs must be at least 1")
        require(
            self.runs * len(self.methods) <= checks.MAX_MODELS,
            f"--runs x methods must be at most {checks.MAX_MODELS:,}",
        )
        checks.lam(self.lam)
        require(0.1 <= self.gif_seconds <= 600, "--gif-seconds must be between 0.1 and 600")
        require(self.zero_tol > 0, "--zero-tol must be positive")
        checks.tail(self.tail_epochs, self.epochs)
        checks.sizes(self.sizes)
        checks.methods(self.methods)
        checks.choice("engine", self.engine, ENGINES)
        checks.activation(self.activation)
        checks.choice("l1_update", self.l1_update, UPDATES)
        checks.penalty_spec("bias_reg", self.bias_reg)
        checks.penalty_spec("activity_reg", self.activity_reg)
        if self.engine == "compiled":
            require(
                self.bias_reg == self.activity_reg == "none"
                and self.l1_update == "subgradient"
                and self.activation.partition(":")[0] not in ("prelu", "rrelu"),
                "--engine compiled trains kernel penalties with the subgradient L1 update and "
                "no prelu or rrelu: use --engine graph for the others",
            )

    def resolved(self) -> "Config":
        """Derived settings, computed once after parsing: --quick's runs and epochs and
        --kernel-reg's method."""
        cfg = dataclasses.replace(self, runs=2, epochs=5) if self.quick else self
        if cfg.kernel_reg:
            kind = cfg.kernel_reg.strip().lower().partition(":")[0]
            cfg = dataclasses.replace(cfg, methods=(kind,))
        return cfg

    def sgd(self, **fields: object) -> SGD:
        own = {"activation": self.activation, "l1_update": self.l1_update}
        return super().sgd(**{**own, "tail_epochs": self.tail_epochs, **fields})


@dataclass(frozen=True)
class DataConfig:
    """Generate the noisy line with outliers and write it as CSV."""

    seed: int = doc(0, "seed of the generator")
    n: int = doc(50, "number of samples")
    lo: float = doc(0.5, "smallest x")
    hi: float = doc(9.5, "largest x")
    slope: float = doc(2.0, "clean target y = slope * x")
    n_outliers: int = doc(10, "outliers, on evenly spaced indices")
    outlier_scale: float = doc(
        10.0, "outliers get one shared offset u * outlier_scale, u ~ U[0, 1)"
    )
    noise: float = doc(2.0, "every sample gets U[0, noise) added")
    train_frac: float = doc(0.8, "fraction of samples used for training")
    out: str = doc(
        "data/line.csv",
        "where to write the CSV (a regular file: a FIFO, device or link there is refused)",
        path=True,
    )
    force: bool = doc(False, "replace --out if it exists")

    def check(self) -> None:
        require(
            2 <= self.n <= 100_000,
            "--n must be between 2 and 100,000 (the loader reads files up to 10 MB)",
        )
        checks.seed(self.seed)
        require(self.hi > self.lo, "--hi must be larger than --lo")
        require(0 <= self.n_outliers <= self.n, "--n-outliers must be between 0 and --n")
        require(
            self.outlier_scale >= 0 and self.noise >= 0,
            "--outlier-scale and --noise must be non-negative",
        )
        x_max = max(abs(self.lo), abs(self.hi))
        y_max = abs(self.slope) * x_max + self.outlier_scale + self.noise
        require(
            overflow_problem(self.n, x_max, y_max) is None,  # the loader's rule
            "the data would not fit float32 (the network's numbers): lower --slope, "
            "--lo/--hi, --outlier-scale or --noise",
        )
        n_train = round(self.train_frac * self.n)
        require(
            0 < n_train < self.n, "--train-frac must leave at least one train and one test sample"
        )
        name = Path(self.out).name
        require(name not in ("", ".", ".."), "--out must name a file")
        require(
            Path(name).suffix.lower() != ".json",
            "--out must not end in .json: the run record is written beside it, under the same "
            "name with .json",
        )

    def generator(self) -> dict:
        """The keyword arguments of core.data.generate."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in ("out", "force")}


@dataclass(frozen=True)
class GifsConfig(Display):
    """Redraw the GIFs and figures of an earlier run from its recording.npz, without training."""

    out: str = doc("outputs", "the output folder of that run", path=True)
    gif_seconds: float = doc(5.0, "duration of each GIF in seconds")
    force: bool = doc(False, FORCE_HELP)

    def check(self) -> None:
        require(0.1 <= self.gif_seconds <= 600, "--gif-seconds must be between 0.1 and 600")


@dataclass(frozen=True)
class FromCheckpoint:
    """The default of a `reproduce prune` flag that the checkpoint's record supplies, with the
    value used without a record. A flag given on the command line is told apart from it:
    `--seed 0` overrides a record's seed 3, leaving --seed out does not."""

    fallback: object

    def __repr__(self) -> str:  # what --help shows
        return f"the checkpoint's, else {self.fallback}"


def _recorded(name, help):
    """A prune flag whose default is the checkpoint's record, else the main run's default."""
    return doc(FromCheckpoint(getattr(Config, name)), help)


RETRAIN = ("scratch", "finetune", "both", "none")


@dataclass(frozen=True)
class PruneConfig(Training):
    """Prune a saved model (a checkpoints/<run> folder) and retrain the smaller network; the
    results go to <out>/pruned/. How the model was trained (activation, penalties, lr, epochs,
    batch size, order, seed, data) comes from the checkpoint's record, model.json; a flag
    given overrides it."""

    COMMAND: ClassVar[str] = "prune"

    checkpoint: str = doc(
        "", "checkpoint folder written by ./reproduce, e.g. outputs/checkpoints/l1_run0"
    )
    retrain: str = doc(
        "both",
        "scratch: fresh Glorot weights of the pruned sizes, from --seed; "
        "finetune: start from the pruned weights; both (as the main run "
        "does); none: only prune",
    )
    tol: float = doc(
        FromCheckpoint(Config.zero_tol),
        "|w| below this counts as zero; above the ~lr*lam oscillation of dead L1 weights",
    )
    activation: str = _recorded(
        "activation",
        "the activation the model was trained with, as for the main run; prelu is not supported",
    )
    method: str = doc(
        FromCheckpoint("l1"),
        "kernel regularizer for retraining and the reported "
        "cost: none, l1, l2 or l1l2 at --lam; giving --method or --lam replaces the "
        "record's kernel penalty",
    )
    lam: float = _recorded("lam", "strength of the --method kernel penalty")
    bias_reg: str = _recorded("bias_reg", "penalty on every bias: none, l1:A, l2:B or l1l2:A,B")
    activity_reg: str = _recorded(
        "activity_reg", "penalty on every hidden layer's output, as for the main run"
    )
    l1_update: str = _recorded("l1_update", "subgradient or proximal, as for the main run")
    data: str = _recorded("data", "the data set: a CSV with columns x,y,split[,outlier]")
    epochs: int = _recorded("epochs", "passes over the training samples when retraining")
    lr: float = _recorded("lr", "learning rate of plain SGD")
    lr_schedule: str = _recorded("lr_schedule", SCHEDULE_HELP)
    batch_size: int = _recorded(
        "batch_size", "samples per SGD step; must divide the number of training samples"
    )
    seed: int = _recorded(
        "seed",
        "the run's seed: the fresh weights when retraining from scratch, and the shuffled order",
    )
    order: str = _recorded(
        "order", "file or shuffle: the order SGD visits the training samples in when retraining"
    )
    engine: str = doc("graph", "graph, reference or compiled, as for the main run")

    def from_checkpoint(self) -> tuple[str, ...]:
        """The flags not given on the command line, which the checkpoint's record supplies."""
        return tuple(
            f.name
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), FromCheckpoint)
        )

    def given(self) -> tuple[str, ...]:
        """The flags a record could supply that were given on the command line."""
        return tuple(
            f.name
            for f in dataclasses.fields(self)
            if isinstance(f.default, FromCheckpoint)
            and not isinstance(getattr(self, f.name), FromCheckpoint)
        )

    def settled(self, record: dict) -> "PruneConfig":
        """Every flag not given takes record[name], else its value without a record."""
        return dataclasses.replace(
            self, **{n: record.get(n, getattr(self, n).fallback) for n in self.from_checkpoint()}
        )

    def check(self) -> None:
        if self.from_checkpoint():  # the flags given, each with the others at their fallbacks
            return self.settled({}).check()
        require(self.checkpoint != "", "--checkpoint is required")
        require(self.data.strip() != "", "--data must not be empty")
        require(self.tol > 0, "--tol must be positive")
        require(
            self.retrain in RETRAIN,
            "--retrain must be scratch, finetune or none, or both "
            f"(scratch and finetune), got {self.retrain!r}",
        )
        checks.choice("method", self.method, ("none", "l1", "l2", "l1l2"))
        checks.activation(self.activation)
        require(
            self.activation != "prelu",
            "pruning does not support --activation prelu: its "
            "learned slopes would have to be cut with the units",
        )
        checks.lam(self.lam)
        checks.penalty_spec("bias_reg", self.bias_reg)
        checks.penalty_spec("activity_reg", self.activity_reg)
        checks.choice("l1_update", self.l1_update, UPDATES)
        super().check()
        checks.choice("engine", self.engine, ENGINES)

    def sgd(self, **fields: object) -> SGD:
        own = {"activation": self.activation, "l1_update": self.l1_update}
        return super().sgd(**{**own, **fields})


@dataclass(frozen=True)
class SweepConfig(Files):
    """Many models over every factor that can decide "does L2 beat L1?": seeds and data draws
    (random), sample order, learning rate, its schedule, epochs and lambda (fixed); per cell the
    paired L2 - L1 difference, its test and an equivalence test, with the exact optimum of every
    objective beside. The results go to <out>/sweep/."""

    COMMAND: ClassVar[str] = "sweep"

    seeds: int = doc(
        10,
        "seeds per draw and cell; seed s gives every method, lambda and setting the same "
        "initial weights and (shuffled) the same order",
    )
    data_seeds: tuple = doc(
        tuple(range(10)),
        "draws of the data set, made by the generator (reproduce data --seed S, its other "
        "settings at their defaults; seed 0 is data/line.csv): a random factor of the "
        "verdict; empty (--data-seeds '') uses --data alone",
        item=int,
    )
    lams: tuple = doc((0.0, 0.01, 0.1, 0.3, 1.0, 3.0), "lambdas, comma separated", item=float)
    methods: tuple = doc(
        ("l1", "l2", "l1l2"),
        "kernel regularizers, comma separated, from "
        "none,l1,l2,l1l2 (l1l2: elastic net, both terms at each lambda)",
        item=str,
    )
    lrs: tuple = doc((0.01, 0.03), "learning rates of plain SGD, comma separated", item=float)
    epochs: tuple = doc((100, 200), "passes over the training samples, comma separated", item=int)
    lr_schedule: tuple = doc(
        ("constant", "linear"),
        "learning-rate schedules, comma separated: constant (the blog's), linear or cosine "
        "(decayed towards 0: SGD converges)",
        item=str,
    )
    orders: tuple = doc(
        ("shuffle", "file"),
        "sample orders, comma separated: shuffle (a new order every epoch, from the seed) or "
        "file (the CSV's order every epoch, as the blog did)",
        item=str,
    )
    batch_size: int = doc(1, "samples per SGD step; must divide the number of training samples")
    sizes: tuple = doc(
        (1, 10, 10, 10, 1), "layer sizes, comma separated; first and last must be 1", item=int
    )
    tail_epochs: int = doc(
        1, "the tail mean averages the test error after every SGD step of the last this many epochs"
    )
    margin: float = doc(
        0.02,
        "equivalence margin, stated before the run: L1 and L2 are equivalent in a cell when "
        "their mean test errors differ by less than this fraction of the cell's mean error",
    )
    alpha: float = doc(
        0.05, "family-wise error rate of the verdicts (Holm's correction over all the cells)"
    )
    zero_tol: float = doc(0.01, "|w| below this counts as zero when counting dead units")
    chunk: int = doc(4000, "at most this many models trained in one call (memory grows with it)")
    engine: str = doc(
        "compiled",
        "compiled: the whole SGD loop compiled by XLA, models last in "
        "memory (fastest; reruns on one machine are identical, other "
        "CPUs may round differently); graph: the in-graph loop of the "
        "five-run comparison",
    )
    seed: int = doc(0, "first seed")

    def check(self) -> None:
        super().check()
        require(self.seeds >= 2, "--seeds must be at least 2 for a confidence interval")
        checks.seed(self.seed)
        checks.seed(self.seed + self.seeds - 1, "seeds")
        for s in self.data_seeds:
            checks.seed(s, "data_seeds")
        require(
            len(set(self.data_seeds)) == len(self.data_seeds), "--data-seeds lists a seed twice"
        )
        checks.distinct("lams", self.lams)
        for lam in self.lams:
            checks.lam(lam, "lams")
        checks.methods(self.methods)
        checks.distinct("lrs", self.lrs)
        checks.distinct("epochs", self.epochs)
        checks.distinct("lr_schedule", self.lr_schedule)
        checks.distinct("orders", self.orders)
        for epochs, lr in itertools.product(self.epochs, self.lrs):
            checks.sgd(epochs, lr, self.batch_size)
        for schedule in self.lr_schedule:
            checks.choice("lr_schedule", schedule, SCHEDULES)
        for order in self.orders:
            checks.choice("orders", order, ORDERS)
        checks.tail(self.tail_epochs, min(self.epochs))
        require(
            self.n_models() <= checks.MAX_MODELS,
            f"the sweep would train {self.n_models():,} models, more than the "
            f"{checks.MAX_MODELS:,} allowed: fewer seeds, draws or settings",
        )
        checks.sizes(self.sizes)
        require(0 < self.margin < 1, "--margin must be a fraction between 0 and 1")
        require(0 < self.alpha < 1, "--alpha must be between 0 and 1")
        require(self.zero_tol > 0, "--zero-tol must be positive")
        require(self.chunk >= 1, "--chunk must be at least 1")
        checks.choice("engine", self.engine, ("compiled", "graph"))

    def n_models(self) -> int:
        """Models the sweep trains: lambda 0 is one model ("none") whatever the method."""
        per_setting = sum(1 if lam == 0 else len(self.methods) for lam in self.lams)
        settings = len(self.lrs) * len(self.epochs) * len(self.lr_schedule) * len(self.orders)
        return max(len(self.data_seeds), 1) * settings * per_setting * self.seeds


@dataclass(frozen=True)
class OptimumConfig(Files):
    """The exact global minimum of each method's training objective (identity activations,
    kernel penalties): the line it fits, its objective and test error, a checkpoint of weights
    that attain it. The results go to <out>/optimum/."""

    COMMAND: ClassVar[str] = "optimum"

    lams: tuple = doc((0.0, 0.01, 0.1, 0.3, 1.0, 3.0), "lambdas, comma separated", item=float)
    methods: tuple = doc(
        ("l1", "l2", "l1l2"),
        "kernel regularizers, comma separated, from none,l1,l2,l1l2 (lambda 0: none)",
        item=str,
    )
    kernel_reg: str = doc(
        "",
        "one kernel penalty instead of --methods/--lams: none, l1:A, l2:B or l1l2:A,B",
    )
    sizes: tuple = doc(
        (1, 10, 10, 10, 1), "layer sizes, comma separated; first and last must be 1", item=int
    )
    batch_size: int = doc(
        1,
        "samples per SGD step of the runs to compare with: the objective is the sum of an "
        "epoch's step costs, so the penalty counts once per step (training rows / batch size "
        "times per epoch)",
    )
    activation: str = doc("identity", "only identity: other activations have no exact optimum here")
    bias_reg: str = doc("none", "only none: a bias penalty has no exact optimum here")
    activity_reg: str = doc("none", "only none: an activity penalty has no exact optimum here")
    checkpoints: bool = doc(True, "save the weights of every optimum as a TF1 checkpoint")

    def check(self) -> None:
        super().check()
        require(
            self.activation == "identity" and self.bias_reg == self.activity_reg == "none",
            "reproduce optimum solves identity networks with kernel penalties only: the exact "
            "optimum of other activations or of bias and activity penalties is not known here",
        )
        require(self.batch_size >= 1, "--batch-size must be at least 1")
        checks.sizes(self.sizes)
        if self.kernel_reg:
            checks.penalty_spec("kernel_reg", self.kernel_reg)
            return
        checks.distinct("lams", self.lams)
        for lam in self.lams:
            checks.lam(lam, "lams")
        checks.methods(self.methods)


@dataclass(frozen=True)
class ZerosConfig(Training):
    """Subgradient vs proximal L1 on one model: weight paths near zero, exact zeros, pruning
    tolerance; the results go to <out>/analysis/."""

    COMMAND: ClassVar[str] = "l1-update"

    lam: float = doc(0.3, "L1 strength")
    epochs: int = doc(100, "epochs for the final counts")
    record_epochs: int = doc(10, "epochs whose every step is recorded for the trajectory figure")
    sizes: tuple = doc((1, 10, 10, 10, 1), "layer sizes, comma separated", item=int)
    tol: float = doc(0.01, "pruning tolerance to compare with")

    def check(self) -> None:
        require(
            self.lam > 0 and self.lr > 0 and self.tol > 0, "--lam, --lr and --tol must be positive"
        )
        checks.at_most("lam", self.lam, checks.MAX_RATE)
        super().check()
        require(
            self.epochs >= 1 and 1 <= self.record_epochs <= 50,
            "--epochs must be at least 1 and --record-epochs between 1 and 50",
        )
        checks.sizes(self.sizes)
        require(len(self.sizes) >= 3, "--sizes needs a hidden layer")


@dataclass(frozen=True)
class LeakyConfig(Files):
    """ReLU -> LeakyReLU vs an L1 activity penalty, first-layer gradients during training; the
    results go to <out>/analysis/."""

    COMMAND: ClassVar[str] = "leaky-vs-l1"

    hidden: int = doc(10, "hidden units of the 1-hidden-1 network")
    epochs: int = doc(50, "epochs of ReLU training")
    lr: float = doc(0.001, "learning rate (MSE loss)")
    lam: float = doc(
        0.2, "L1 activity strength (only the scale of the L1 gradient; cosines do not depend on it)"
    )
    seed: int = doc(0, "seed of the initial weights (and of the order, shuffled)")
    order: str = doc("file", ORDER_HELP)

    def check(self) -> None:
        super().check()
        checks.choice("order", self.order, ORDERS)
        require(self.hidden >= 1 and self.epochs >= 1, "--hidden and --epochs must be at least 1")
        checks.at_most("hidden", self.hidden, checks.MAX_WIDTH)
        checks.at_most("epochs", self.epochs, checks.MAX_EPOCHS)
        checks.at_most("lam", self.lam, checks.MAX_RATE)
        checks.at_most("lr", self.lr, checks.MAX_RATE)
        checks.seed(self.seed)
        require(self.lr > 0 and self.lam > 0, "--lr and --lam must be positive")

    def sgd(self) -> SGD:
        return SGD(lr=self.lr, epochs=self.epochs, order=self.order, seed=self.seed)


# where `reproduce variants` puts L1: the Config field of each target ("nothing": no penalty)
TARGETS = {"nothing": None, "kernel": "kernel_reg", "bias": "bias_reg", "activity": "activity_reg"}


@dataclass(frozen=True)
class VariantsConfig(Files):
    """Beyond the blog: the none/L1/L2 comparison under each activation, and L1 on kernels,
    biases or layer outputs (Keras' three targets); the blog's network, lr and data otherwise.
    The results go to <out>/analysis/."""

    COMMAND: ClassVar[str] = "variants"

    runs: int = doc(5, "runs per setting and method; run k starts from seed+k")
    epochs: int = doc(100, "passes over the training samples")
    lam: float = doc(0.3, "strength of every penalty")
    activations: tuple = doc(ACTIVATIONS, "activations to compare, comma separated", item=str)
    zero_tol: float = doc(0.01, "|value| below this counts as zero")
    seed: int = doc(0, "base seed")
    order: str = doc("file", ORDER_HELP)

    def check(self) -> None:
        super().check()
        checks.choice("order", self.order, ORDERS)
        require(1 <= self.runs <= 1000, "--runs must be between 1 and 1,000")
        require(self.epochs >= 1, "--epochs must be at least 1")
        checks.at_most("epochs", self.epochs, checks.MAX_EPOCHS)
        checks.lam(self.lam)
        checks.seed(self.seed)
        require(self.zero_tol > 0, "--zero-tol must be positive")
        require(len(self.activations) > 0, "--activations is empty")
        for a in self.activations:
            checks.activation(a, "activations")

    def settings(self) -> list[tuple[str, Config]]:
        """(label, main-run Config) of every setting: one per activation, then one per target."""
        base = Config(
            runs=self.runs,
            epochs=self.epochs,
            lam=self.lam,
            seed=self.seed,
            data=self.data,
            zero_tol=self.zero_tol,
            order=self.order,
            progress=False,
        )
        out = [
            (f"activation {a}", dataclasses.replace(base, activation=a)) for a in self.activations
        ]
        for target, field in TARGETS.items():
            spec = {"kernel_reg": "none", **({field: f"l1:{self.lam:g}"} if field else {})}
            out.append((f"L1 on {target}", dataclasses.replace(base, **spec).resolved()))
        return out
