"""The noisy line with outliers: a pure generator, a CSV writer and a validating loader."""

import csv
import dataclasses
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import file_problem

COLUMNS = ("x", "y", "split", "outlier")
DEFAULT = "data/line.csv"  # the protocol's data set, generate() with its defaults ...
DEFAULT_SHA256 = "6caaade54cec6aba7fce6ee1e46a5f132d8794ca6f8320d190c91adf3823efa2"  # ... its bytes
MAX_BYTES = 10_000_000  # the data sets here are a few kB; anything this big is a wrong file
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the network computes in float32


@dataclass(frozen=True)
class Dataset:
    """Samples in file order; training rows come in the order SGD visits them."""

    x: np.ndarray  # float32 [n]
    y: np.ndarray  # float32 [n]
    train: np.ndarray  # bool [n]
    outlier: np.ndarray  # bool [n]
    sha256: str = ""  # of the file's bytes, as they were parsed (load); "" if generated

    @property
    def x_train(self) -> np.ndarray:
        return self.x[self.train]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[self.train]

    @property
    def x_test(self) -> np.ndarray:
        return self.x[~self.train]

    @property
    def y_test(self) -> np.ndarray:
        return self.y[~self.train]

    def __repr__(self):
        return (
            f"Dataset({len(self.x)} samples: {self.train.sum()} train, "
            f"{(~self.train).sum()} test, {self.outlier.sum()} outliers)"
        )


def evenly_spaced(k: int, n: int) -> np.ndarray:
    """k indices spread evenly over range(n): i*n//k."""
    return np.arange(k) * n // k


def generate(
    seed: int = 0,
    n: int = 50,
    lo: float = 0.5,
    hi: float = 9.5,
    slope: float = 2.0,
    n_outliers: int = 10,
    outlier_scale: float = 10.0,
    noise: float = 2.0,
    train_frac: float = 0.8,
) -> Dataset:
    """The protocol's data set: y = slope*x + U[0,noise), outliers lifted by u*outlier_scale."""
    rng = np.random.default_rng(seed)
    x = np.linspace(lo, hi, n)
    y = slope * x
    outlier = np.zeros(n, bool)
    outlier[evenly_spaced(n_outliers, n)] = True
    y = y + outlier * rng.uniform() * outlier_scale  # one shared offset for all outliers
    y = y + rng.uniform(0.0, noise, n)
    train_idx = evenly_spaced(round(train_frac * n), n)
    train_idx = train_idx[rng.permutation(len(train_idx))]  # SGD order, shuffled once
    test_idx = np.setdiff1d(np.arange(n), train_idx)
    order = np.concatenate([train_idx, test_idx])
    train = np.arange(n) < len(train_idx)
    return Dataset(x[order].astype(np.float32), y[order].astype(np.float32), train, outlier[order])


def is_protocol_data(d: Dataset) -> bool:
    """Whether d is the protocol's data set, generate() with its defaults (data/line.csv)."""
    p = generate()
    return all(np.array_equal(getattr(d, k), getattr(p, k)) for k in ("x", "y", "train", "outlier"))


def to_csv(d: Dataset) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for x, y, tr, o in zip(d.x, d.y, d.train, d.outlier):
        w.writerow([repr(float(x)), repr(float(y)), "train" if tr else "test", int(o)])
    return buf.getvalue()


class DataError(InputError):
    pass


def overflow_problem(n: int, x_max: float, y_max: float) -> str | None:
    """None if n samples with |x| <= x_max and |y| <= y_max keep the network's sums finite.

    The network computes in float32: its costs add up squared errors (pred - y)^2 and its test
    errors |pred - y| over the samples, and pred starts near the size of x. Those sums are
    bounded by n * (x_max + y_max)^2; beyond FLOAT32_MAX they are inf and every number is NaN."""
    if float(x_max) + float(y_max) <= math.sqrt(FLOAT32_MAX / n):
        return None
    return (
        f"values up to |x| = {x_max:.3g} and |y| = {y_max:.3g} overflow float32 in the "
        f"network's sums of squared errors over {n} samples: n * (max|x| + max|y|)^2 must be "
        f"at most {FLOAT32_MAX:.3g}"
    )


def regenerated() -> Dataset:
    """The protocol's data set made by generate(), with the SHA-256 of its CSV, which must be
    DEFAULT_SHA256: another NumPy could draw other numbers, and then the data is not the
    protocol's."""
    d = generate()
    sha = hashlib.sha256(to_csv(d).encode("utf-8")).hexdigest()
    if sha != DEFAULT_SHA256:
        raise DataError(
            f"data file {DEFAULT}: not found, and generating it again gave other bytes (SHA-256 "
            f"{sha[:12]}..., expected {DEFAULT_SHA256[:12]}...): give --data a copy of the "
            "repository's data/line.csv"
        )
    return dataclasses.replace(d, sha256=sha)


def _read(path, fail) -> tuple[bytes, str]:
    """The file's bytes, read once (the hash and the parsed numbers come from the same bytes)."""
    problem = file_problem(path, MAX_BYTES)
    if problem == "not found":
        fail(f"not found (reproduce data --out {path} writes the protocol's data set there)")
    if problem:
        fail(problem)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        fail(f"cannot be read ({e.strerror})")
    if len(raw) > MAX_BYTES:
        fail(f"grew beyond the {MAX_BYTES / 1e6:.0f} MB allowed while it was read")
    return raw, hashlib.sha256(raw).hexdigest()


def load(path: str | Path) -> Dataset:
    """Read a CSV written by to_csv; every problem is a DataError naming the file.

    The SHA-256 in the Dataset is of the very bytes that were parsed, so the run record names
    the data the run used even if the file changes while the run goes on. The default path
    (DEFAULT), when missing (a run outside the repository), is the protocol's data set made
    again by generate() and checked against DEFAULT_SHA256."""

    def fail(msg):
        raise DataError(f"data file {path}: {msg}")

    if str(path) == DEFAULT and file_problem(path) == "not found":
        return regenerated()

    raw, sha256 = _read(path, fail)
    try:  # -sig: a BOM (Excel's CSV) is not data
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error) as e:
        fail(f"cannot be read as CSV text ({e.__class__.__name__})")
    if not rows:
        fail("is empty")
    header, body = [c.strip() for c in rows[0]], rows[1:]
    if header[:3] != ["x", "y", "split"] or header[3:] not in ([], ["outlier"]):
        fail(f"expected columns x,y,split[,outlier], found {','.join(header)}")
    xs, ys, train, outlier = [], [], [], []
    for line, row in enumerate(body, start=2):
        if not row:  # a blank line
            continue
        if len(row) != len(header):
            fail(f"line {line} has {len(row)} fields, expected {len(header)}")
        try:
            x, y = float(row[0]), float(row[1])
        except ValueError:
            fail(f"line {line}: x and y must be numbers, got {row[0]!r}, {row[1]!r}")
        if not (abs(x) <= FLOAT32_MAX and abs(y) <= FLOAT32_MAX):  # also refuses nan and inf
            fail(f"line {line}: x and y must be finite float32 numbers, got {row[0]!r}, {row[1]!r}")
        if row[2].strip() not in ("train", "test"):
            fail(f"line {line}: split must be 'train' or 'test', got {row[2]!r}")
        xs.append(x)
        ys.append(y)
        train.append(row[2].strip() == "train")
        outlier.append(len(row) > 3 and row[3].strip() == "1")
    train = np.array(train, bool)
    for name, mask in (("train", train), ("test", ~train)):
        if not mask.any():
            fail(f"the {name} split is empty")
    problem = overflow_problem(len(xs), np.max(np.abs(xs)), np.max(np.abs(ys)))
    if problem:
        fail(problem)
    return Dataset(
        np.array(xs, np.float32), np.array(ys, np.float32), train, np.array(outlier, bool), sha256
    )
