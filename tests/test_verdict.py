"""The sweep's paired L1-vs-L2 verdict: its numbers, when it refuses to speak, its invariance."""

import csv
import json

import numpy as np
import pytest
from conftest import ink
from scipy import stats as sp

from l1l2.cli import main
from l1l2.config import SweepConfig
from l1l2.shared import verdict

KEYS = {"lam", "order", "evaluation", "n", "mean_diff", "ci_low", "ci_high", "verdict", "headline"}


def row(method, seed, error, order="shuffle", lam=0.3, diverged=False):
    return {
        "method": method,
        "lam": lam,
        "seed": seed,
        "order": order,
        "diverged": diverged,
        "test_error_final": error,
        "test_error_tail_mean": error,
    }


def test_compare_against_scipy_and_the_verdict_rule():
    rng = np.random.default_rng(1)
    l1 = rng.normal(20, 3, 40)
    l2 = l1 + 2 + rng.normal(0, 1, 40)  # L2 worse by about 2
    got = verdict._compare(np.stack([l1, l2], axis=1))
    lo, hi = sp.t.interval(0.95, 39, loc=(l2 - l1).mean(), scale=sp.sem(l2 - l1))
    assert got["mean_diff"] == pytest.approx((l2 - l1).mean())
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((lo, hi))
    assert got["verdict"] == "l1" and got["n"] == 40
    assert verdict._compare(np.stack([l2, l1], axis=1))["verdict"] == "l2"
    noise = rng.normal(0, 1, 40)
    assert verdict._compare(np.stack([l1, l1 + noise - noise.mean()], axis=1))["verdict"] == "none"


@pytest.mark.parametrize("n", [0, 1])
def test_no_verdict_from_fewer_than_two_pairs(n):
    got = verdict._compare(np.ones((n, 2)))
    assert got["verdict"] is None and got["mean_diff"] is None and got["n"] == n


def test_diverged_and_nan_runs_leave_no_verdict_and_no_words():
    cfg = SweepConfig(seeds=2, lams=(0.3,), methods=("l1", "l2"))
    rows = [
        row("l1", 0, 5.0),
        row("l2", 0, 6.0),
        row("l1", 1, np.nan),
        row("l2", 1, 4.0, diverged=True),
    ]
    entries = verdict.paired_entries(cfg, rows, ["shuffle"])
    assert [e["n"] for e in entries] == [1, 1] and {e["verdict"] for e in entries} == {None}
    words = " ".join(verdict.plain_words(cfg, entries))
    assert "no verdict" in words and "does better" not in words and "claim" not in words
    assert json.loads(verdict.to_json(entries))[0]["mean_diff"] is None  # valid JSON, no NaN


def test_entries_cover_each_lambda_order_and_evaluation_with_one_headline():
    cfg = SweepConfig(seeds=3, lams=(0.0, 0.1, 0.3), methods=("l1", "l2"))
    rows = [
        row(m, s, 10.0 + s + (m == "l2") * (2 + 0.1 * (s - 1)), order=o, lam=lam)
        for o in ("shuffle", "file")
        for lam in (0.1, 0.3)
        for m in ("l1", "l2")
        for s in range(3)
    ]
    entries = verdict.paired_entries(cfg, rows, ["shuffle", "file"])
    assert len(entries) == 2 * 2 * 2  # lambda 0 is one model for every method: no pair
    assert [e for e in entries if e["headline"]] == [
        e
        for e in entries
        if (e["lam"], e["order"], e["evaluation"]) == (0.3, "shuffle", "tail_mean")
    ]
    assert all(e["mean_diff"] == pytest.approx(2.0) and e["verdict"] == "l1" for e in entries)
    assert all(set(e) == KEYS for e in json.loads(verdict.to_json(entries)))


def test_headline_lambda_is_the_blogs_or_the_nearest():
    assert verdict.headline_lam((0.0, 0.1, 0.3, 1.0)) == 0.3
    assert verdict.headline_lam((0.0, 0.2, 1.0)) == 0.2
    assert verdict.headline_lam((0.0,)) == 0.0


def sweep(tmp_path, name, data):
    out = tmp_path / name
    main(
        [
            "sweep",
            "--seeds",
            "3",
            "--lams",
            "0,0.3",
            "--methods",
            "l1,l2",
            "--epochs",
            "3",
            "--data",
            str(data),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    return out / "sweep"


def test_reordered_rows_give_the_same_shuffled_runs_and_headline(tmp_path, capsys, saved_figures):
    lines = open("data/line.csv").read().splitlines()
    header, train_rows, test_rows = lines[0], lines[1:41], lines[41:]
    rotated = tmp_path / "rotated.csv"  # the last training row moved to the front
    rotated.write_text("\n".join([header, train_rows[-1], *train_rows[:-1], *test_rows]) + "\n")
    a, b = sweep(tmp_path, "a", "data/line.csv"), sweep(tmp_path, "b", rotated)
    shuffled = [
        [r for r in csv.DictReader(open(f / "sweep.csv")) if r["order"] == "shuffle"]
        for f in (a, b)
    ]
    assert shuffled[0] == shuffled[1] and len(shuffled[0]) == 3 * 3  # lambda 0 once, l1, l2
    heads = [
        [e for e in json.loads((f / "paired.json").read_text()) if e["headline"]] for f in (a, b)
    ]
    assert heads[0] == heads[1] and len(heads[0]) == 1
    files = [
        [r for r in csv.DictReader(open(f / "sweep.csv")) if r["order"] == "file"] for f in (a, b)
    ]
    assert files[0] != files[1]  # the file's order is the factor that differs
    md = (a / "sweep.md").read_text()
    assert "**(headline)**" in md and "In plain words" in md
    [ax] = saved_figures["paired_vs_epoch.png"].axes
    assert [line.get_label() for line in ax.lines if not line.get_label().startswith("_")] == [
        "order shuffle (3 seeds)",
        "order file (3 seeds)",
    ]
    assert "L2 - L1" in ax.get_ylabel() and ink(a / "paired_vs_epoch.png") > 0.02
