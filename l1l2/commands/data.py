"""`reproduce data`: generate the noisy line with outliers and write it as CSV, with its run
record beside it (the same name, .json)."""

import hashlib
from pathlib import Path

from ..config import DataConfig
from ..core import data
from ..output import record
from ..output.folder import write_texts
from ..shared.result import Result


def main(cfg: DataConfig) -> Result:
    """Write the CSV and its run record beside it, both or neither; an existing file at either
    path is replaced only with --force."""
    out = Path(cfg.out)
    csv = data.to_csv(data.generate(**cfg.generator()))
    sha = hashlib.sha256(csv.encode("utf-8")).hexdigest()
    run_record = out.with_suffix(".json")
    write_texts({out: csv, run_record: record.text(cfg, output_sha256=sha)}, overwrite=cfg.force)
    done = f"wrote {out} and its run record {run_record}"
    return Result("", done, out, (out.name, run_record.name))
