"""Determinism, interrupts, concurrent runs and divergence, each through the real command;
limits checked before the work."""

import csv
import fcntl
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT

from l1l2.cli import main
from l1l2.output import gifs, recording
from l1l2.output.folder import CONTROL, staged
from l1l2.shared.result import Result
from l1l2.shared.runs import check_fits


def start(out, *args):
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "reproduce"),
            "--epochs",
            "3000",
            "--no-progress",
            "--out",
            str(out),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_interrupt_leaves_previous_results(tmp_path):
    """SIGTERM in training (the other two signals take the same path: see the next test)."""
    with staged(tmp_path, owns=("results.csv",)) as stage:  # an earlier run's output
        (stage / "results.csv").write_text("previous\n")
    for sig in (signal.SIGTERM,):
        p = start(tmp_path)
        for line in p.stderr:  # ends at EOF if the child exits early
            if "importing TensorFlow:" in line:  # then it trains
                break
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 130 and "Traceback" not in err
        assert "interrupted; nothing was written" in err
        assert sorted(x.name for x in tmp_path.iterdir()) == [CONTROL, "results.csv"]
        assert (tmp_path / "results.csv").read_text() == "previous\n"
        assert sorted(x.name for x in (tmp_path / CONTROL).iterdir()) == ["lock", "manifest.json"]


def test_ctrl_c_sigterm_and_sighup_all_interrupt_the_command(monkeypatch):
    from l1l2 import cli

    seen = {}
    monkeypatch.setattr(cli.signal, "signal", lambda sig, handler: seen.setdefault(sig, handler))
    ran = []
    cls, _, summary = cli.COMMANDS["run"]
    done = lambda cfg: ran.append(cfg) or Result("", "done", cfg.out)
    monkeypatch.setitem(cli.COMMANDS, "run", (cls, done, summary))
    cli.main(["--quick"])
    assert len(ran) == 1  # the command ran, after the handlers were set
    handlers = {seen.get(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    assert handlers == {cli._interrupt}


def test_second_writer_to_the_same_folder_is_refused(tmp_path, capsys):
    (tmp_path / CONTROL).mkdir()
    fd = os.open(tmp_path / CONTROL / "lock", os.O_CREAT | os.O_WRONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running reproduce holds it (another open file)
    try:
        with pytest.raises(SystemExit) as e:
            main(["--quick", "--no-progress", "--no-gifs", "--out", str(tmp_path)])
    finally:
        os.close(fd)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "another reproduce is writing to" in err
    assert sorted(x.name for x in tmp_path.iterdir()) == [CONTROL]
    assert sorted(x.name for x in (tmp_path / CONTROL).iterdir()) == ["lock"]


def test_divergence_is_reported_not_crashed(tmp_path, capsys):
    main(
        [
            "--quick",
            "--lr",
            "5",
            "--no-progress",
            "--no-gifs",
            "--no-tensorboard",
            "--out",
            str(tmp_path),
        ]
    )
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert all(int(r["diverged_at_step"]) >= 0 and r["diverged"] == "True" for r in rows)
    md = (tmp_path / "results.md").read_text()
    assert "diverged at step" in md and "nan" not in md.lower()


# --- limits checked before the work: recordings, and the memory of drawing ----------------------


def small_recording(n_layers, frames=2):
    return {
        "layers": np.array([f"dense{i + 1}" for i in range(n_layers)]),
        "kernels": [np.zeros((frames, 1, 1, 1), np.float32) for _ in range(n_layers)],
        "frame_steps": np.arange(frames),
        "step_cost": np.ones((frames, 1)),
        "steps_per_epoch": 1,
        "methods": np.array(["l1"]),
        "runs": np.array([0]),
        "seeds": np.array([0]),
        "test_error": np.array([1.0]),
        "lam": 0.3,
        "zero_tol": 0.01,
        "frame_test_error": np.ones((frames, 1)),
    }


def test_recording_sizes_are_checked_before_decompressing(tmp_path, monkeypatch):
    path = tmp_path / recording.FILE
    recording.save(path, small_recording(300))  # crashed Pillow after minutes
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: pytest.fail("decompressed"))
    with pytest.raises(recording.RecordingError, match="300 kernels, more than the 99 layers"):
        recording.load(path)
    recording.save(path, small_recording(2, frames=1000))
    monkeypatch.setattr(recording, "MAX_BYTES", 10_000)  # as if it declared gigabytes
    with pytest.raises(recording.RecordingError, match="MB of arrays, more than the"):
        recording.load(path)


def test_the_memory_guard_counts_drawing_the_gifs(capsys):
    """1-1000-1000-1, two runs of L1 and L2: about 2 GB of recorded weights, and drawing their
    GIFs took 2.0 GB more (measured; the estimate says 2.6): together over the 4 GB allowed."""
    assert 2.0 <= gifs.drawing_gb((1, 1000, 1000, 1), 101, 5.0) <= 3.0
    with pytest.raises(SystemExit) as e:
        main(
            [
                "--sizes",
                "1,1000,1000,1",
                "--runs",
                "1",
                "--methods",
                "l1,l2",
                "--out",
                "/nonexistent/never",
            ]
        )
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1
    assert "GB of it to draw the GIFs" in err and "--no-gifs" in err
    check_fits(40, 1, "d", 4, (1, 1000, 1000, 1), 100, 101 + 40)  # without the GIFs it fits


# --- the drawing worker: no orphan, no traceback ------------------------------------------------

WORKER = """
import os, signal, sys, time
sys.path.insert(0, {root!r})
from l1l2.output import drawing
pool = drawing.second_process()
print(pool.submit(os.getpid).result(), flush=True)  # the worker, started
pool.submit(time.sleep, 60)  # drawing, for a minute
time.sleep(0.2)
{then}
"""


def alive(pid):
    """Whether pid runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_drawing_worker_dies_with_its_parent():
    """kill -9 during drawing left the worker (and multiprocessing's resource tracker) running."""
    script = WORKER.format(root=str(ROOT), then="os.kill(os.getpid(), signal.SIGKILL)")
    p = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    with p.stdout:  # read the line only: an orphan would hold the pipe open
        worker = int(p.stdout.readline())
        assert p.wait(timeout=60) == -signal.SIGKILL
        deadline = time.time() + 10
        while alive(worker) and time.time() < deadline:
            time.sleep(0.05)
        orphan = alive(worker)
        if orphan:
            os.kill(worker, signal.SIGKILL)
    assert not orphan


def test_leaving_the_drawing_block_waits_for_the_work_then_ends_the_worker(tmp_path):
    """The worker is ended at once after its last task (not left to its slow teardown): every
    submitted task has finished by then, and nothing is printed."""
    out = tmp_path / "done.txt"
    script = f"""
import os, pathlib, sys, time
sys.path.insert(0, {str(ROOT)!r})
from l1l2.output import drawing
with drawing.second_process() as pool:
    worker = pool.submit(os.getpid).result()
    pool.submit(time.sleep, 0.5)
    pool.submit(pathlib.Path({str(out)!r}).write_text, "drawn")  # queued behind the sleep
print(worker)
"""
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stderr) == (0, "")
    assert out.read_text() == "drawn"
    assert not alive(int(p.stdout))


def test_an_interrupt_to_the_process_group_shows_no_traceback_of_the_worker():
    """Ctrl-C reaches every process of the group: while the worker was starting (importing),
    it printed its own 50-line traceback before the command's one line."""
    script = f"""
import os, signal, sys, time
sys.path.insert(0, {str(ROOT)!r})
from l1l2.output import drawing
try:
    with drawing.second_process() as pool:
        pool.submit(time.sleep, 0.1)
        time.sleep(0.4)  # the worker is importing
        os.killpg(0, signal.SIGINT)
        time.sleep(30)
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
"""
    p = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert p.stderr == "interrupted\n"
