"""Determinism, interrupts, concurrent runs and divergence, each through the real command."""
import csv
import signal
import subprocess
import sys
import time

from conftest import ROOT, run_reproduce


def test_same_command_twice_gives_identical_results(quick_run, tmp_path):
    res = run_reproduce("--quick", "--no-progress", "--no-gifs", "--no-tensorboard", "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    for name in ("results.csv", "results.md", "pruning.md"):
        assert (tmp_path / name).read_bytes() == (quick_run / name).read_bytes(), name


def start(out, *args):
    return subprocess.Popen([sys.executable, str(ROOT / "reproduce"), "--epochs", "3000", "--no-progress",
                             "--out", str(out), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_interrupt_leaves_previous_results(tmp_path):
    (tmp_path / "results.csv").write_text("previous\n")
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = start(tmp_path)
        time.sleep(6)  # past the TensorFlow import, into training
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err
        # the lock (taken before training) stays; no partial results
        assert sorted(x.name for x in tmp_path.iterdir() if x.name != ".lock") == ["results.csv"]
        assert (tmp_path / "results.csv").read_text() == "previous\n"


def test_second_writer_to_the_same_folder_is_refused(tmp_path):
    import fcntl
    import os
    fd = os.open(tmp_path / ".lock", os.O_CREAT | os.O_WRONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)          # as a running reproduce holds it
    try:
        res = run_reproduce("--quick", "--no-progress", "--no-gifs", "--out", tmp_path)
    finally:
        os.close(fd)
    assert res.returncode == 2 and "another reproduce is writing to" in res.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == [".lock"]


def test_divergence_is_reported_not_crashed(tmp_path):
    res = run_reproduce("--quick", "--lr", "5", "--no-progress", "--no-gifs", "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert all(int(r["diverged_at_step"]) >= 0 for r in rows)
    md = (tmp_path / "results.md").read_text()
    assert "diverged at step" in md and "nan" not in md.lower()


def test_staged_replaces_folders_or_merges_files(tmp_path):
    from l1l2.output.folder import staged
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "fit.png").write_text("old fit")
    (tmp_path / "figures" / "other.png").write_text("old other")
    with staged(tmp_path, merge=True) as stage:
        (stage / "figures").mkdir()
        (stage / "figures" / "other.png").write_text("new other")
    assert {p.name: p.read_text() for p in (tmp_path / "figures").iterdir()} == \
        {"fit.png": "old fit", "other.png": "new other"}
    with staged(tmp_path) as stage:
        (stage / "figures").mkdir()
        (stage / "figures" / "other.png").write_text("newest")
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["other.png"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".staging", ".old"))]


def test_staged_removes_what_the_command_owns_but_did_not_write(tmp_path):
    from l1l2.output.folder import staged
    for name in ("gifs", "sweep"):
        (tmp_path / name).mkdir()
    (tmp_path / "pruning.md").write_text("from an earlier run")
    with staged(tmp_path, owns=("results.md", "gifs", "pruning.md")) as stage:
        (stage / "results.md").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".lock") == ["results.md", "sweep"]
