"""The end of every analysis command (l1-update, leaky-vs-l1, variants): a report, a figure and
a run record in <out>/analysis/, written all at once."""

import time
from collections.abc import Callable
from pathlib import Path

from ..config import Files
from ..core.data import Dataset
from ..output import record
from ..output.folder import check_writable, staged
from .result import Result
from .runs import show


def write_analysis(
    cfg: Files,
    name: str,
    started: float,
    measure: Callable[[Callable[[int], object]], tuple[str, Callable[[Path], object]]],
    data: Dataset,
    total: int,
    unit: str,
) -> Result:
    """Under the output lock, measure(advance) -> (report, draw), its progress bar `total` steps
    of `unit` (advance(n): n more done); writes <out>/analysis/<name>.md, <name>.png (by
    draw(path)) and <name>.json (the run record, with the hash of `data` as it was read)."""
    check_writable(cfg.out)
    owns = [f"analysis/{name}.{ext}" for ext in ("md", "png", "json")]
    with staged(cfg.out, owns=owns, force=cfg.force) as stage:
        say = show(cfg)
        with say.phase(f"training and measuring ({name})", total, unit) as advance:
            report, draw = measure(advance)
        with say.phase("report and figure"):
            folder = stage / "analysis"
            folder.mkdir()
            draw(folder / f"{name}.png")
            (folder / f"{name}.md").write_text(report, encoding="utf-8")
            record.write(folder / f"{name}.json", cfg, data_sha256=data.sha256)
    record.log_run(cfg.out, started)
    files = tuple(f"{name}.{ext}" for ext in ("md", "png", "json"))
    folder = Path(cfg.out) / "analysis"
    done = f"done in {time.time() - started:.1f} s; wrote {folder}/: {', '.join(files)}"
    return Result(report, done, folder, files)
