"""The persistent XLA cache (l1l2/xla_cache.py): a repeated run loads what the first compiled,
with the same bits; entries cut short, damaged or never sealed are deleted before TensorFlow
reads them; a folder that cannot be used turns the cache off. The tests use their own folder
(conftest.py sets L1L2_CACHE_DIR), never the user's."""

import hashlib
import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from l1l2 import xla_cache

# a small compiled training in a fresh process: prints the SHA-256 of its final weights
TRAIN = (
    "import hashlib, numpy as np\n"
    "from l1l2.core import data, model, regularizers\n"
    "from l1l2.core.sgd import SGD\n"
    "from l1l2.core.train import train\n"
    "d = data.load('data/line.csv')\n"
    "p = model.stack([model.glorot_init((1, 10, 10, 10, 1), s) for s in range(4)])\n"
    "pen = regularizers.stack([regularizers.for_method(m, 0.3) for m in ('l1', 'l2') * 2])\n"
    "t = train(d.x_train, d.y_train, p, pen, SGD(epochs=3), engine='compiled')\n"
    "print(hashlib.sha256(b''.join(t.params[k].tobytes() for k in sorted(t.params))).hexdigest())\n"
)


def train_in_process(cache, **flags):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_XLA_FLAGS", "XLA_FLAGS")}
    env.update(L1L2_CACHE_DIR=str(cache), TF_CPP_MIN_LOG_LEVEL="3", **flags)  # not this process's
    res = subprocess.run(
        [sys.executable, "-c", TRAIN], cwd=ROOT, capture_output=True, text=True, env=env,
        timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout.split()[-1]


def entries(cache):
    return sorted((cache / "xla").rglob("*.pb"))


def test_a_second_run_loads_the_sealed_entry_and_damaged_ones_are_deleted(tmp_path):
    first = train_in_process(tmp_path)
    [entry] = entries(tmp_path)
    assert entry.parent.parent == tmp_path / "xla"  # tf-<version>-<hash of CPU and flags>
    seal = entry.with_name(entry.name + xla_cache.SEAL)
    assert seal.read_text() == hashlib.sha256(entry.read_bytes()).hexdigest()
    written = entry.stat().st_mtime_ns
    assert train_in_process(tmp_path) == first  # loaded, not compiled again: the same file
    assert entry.stat().st_mtime_ns == written
    data = entry.read_bytes()
    for damaged in (data[: len(data) // 2], data[:100] + b"\xff" * 50 + data[150:], b"junk"):
        entry.write_bytes(damaged)  # its seal no longer matches: deleted, compiled again
        assert train_in_process(tmp_path) == first
        assert seal.read_text() == hashlib.sha256(entry.read_bytes()).hexdigest()  # a new one
    seal.unlink()  # never sealed (a run that died): deleted, compiled again
    assert train_in_process(tmp_path) == first and seal.exists()


def test_an_unusable_folder_turns_the_cache_off(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    assert train_in_process(blocker) == train_in_process(tmp_path / "ok")
    assert not list(tmp_path.glob("not-a-folder*/**/*.pb"))


def test_whole_entry_reads_the_protobuf_fields_to_the_end():
    def field(number, payload):
        return bytes([number << 3 | 2, len(payload)]) + payload

    whole = field(1, b"key") + field(2, b"hlo") + field(3, b"exe")
    assert xla_cache.whole_entry(whole)
    assert not xla_cache.whole_entry(whole[:-1])  # cut short
    assert not xla_cache.whole_entry(field(1, b"key") + field(2, b"hlo"))  # no executable
    assert not xla_cache.whole_entry(whole[:-3] + b"")  # an empty executable field cut
    assert not xla_cache.whole_entry(field(1, b"k") + field(2, b"h") + field(3, b""))
    assert not xla_cache.whole_entry(b"\x0f" + whole)  # wire type 7 does not exist
    assert not xla_cache.whole_entry(b"")


def test_other_xla_flags_compile_into_their_own_folder(tmp_path):
    """TensorFlow's key of an entry leaves the XLA flags out: without a folder per set of flags,
    a run under other flags would load an executable compiled under these."""
    train_in_process(tmp_path)
    train_in_process(tmp_path, XLA_FLAGS="--xla_cpu_prefer_vector_width=256")
    first, second = entries(tmp_path)
    assert first.parent != second.parent and first.name == second.name  # TF's key: the same
    assert xla_cache.cache_dir("a") != xla_cache.cache_dir("b")


def test_prepare_keeps_sealed_entries_only_and_at_most_max_entries(tmp_path, monkeypatch):
    monkeypatch.setenv(xla_cache.ENV, str(tmp_path))
    monkeypatch.setattr(xla_cache, "MAX_ENTRIES", 2)
    folder = xla_cache.cache_dir()
    folder.mkdir(parents=True)
    entry = bytes([1 << 3 | 2, 1]) + b"k" + bytes([2 << 3 | 2, 1]) + b"h"
    for j in range(4):
        (folder / f"e{j}.pb").write_bytes(entry + bytes([3 << 3 | 2, 1, j]))
        os.utime(folder / f"e{j}.pb", (j, j))  # e3 the most recent
    (folder / "cut.pb").write_bytes(entry)
    (folder / "orphan.pb.sha256").write_text("0")
    xla_cache.seal(folder)
    assert not (folder / "cut.pb.sha256").exists()  # not a whole entry: never sealed
    (folder / "e2.pb").write_bytes(entry + bytes([3 << 3 | 2, 1, 9]))  # damaged after its seal
    assert xla_cache.prepare() == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "e1.pb", "e1.pb.sha256", "e3.pb", "e3.pb.sha256",
    ]  # fmt: skip


def test_prepare_deletes_the_folders_unused_for_a_month(tmp_path, monkeypatch):
    monkeypatch.setenv(xla_cache.ENV, str(tmp_path))
    xla = tmp_path / "xla"
    old, recent, other = xla / "tf-0.1-old", xla / "tf-0.2-recent", xla / "mine"
    for folder in (old, recent, other):
        folder.mkdir(parents=True)
        (folder / "e.pb").write_bytes(b"entry")
    month = time.time() - xla_cache.UNUSED_S - 60
    for folder in (old, other):
        os.utime(folder, (month, month))
    (xla / "tf-0.3-link").symlink_to(old, target_is_directory=True)  # not followed
    folder = xla_cache.prepare()
    assert sorted(p.name for p in xla.iterdir()) == sorted(
        [folder.name, "tf-0.2-recent", "mine", "tf-0.3-link"]
    )  # fmt: skip
    os.utime(folder, (month, month))  # unused for a month, but this run prepares it again
    assert xla_cache.prepare() == folder and folder.is_dir()


def test_prepare_deletes_what_is_no_regular_file(tmp_path, monkeypatch):
    """A FIFO would block the reads of the seal check and TensorFlow's: it is no entry."""
    monkeypatch.setenv(xla_cache.ENV, str(tmp_path))
    folder = xla_cache.cache_dir()
    folder.mkdir(parents=True)
    os.mkfifo(folder / "fifo.pb")
    (folder / "fifo.pb.sha256").write_text("0")
    os.symlink("/dev/zero", folder / "link.pb")
    xla_cache.seal(folder)  # neither is read (that would block or never end), neither sealed
    assert xla_cache.prepare() == folder
    assert sorted(p.name for p in folder.iterdir()) == []


@pytest.mark.parametrize(
    "env, want",
    [
        ({"L1L2_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}, "/c"),
        ({"XDG_CACHE_HOME": "/x"}, "/x/l1l2"),
        ({"L1L2_CACHE_DIR": ""}, None),
    ],
)
def test_the_folder_follows_the_environment(monkeypatch, env, want):
    for k in ("L1L2_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    base = xla_cache.base_dir()
    assert (str(base) if base else None) == want
    assert xla_cache.with_cache("--a", None) == "--a"
    theirs = f"{xla_cache.CACHE_FLAG}=/mine"
    assert xla_cache.with_cache(theirs, base) == theirs
