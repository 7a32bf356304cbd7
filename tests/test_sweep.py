"""The sweep's statistics against SciPy and by hand, a tiny sweep end to end, bad arguments."""

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


def test_students_t_matches_scipy_stats():
    """stats computes Student's t with scipy.special (a lighter import): scipy.stats' values."""
    for df in (1, 3, 29, 1000):
        for q in (0.5, 0.9, 0.975, 0.999):
            assert stats.t_quantile(q, df) == sp.t.ppf(q, df)
        for x in (-40.0, -2.0, 0.0, 0.3, 5.0):
            assert stats.t_cdf(x, df) == sp.t.cdf(x, df)
            assert stats.t_cdf(-x, df) == sp.t.sf(x, df)


def test_one_draw_is_the_paired_t_test_over_seeds():
    rng = np.random.default_rng(0)
    d = rng.normal(-1, 0.5, 30)
    got = stats.difference([d])
    assert (got.n_draws, got.n_pairs, got.df, got.covers) == (1, 30, 29, "seeds")
    assert got.interval() == pytest.approx(sp.t.interval(0.95, 29, loc=d.mean(), scale=sp.sem(d)))
    assert got.p_difference() == pytest.approx(sp.ttest_1samp(d, 0).pvalue)


def test_several_draws_test_the_per_draw_means():
    """The interval covers the draws: its spread comes from the draw means, df = draws - 1."""
    rng = np.random.default_rng(1)
    by_draw = [rng.normal(mu, 1.0, n) for mu, n in ((0.2, 10), (0.5, 12), (-0.1, 9), (0.4, 10))]
    got = stats.difference(by_draw)
    means = np.array([d.mean() for d in by_draw])
    assert (got.n_draws, got.n_pairs, got.df, got.covers) == (4, 41, 3, "seeds and draws")
    assert got.mean == pytest.approx(means.mean()) and got.se == pytest.approx(sp.sem(means))
    assert got.p_difference() == pytest.approx(sp.ttest_1samp(means, 0).pvalue)


def test_equivalence_is_the_larger_of_two_one_sided_t_tests():
    d = stats.Difference(mean=0.1, se=0.2, df=9, n_pairs=10, n_draws=10, covers="seeds and draws")
    t_low, t_high = (0.1 + 0.5) / 0.2, (0.1 - 0.5) / 0.2
    want = max(sp.t.sf(t_low, 9), sp.t.cdf(t_high, 9))
    assert d.p_equivalence(0.5) == pytest.approx(want)
    assert d.p_equivalence(0.05) > 0.5  # a margin smaller than the difference: not equivalent


def test_no_difference_from_too_little():
    assert stats.difference([]) is None
    assert stats.difference([np.array([1.0])]) is None  # one pair
    assert stats.difference([np.array([1.0]), np.array([])]) is None  # one draw with a pair
    assert stats.difference([np.array([1.0]), np.array([2.0])]).n_draws == 2


def test_holm_by_hand():
    p = [0.01, 0.04, 0.03, np.nan, 0.005]
    # sorted: 0.005 (x4) = 0.02, 0.01 (x3) = 0.03, 0.03 (x2) = 0.06, 0.04 (x1) = 0.06 (monotone)
    np.testing.assert_allclose(stats.holm(p), [0.03, 0.06, 0.06, np.nan, 0.02])


def test_tiny_sweep_writes_expected_rows(tmp_path, capsys, monkeypatch, saved_figures):
    from l1l2.cli import main
    from l1l2.core import compiled

    args = ["sweep", "--seeds", "2", "--data-seeds", "0,1", "--lams", "0,0.3", "--epochs", "5"]
    args += ["--lrs", "0.01", "--out", str(tmp_path), "--no-progress"]
    main(args)
    rows = list(csv.DictReader(open(tmp_path / "sweep" / "sweep.csv")))
    want = [  # lambda 0 is one model, trained once per seed and order
        (d, sched, o, m, lam, s)
        for d in (0, 1)
        for sched in ("constant", "linear")
        for o in ("shuffle", "file")
        for lam in (0.0, 0.3)
        for m in (("none",) if lam == 0 else ("l1", "l2", "l1l2"))
        for s in (0, 1)
    ]
    got = [
        (int(r["draw"]), r["schedule"], r["order"], r["method"], float(r["lam"]), int(r["seed"]))
        for r in rows
    ]
    assert got == want
    for r in rows:
        assert np.isfinite(float(r["test_error_final"])) and r["diverged"] == "False"
        assert float(r["objective"]) >= float(r["optimum_objective"]) * (1 - 1e-6)
    md = (tmp_path / "sweep" / "sweep.md").read_text()
    assert "Does L2 beat L1? 4 cells, Holm-corrected" in md and "In plain words" in md
    [error, trapped] = saved_figures["sweep.png"].axes
    labels = [line.get_label() for line in error.lines]
    assert "l1, exact optimum" in labels and "l2, SGD linear lr (final)" in labels
    trapped_labels = [line.get_label() for line in trapped.lines]
    assert "l1: SGD trapped, lr 0.01" in trapped_labels
    ticks = [t.get_text() for t in error.get_xticklabels() + error.get_yticklabels()]
    assert all(float(t) >= 0 for t in ticks if t)  # plain numbers, no mathtext
    assert ink(tmp_path / "sweep" / "sweep.png") > 0.02
    # the models of a setting in 4 chunks, each in 2 parts, instead of one call: the same numbers
    monkeypatch.setattr(compiled, "PART_MODELS", 2)
    main([*args[:-3], "--chunk", "5", "--out", str(tmp_path / "chunked"), "--no-progress"])
    chunked = (tmp_path / "chunked" / "sweep" / "sweep.csv").read_bytes()
    assert chunked == (tmp_path / "sweep" / "sweep.csv").read_bytes()


@pytest.mark.parametrize("batch_size", [1, 2])
def test_fewer_epochs_take_the_first_rows_of_the_sample_orders(batch_size):
    """The sweep draws each model's orders once, for its most epochs; a setting of fewer epochs
    takes the first rows: those are the orders drawn for that many epochs."""
    from l1l2.core import data
    from l1l2.core.sgd import SGD, sample_table

    d = data.load("data/line.csv")
    kinds = ["shuffle", "file", "shuffle"]

    def table(epochs):
        spec = SGD(epochs=epochs, batch_size=batch_size)
        return sample_table(spec, d.x_train, d.y_train, [3, 4, 5], kinds)

    few, many = table(3), table(7)
    assert few.shape == (3 * 40 // batch_size, 3, batch_size)
    np.testing.assert_array_equal(many[: len(few)], few)


def test_a_sweep_of_two_epoch_counts_gives_the_rows_of_each_alone(tmp_path):
    from l1l2.cli import main

    args = ["sweep", "--seeds", "2", "--lams", "0.3", "--methods", "l1,l2", "--lrs", "0.01"]
    args += ["--lr-schedule", "constant", "--no-progress"]
    main([*args, "--epochs", "2,3", "--out", str(tmp_path / "both")])
    main([*args, "--epochs", "2", "--out", str(tmp_path / "alone")])
    both, alone = (
        list(csv.DictReader(open(tmp_path / run / "sweep" / "sweep.csv")))
        for run in ("both", "alone")
    )
    assert [r for r in both if r["epochs"] == "2"] == alone


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lams", ""], "--lams is empty"),
        (["--lams", "0.1,-0.3"], "--lams must be non-negative"),
        (["--seeds", "1"], "--seeds must be at least 2"),
        (["--methods", "l1,elastic"], "unknown method 'elastic'"),
        (["--lams", "0.1,abc"], "expected a comma-separated list of float"),
        (["--lr-schedule", "step"], "--lr-schedule must be constant, linear or cosine"),
        (["--epochs", "5,5"], "--epochs lists a value twice"),
        (["--epochs", "3", "--tail-epochs", "4"], "--tail-epochs must be between 1 and"),
        (["--margin", "2"], "--margin must be a fraction"),
        (["--data-seeds", "1,1"], "--data-seeds lists a seed twice"),
        (["--orders", "sorted"], "--orders must be file or shuffle"),
        (["--seeds", "100000", "--data-seeds", "0,1,2"], "more than the 1,000,000 allowed"),
    ],
)
def test_bad_sweep_arguments(capsys, args, message):
    from l1l2.cli import main

    with pytest.raises(SystemExit) as e:
        main(["sweep", *args])
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and err.count("\n") == 1, err
