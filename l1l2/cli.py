"""`reproduce [COMMAND] [--flags]`: the commands, each a config class and a function."""
import signal
import sys
from dataclasses import asdict

from . import config
from .flags import UsageError, fail, parse


def run(cfg):
    from . import experiment
    experiment.run(cfg)


def redraw(cfg):
    from . import experiment
    experiment.redraw(cfg)


def prune(cfg):
    from . import retrain
    retrain.command(cfg)


def sweep(cfg):
    if cfg.xla:  # read by TensorFlow at import, so set before it
        import os
        os.environ["TF_XLA_FLAGS"] = "--tf_xla_auto_jit=2 --tf_xla_cpu_global_jit"
    from . import sweep
    sweep.run(cfg)


def l1_update(cfg):
    from . import zeros
    zeros.run(cfg)


def leaky_vs_l1(cfg):
    from . import leaky
    leaky.run(cfg)


def make_data(cfg):
    from . import data
    from .outputs import write_text
    args = asdict(cfg)
    write_text(args.pop("out"), data.to_csv(data.generate(**args)))
    print(f"wrote {cfg.out}")


# name -> (config class, function, one-line summary)
COMMANDS = {
    "run": (config.Config, run, "the five-run L1 vs L2 comparison (default)"),
    "gifs": (config.GifsConfig, redraw, "redraw GIFs and figures from a saved recording"),
    "prune": (config.PruneConfig, prune, "prune a saved model and retrain the smaller network"),
    "sweep": (config.SweepConfig, sweep, "many seeds x lambdas: confidence intervals, paired L1 vs L2"),
    "l1-update": (config.ZerosConfig, l1_update, "subgradient vs proximal L1: weights near zero, exact zeros"),
    "leaky-vs-l1": (config.LeakyConfig, leaky_vs_l1, "write-up 000: LeakyReLU vs an L1 activity penalty"),
    "data": (config.DataConfig, make_data, "regenerate the data set"),
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
    cls, func, _ = COMMANDS[name]
    cfg = parse(cls, argv, prog=f"reproduce {name}" if name != "run" else "reproduce")
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # even where the shell started us with SIGINT ignored
    try:
        func(cfg)
    except (UsageError, ValueError, OSError) as e:
        fail(_one_line(e))
    except KeyboardInterrupt:
        print("reproduce: interrupted; earlier outputs were left as they were", file=sys.stderr)
        sys.exit(130)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _one_line(e):
    return " ".join(str(e).split()) or e.__class__.__name__
