"""`reproduce data`: generate the noisy line with outliers and write it as CSV."""

from dataclasses import asdict

from ..core import data
from ..output.folder import write_text


def main(cfg) -> None:
    args = asdict(cfg)
    out, force = args.pop("out"), args.pop("force")
    write_text(out, data.to_csv(data.generate(**args)), overwrite=force)
    print(f"wrote {cfg.out}")
