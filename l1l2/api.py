"""The commands as Python functions: settings in, a Result (the report, the rows, the files
written) out. The command line (cli.py) is a thin layer over the same mains.

    import l1l2
    r = l1l2.compare(quick=True)      # 2 runs x 5 epochs of none, l1, l2 -> outputs/runs/run-quick
    r.rows[0]["test_error_final"], r.out, r.files[:3]
    l1l2.optimum(lams=[0.3, 1.0]).rows

Every keyword is a field of the command's config (the flag without its dashes, - as _); a bad
value raises l1l2.errors.UsageError with the message the command line would print. Left out,
`out` follows the command line's rule: outputs/ for the default settings, outputs/runs/<name>/
for any other.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

from .commands import experiment, redraw
from .commands import optimum as optimum_command
from .commands import prune as prune_command
from .commands import sweep as sweep_command
from .config import Config, GifsConfig, OptimumConfig, PruneConfig, SweepConfig
from .shared.result import Result


def _run(cls: type, main: Callable[[Any], Result], config: Any, settings: dict) -> Result:
    """The config (given, or the command's defaults) with `settings` applied, resolved and
    checked as the command line would, then the command."""
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    if config is None:
        cfg = cls(**settings)
    else:
        cfg = dataclasses.replace(config, **({"out": None} | settings))  # out follows them
    cfg = cfg.resolved() if hasattr(cfg, "resolved") else cfg
    cfg.check()
    return main(cfg)


def compare(config: Config | None = None, **settings: Any) -> Result:
    """The five-run comparison of none, L1 and L2 (`reproduce`): rows per run, the tables,
    figures, GIFs, checkpoints and pruning in result.out."""
    return _run(Config, experiment.main, config, settings)


def sweep(config: SweepConfig | None = None, **settings: Any) -> Result:
    """Seeds x data draws x settings x lambdas (`reproduce sweep`): a row per model, the
    verdict per cell in result.extra["verdicts"]."""
    return _run(SweepConfig, sweep_command.main, config, settings)


def optimum(config: OptimumConfig | None = None, **settings: Any) -> Result:
    """The exact optimum of every objective (`reproduce optimum`): a row per method and
    lambda."""
    return _run(OptimumConfig, optimum_command.main, config, settings)


def prune(checkpoint: str, config: PruneConfig | None = None, **settings: Any) -> Result:
    """Prune a saved model and retrain the smaller net (`reproduce prune`)."""
    return _run(
        PruneConfig, prune_command.main, config, {"checkpoint": str(checkpoint), **settings}
    )


def gifs(config: GifsConfig | None = None, **settings: Any) -> Result:
    """Redraw the GIFs and figures of a run from its recording (`reproduce gifs`)."""
    return _run(GifsConfig, redraw.main, config, settings)
