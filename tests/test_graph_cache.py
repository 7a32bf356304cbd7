"""The graph cache (l1l2/graph_cache.py): the compiled engine's loop is traced once, then read
from its file with the same numbers; a damaged or foreign file is refused and replaced, never
fatal. Each test has its own folder (compiled.xla_cache_dir patched)."""

import dataclasses
import hashlib
import os

import numpy as np
import pytest

from l1l2 import graph_cache
from l1l2.core import compiled, data, model, regularizers
from l1l2.core.sgd import SGD
from l1l2.tf1 import v1

D = data.load("data/line.csv")
P0 = model.stack([model.glorot_init((1, 10, 10, 10, 1), s) for s in range(2)])
PEN = regularizers.stack([regularizers.Penalty(0.3, 0.0), regularizers.Penalty(0.0, 0.3)])
TABLE = np.arange(len(D.x_train), dtype=np.int32).reshape(-1, 1, 1)


@pytest.fixture
def traced(tmp_path, monkeypatch):
    """The list of the loops traced (not read from a file), with the cache in tmp_path."""
    monkeypatch.setattr(compiled, "xla_cache_dir", lambda: tmp_path)
    calls, trace = [], compiled.traced_graph
    monkeypatch.setattr(compiled, "traced_graph", lambda *a: calls.append(a) or trace(*a))
    compiled.clear_cache()  # a loop kept in memory would be used without either
    yield calls
    compiled.clear_cache()


def train():
    compiled.clear_cache()
    spec = SGD(lr=0.01, epochs=2, every_epoch=True)
    out = compiled.train_compiled(D.x_train, D.y_train, P0, PEN, spec, TABLE, (D.x_test, D.y_test))
    return {**out.params, "test_error": out.test_error, "diverged_at": out.diverged_at}


def stored(folder):
    return sorted((folder / "graphs").glob("*.pb"))


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k


def test_a_loop_is_traced_once_then_read_from_its_file(traced, tmp_path):
    first = train()
    assert len(traced) == 1 and len(stored(tmp_path)) == 1
    assert_same(train(), first)
    assert len(traced) == 1  # the second came from the file, with the same numbers


@pytest.mark.parametrize("damage", ["cut", "flip", "too_big"])
def test_a_damaged_file_is_refused_deleted_and_replaced(traced, tmp_path, monkeypatch, damage):
    first = train()
    (path,) = stored(tmp_path)
    raw = path.read_bytes()
    if damage == "cut":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        path.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    limit = graph_cache.MAX_BYTES
    if damage == "too_big":  # a whole file, over the bound
        monkeypatch.setattr(graph_cache, "MAX_BYTES", len(raw) - 1)
    assert graph_cache.load(path, compiled.LOOP_OPS) is None
    assert not path.exists()
    monkeypatch.setattr(graph_cache, "MAX_BYTES", limit)
    assert_same(train(), first)
    assert len(traced) == 2 and path.exists()  # traced again, stored again


def test_only_the_newest_files_are_kept(traced, tmp_path, monkeypatch):
    train()
    (path,) = stored(tmp_path)
    old = [path.with_name(f"old{k}.pb") for k in range(3)]
    left = path.with_name(f".{path.name}.99999")  # a temporary file of a process that died
    for k, p in enumerate([*old, left]):
        p.write_bytes(path.read_bytes())
        os.utime(p, (1000 + k, 1000 + k))
    monkeypatch.setattr(graph_cache, "MAX_GRAPHS", 2)
    graph_cache.save(path, graph_cache.load(path, compiled.LOOP_OPS), compiled.LOOP_OPS)
    assert stored(tmp_path) == sorted([path, old[2]]) and not left.exists()


@pytest.mark.parametrize("kind", ["fifo", "link", "folder"])
def test_what_is_no_regular_file_is_a_miss(traced, tmp_path, kind):
    """Never read (a FIFO would block, a link leave the folder): traced again, no error."""
    first = train()
    (path,) = stored(tmp_path)
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link":
        path.symlink_to(tmp_path / "elsewhere.pb")
        (tmp_path / "elsewhere.pb").write_bytes(b"")
    else:
        path.mkdir()
    assert graph_cache.load(path, compiled.LOOP_OPS) is None
    assert_same(train(), first)
    assert len(traced) == 2


def test_a_graph_with_other_ops_is_refused(traced, tmp_path):
    train()
    (path,) = stored(tmp_path)
    graph_def = graph_cache.load(path, compiled.LOOP_OPS)
    assert graph_def is not None
    graph_def.node.add(name="write", op="WriteFile")  # an op no loop has
    graph_cache.save(path, graph_def, compiled.LOOP_OPS)  # refused: the old file stays
    assert graph_cache.load(path, compiled.LOOP_OPS) is not None
    body = graph_def.SerializeToString()  # written with a right digest, by hand
    path.write_bytes(hashlib.sha256(body).digest() + body)
    assert graph_cache.load(path, compiled.LOOP_OPS) is None and not path.exists()


def test_a_graph_of_other_shapes_or_outputs_is_refused(traced, tmp_path):
    train()
    (path,) = stored(tmp_path)
    graph_def = graph_cache.load(path, compiled.LOOP_OPS)
    spec, placeholders = traced[0]
    n_out = (
        2 * sum(k.startswith("ws_") for k in placeholders) + 2
    )  # weights, diverged, errors, frames
    assert compiled.imported_graph(graph_def, placeholders, n_out) is not None
    other = {**placeholders, "table": ("int32", (41, 1, 1))}
    assert compiled.imported_graph(graph_def, other, n_out) is None
    more = {**placeholders, "call_4": ("int32", ())}
    assert compiled.imported_graph(graph_def, more, n_out) is None
    assert compiled.imported_graph(graph_def, placeholders, n_out + 1) is None
    assert compiled.imported_graph(v1.GraphDef(), placeholders, n_out) is None


@pytest.mark.parametrize("activation", compiled.ACTIVATIONS)
def test_every_loop_holds_only_the_ops_the_cache_takes(traced, activation):
    """Traced (not run) with each activation, recording: a loop with an op outside LOOP_OPS
    would be traced again in every process."""
    train()
    spec, placeholders = traced[0]
    spec = dataclasses.replace(spec, activation=activation, record=True)
    graph = compiled.traced_graph(spec, placeholders)
    assert graph_cache.ops_of(graph.as_graph_def()) <= compiled.LOOP_OPS


def test_the_file_is_named_by_the_key_and_the_source(tmp_path, monkeypatch):
    assert graph_cache.path_for(None, "a") is None  # no XLA cache folder: no graph cache
    a, b = graph_cache.path_for(tmp_path, "a"), graph_cache.path_for(tmp_path, "b")
    assert a != b and a.parent == tmp_path / "graphs"
    monkeypatch.setattr(graph_cache, "source_digest", lambda: "an edited package")
    assert graph_cache.path_for(tmp_path, "a") != a
