"""`reproduce data`: generate the noisy line with outliers and write it as CSV, with its run
record beside it (the same name, .json)."""

import hashlib
import time
from dataclasses import asdict
from pathlib import Path

from ..core import data
from ..output import record
from ..output.folder import write_text


def main(cfg: object) -> None:
    started = time.time()
    args = asdict(cfg)
    out, force = Path(args.pop("out")), args.pop("force")
    csv = data.to_csv(data.generate(**args))
    write_text(out, csv, overwrite=force)
    sha = hashlib.sha256(csv.encode("utf-8")).hexdigest()
    write_text(
        out.with_suffix(".json"), record.text(cfg, started, output_sha256=sha), overwrite=True
    )
    print(f"wrote {out} and its run record {out.with_suffix('.json')}")
