"""The rules every config's check() applies: choices, ranges and limits.

Each check raises a UsageError whose message is the one line the user sees (see flags.py).
"""

from collections.abc import Sequence

from .core import activations, regularizers
from .core.model import MAX_LAYERS, MAX_WIDTH
from .errors import UsageError, require
from .flags import flag

# Upper limits: far above any sensible run, low enough that a typo fails at once instead of
# filling the memory or running for days.
MAX_EPOCHS = 100_000  # 4M SGD steps per model on the 40 training samples
MAX_MODELS = 1_000_000  # models one command trains
MAX_RATE = 1e6  # lr and lambdas: far past divergence, still a float32
MAX_SEED = 2**32 - 1


def at_most(name: str, value: float, hi: float) -> None:
    require(value <= hi, f"{flag(name)} must be at most {hi:,}, got {value:,}")


def choice(name: str, value: str, choices: Sequence[str]) -> None:
    listed = (
        ", ".join(choices[:-1]) + " or " + choices[-1]
        if len(choices) <= 3
        else "one of " + ",".join(choices)
    )
    require(value in choices, f"{flag(name)} must be {listed}, got {value!r}")


def activation(spec: str, name: str = "activation") -> None:
    """An activation spec: one of activations.NAMES, or leaky_relu:A with a slope A in [0, 1]."""
    try:
        activations.parse(spec)
    except ValueError as e:
        sep = " " if str(e).startswith("must") else ": "  # '--activation must be one of ...'
        raise UsageError(f"{flag(name)}{sep}{e}") from None


def sgd(epochs: int, lr: float, batch_size: int) -> None:
    require(epochs >= 1, "--epochs must be at least 1")
    at_most("epochs", epochs, MAX_EPOCHS)
    require(lr > 0, "--lr must be positive")
    at_most("lr", lr, MAX_RATE)
    require(batch_size >= 1, "--batch-size must be at least 1")


def seed(value: int, name: str = "seed") -> None:
    require(0 <= value <= MAX_SEED, f"{flag(name)} must be between 0 and {MAX_SEED}, got {value}")


def lam(value: float, name: str = "lam") -> None:
    require(value >= 0, f"{flag(name)} must be non-negative")
    at_most(name, value, MAX_RATE)


def sizes(values: Sequence[int], name: str = "sizes") -> None:
    text = ",".join(map(str, values))
    require(
        len(values) >= 2 and values[0] == 1 and values[-1] == 1,
        f"{flag(name)} must start and end with 1 (the data is 1-D), got {text}",
    )
    require(all(s >= 1 for s in values), f"{flag(name)} must be positive, got {text}")
    require(
        max(values) <= MAX_WIDTH and len(values) <= MAX_LAYERS,
        f"{flag(name)} allows at most {MAX_LAYERS} layers of at most {MAX_WIDTH:,} units",
    )


def methods(values: Sequence[str]) -> None:
    require(len(values) > 0, "--methods is empty")
    for m in values:
        require(
            m in regularizers.METHODS,
            f"--methods: unknown method {m!r}, choose from {','.join(regularizers.METHODS)}",
        )
    require(len(set(values)) == len(values), "--methods lists a method twice")


def tail(tail_epochs: int, epochs: int) -> None:
    require(
        1 <= tail_epochs <= epochs,
        f"--tail-epochs must be between 1 and --epochs ({epochs}), got {tail_epochs}",
    )


def penalty_spec(name: str, spec: str) -> None:
    try:
        regularizers.parse(spec)
    except ValueError as e:
        raise UsageError(f"{flag(name)}: {e}") from None


def distinct(name: str, values: Sequence[object]) -> None:
    require(len(values) > 0, f"{flag(name)} is empty")
    require(len(set(values)) == len(values), f"{flag(name)} lists a value twice")
