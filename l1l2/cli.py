"""`reproduce [COMMAND] [--flags]`: each command is a config class and a module with main(cfg).

Importing the command modules is cheap: TensorFlow, SciPy and matplotlib are imported on first
use (tf1.py, lazy.py), so --help and a bad flag answer at once.
"""

import difflib
import io
import logging
import os
import signal
import sys
import threading

from . import __version__, config
from .commands import (
    data,
    experiment,
    l1_update,
    leaky,
    optimum,
    prune,
    redraw,
    sweep,
    variants,
)
from .errors import InputError
from .files import storage_problem
from .flags import fail, flags_of, parse
from .output import folder
from .shared.result import Result

# name: (config class, its main(cfg), one-line summary)
COMMANDS = {
    "run": (config.Config, experiment.main, "the five-run L1 vs L2 comparison (default)"),
    "gifs": (config.GifsConfig, redraw.main, "redraw GIFs and figures from a saved recording"),
    "prune": (
        config.PruneConfig,
        prune.main,
        "prune a saved model and retrain the smaller network",
    ),
    "sweep": (
        config.SweepConfig,
        sweep.main,
        "many seeds x lambdas: confidence intervals, paired L1 vs L2",
    ),
    "optimum": (
        config.OptimumConfig,
        optimum.main,
        "the exact optimum of each objective: what SGD should reach",
    ),
    "l1-update": (
        config.ZerosConfig,
        l1_update.main,
        "subgradient vs proximal L1: weights near zero, exact zeros",
    ),
    "leaky-vs-l1": (
        config.LeakyConfig,
        leaky.main,
        "LeakyReLU vs an L1 activity penalty, measured",
    ),
    "variants": (
        config.VariantsConfig,
        variants.main,
        "each activation, and L1 on kernels vs biases vs outputs",
    ),
    "data": (config.DataConfig, data.main, "regenerate the data set"),
}


def usage() -> str:
    lines = [
        "usage: reproduce [COMMAND] [--flags]   (reproduce COMMAND --help for its flags)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<12} {summary}" for name, (_, _, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Result | None:
    """Parse the command line, run the command, print its report; the command's Result."""
    argv = sys.argv[1:] if argv is None else argv
    name = "run"
    if argv[:1] == ["--version"]:
        print(f"reproduce (l1l2) {__version__}")
        return None
    if argv and not argv[0].startswith("-"):
        name, argv = argv[0], argv[1:]
        if name not in COMMANDS:
            guess = difflib.get_close_matches(name, COMMANDS, n=1)
            hint = (
                f"; did you mean {guess[0]!r}?" if guess else f"; commands: {', '.join(COMMANDS)}"
            )
            fail(f"unknown command {name!r}{hint}")
    elif argv[:1] in (["-h"], ["--help"]):
        print(usage() + "\n")
    cls, command, _ = COMMANDS[name]
    prog = f"reproduce {name}" if name != "run" else "reproduce"
    check_flags_belong(name, argv, prog)
    cfg = parse(cls, argv, prog=prog)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # even if started with them ignored
        signal.signal(sig, _interrupt)
    _one_line_errors()
    try:
        result = command(cfg)
    except (InputError, OSError) as e:  # anything else is a bug: let it show
        fail(_one_line(e), prog)
    except KeyboardInterrupt:
        print(interrupted_message(), file=sys.stderr)
        sys.exit(130)
    if result.report:
        print(result.report)
    print(result.done)
    return result


def check_flags_belong(name: str, argv: list[str], prog: str) -> None:
    """A flag of another command is named as such ('--seeds belongs to reproduce sweep'), and
    a misspelt one gets a guess, instead of argparse's 'unrecognized arguments'."""
    own = set(flags_of(COMMANDS[name][0]))
    for arg in argv:
        flag = arg.split("=")[0]
        if not flag.startswith("--") or flag in own or flag in ("--help", "--"):
            continue
        others = [n for n, (cls, _, _) in COMMANDS.items() if flag in flags_of(cls)]
        if others:
            where = " or ".join(f"`reproduce {n}`" if n != "run" else "`reproduce`" for n in others)
            fail(f"{flag} belongs to {where}, not to `{prog}`", prog)
        guess = difflib.get_close_matches(flag, own, n=1, cutoff=0.8)
        if guess:
            fail(f"unknown flag {flag}; did you mean {guess[0]}?", prog)


def run() -> None:
    """The command line's entry point: main(), then an exit that skips Python's teardown of the
    loaded modules, which takes ~0.7 s once TensorFlow is loaded and does nothing for us:
    every output is written, renamed into place and closed when main() returns. A closed pipe
    behind stdout (reproduce --help | head -1) ends the command quietly."""
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    except BrokenPipeError:
        code = 141  # as a shell reports a command ended by SIGPIPE
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or 141
    except OSError as e:  # a full disk behind stdout
        print(f"reproduce: error: {_one_line(e)}", file=sys.__stderr__)
        code = 2
    os._exit(code)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def interrupted_message() -> str:
    """What an interrupt left, truly: outputs are committed whole or not at all (folder.py)."""
    done = folder.committed()
    if done:
        return f"reproduce: interrupted after the outputs in {', '.join(done)} were complete"
    return "reproduce: interrupted; nothing was written, earlier outputs are as they were"


def _one_line_errors() -> None:
    """Keep stderr to the one line of a user error.

    Messages are printed with backslash escapes where the locale cannot encode them (the
    tables hold '±'; under LC_ALL=C print would fail). A full disk also reaches other threads
    and finalizers (TensorFlow's event writer thread, imageio's writer): the main thread
    reports it as one line, so their tracebacks and log lines are not shown."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    threading.excepthook = _quiet_if_storage(threading.__excepthook__, lambda a: a.exc_value)
    sys.unraisablehook = _quiet_if_storage(sys.__unraisablehook__, lambda a: a.exc_value)
    tf_log = logging.getLogger("tensorflow")
    if not any(isinstance(f, _StorageFilter) for f in tf_log.filters):
        tf_log.addFilter(_StorageFilter())


def _quiet_if_storage(default, exception_of):
    def hook(args):
        if storage_problem(exception_of(args)) is None:
            default(args)

    return hook


class _StorageFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return storage_problem(RuntimeError(record.getMessage())) is None


def _one_line(e: Exception) -> str:
    """The message on one line; an OS error as 'file: reason', without Python's [Errno N]."""
    if isinstance(e, OSError) and e.strerror and e.filename:
        text = f"{e.filename}: {e.strerror}"
    else:
        text = str(e)
    return " ".join(text.split()) or e.__class__.__name__
