"""`reproduce data`: generate the noisy line with outliers and write it as CSV."""

from dataclasses import asdict

from ..core import data
from ..output.folder import write_text


def main(cfg) -> None:
    args = asdict(cfg)
    write_text(args.pop("out"), data.to_csv(data.generate(**args)))
    print(f"wrote {cfg.out}")
