"""The rules every config's check() applies: choices, ranges, limits, and what needs the data.

Each check raises a UsageError whose message is the one line the user sees (see flags.py).
"""
from .flags import UsageError, flag, number, require
from .regularizers import METHODS, parse as parse_penalty

ACTIVATIONS = ("identity", "relu", "leaky_relu", "elu", "tanh", "prelu", "rrelu")  # model.ACTIVATIONS, no TF
ENGINES = ("graph", "reference")

# Upper limits: far above any sensible run, low enough that a typo fails at once instead of
# filling the memory or running for days.
MAX_EPOCHS = 100_000      # 4M SGD steps per model on the 40 training samples
MAX_MODELS = 1_000_000    # models one command trains
MAX_WIDTH = 10_000        # units of one layer
MAX_RATE = 1e6            # lr and lambdas: far past divergence, still a float32
MAX_SEED = 2**32 - 1
MAX_GB = 4                # memory the arrays of one command may need (this machine class has 24 GB)


def check_at_most(cfg, name, hi):
    require(getattr(cfg, name) <= hi, f"{flag(name)} must be at most {hi:,}, got {getattr(cfg, name):,}")


def check_fits(n_train, batch_size, data, n_models, sizes, epochs, frames):
    """What needs the data: the batch size divides the training set; the arrays fit in MAX_GB.

    The arrays: `frames` recorded copies of every model's weights and one cost per SGD step."""
    require(n_train % batch_size == 0,
            f"--batch-size {batch_size} does not divide the {n_train} training samples of {data}")
    n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    gb = 4 * n_models * (n_params * (frames + 4) + epochs * n_train // batch_size) / 1e9
    require(gb <= MAX_GB, f"this needs about {gb:,.1f} GB of memory, more than the {MAX_GB} GB allowed: "
                          "lower --epochs, --sizes or the number of models")


def split_activation(spec):
    """'leaky_relu:0.1' -> ('leaky_relu', 0.1); a bare name -> (name, None)."""
    name, colon, arg = spec.partition(":")
    return name, (float(arg) if colon else None)


def check_activation(spec, name="activation"):
    """An activation spec: one of ACTIVATIONS, or leaky_relu:A with a slope A in [0, 1]."""
    kind, colon, arg = spec.partition(":")
    check_choice(kind, name, ACTIVATIONS)
    if colon:
        require(kind == "leaky_relu", f"{flag(name)}: only leaky_relu takes a slope (leaky_relu:A), got {spec!r}")
        try:
            alpha = number(float, arg)
        except ValueError as e:
            raise UsageError(f"{flag(name)} {spec!r}: {e}") from None
        require(0 <= alpha <= 1, f"{flag(name)}: the slope of leaky_relu must be between 0 and 1, got {alpha:g}")


def check_choice(value, name, choices):
    listed = ", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) <= 3 else "one of " + ",".join(choices)
    require(value in choices, f"{flag(name)} must be {listed}, got {value!r}")


def check_sgd(cfg):
    """epochs, lr and batch_size of a config that trains."""
    require(cfg.epochs >= 1, "--epochs must be at least 1")
    check_at_most(cfg, "epochs", MAX_EPOCHS)
    require(cfg.lr > 0, "--lr must be positive")
    check_at_most(cfg, "lr", MAX_RATE)
    require(cfg.batch_size >= 1, "--batch-size must be at least 1")


def check_seed(cfg):
    require(0 <= cfg.seed <= MAX_SEED, f"--seed must be between 0 and {MAX_SEED}, got {cfg.seed}")


def check_lam(cfg):
    require(cfg.lam >= 0, "--lam must be non-negative")
    check_at_most(cfg, "lam", MAX_RATE)


def check_sizes(sizes):
    require(len(sizes) >= 2 and sizes[0] == 1 and sizes[-1] == 1,
            f"--sizes must start and end with 1 (the data is 1-D), got {','.join(map(str, sizes))}")
    require(all(s >= 1 for s in sizes), f"--sizes must be positive, got {','.join(map(str, sizes))}")
    require(max(sizes) <= MAX_WIDTH and len(sizes) <= 100,
            f"--sizes allows at most 100 layers of at most {MAX_WIDTH:,} units")


def check_methods(methods):
    require(len(methods) > 0, "--methods is empty")
    for m in methods:
        require(m in METHODS, f"--methods: unknown method {m!r}, choose from {','.join(METHODS)}")
    require(len(set(methods)) == len(methods), "--methods lists a method twice")


def check_spec(cfg, name):
    try:
        parse_penalty(getattr(cfg, name))
    except ValueError as e:
        raise UsageError(f"{flag(name)}: {e}") from None
