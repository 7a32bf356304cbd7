"""`reproduce data`: generate the noisy line with outliers and write it as CSV, with its run
record beside it (the same name, .json)."""

import hashlib
import time
from pathlib import Path

from ..config import DataConfig
from ..core import data
from ..output import record
from ..output.folder import write_text


def main(cfg: DataConfig) -> None:
    started = time.time()
    out = Path(cfg.out)
    csv = data.to_csv(data.generate(**cfg.generator()))
    write_text(out, csv, overwrite=cfg.force)
    sha = hashlib.sha256(csv.encode("utf-8")).hexdigest()
    write_text(
        out.with_suffix(".json"), record.text(cfg, started, output_sha256=sha), overwrite=True
    )
    print(f"wrote {out} and its run record {out.with_suffix('.json')}")
