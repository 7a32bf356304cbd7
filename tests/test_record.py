"""The run record: what it holds, and which changes count as a dirty checkout."""
import subprocess

from l1l2 import config
from l1l2.output import record


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                   check=True, capture_output=True)


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
    (tmp_path / "outputs" / "results.md").write_text("new results\n")      # a new run: still clean
    assert record.git_commit() == head
    (tmp_path / "code.py").write_text("x = 2\n")
    assert record.git_commit() == head + "-dirty"
    monkeypatch.setattr(record, "ROOT", tmp_path / "outputs" / "nowhere")
    assert record.git_commit() is None


def test_record_holds_config_seeds_data_hash_and_versions(tmp_path):
    cfg = config.Config(data="data/line.csv")
    rec = record.make(cfg, started=0.0, seeds={"l1_run0": 0})
    assert rec["config"]["lam"] == 0.3 and rec["seeds"] == {"l1_run0": 0}
    assert len(rec["data_sha256"]) == 64 and {"tensorflow", "numpy", "scipy"} <= set(rec["versions"])
