"""Checkpoints that say what they are: the record beside the TF files, and `reproduce prune`
taking its settings from it. The run is rrelu (random slopes drawn from the seed), seed 3,
shuffled: every fallback would be wrong."""

import csv
import hashlib
import json
import os
import re
import time

import numpy as np
import pytest

from l1l2.cli import main
from l1l2.core import checkpoints, model
from l1l2.output.folder import CONTROL, staged
from l1l2.tf1 import session, tf

RUN = [
    "--methods",
    "l2,l1",
    "--runs",
    "2",
    "--epochs",
    "10",
    "--seed",
    "3",
    "--activation",
    "rrelu",
    "--order",
    "shuffle",
    "--no-gifs",
    "--no-tensorboard",
    "--no-progress",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    main([*RUN, "--out", str(out)])
    return out


def row_of(text, name):
    (row,) = [line for line in text.splitlines() if line.startswith(f"| {name} ")]
    return row


def prune_cli(*args, out):
    main(["prune", *map(str, args), "--out", str(out)])
    return (out / "pruned" / "report.md").read_text()


def test_trained_run_records_how_it_was_trained(run):
    params, rec = checkpoints.load(run / "checkpoints" / "l1_run1")
    rows = csv.DictReader(open(run / "results.csv"))
    row = next(r for r in rows if r["method"] == "l1" and r["run"] == "1")
    sha = hashlib.sha256(open("data/line.csv", "rb").read()).hexdigest()
    assert rec == {
        "format": checkpoints.FORMAT,
        "name": "l1_run1",
        "kind": "trained",
        "sizes": [1, 10, 10, 10, 1],
        "activation": "rrelu",
        "method": "l1",
        "lam": 0.3,
        "penalty": {"kernel": "l1:0.3", "bias": "none", "activity": "none"},
        "l1_update": "subgradient",
        "lr": 0.01,
        "lr_schedule": "constant",
        "epochs": 10,
        "batch_size": 1,
        "order": "shuffle",
        "seed": 4,
        "tail_epochs": 1,
        "zero_tol": 0.01,
        "data": {"file": "data/line.csv", "sha256": sha},
        "derived_from": None,
        "test_error": pytest.approx(float(row["test_error_final"]), abs=1e-6),
        "test_error_tail_mean": pytest.approx(float(row["test_error_tail_mean"]), abs=1e-6),
        "tensors": checkpoints.TENSORS,
    }
    assert checkpoints.load(run / "checkpoints" / "l2_run0").record["penalty"]["kernel"] == "l2:0.3"
    assert (run / "checkpoints" / "l1_run1" / "model.meta").is_file()


@pytest.mark.parametrize("k", [0, 1])
def test_prune_on_a_checkpoint_reproduces_its_row_of_pruning_md(run, tmp_path, k):
    report = prune_cli("--checkpoint", run / "checkpoints" / f"l1_run{k}", out=tmp_path)
    mine = row_of(report, f"l1_run{k}")
    assert mine == row_of((run / "pruning.md").read_text(), f"l1_run{k}")
    assert f"(seed {3 + k})" in mine and "nan" not in mine  # pruned and retrained both ways
    settled = json.loads((tmp_path / "pruned" / "config.json").read_text())["config"]
    got = tuple(settled[k] for k in ("seed", "activation", "order", "epochs"))
    assert got == (3 + k, "rrelu", "shuffle", 10)
    assert "No flag overrode it." in report


def test_a_flag_given_overrides_the_record_and_the_report_says_so(run, tmp_path, capsys):
    report = prune_cli(
        "--checkpoint",
        run / "checkpoints" / "l1_run0",
        "--seed",
        "0",
        "--retrain",
        "scratch",
        out=tmp_path,
    )
    assert "Given on the command line, overriding the record: `--seed 0` (the record: 3)." in report
    assert "| l1_run0 (seed 0) |" in report
    assert "note: --seed 0 overrides the record's 3" in capsys.readouterr().err
    rec = checkpoints.load(tmp_path / "pruned" / "l1_run0_scratch").record
    assert rec["seed"] == 0
    assert rec["derived_from"]["overrides"] == {"seed": {"given": 0, "record": 3}}


def test_another_activation_is_noticed_by_its_test_error(run, tmp_path, capsys):
    prune_cli(
        "--checkpoint",
        run / "checkpoints" / "l1_run0",
        "--activation",
        "tanh",
        "--retrain",
        "none",
        out=tmp_path,
    )
    err = capsys.readouterr().err
    assert "note: --activation tanh overrides the record's rrelu" in err
    assert "in the record: the data, activation or penalties differ from the checkpoint's" in err


def saved(tmp_path, **rec):
    """A checkpoint of a small net with the record `rec` (a dict) written as its model.json."""
    folder = tmp_path / "ck"
    checkpoints.save(folder, model.glorot_init((1, 2, 1), 0))
    rec = {"format": checkpoints.FORMAT, "sizes": [1, 2, 1], **rec}
    (folder / "model.json").write_text(json.dumps(rec))
    return folder


V1 = '"format": "l1l2 checkpoint record 1", "sizes": [1, 2, 1]'


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "its record model.json is not JSON (JSONDecodeError)"),
        (
            '["a list"]',
            "its record model.json has format None; this code reads 'l1l2 checkpoint record 1'",
        ),
        ('{"format": "l1l2 checkpoint record 2"}', "has format 'l1l2 checkpoint record 2'"),
        (
            '{"format": "l1l2 checkpoint record 1", "sizes": [1, 3, 1]}',
            "describes sizes [1, 3, 1], the arrays have [1, 2, 1]",
        ),
        ("{" + V1 + ', "seed": "3"}', 'seed is "3", expected an integer'),
        ("{" + V1 + ', "lr": true}', "lr is true, expected a number"),
        ("{" + V1 + ', "penalty": {"kernel": 1}}', "every value of penalty must be a string"),
        # every field that names a path, checked when the record is read
        pytest.param(
            "{" + V1 + ', "name": "/elsewhere/evil"}',
            'name is "/elsewhere/evil", expected a plain name',
            id="name absolute",
        ),
        pytest.param(
            "{" + V1 + ', "name": "../../victim/x"}',
            'name is "../../victim/x", expected a plain name',
            id="name climbing",
        ),
        pytest.param(
            "{" + V1 + ', "data": {"file": "a\\u0000b"}}', "data.file holds a NUL byte", id="NUL"
        ),
        pytest.param(
            "{" + V1 + ', "derived_from": ' + "[" * 10**5 + "]" * 10**5 + "}",
            "is nested more than 32 deep",
            id="nested",
        ),
    ],
)
def test_a_bad_record_is_refused(tmp_path, text, message):
    folder = saved(tmp_path)
    (folder / "model.json").write_text(text)
    with pytest.raises(checkpoints.CheckpointError, match="^checkpoint .*" + re.escape(message)):
        checkpoints.load(folder)


def test_a_record_that_is_a_fifo_is_refused(tmp_path):
    folder = saved(tmp_path)
    (folder / "model.json").unlink()
    os.mkfifo(folder / "model.json")
    with pytest.raises(checkpoints.CheckpointError, match="model.json is not a regular file"):
        checkpoints.load(folder)


@pytest.mark.parametrize(
    "rec, message",
    [
        ({"lr": -1}, "its record model.json holds a setting prune refuses: --lr must be positive"),
        (
            {"penalty": {"kernel": "l3:1"}},
            "holds a setting prune refuses: invalid regularizer 'l3:1'",
        ),
        (
            {"data": {"file": "nowhere.csv"}},
            "its record's data file nowhere.csv: not found; give --data",
        ),
    ],
)
def test_prune_refuses_a_record_it_cannot_use(tmp_path, capsys, rec, message):
    folder = saved(tmp_path, **rec)
    with pytest.raises(SystemExit) as e:
        main(["prune", "--checkpoint", str(folder), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and message in err, err


def test_checkpoints_do_not_depend_on_pruning(tmp_path):
    main(
        [
            "--methods",
            "l1",
            "--runs",
            "1",
            "--epochs",
            "1",
            "--no-gifs",
            "--no-tensorboard",
            "--no-progress",
            "--no-prune",
            "--out",
            str(tmp_path),
        ]
    )
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["l1_run0"]
    assert not (tmp_path / "pruning.md").exists()
    assert checkpoints.load(tmp_path / "checkpoints" / "l1_run0").record["kind"] == "trained"


def test_non_finite_numbers_are_written_as_null(tmp_path):
    checkpoints.save(
        tmp_path, model.glorot_init((1, 2, 1), 0), record={"test_error": np.nan, "lr": 0.5}
    )
    rec = checkpoints.load(tmp_path).record
    assert rec["test_error"] is None and rec["lr"] == 0.5


def raw_checkpoint(folder, params):
    """The arrays of params as a TF checkpoint at folder/model, written by one SaveV2 op (the
    model graph of 300 layers takes half a minute to build)."""
    g = tf.Graph()
    with g.as_default():
        save = tf.raw_ops.SaveV2(
            prefix=str(folder / checkpoints.PREFIX),
            tensor_names=list(params),
            shape_and_slices=[""] * len(params),
            tensors=[tf.constant(v) for v in params.values()],
        )
    with session(g) as sess:
        sess.run(save)
    return folder


@pytest.mark.parametrize(
    "sizes, message",
    [([1] * 301, "301 sizes, more than the 100 allowed"), ([1, 20000, 1], "20,000 units")],
    ids=["300 layers", "1-20000-1"],
)
def test_a_checkpoint_beyond_the_limits_of_sizes_is_refused_before_any_work(
    tmp_path, capsys, sizes, message
):
    """The limits of --sizes hold for checkpoints too (a 300-layer one ran for 107 s)."""
    folder = raw_checkpoint(tmp_path / "ck", model.glorot_init(sizes, 0))
    with pytest.raises(checkpoints.CheckpointError, match=message):
        checkpoints.load(folder)
    started = time.time()
    with pytest.raises(SystemExit) as e:
        main(["prune", "--checkpoint", str(folder), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and message in err, err
    assert time.time() - started < 5 and not (tmp_path / "out").exists()


PRUNABLE = {  # 1-2-1 whose second hidden unit has no input: pruned to 1-1-1
    "dense1/W": np.array([[1.0, 0.0]], np.float32),
    "dense1/b": np.zeros(2, np.float32),
    "dense2/W": np.ones((2, 1), np.float32),
    "dense2/b": np.zeros(1, np.float32),
}


def test_the_names_of_prunes_checkpoints_come_from_the_command_not_the_record(tmp_path, capsys):
    """A record's name was used as a path: "/elsewhere/evil" wrote /elsewhere/evil_pruned/."""
    folder = tmp_path / "l1_run0"
    checkpoints.save(folder, PRUNABLE, record={"name": "other", "kind": "trained"})
    main(["prune", "--checkpoint", str(folder), "--retrain", "none", "--out", str(tmp_path / "o")])
    capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "o" / "pruned").iterdir()) == [
        "config.json",
        "l1_run0_pruned",
        "report.md",
    ]
    for name in (str(tmp_path / "elsewhere" / "evil"), "../../victim/x"):
        checkpoints.save(folder, PRUNABLE, record={"name": name, "kind": "trained"})
        with pytest.raises(SystemExit) as e:
            main(["prune", "--checkpoint", str(folder), "--out", str(tmp_path / "o2")])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count("\n") == 1 and "expected a plain name" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l1_run0", "o"]


def interrupted_checkpoint(out):
    """A checkpoint of seed 3 committed in out, and a commit killed half way that replaces its
    record with one of seed 5."""
    with staged(out, owns=("ck",)) as stage:
        checkpoints.save(stage / "ck", PRUNABLE, record={"seed": 3})
    stage = out / CONTROL / "stage-killed"
    checkpoints.save(stage / "ck", PRUNABLE, record={"seed": 5})
    journal = {
        "stage": stage.name,
        "displaced": "displaced-killed",
        "steps": [["place", "ck/model.json"], ["manifest", ""], ["done", ""]],
    }
    (out / CONTROL / "journal.json").write_text(json.dumps(journal))
    return out / "ck"


def test_prune_finishes_an_interrupted_commit_before_it_reads_its_checkpoint(
    tmp_path, capsys, monkeypatch
):
    ck, seen = interrupted_checkpoint(tmp_path / "o"), []
    monkeypatch.setattr(
        checkpoints, "load", lambda path, real=checkpoints.load: seen.append(real(path)) or seen[-1]
    )
    main(["prune", "--checkpoint", str(ck), "--retrain", "none", "--out", str(tmp_path / "o")])
    assert [c.record["seed"] for c in seen] == [5]
    assert "finished the commit of an interrupted run" in capsys.readouterr().err
    other = interrupted_checkpoint(tmp_path / "a")  # in another output folder: refused
    before = sorted(p.name for p in (tmp_path / "a" / CONTROL).iterdir())
    with pytest.raises(SystemExit) as e:
        main(["prune", "--checkpoint", str(other), "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "cut short" in err, err
    assert sorted(p.name for p in (tmp_path / "a" / CONTROL).iterdir()) == before
    assert not (tmp_path / "b").exists()
