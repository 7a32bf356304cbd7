"""The rules every config's check() applies: choices, ranges and limits.

Each check raises a UsageError whose message is the one line the user sees (see flags.py).
"""

from collections.abc import Sequence

from .core import activations, regularizers
from .errors import UsageError, require
from .flags import flag

ENGINES = ("graph", "reference")

# Upper limits: far above any sensible run, low enough that a typo fails at once instead of
# filling the memory or running for days.
MAX_EPOCHS = 100_000  # 4M SGD steps per model on the 40 training samples
MAX_MODELS = 1_000_000  # models one command trains
MAX_WIDTH = 10_000  # units of one layer
MAX_RATE = 1e6  # lr and lambdas: far past divergence, still a float32
MAX_SEED = 2**32 - 1


def check_at_most(cfg: object, name: str, hi: float) -> None:
    value = getattr(cfg, name)
    require(value <= hi, f"{flag(name)} must be at most {hi:,}, got {value:,}")


def check_activation(spec: str, name: str = "activation") -> None:
    """An activation spec: one of activations.NAMES, or leaky_relu:A with a slope A in [0, 1]."""
    try:
        activations.parse(spec)
    except ValueError as e:
        sep = " " if str(e).startswith("must") else ": "  # '--activation must be one of ...'
        raise UsageError(f"{flag(name)}{sep}{e}") from None


def check_choice(value: str, name: str, choices: Sequence[str]) -> None:
    listed = (
        ", ".join(choices[:-1]) + " or " + choices[-1]
        if len(choices) <= 3
        else "one of " + ",".join(choices)
    )
    require(value in choices, f"{flag(name)} must be {listed}, got {value!r}")


def check_sgd(cfg: object) -> None:
    """epochs, lr and batch_size of a config that trains."""
    require(cfg.epochs >= 1, "--epochs must be at least 1")
    check_at_most(cfg, "epochs", MAX_EPOCHS)
    require(cfg.lr > 0, "--lr must be positive")
    check_at_most(cfg, "lr", MAX_RATE)
    require(cfg.batch_size >= 1, "--batch-size must be at least 1")


def check_seed(cfg: object) -> None:
    require(0 <= cfg.seed <= MAX_SEED, f"--seed must be between 0 and {MAX_SEED}, got {cfg.seed}")


def check_lam(cfg: object) -> None:
    require(cfg.lam >= 0, "--lam must be non-negative")
    check_at_most(cfg, "lam", MAX_RATE)


def check_sizes(sizes: Sequence[int]) -> None:
    text = ",".join(map(str, sizes))
    require(
        len(sizes) >= 2 and sizes[0] == 1 and sizes[-1] == 1,
        f"--sizes must start and end with 1 (the data is 1-D), got {text}",
    )
    require(all(s >= 1 for s in sizes), f"--sizes must be positive, got {text}")
    require(
        max(sizes) <= MAX_WIDTH and len(sizes) <= 100,
        f"--sizes allows at most 100 layers of at most {MAX_WIDTH:,} units",
    )


def check_methods(methods: Sequence[str]) -> None:
    require(len(methods) > 0, "--methods is empty")
    for m in methods:
        require(
            m in regularizers.METHODS,
            f"--methods: unknown method {m!r}, choose from {','.join(regularizers.METHODS)}",
        )
    require(len(set(methods)) == len(methods), "--methods lists a method twice")


def check_tail(cfg: object) -> None:
    require(
        1 <= cfg.tail_epochs <= cfg.epochs,
        f"--tail-epochs must be between 1 and --epochs ({cfg.epochs}), got {cfg.tail_epochs}",
    )


def check_spec(cfg: object, name: str) -> None:
    try:
        regularizers.parse(getattr(cfg, name))
    except ValueError as e:
        raise UsageError(f"{flag(name)}: {e}") from None
