"""`reproduce data`: generate the noisy line with outliers and write it as CSV, with its run
record beside it (the same name, .json)."""

import hashlib
import time
from pathlib import Path

from ..config import DataConfig
from ..core import data
from ..output import record
from ..output.folder import write_texts


def main(cfg: DataConfig) -> None:
    """Write the CSV and its run record beside it, both or neither; an existing file at either
    path is replaced only with --force."""
    started = time.time()
    out = Path(cfg.out)
    csv = data.to_csv(data.generate(**cfg.generator()))
    sha = hashlib.sha256(csv.encode("utf-8")).hexdigest()
    run_record = out.with_suffix(".json")
    write_texts(
        {out: csv, run_record: record.text(cfg, started, output_sha256=sha)}, overwrite=cfg.force
    )
    print(f"wrote {out} and its run record {run_record}")
