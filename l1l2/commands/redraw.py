"""`reproduce gifs`: the figures and GIFs of an earlier run again, from its recording."""

from pathlib import Path

from ..config import GifsConfig
from ..errors import require
from ..output import drawing, gifs, recording
from ..output.folder import OutputError, finish_interrupted, identity, staged
from ..shared.result import Result, listing
from ..shared.runs import MAX_GB, show


def main(cfg: GifsConfig) -> Result:
    """Redraw from <out>/recording.npz: a commit cut short in <out> is finished before it is
    read, and a recording replaced while it was read is refused (the GIFs and figures of one
    run, never of two)."""
    path = Path(cfg.out) / recording.FILE
    finish_interrupted(path, cfg.out, cfg.force)
    read = identity(path)
    rec = recording.load(path)
    sizes = [rec["kernels"][0].shape[2]] + [k.shape[3] for k in rec["kernels"]]
    gb = recording.nbytes(rec) / 1e9 + gifs.drawing_gb(
        sizes, len(rec["frame_steps"]), cfg.gif_seconds
    )
    require(
        gb <= MAX_GB,
        f"drawing {path} needs about {gb:,.1f} GB of memory, more than the "
        f"{MAX_GB} GB allowed: lower --gif-seconds (fewer frames)",
    )
    with staged(cfg.out, merge=True, owns=("figures", "gifs"), force=cfg.force) as stage:
        if identity(path) != read:
            raise OutputError(f"{path} was replaced while it was read; run the command again")
        with show(cfg, tensorflow=False).phase("figures and GIFs"):
            drawing.figures(stage, rec, cfg.gif_seconds)
        wrote, files = listing(stage, cfg.out)
    return Result("", f"redrew the figures and GIFs of {path}; {wrote}", Path(cfg.out), files)
