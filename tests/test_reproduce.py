"""End to end: ./reproduce --quick writes the promised files; bad flags change nothing."""

import csv
import json

import pytest
from conftest import ink, run_reproduce


def test_quick_run_writes_results(quick_run):
    rows = list(csv.DictReader(open(quick_run / "results.csv")))
    assert [(r["method"], r["run"], r["seed"]) for r in rows] == [
        (m, str(k), str(k)) for m in ("none", "l1", "l2") for k in range(2)
    ]
    for r in rows:
        assert float(r["test_error_final"]) > 0 and float(r["objective"]) > 0
        assert float(r["test_error_tail_mean"]) > 0
        assert all(0 <= int(r[f"near_zero_dense{k}"]) <= 100 for k in range(1, 5))
    md = (quick_run / "results.md").read_text()
    assert "| l1 |" in md and "| l2 |" in md and "| l1 (blog) |" in md
    record = json.loads((quick_run / "config.json").read_text())
    assert record["config"]["runs"] == 2 and record["config"]["epochs"] == 5
    assert record["seeds"] == {f"{m}_run{k}": k for m in ("none", "l1", "l2") for k in range(2)}
    assert record["versions"]["tensorflow"]
    assert ink(quick_run / "figures" / "fit.png") > 0.02
    assert not list((quick_run / ".reproduce").glob("stage-*"))  # the stage is gone


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lam", "-0.1"], "--lam must be non-negative"),
        (["--lr", "0"], "--lr must be positive"),
        (["--runs", "0"], "--runs must be at least 1"),
        (["--sizes", "2,10,1"], "--sizes must start and end with 1"),
        (["--methods", "l1,l3"], "unknown method 'l3'"),
        (["--epochs", "ten"], "expected an integer"),
    ],
)
def test_bad_flags_exit_2_and_leave_outputs_alone(tmp_path, args, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("earlier results\n")
    res = run_reproduce(*args, "--out", out)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("reproduce: error:")
    assert message in res.stderr and "Traceback" not in res.stderr
    assert [p.name for p in out.iterdir()] == ["results.csv"]
    assert (out / "results.csv").read_text() == "earlier results\n"


def test_missing_data_file_is_one_line(tmp_path, capsys):
    from l1l2.cli import main

    with pytest.raises(SystemExit) as e:
        main(["--quick", "--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "nope.csv: not found" in err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()


def test_help_of_every_command(capsys):
    from l1l2.cli import COMMANDS, main

    for name in [None, *COMMANDS]:
        with pytest.raises(SystemExit) as e:
            main(["--help"] if name is None else [name, "--help"])
        out = capsys.readouterr().out
        assert e.value.code == 0 and "usage: reproduce" in out and "--" in out


def test_the_blogs_runs_appear_only_beside_the_protocols_data(tmp_path):
    from l1l2.commands import experiment
    from l1l2.config import Config
    from l1l2.core import data
    from l1l2.shared import pruned as prune

    rows = [
        {
            "method": "l1",
            "run": 0,
            "seed": 0,
            "test_error_final": 1.0,
            "test_error_tail_mean": 2.0,
            "objective": 90.0,
            "optimum_objective": 80.0,
            "optimum_test_error": 5.0,
            "diverged_at_step": -1,
            "diverged": False,
        }
    ]
    cfg = Config(runs=1, methods=("l1",))
    assert "l1 (blog)" in experiment.to_markdown(cfg, rows, data.generate())
    assert "l1 (blog)" not in experiment.to_markdown(cfg, rows, data.generate(seed=1))
    assert "blog: retrained" in prune.to_markdown([], 0.01)
    assert "blog: retrained" not in prune.to_markdown([], 0.01, blog_anchor=False)


def test_without_a_bar_the_training_gets_no_progress_callback(tmp_path, monkeypatch):
    """A progress callback makes an engine split its loop into calls (~2% of the default run):
    without a bar to move (--no-progress, or stderr not a terminal), none is passed."""
    from l1l2.cli import main
    from l1l2.commands import experiment

    seen, real = [], experiment.train_runs
    monkeypatch.setattr(
        experiment, "train_runs", lambda *a, **k: seen.append(a[3]) or real(*a, **k)
    )
    off = ["--no-gifs", "--no-tensorboard", "--no-checkpoints", "--no-prune"]
    main(["--quick", "--quiet", *off, "--out", str(tmp_path)])
    assert seen == [None]
