"""Numbers are checked before words: overflowing data is refused, a non-finite or absurd result
marks its run diverged in every table and CSV, and nothing (mean, verdict, sentence) is said
from fewer than two finite values."""

import csv
import io

import numpy as np
import pytest

from l1l2 import config
from l1l2.commands import experiment, leaky, sweep
from l1l2.core import data
from l1l2.shared import verdict
from l1l2.shared.runs import ABSURD, is_diverged, mean_std

WORDS = (
    "does better",
    "neither",
    "holds",
    "is reversed",
    "is not supported",
    "point partly",
    "closer",
)


def test_the_loader_refuses_values_whose_squares_overflow_float32(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("x,y,split,outlier\n1,2,train,0\n3.4e38,1,test,0\n")  # the row
    with pytest.raises(data.DataError, match="overflow float32 in the network's sums"):
        data.load(path)
    path.write_text("x,y,split\n1,2,train\n1e17,1,test\n")  # still fits
    assert data.load(path).x[1] == np.float32(1e17)


def test_the_data_command_refuses_what_the_loader_would(capsys):
    from l1l2.cli import main

    with pytest.raises(SystemExit) as e:
        main(["data", "--slope", "1e19", "--out", "/nonexistent/never.csv"])
    assert e.value.code == 2 and "would not fit float32" in capsys.readouterr().err


@pytest.mark.parametrize(
    "at, values, diverged",
    [
        (-1, (3.0, 2.5, 10.0), False),
        (7, (3.0, 2.5, 10.0), True),  # the step costs became non-finite
        (-1, (np.nan, 2.5, 10.0), True),
        (-1, (3.0, np.inf, 10.0), True),
        (-1, (1.3e33, 1.3e33, 4.7e33), True),  # --batch-size 40 --epochs 1 --lr 1e6
        (-1, (3.0, 2.5, 2 * ABSURD), True),
    ],
)
def test_one_rule_for_diverged(at, values, diverged):
    assert is_diverged(at, *values) is diverged


def test_mean_std_says_nothing_from_fewer_than_two_finite_values():
    assert mean_std([1.0, 3.0]) == "2.00 ± 1.41"
    assert mean_std([1.0, 3.0, np.nan]) == "2.00 ± 1.41 (1 of 3 diverged)"
    assert mean_std([1.0, 1e33]) == "- (1 of 2 diverged; fewer than 2 finite values)"
    assert mean_std([np.nan, np.nan]) == "- (2 of 2 diverged; fewer than 2 finite values)"
    assert mean_std([4.0]) == "- (fewer than 2 finite values)"


def fake_rows(cfg, errors):
    """Rows as result_rows makes them, with the given final test errors per run."""
    rows = []
    for m in cfg.methods:
        for k, e in enumerate(errors):
            row = {
                "method": m,
                "run": k,
                "seed": k,
                "test_error_final": e,
                "test_error_tail_mean": e,
                "objective": 3 * e,
                "optimum_objective": 50.0,
                "optimum_test_error": 5.0,
                "diverged_at_step": -1,
            }
            row["diverged"] = is_diverged(-1, e, e, 3 * e)
            rows.append(row)
    return rows


def test_results_csv_and_md_mark_the_same_runs_diverged():
    cfg = config.Config(runs=2, methods=("l1", "l2"))
    d = data.load(cfg.data)
    rows = fake_rows(cfg, [1.3e33, 20.0])
    table = list(csv.DictReader(io.StringIO(experiment.to_csv(rows))))
    assert [r["diverged"] for r in table] == ["True", "False"] * 2
    md = experiment.to_markdown(cfg, rows, d)
    for m in cfg.methods:
        line = next(x for x in md.splitlines() if x.startswith(f"| {m} |"))
        assert line.count("(1 of 2 diverged; fewer than 2 finite values)") == 2
        assert line.count("diverged (a cost or test error beyond 1e+30)") == 1
        assert "e+33" not in line
    assert "Fewer than two runs per method converged" in md


@pytest.mark.parametrize("error", [np.nan, 1e33])
def test_a_sweep_where_every_run_diverged_draws_no_verdict(error):
    cfg = config.SweepConfig(seeds=3, data_seeds=(0, 1), lams=(0.0, 0.3), methods=("l1", "l2"))
    rows = [
        {
            "draw": d,
            "lr": lr,
            "epochs": e,
            "schedule": sch,
            "order": o,
            "method": m,
            "lam": lam,
            "seed": s,
            "test_error_final": error,
            "test_error_tail_mean": error,
            "objective": error,
            "diverged": is_diverged(-1, error, error, error),
            "dead_fraction": 0.0,
            "pruned_sizes": "1-1-1",
            "constant": False,
            "optimum_test_error": 5.0,
            "optimum_objective": 50.0,
            "optimum_constant": False,
        }  # fmt: skip
        for d in cfg.data_seeds
        for lr in cfg.lrs
        for e in cfg.epochs
        for sch in cfg.lr_schedule
        for o in cfg.orders
        for lam in cfg.lams
        for m in (["none"] if lam == 0 else cfg.methods)
        for s in range(cfg.seeds)
    ]
    entries = verdict.verdicts(cfg, rows)
    assert entries and all(e["verdict"] is None and e["n_pairs"] == 0 for e in entries)
    md = sweep.to_markdown(cfg, rows, entries)
    assert "inconclusive" in md and not any(w in md for w in WORDS), md
    assert (
        "| l1 | 0.3 | constant | shuffle | 0 (6 diverged) | - (fewer than 2 finite values) |" in md
    )


def test_leaky_draws_no_conclusion_from_too_few_finite_cosines():
    assert np.isnan(leaky.window_mean([{"c": 0.5}], "c"))  # one value
    assert np.isnan(leaky.window_mean([{"c": np.nan}, {"c": 0.5}], "c"))
    assert leaky.window_mean([{"c": 0.5}, {"c": 0.3}, {"c": np.nan}], "c") == pytest.approx(0.4)
    for early, late in ((np.nan, 0.5), (0.5, np.nan), (np.nan, np.nan)):
        text = leaky.agreement(early, late)
        assert text.startswith("No conclusion") and not any(w in text for w in WORDS)
    assert "point partly the same way" in leaky.agreement(0.5, 0.3)
