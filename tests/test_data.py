"""The generator's properties and the loader's one-line errors."""

import numpy as np
import pytest

from l1l2.core import data


def test_sizes_ranges_and_split():
    d = data.generate(seed=3)
    assert len(d.x) == 50 and d.train.sum() == 40 and (~d.train).sum() == 10
    assert np.isclose(d.x.min(), 0.5) and np.isclose(d.x.max(), 9.5)
    # x evenly spaced once sorted
    assert np.allclose(np.diff(np.sort(d.x)), 9.0 / 49, atol=1e-6)
    # training rows are the evenly spaced indices i*50//40 of the sorted array
    rank = np.argsort(np.argsort(d.x))
    assert sorted(rank[d.train]) == [i * 50 // 40 for i in range(40)]


def test_noise_and_shared_outlier_offset():
    d = data.generate(seed=5)
    resid = d.y - 2 * d.x  # noise (+ offset for outliers)
    rank = np.argsort(np.argsort(d.x))
    assert sorted(rank[d.outlier]) == list(range(0, 50, 5))
    clean = resid[~d.outlier]
    assert clean.min() >= 0 and clean.max() < 2
    # every outlier carries the same offset u*10 on top of its U[0,2) noise
    rng = np.random.default_rng(5)
    u = rng.uniform()
    off = resid[d.outlier] - u * 10
    assert off.min() >= -1e-5 and off.max() < 2


def test_deterministic_per_seed():
    a, b, c = data.generate(seed=1), data.generate(seed=1), data.generate(seed=2)
    assert data.to_csv(a) == data.to_csv(b) != data.to_csv(c)


def test_csv_round_trip(tmp_path):
    d = data.generate(seed=4)
    p = tmp_path / "d.csv"
    p.write_text(data.to_csv(d))
    e = data.load(p)
    for f in ("x", "y", "train", "outlier"):
        assert np.array_equal(getattr(d, f), getattr(e, f))


def test_committed_file_is_the_documented_command():
    assert open("data/line.csv").read() == data.to_csv(data.generate(seed=0))


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "not found"),
        ("", "is empty"),
        ("a,b,c\n1,2,train\n", "expected columns"),
        ("x,y,split\n1,abc,train\n", "must be numbers"),
        ("x,y,split\n1,nan,train\n1,2,test\n", "must be finite"),
        ("x,y,split\n1,2,train\n", "test split is empty"),
        ("x,y,split\n1,2,test\n", "train split is empty"),
        ("x,y,split\n1,2,valid\n", "split must be"),
        ("x,y,split\n1,2\n", "has 2 fields"),
    ],
)
def test_loader_errors_name_file_and_problem(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    if content is not None:
        p.write_text(content)
    with pytest.raises(data.DataError) as e:
        data.load(p)
    assert str(p) in str(e.value) and message in str(e.value) and "\n" not in str(e.value)


def test_loader_reads_bom_crlf_and_blank_lines(tmp_path):
    """What spreadsheets and editors write: a UTF-8 BOM, CRLF line ends, a blank last line."""
    plain = data.to_csv(data.generate(seed=2))
    (tmp_path / "odd.csv").write_bytes(
        b"\xef\xbb\xbf" + plain.replace("\n", "\r\n").encode() + b"\r\n"
    )
    (tmp_path / "plain.csv").write_text(plain)
    a, b = data.load(tmp_path / "odd.csv"), data.load(tmp_path / "plain.csv")
    for field in ("x", "y", "train", "outlier"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_the_protocol_data_set_is_recognised_and_no_other():
    """The blog's numbers are shown beside ours only on the protocol's data set."""
    assert data.is_protocol_data(data.load("data/line.csv"))
    assert data.is_protocol_data(data.generate())
    assert not data.is_protocol_data(data.generate(seed=1))
    d = data.generate()
    moved = data.Dataset(d.x, d.y + np.float32(1e-3), d.train, d.outlier)
    assert not data.is_protocol_data(moved)
