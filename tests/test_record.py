"""The run record: what it holds, and which changes count as a dirty checkout."""

import hashlib
import json
import subprocess

import pytest

from l1l2 import config
from l1l2.core import data
from l1l2.output import record


def git(repo, *args):
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
    )


def test_git_commit_is_dirty_only_when_the_code_changed(tmp_path, monkeypatch):
    (tmp_path / "outputs").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "outputs" / "results.md").write_text("old\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "c")
    monkeypatch.setattr(record, "ROOT", tmp_path)
    head = record.git_commit()
    assert len(head) == 40 and not head.endswith("-dirty")
    (tmp_path / "outputs" / "results.md").write_text("new results\n")  # a new run: still clean
    assert record.git_commit() == head
    (tmp_path / "code.py").write_text("x = 2\n")
    assert record.git_commit() == head + "-dirty"
    monkeypatch.setattr(record, "ROOT", tmp_path / "outputs" / "nowhere")
    assert record.git_commit() is None


def test_record_holds_config_seeds_data_hash_and_versions(tmp_path):
    cfg = config.Config(data="data/line.csv")
    d = data.load(cfg.data)
    rec = record.make(cfg, seeds={"l1_run0": 0}, data_sha256=d.sha256)
    assert rec["config"]["lam"] == 0.3 and rec["seeds"] == {"l1_run0": 0}
    assert rec["data_sha256"] == hashlib.sha256(open(cfg.data, "rb").read()).hexdigest()
    assert {"tensorflow", "numpy", "scipy"} <= set(rec["versions"])
    assert rec["numerics"]["onednn"]["forced"] == "0"
    assert not {"started", "finished", "command", "git_commit"} & set(rec)  # the same each run


def test_times_and_the_command_go_to_the_folders_history(tmp_path):
    (tmp_path / ".reproduce").mkdir()
    for started in (10.0, 20.0):
        record.log_run(tmp_path, started)
    lines = (tmp_path / ".reproduce" / "history.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 2 and all(
        {"command", "git_commit", "started"} <= set(e) for e in entries
    )


def test_a_record_of_a_command_that_reads_data_needs_the_hash_taken_when_it_was_read():
    with pytest.raises(TypeError, match="data_sha256"):
        record.make(config.Config())
    assert "data_sha256" not in record.make(config.GifsConfig())


def test_the_hash_is_of_the_bytes_that_were_parsed(tmp_path, monkeypatch):
    """The file changes after it was read: the hash still names what the run used."""
    path = tmp_path / "d.csv"
    path.write_text(open("data/line.csv").read())
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    d = data.load(path)
    path.write_text("x,y,split\n1,2,train\n3,4,test\n")
    assert d.sha256 == before and len(d.x) == 50
