"""What a command made: the report it prints, where it wrote, and its numbers as data.

Every command's main(cfg) returns a Result; the command line prints its report and last line,
the Python API (l1l2/api.py) hands it to the caller."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Result:
    report: str  # the Markdown the command prints (its tables and sentences)
    done: str  # the last line: what took how long, which files were written
    out: Path  # the folder (or file) written
    files: tuple[str, ...] = ()  # what was written there, relative to out
    rows: list[dict[str, Any]] = field(default_factory=list)  # the results, one dict per item
    extra: dict[str, Any] = field(default_factory=dict)  # more numbers, by the command

    def __repr__(self) -> str:
        return f"Result({len(self.rows)} rows, {len(self.files)} files in {self.out})"


def listing(stage: Path, out: str | Path) -> tuple[str, tuple[str, ...]]:
    """('wrote outputs/: results.md, figures/ (6 files), ...', every file's relative path): what
    a command put in its stage, in words and as a list."""
    parts = []
    for entry in sorted(stage.iterdir(), key=lambda p: (p.is_dir(), p.name)):
        if entry.is_dir():
            n = sum(1 for f in entry.rglob("*") if f.is_file())
            parts.append(f"{entry.name}/ ({n} file{'s' * (n != 1)})")
        else:
            parts.append(entry.name)
    files = tuple(sorted(str(f.relative_to(stage)) for f in stage.rglob("*") if f.is_file()))
    return f"wrote {Path(out)}/: " + ", ".join(parts), files
