"""`reproduce data`: generate the noisy line with outliers and write it as CSV, with its run
record beside it (the same name, .json)."""

import hashlib
from pathlib import Path

from ..config import DataConfig
from ..core import data
from ..output import record
from ..output.folder import write_text
from ..shared.result import Result


def main(cfg: DataConfig) -> Result:
    out = Path(cfg.out)
    csv = data.to_csv(data.generate(**cfg.generator()))
    write_text(out, csv, overwrite=cfg.force)
    sha = hashlib.sha256(csv.encode("utf-8")).hexdigest()
    write_text(out.with_suffix(".json"), record.text(cfg, output_sha256=sha), overwrite=True)
    files = (out.name, out.with_suffix(".json").name)
    return Result("", f"wrote {out} and its run record {out.with_suffix('.json')}", out, files)
