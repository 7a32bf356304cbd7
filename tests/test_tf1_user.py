"""A TF1 user's path to our checkpoints: the snippet of docs/details.md, model.meta, and the
shape trap."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from l1l2.core import checkpoints, model
from l1l2.core import pruning as prune
from l1l2.tf1 import session, tf, v1

X = np.array([[1.0], [5.0]], np.float32)


def readme_snippet() -> str:
    text = (ROOT / "docs" / "details.md").read_text()
    section = text[text.index("## Using a checkpoint from your own TF1 code") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def record(**kw):
    return {
        "name": "l1_run0",
        "kind": "trained",
        "method": "l1",
        "lam": 0.3,
        "lr": 0.01,
        "penalty": {"kernel": "l1:0.3", "bias": "none", "activity": "none"},
        **kw,
    }


def test_readme_snippet_runs_as_written(tmp_path):
    """Exactly the documented code, in a fresh Python without this project, on a saved run."""
    params = model.glorot_init((1, 10, 10, 10, 1), 0)
    checkpoints.save(tmp_path / "outputs" / "checkpoints" / "l1_run0", params, record=record())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run(
        [sys.executable, "-c", readme_snippet()],
        cwd=tmp_path,
        text=True,
        capture_output=True,
        timeout=300,
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert res.returncode == 0, res.stderr
    own, imported, shape = res.stdout.strip().splitlines()
    want = prune.forward(params, X.astype(np.float64))[-1].ravel()
    for line in (own, imported):
        np.testing.assert_allclose(np.array(line.strip("[] ").split(), float), want, rtol=1e-5)
    assert shape == "(1, 10)"


def test_meta_graph_is_the_model_with_its_penalty(tmp_path):
    """import_meta_graph + restore, no project code: prediction and cost by name, the L1 penalty
    in REGULARIZATION_LOSSES, the activation."""
    params = model.glorot_init((1, 4, 3, 1), 2)
    checkpoints.save(tmp_path, params, "relu", record(activation="relu"))
    g = tf.Graph()
    with g.as_default(), session(g) as sess:
        saver = v1.train.import_meta_graph(str(tmp_path / "model.meta"))
        saver.restore(sess, str(tmp_path / "model"))
        pred, cost = sess.run(["prediction:0", "cost:0"], {"x:0": X, "y:0": np.zeros_like(X)})
        losses = v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
        ops = {op.type for op in g.get_operations() if "/Regularizer/" in op.name}
        assert "Relu" in {op.type for op in g.get_operations()}
    want = prune.forward(params, X.astype(np.float64), "relu")[-1]
    np.testing.assert_allclose(pred, want, rtol=1e-5)
    l1 = 0.3 * sum(np.abs(params[f"dense{k}/W"]).sum() for k in (1, 2, 3))
    np.testing.assert_allclose(cost, np.abs(want).sum() + l1, rtol=1e-5)
    assert len(losses) == 3 and "Abs" in ops and "Square" not in ops


def layers(sizes, use_resource):
    x = h = v1.placeholder(tf.float32, [None, 1])
    for k in range(1, len(sizes)):
        with v1.variable_scope(f"dense{k}"):
            W = v1.get_variable("W", sizes[k - 1 : k + 1], use_resource=use_resource)
            h = tf.matmul(h, W) + v1.get_variable("b", [sizes[k]], use_resource=use_resource)
    return x, h


@pytest.mark.parametrize("use_resource", [True, False])
def test_the_shape_trap_the_readme_warns_of(tmp_path, use_resource):
    """A 1-1-1-1-1 checkpoint restored into a 1-10-10-10-1 graph: resource variables (TF2's,
    with only disable_eager_execution, as here) take it silently; TF1 variables refuse."""
    small = model.glorot_init((1, 1, 1, 1, 1), 0)
    checkpoints.save(tmp_path, small)
    g = tf.Graph()
    with g.as_default(), session(g) as sess:
        x, h = layers((1, 10, 10, 10, 1), use_resource)
        saver = v1.train.Saver()
        if not use_resource:
            with pytest.raises(tf.errors.InvalidArgumentError):
                saver.restore(sess, str(tmp_path / "model"))
            return
        saver.restore(sess, str(tmp_path / "model"))  # no error at all ...
        out = sess.run(h, {x: X})
    np.testing.assert_allclose(out, prune.forward(small, X.astype(np.float64))[-1], rtol=1e-5)
