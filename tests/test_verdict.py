"""The sweep's verdict per cell: its rule, when it refuses to speak, what it does not depend on."""

import csv
import json

import numpy as np
import pytest
from conftest import ink

from l1l2.cli import main
from l1l2.config import SweepConfig
from l1l2.shared import verdict

CFG = SweepConfig(seeds=4, data_seeds=(0, 1, 2), lams=(0.3,), methods=("l1", "l2"), lrs=(0.01,),
                  epochs=(100,), lr_schedule=("constant",), orders=("shuffle",))  # fmt: skip


def rows(diff, l1=20.0, diverged=()):
    """One cell: L1 errors l1 + noise, L2 = L1 + diff(draw, seed); (draw, seed) in diverged
    lose their L2 run; objectives at the optimum (converged)."""
    out = []
    for d in CFG.data_seeds:
        for s in range(CFG.seeds):
            e1 = l1 + np.sin(3 * d + s)
            for m, e in (("l1", e1), ("l2", e1 + diff(d, s))):
                out.append(
                    {
                        "method": m,
                        "lam": 0.3,
                        "lr": 0.01,
                        "epochs": 100,
                        "schedule": "constant",
                        "order": "shuffle",
                        "draw": d,
                        "seed": s,
                        "test_error_tail_mean": e,
                        "diverged": m == "l2" and (d, s) in diverged,
                        "objective": 100.0,
                        "optimum_objective": 100.0,
                        "optimum_test_error": 5.0,
                    }  # fmt: skip
                )
    return out


def one(diff, **kw):
    [e] = verdict.verdicts(CFG, rows(diff, **kw))
    return e


def test_a_clear_difference_is_the_better_method():
    e = one(lambda d, s: -3.0 + 0.1 * np.cos(d + 2 * s))  # L2 lower by about 3
    assert e["verdict"] == "l2" and e["mean_diff"] == pytest.approx(-3.0, abs=0.1)
    assert (e["n_draws"], e["n_pairs"], e["covers"]) == (3, 12, "seeds and draws")
    assert one(lambda d, s: 3.0 + 0.1 * np.cos(d + 2 * s))["verdict"] == "l1"


def test_a_difference_within_the_margin_is_equivalent_whatever_its_sign():
    e = one(lambda d, s: 0.01 + 0.001 * np.cos(d + 2 * s))  # 2% of ~20 = 0.4 > 0.01
    assert e["margin"] == pytest.approx(0.02 * 20.005, rel=0.01)
    assert e["verdict"] == "equivalent" and e["p_difference_holm"] < 0.05  # nonzero, but tiny


def test_noise_is_inconclusive():
    e = one(lambda d, s: (1.5, -2.0, 0.7)[d] + 0.5 * np.sin(s))  # draws disagree: no verdict
    assert e["verdict"] is None and verdict.SHORT[e["verdict"]] == "inconclusive"


def test_holm_counts_every_cell():
    cfg = SweepConfig(seeds=4, data_seeds=(0, 1, 2), lams=(0.3, 1.0), methods=("l1", "l2"))
    assert len(verdict.cells(cfg)) == 2 * 2 * 2 * 2 * 2  # lams x lrs x epochs x schedules x orders
    assert verdict.verdicts(cfg, []) and all(
        e["verdict"] is None for e in verdict.verdicts(cfg, [])
    )


def test_no_verdict_from_too_few_pairs_and_valid_json():
    every = {(d, s) for d in CFG.data_seeds for s in range(CFG.seeds)}
    e = one(lambda d, s: -3.0, diverged=every - {(0, 0)})  # one pair left
    assert e["verdict"] is None and e["mean_diff"] is None and e["n_pairs"] == 0
    text = verdict.to_json([e])
    assert "NaN" not in text and json.loads(text)[0]["p_difference"] is None
    words = " ".join(verdict.plain_words([e]))
    assert "L2 better" not in words and "equivalent" not in words


def test_cells_where_sgd_did_not_converge_are_told_apart():
    r = rows(lambda d, s: -3.0 + 0.1 * np.cos(d + 2 * s))
    for x in r:
        x["objective"] = 130.0  # 30% above the optimum: SGD is not there
    [e] = verdict.verdicts(CFG, r)
    assert e["verdict"] == "l2" and not e["converged"] and e["objective_ratio"] == 1.3
    assert "SGD did not converge in 1 of 1 cells: L2 better" in verdict.plain_words([e])[0]


def sweep(tmp_path, name, data):
    out = tmp_path / name
    main(["sweep", "--seeds", "3", "--data-seeds", "", "--lams", "0,0.3", "--methods", "l1,l2",
          "--epochs", "3", "--lrs", "0.01", "--lr-schedule", "constant", "--data", str(data),
          "--out", str(out), "--no-progress"])  # fmt: skip
    return out / "sweep"


def test_reordered_rows_give_the_same_shuffled_runs(tmp_path, capsys, saved_figures):
    lines = open("data/line.csv").read().splitlines()
    header, train_rows, test_rows = lines[0], lines[1:41], lines[41:]
    rotated = tmp_path / "rotated.csv"  # the last training row moved to the front
    rotated.write_text("\n".join([header, train_rows[-1], *train_rows[:-1], *test_rows]) + "\n")
    a, b = sweep(tmp_path, "a", "data/line.csv"), sweep(tmp_path, "b", rotated)
    read = lambda f, order: [
        r for r in csv.DictReader(open(f / "sweep.csv")) if r["order"] == order
    ]
    assert read(a, "shuffle") == read(b, "shuffle") and len(read(a, "shuffle")) == 3 * 3
    assert read(a, "file") != read(b, "file")  # the file's order is the factor that differs
    cells = [json.loads((f / "paired.json").read_text())[0] for f in (a, b)]
    own = lambda e: {k: v for k, v in e.items() if not k.endswith("_holm") and k != "verdict"}
    assert own(cells[0]) == own(cells[1]) and cells[0]["order"] == "shuffle"  # Holm: all cells
    assert cells[0]["covers"] == "seeds"  # one data set: the interval says so
    md = (a / "sweep.md").read_text()
    assert "one data set (`data/line.csv`): the intervals cover seeds only" in md
    [ax] = saved_figures["paired_vs_epoch.png"].axes
    assert [line.get_label() for line in ax.lines if not line.get_label().startswith("_")] == [
        "order shuffle (3 pairs)",
        "order file (3 pairs)",
    ]
    assert "L2 - L1" in ax.get_ylabel() and ink(a / "paired_vs_epoch.png") > 0.02
