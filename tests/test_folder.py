"""The output-folder contract (l1l2/output/folder.py), with small fake outputs, no training:
ownership by manifest, no links followed, all-or-nothing commits, recovery after kill -9."""

import errno
import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import ROOT

from l1l2 import cli
from l1l2.output import folder
from l1l2.output.folder import CONTROL, OutputError, staged

ROOTS = ("results.md", "figures", "gifs", "checkpoints")
OLD = {"results.md": "old", "figures/a.png": "old", "gifs/g.gif": "old", "checkpoints/r0/x": "old"}
NEW = {
    "results.md": "new",
    "figures/a.png": "new",
    "figures/b.png": "new",
    "checkpoints/r1/x": "new",
}
MINE = {"notes.txt": "mine", "figures/thesis.png": "mine"}  # put there by the user


def commit(out, files, owns=ROOTS, **kw):
    """One command's outputs, written through staged() as every command does."""
    with staged(out, owns=owns, **kw) as stage:
        write(stage, files)


def write(where, files):
    for rel, text in files.items():
        (where / rel).parent.mkdir(parents=True, exist_ok=True)
        (where / rel).write_text(text)


def snapshot(out):
    """{relative path: text} of every file outside .reproduce, and every folder (as None)."""
    found = {}
    for root, dirs, files in os.walk(out):
        dirs[:] = [d for d in dirs if d != CONTROL]
        rel = os.path.relpath(root, out)
        for d in dirs:
            found[os.path.normpath(os.path.join(rel, d))] = None
        for f in files:
            found[os.path.normpath(os.path.join(rel, f))] = open(os.path.join(root, f)).read()
    return found


def folders(files):
    out = {}
    for rel in files:
        parts = rel.split("/")[:-1]
        out.update({"/".join(parts[:i]): None for i in range(1, len(parts) + 1)})
    return out


def manifest(out):
    return json.loads((out / CONTROL / "manifest.json").read_text())["entries"]


@pytest.fixture(autouse=True)
def fresh_outcome(monkeypatch):
    monkeypatch.setattr(folder, "_committed", [])


def test_a_folder_without_manifest_is_refused_and_left_alone(tmp_path):
    """The issue's case: figures/thesis.png, checkpoints/m/ and results.md of the user."""
    (tmp_path / "checkpoints" / "m").mkdir(parents=True)
    write(tmp_path, {"figures/thesis.png": "mine", "results.md": "mine"})
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="no record of a reproduce run.*--force"):
        commit(tmp_path, NEW)
    assert snapshot(tmp_path) == before and not (tmp_path / CONTROL).exists()


def test_the_cli_refuses_a_foreign_folder_in_one_line_before_training(tmp_path, capsys):
    write(tmp_path, {"figures/thesis.png": "mine"})
    with pytest.raises(SystemExit) as e:
        cli.main(["--quick", "--no-progress", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "no record of a reproduce run" in err
    assert snapshot(tmp_path) == {"figures": None, "figures/thesis.png": "mine"}


def test_force_moves_files_in_the_way_aside_and_keeps_the_rest(tmp_path, capsys):
    (tmp_path / "checkpoints" / "m").mkdir(parents=True)
    write(tmp_path, {"figures/thesis.png": "mine", "results.md": "mine"})
    commit(tmp_path, NEW, force=True)
    assert snapshot(tmp_path) == {
        **folders(NEW),
        **NEW,
        "checkpoints/m": None,
        "figures/thesis.png": "mine",
    }
    [aside] = (tmp_path / CONTROL).glob("displaced-*")
    assert (aside / "results.md").read_text() == "mine"
    assert "moved 1 file(s) that were in the way" in capsys.readouterr().err
    assert set(manifest(tmp_path)) == set(NEW) | {"checkpoints/r1"}  # not the user's


def test_a_new_run_replaces_and_removes_only_its_own_files(tmp_path):
    commit(tmp_path, OLD)
    write(tmp_path, MINE)
    (tmp_path / "gifs" / "kept.gif").write_text("mine")  # in a folder of ours
    commit(tmp_path, NEW)
    assert snapshot(tmp_path) == {
        **folders(NEW),
        **NEW,
        **MINE,
        "gifs": None,
        "gifs/kept.gif": "mine",
    }
    assert "gifs/g.gif" not in manifest(tmp_path) and "gifs/kept.gif" not in manifest(tmp_path)


def test_merge_adds_and_replaces_but_removes_nothing(tmp_path):
    commit(tmp_path, OLD)
    with staged(tmp_path, merge=True) as stage:
        write(stage, {"figures/a.png": "redrawn", "figures/c.png": "new"})
    assert snapshot(tmp_path) == {
        **folders(OLD),
        **OLD,
        "figures/a.png": "redrawn",
        "figures/c.png": "new",
    }


@pytest.fixture
def outside(tmp_path):
    """A folder outside the output folder, and its file, that a link would lead to."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "a.png").write_text("outside")
    return tmp_path / "outside"


def test_a_symlinked_subfolder_is_refused_before_any_work(tmp_path, outside):
    out = tmp_path / "out"
    commit(out, OLD)
    for f in (out / "figures").iterdir():
        f.unlink()
    (out / "figures").rmdir()
    (out / "figures").symlink_to(outside)
    ran = []
    with pytest.raises(OutputError, match="figures is a symbolic link"):
        with staged(out, owns=ROOTS) as stage:
            ran.append(stage)
    assert not ran and (outside / "a.png").read_text() == "outside"
    assert (out / "results.md").read_text() == "old"


def test_a_link_made_during_the_run_stops_the_commit_with_nothing_changed(tmp_path, outside):
    out = tmp_path / "out"
    commit(out, OLD)
    before = {k: v for k, v in snapshot(out).items() if not k.startswith("figures")}
    with pytest.raises(OutputError) as e:
        with staged(out, owns=ROOTS) as stage:
            write(stage, NEW)
            os.rename(out / "figures", tmp_path / "moved")
            (out / "figures").symlink_to(outside)
    message = str(e.value)
    assert "figures is a symbolic link" in message and "nothing was changed" in message
    assert "stage-" not in message  # names nothing that is gone
    assert {k: v for k, v in snapshot(out).items() if not k.startswith("figures")} == before
    assert (outside / "a.png").read_text() == "outside" and not list(outside.glob("b.png"))
    assert not list((out / CONTROL).glob("stage-*"))


def test_nested_output_folders_of_two_runs_do_not_destroy_each_other(tmp_path):
    a, inner, beside = tmp_path, tmp_path / "figures", tmp_path / "sub"
    commit(a, OLD)
    commit(inner, {"results.md": "inner", "a.png": "inner"}, force=True)  # in a's figures/
    (inner / CONTROL / "displaced-keep").mkdir(exist_ok=True)
    commit(beside, {"results.md": "beside"})
    with pytest.raises(OutputError, match="figures is the output folder of another run"):
        commit(a, OLD)  # would write into inner's folder
    commit(a, {"results.md": "again"})  # a drops figures/, gifs/, checkpoints/
    assert snapshot(inner) == {"results.md": "inner", "a.png": "inner"}
    assert (beside / "results.md").read_text() == "beside" and not (a / "gifs").exists()
    commit(inner, {"results.md": "inner 2"})
    assert (a / "results.md").read_text() == "again"


def test_a_stage_left_by_kill_is_removed_with_one_line(tmp_path, capsys):
    commit(tmp_path, OLD)
    write(tmp_path / CONTROL / "stage-killed", {"results.md": "half"})
    commit(tmp_path, NEW)
    err = capsys.readouterr().err
    assert err.count("removed the unfinished outputs of an interrupted run") == 1
    assert not (tmp_path / CONTROL / "stage-killed").exists()


def test_a_lock_that_is_not_a_regular_file_is_one_line_not_a_hang(tmp_path):
    (tmp_path / CONTROL).mkdir()
    os.mkfifo(tmp_path / CONTROL / "lock")
    with pytest.raises(OutputError, match="lock is a FIFO, device or socket"):
        commit(tmp_path, NEW)
    os.unlink(tmp_path / CONTROL / "lock")
    (tmp_path / CONTROL).rmdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / CONTROL).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match=r"\.reproduce is a symbolic link"):
        commit(tmp_path, NEW)


def test_a_legacy_lock_fifo_is_just_a_file_of_the_user(tmp_path):
    commit(tmp_path, OLD)
    os.mkfifo(tmp_path / ".lock")  # where the old design kept its lock
    commit(tmp_path, NEW)
    assert (tmp_path / "results.md").read_text() == "new" and (tmp_path / ".lock").exists()


def test_a_second_writer_is_refused_at_once(tmp_path):
    with staged(tmp_path, owns=ROOTS):
        with pytest.raises(OutputError, match="another reproduce is writing to"):
            commit(tmp_path, NEW)


def test_a_signal_during_the_commit_waits_for_it_and_is_reported_truly(tmp_path, monkeypatch):
    commit(tmp_path, OLD)
    monkeypatch.setattr(folder, "_committed", [])
    assert "nothing was written" in cli.interrupted_message()
    real = folder._step

    def step_and_interrupt(*args):
        os.kill(os.getpid(), signal.SIGINT)  # held until the commit is done
        return real(*args)

    monkeypatch.setattr(folder, "_step", step_and_interrupt)
    with pytest.raises(KeyboardInterrupt):
        commit(tmp_path, NEW)
    assert snapshot(tmp_path) == {**folders(NEW), **NEW}
    assert f"after the outputs in {tmp_path} were complete" in cli.interrupted_message()


def test_an_interrupt_before_the_commit_changes_nothing(tmp_path, monkeypatch):
    commit(tmp_path, OLD)
    monkeypatch.setattr(folder, "_committed", [])  # a new command
    with pytest.raises(KeyboardInterrupt):
        with staged(tmp_path, owns=ROOTS) as stage:
            write(stage, NEW)
            raise KeyboardInterrupt
    assert snapshot(tmp_path) == {**folders(OLD), **OLD}
    assert not list((tmp_path / CONTROL).glob("stage-*"))
    assert "nothing was written" in cli.interrupted_message()


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device"),
        RuntimeError(
            "/o/tensorboard/events.out; No space left on device\n\tFailed to flush 3 events"
        ),
        OSError(122, "Disk quota exceeded"),
    ],
    ids=["OSError", "TensorFlow's event writer", "quota"],
)
def test_a_full_disk_while_writing_is_one_line_and_changes_nothing(tmp_path, error):
    commit(tmp_path, OLD)
    with pytest.raises(OutputError) as e:
        with staged(tmp_path, owns=ROOTS) as stage:
            write(stage, NEW)
            raise error
    assert "\n" not in str(e.value) and os.strerror(getattr(error, "errno", 28)) in str(e.value)
    assert "was left as it was" in str(e.value)
    assert snapshot(tmp_path) == {**folders(OLD), **OLD}


def test_a_full_disk_in_a_tensorflow_checkpoint_is_recognised():
    from l1l2.files import storage_problem
    from l1l2.tf1 import tf

    e = tf.errors.ResourceExhaustedError(
        None,
        None,
        "Graph execution error:\n\n/o/model.data; "
        "No space left on device\n\t [[{{node save/SaveV2}}]]",
    )
    assert storage_problem(e) == "No space left on device"
    assert storage_problem(ValueError("a bug")) is None


def test_threads_and_finalizers_do_not_print_a_full_disk_twice(capsys, monkeypatch):
    shown = []
    hook = cli._quiet_if_storage(shown.append, lambda args: args)
    hook(RuntimeError("events; No space left on device"))
    hook(ValueError("a bug in a thread"))
    assert [str(e) for e in shown] == ["a bug in a thread"]
    assert not cli._StorageFilter().filter(
        __import__("logging").makeLogRecord(
            {"msg": "writer thread error: x; No space left on device"}
        )
    )


# --- kill -9 during the commit: a subprocess that runs only the folder code -------------------

KILLED = """
import os, signal, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from l1l2.output import folder
out, stop_at = Path(sys.argv[1]), int(sys.argv[2])
real, done = folder._step, []
def step(*args):
    if len(done) == stop_at:
        os.kill(os.getpid(), signal.SIGKILL)
    done.append(args)
    return real(*args)
folder._step = step
if stop_at < 0:   # before the commit point: while the journal is renamed into place
    folder._publish = lambda control: os.kill(os.getpid(), signal.SIGKILL)
with folder.staged(out, owns={roots!r}) as stage:
    for rel, text in {new!r}.items():
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / rel).write_text(text)
"""


def killed_commit(out, stop_at):
    script = KILLED.format(root=str(ROOT), roots=ROOTS, new=NEW)
    return subprocess.run(
        [sys.executable, "-c", script, str(out), str(stop_at)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_kill_9_at_any_step_of_a_commit_leaves_it_old_or_finished_by_the_next_run(tmp_path, capsys):
    """Before the commit point the folder stays old; at any later step the next command on it
    finishes the commit. Either way: fully old or fully new, never a mix, the user's files kept."""
    old_state = {**folders(OLD), **OLD, **MINE}
    new_state = {**folders(NEW), **NEW, **MINE, "figures/thesis.png": "mine"}
    stop_at, outcomes = -1, []
    while True:
        out = tmp_path / f"k{stop_at}"
        commit(out, OLD)
        write(out, MINE)
        res = killed_commit(out, stop_at)
        if res.returncode == 0:
            break
        assert res.returncode == -signal.SIGKILL, res.stderr
        capsys.readouterr()
        with staged(out, merge=True):  # the next command on the folder
            pass
        err = capsys.readouterr().err
        after = snapshot(out)
        outcomes.append("new" if after == new_state else "old" if after == old_state else after)
        want = "finished the commit" if stop_at >= 0 else "removed the unfinished outputs"
        assert err.count("\n") == 1 and want in err, err
        assert not list((out / CONTROL).glob("stage-*"))
        assert not (out / CONTROL / "journal.json").exists()
        stop_at += 1
    assert outcomes[0] == "old" and set(outcomes[1:]) == {"new"}, outcomes
    assert len(outcomes) >= 8  # every step of the journal was cut
    assert snapshot(out) == new_state  # and uninterrupted, it just commits


# --- data --out: a regular file only ------------------------------------------------------------


def test_data_out_replaces_only_a_regular_file(tmp_path, capsys):
    fifo, link = tmp_path / "fifo.csv", tmp_path / "link.csv"
    os.mkfifo(fifo)
    link.symlink_to(tmp_path / "target.csv")
    for path, words in ((fifo, "is a FIFO, device or socket"), (link, "is a symbolic link")):
        with pytest.raises(SystemExit) as e:
            cli.main(["data", "--out", str(path), "--force"])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "target.csv").exists() and fifo.exists()
    plain = tmp_path / "plain.csv"
    cli.main(["data", "--out", str(plain)])
    with pytest.raises(SystemExit):
        cli.main(["data", "--out", str(plain), "--seed", "1"])
    assert "exists; add --force" in capsys.readouterr().err
    first = plain.read_text()
    cli.main(["data", "--out", str(plain), "--seed", "1", "--force"])
    assert plain.read_text() != first and not list(tmp_path.glob(".plain.csv.*"))


# --- every file read back is untrusted: the manifest and the journal ----------------------------


@pytest.mark.parametrize(
    "entry",
    ["/etc/passwd", "../x", "figures/../../x", "figures//a.png", "a\u0000b", "nested"],
)
def test_a_manifest_entry_outside_the_folder_is_refused_before_the_work(tmp_path, entry):
    """A NUL byte used to raise after all the work, deep nesting a RecursionError."""
    commit(tmp_path, OLD)
    path = tmp_path / CONTROL / "manifest.json"
    if entry == "nested":
        path.write_text('{"entries": ' + "[" * 100_000 + "]" * 100_000 + "}")
    else:
        path.write_text(json.dumps({"format": 1, "entries": {**manifest(tmp_path), entry: "file"}}))
    before, ran = snapshot(tmp_path), []
    with pytest.raises(OutputError, match="manifest.json is damaged") as e:
        with staged(tmp_path, owns=ROOTS) as stage:
            ran.append(stage)
    assert not ran and "\n" not in str(e.value) and snapshot(tmp_path) == before


@pytest.fixture
def victim(tmp_path):
    """A folder beside the output folder with a file in it: a journal must reach neither."""
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "results.md").write_text("victim")
    return tmp_path / "victim"


def hostile_journal(out, victim, field):
    """An interrupted commit (stage and journal as a killed run leaves them) whose journal names
    a path outside .reproduce in `field`."""
    commit(out, OLD)
    write(out / CONTROL / "stage-x", {"results.md": "new", "figures/a.png": "new"})
    steps = [["displace", "results.md"], ["place", "figures/a.png"], ["manifest", ""], ["done", ""]]
    journal = {"stage": "stage-x", "displaced": "displaced-x", "steps": steps}
    journal.update(
        {
            "stage absolute": {"stage": str(victim)},
            "stage climbing": {"stage": "../../victim"},
            "displaced absolute": {"displaced": str(victim)},
            "displaced climbing": {"displaced": "../../victim"},
            "displaced nested": {"displaced": "displaced-x/../../.."},
            "step path": {"steps": [["remove", "../victim/results.md"], *steps]},
            "step NUL": {"steps": [["remove", "results\u0000.md"], *steps]},
            "step op": {"steps": [["rmtree", "figures"], *steps]},
            "nested": {"steps": "NESTED"},
        }[field]
    )
    text = json.dumps(journal).replace('"NESTED"', "[" * 100_000 + "]" * 100_000)
    (out / CONTROL / "journal.json").write_text(text)


JOURNAL_FIELDS = [
    "stage absolute",
    "stage climbing",
    "displaced absolute",
    "displaced climbing",
    "displaced nested",
    "step path",
    "step NUL",
    "step op",
    "nested",
]


@pytest.mark.parametrize("field", JOURNAL_FIELDS)
def test_a_journal_never_reaches_outside_the_folder(tmp_path, victim, field):
    """Each field of the journal that names a path is checked when it is read: a damaged one is
    refused in one line (nothing changed anywhere); --force sets it aside and goes on."""
    out = tmp_path / "out"
    hostile_journal(out, victim, field)
    before = snapshot(out)
    with pytest.raises(OutputError, match="journal.json is damaged") as e:
        commit(out, NEW)
    assert "\n" not in str(e.value) and "--force" in str(e.value)
    assert snapshot(out) == before and snapshot(victim) == {"results.md": "victim"}
    commit(out, NEW, force=True)
    assert snapshot(out) == {**folders(NEW), **NEW} and snapshot(victim) == {"results.md": "victim"}
    assert not (out / CONTROL / "journal.json").exists()


def test_deleting_or_replacing_the_lock_file_admits_no_second_writer(tmp_path):
    with staged(tmp_path, owns=ROOTS) as stage:
        write(stage, NEW)
        os.unlink(tmp_path / CONTROL / "lock")
        with pytest.raises(OutputError, match="another reproduce is writing to"):
            commit(tmp_path, OLD)
        (tmp_path / CONTROL / "lock").write_text("")
        with pytest.raises(OutputError, match="another reproduce is writing to"):
            commit(tmp_path, OLD)
    assert snapshot(tmp_path) == {**folders(NEW), **NEW}


def test_a_folder_swapped_for_a_link_during_the_commit_is_not_written_through(
    tmp_path, outside, monkeypatch
):
    """The check of the folders on the way and the rename leave no window between them."""
    out, real, swapped = tmp_path / "out", os.replace, []
    commit(out, OLD)

    def replace(src, dst, *args, **kw):
        if os.fspath(dst).endswith("b.png") and not swapped:
            os.rename(out / "figures", tmp_path / "moved")
            (out / "figures").symlink_to(outside)
            swapped.append(dst)
        return real(src, dst, *args, **kw)

    monkeypatch.setattr(os, "replace", replace)
    commit(out, NEW)
    assert swapped and snapshot(outside) == {"a.png": "outside"}


def failing_rename(monkeypatch, suffix, code):
    """os.replace fails with errno `code` for destinations ending in `suffix`; the real one."""
    real = os.replace

    def replace(src, dst, *args, **kw):
        if os.fspath(dst).endswith(suffix):
            raise OSError(code, os.strerror(code))
        return real(src, dst, *args, **kw)

    monkeypatch.setattr(os, "replace", replace)
    return real


def test_a_failed_commit_step_is_one_line_with_a_way_out(tmp_path, monkeypatch, capsys):
    """A step that fails (here a cross-device rename) stops the commit: one line saying what
    is left and how to go on; the next command finishes it once the cause is gone, or, with
    --force, finishes it without the outputs that cannot be placed."""
    commit(tmp_path, OLD)
    real = failing_rename(monkeypatch, "a.png", errno.EXDEV)
    for _ in range(2):  # the command, then the next one while the cause is still there
        with pytest.raises(OutputError) as e:
            commit(tmp_path, NEW)
        message = str(e.value)
        assert "\n" not in message and os.strerror(errno.EXDEV) in message
        assert "figures/a.png" in message and "--force" in message
    with staged(tmp_path, merge=True, force=True):  # the way out: any command with --force
        pass
    assert "figures/a.png" in capsys.readouterr().err
    assert snapshot(tmp_path) == {**folders(NEW), **NEW, "figures/a.png": "old"}
    assert not list((tmp_path / CONTROL).glob("stage-*"))
    monkeypatch.setattr(os, "replace", real)
    commit(tmp_path, NEW)
    assert snapshot(tmp_path) == {**folders(NEW), **NEW}


def test_a_mount_point_inside_out_is_refused_before_the_work(tmp_path):
    """A rename cannot cross file systems: a folder mounted inside --out used to stop the
    commit half way, and every later command with it."""
    commit(tmp_path, OLD)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "none", str(tmp_path / "figures")], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a file system here")
    try:
        ran = []
        with pytest.raises(OutputError, match="figures is on another file system") as e:
            with staged(tmp_path, owns=ROOTS) as stage:
                ran.append(stage)
        assert not ran and "\n" not in str(e.value)
        commit(tmp_path, {"results.md": "new"}, owns=("results.md",))  # the rest still works
        assert (tmp_path / "results.md").read_text() == "new"
    finally:
        subprocess.run(["umount", str(tmp_path / "figures")], check=True)


# --- data --out: never another file in place of the record, the pair or nothing ----------------


def test_data_out_keeps_a_file_at_the_records_path_and_writes_the_pair_or_nothing(
    tmp_path, capsys, monkeypatch
):
    def refused(*argv):
        with pytest.raises(SystemExit) as e:
            cli.main(["data", *map(str, argv)])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        return err

    (tmp_path / "new.json").write_text("mine")
    assert "new.json exists; add --force" in refused("--out", tmp_path / "new.csv")
    assert snapshot(tmp_path) == {"new.json": "mine"}
    assert ".json" in refused("--out", tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()
    (tmp_path / "link.json").symlink_to(tmp_path / "target.json")
    assert "symbolic link" in refused("--out", tmp_path / "link.csv", "--force")
    assert not (tmp_path / "link.csv").exists() and not (tmp_path / "target.json").exists()
    (tmp_path / "link.json").unlink()
    pair = tmp_path / "pair.csv"
    cli.main(["data", "--out", str(pair)])
    old = snapshot(tmp_path)
    failing_rename(monkeypatch, "pair.json", errno.EIO)
    assert os.strerror(errno.EIO) in refused("--out", pair, "--seed", "1", "--force")
    assert snapshot(tmp_path) == old
