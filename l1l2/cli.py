"""`reproduce [COMMAND] [--flags]`: the commands, each a config class and a function."""
import importlib
import os
import signal
import sys

from . import config
from .flags import InputError, fail, parse


# name -> (config class, "module:function" run with the parsed config, one-line summary);
# modules are imported only when their command runs, so --help and bad flags never wait for TensorFlow
COMMANDS = {
    "run": (config.Config, "experiment:run", "the five-run L1 vs L2 comparison (default)"),
    "gifs": (config.GifsConfig, "experiment:redraw", "redraw GIFs and figures from a saved recording"),
    "prune": (config.PruneConfig, "retrain:command", "prune a saved model and retrain the smaller network"),
    "sweep": (config.SweepConfig, "sweep:run", "many seeds x lambdas: confidence intervals, paired L1 vs L2"),
    "l1-update": (config.ZerosConfig, "zeros:run", "subgradient vs proximal L1: weights near zero, exact zeros"),
    "leaky-vs-l1": (config.LeakyConfig, "leaky:run", "write-up 000: LeakyReLU vs an L1 activity penalty"),
    "variants": (config.VariantsConfig, "variants:run", "each activation, and L1 on kernels vs biases vs outputs"),
    "data": (config.DataConfig, "data:command", "regenerate the data set"),
}


def usage():
    lines = ["usage: reproduce [COMMAND] [--flags]   (reproduce COMMAND --help for its flags)", "",
             "commands:"]
    lines += [f"  {name:<12} {summary}" for name, (_, _, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    name = "run"
    if argv and not argv[0].startswith("-"):
        name, argv = argv[0], argv[1:]
        if name not in COMMANDS:
            fail(f"unknown command {name!r}; commands: {', '.join(COMMANDS)}")
    elif argv[:1] in (["-h"], ["--help"]):
        print(usage() + "\n")
    cls, target, _ = COMMANDS[name]
    prog = f"reproduce {name}" if name != "run" else "reproduce"
    cfg = parse(cls, argv, prog=prog)
    if getattr(cfg, "xla", False):  # read by TensorFlow when it loads
        os.environ["TF_XLA_FLAGS"] = "--tf_xla_auto_jit=2 --tf_xla_cpu_global_jit"
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # even where the shell started us with SIGINT ignored
    module, function = target.split(":")
    try:
        getattr(importlib.import_module(f".{module}", __package__), function)(cfg)
    except (InputError, OSError) as e:  # anything else is a bug: let it show
        fail(_one_line(e), prog)
    except KeyboardInterrupt:
        print("reproduce: interrupted; earlier outputs were left as they were", file=sys.stderr)
        sys.exit(130)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _one_line(e):
    """The message on one line; an OS error as 'file: reason', without Python's [Errno N]."""
    text = f"{e.filename}: {e.strerror}" if isinstance(e, OSError) and e.strerror and e.filename else str(e)
    return " ".join(text.split()) or e.__class__.__name__
