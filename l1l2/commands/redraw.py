"""`reproduce gifs`: the figures and GIFs of an earlier run again, from its recording."""

from pathlib import Path

from ..output import recording
from ..output.folder import staged
from .experiment import write_figures


def main(cfg) -> None:
    rec = recording.load(Path(cfg.out) / recording.FILE)
    with staged(cfg.out, merge=True) as stage:
        write_figures(stage, rec, cfg.gif_seconds)
    print(f"redrew figures and GIFs from {Path(cfg.out) / recording.FILE}")
