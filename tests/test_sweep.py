"""The sweep on a tiny grid, its statistics against SciPy and a hand computation, bad arguments."""

import csv

import numpy as np
import pytest
from conftest import ink
from scipy import stats as sp

from l1l2.core import stats


def test_mean_ci_against_hand_computation():
    v = np.array([3.0, 5.0, 4.0, 8.0, 10.0])
    m, lo, hi = stats.mean_ci(v)
    half = 2.7764451051977987 * v.std(ddof=1) / np.sqrt(5)  # t(0.975, df=4), from tables
    assert m == pytest.approx(6.0) and (lo, hi) == pytest.approx((6 - half, 6 + half))
    assert (lo, hi) == pytest.approx(sp.t.interval(0.95, 4, loc=m, scale=sp.sem(v)))


def test_paired_comparison():
    rng = np.random.default_rng(0)
    a = rng.normal(10, 2, 30)
    b = a - 1 + rng.normal(0, 0.5, 30)
    p = stats.paired(a, b)
    d = b - a
    assert p["mean_diff"] == pytest.approx(d.mean())
    assert p["ci"] == pytest.approx(sp.t.interval(0.95, 29, loc=d.mean(), scale=sp.sem(d)))
    assert p["t_p"] == pytest.approx(sp.ttest_1samp(d, 0).pvalue)
    assert p["b_better"] == (d < 0).sum()


def test_tiny_sweep_writes_expected_rows(tmp_path, capsys, monkeypatch, saved_figures):
    from l1l2.cli import main
    from l1l2.core import compiled

    args = ["sweep", "--seeds", "2", "--lams", "0,0.3", "--epochs", "5"]
    args += ["--out", str(tmp_path), "--no-progress"]
    main(args)
    rows = list(csv.DictReader(open(tmp_path / "sweep" / "sweep.csv")))
    want = [  # lambda 0 is one model, trained once per seed and order
        (m, lam, s, o)
        for o in ("shuffle", "file")
        for lam in (0.0, 0.3)
        for m in (("none",) if lam == 0 else ("l1", "l2", "l1l2"))
        for s in (0, 1)
    ]
    assert [(r["method"], float(r["lam"]), int(r["seed"]), r["order"]) for r in rows] == want
    for r in rows:
        assert np.isfinite(float(r["test_error_final"])) and np.isfinite(
            float(r["test_error_tail_mean"])
        )
        assert 0 <= float(r["dead_fraction"]) <= 1 and r["diverged"] == "False"
    md = (tmp_path / "sweep" / "sweep.md").read_text()
    assert "Does L2 beat L1?" in md and "In plain words" in md
    [error, dead] = saved_figures["sweep.png"].axes
    assert [line.get_label() for line in error.lines] == ["l1", "l2", "l1l2"]
    assert len(error.collections) == 3 and len(dead.lines) == 3  # a CI band per method
    assert ink(tmp_path / "sweep" / "sweep.png") > 0.02
    # the 16 models in 4 chunks of 4, each in 2 parts of 2, instead of one call: the same numbers
    monkeypatch.setattr(compiled, "PART_MODELS", 2)
    monkeypatch.setattr(compiled, "MIN_PART", 1)
    main([*args[:-3], "--chunk", "5", "--out", str(tmp_path / "chunked"), "--no-progress"])
    chunked = (tmp_path / "chunked" / "sweep" / "sweep.csv").read_bytes()
    assert chunked == (tmp_path / "sweep" / "sweep.csv").read_bytes()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lams", ""], "--lams is empty"),
        (["--lams", "0.1,-0.3"], "--lams must be non-negative"),
        (["--seeds", "1"], "--seeds must be at least 2"),
        (["--methods", "l1,elastic"], "unknown method 'elastic'"),
        (["--lams", "0.1,abc"], "expected a comma-separated list of float"),
    ],
)
def test_bad_sweep_arguments(capsys, args, message):
    from l1l2.cli import main

    with pytest.raises(SystemExit) as e:
        main(["sweep", *args])
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and err.count("\n") == 1


def test_pruned_sizes_distribution_names_the_rest():
    from collections import Counter

    from l1l2.commands.sweep import pruned_sizes_text

    counts = Counter(
        {"1-1-1-1-1": 174, "1-1-1-2-1": 18, "1-2-1-1-1": 5, "constant": 2, "1-2-2-1-1": 1}
    )
    assert (
        pruned_sizes_text(counts) == "1-1-1-1-1 ×174, 1-1-1-2-1 ×18, 1-2-1-1-1 ×5, 2 other sizes ×3"
    )
    assert pruned_sizes_text(Counter({"1-10-1": 3})) == "1-10-1 ×3"
