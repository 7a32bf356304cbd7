"""The notebook a learner runs: executed headless (small and fast), and what it shows."""

import os

import nbclient
import nbformat
import pytest
from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "l1_vs_l2.ipynb"


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    os.environ["L1L2_QUICK"] = "1"  # the kernel inherits it: 2 runs x 5 epochs, a small sweep
    try:
        nbclient.NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        ).execute()
    finally:
        del os.environ["L1L2_QUICK"]
    return [c for c in nb.cells if c.cell_type == "code"]


def shown(cell, kind):
    """What a cell shows of one kind: its text, Markdown or image outputs."""
    out = []
    for o in cell.outputs:
        assert o.output_type != "error", f"{o.ename}: {o.evalue}"
        if kind == "text" and o.output_type == "stream" and o.name == "stdout":
            out.append(o.text)
        elif kind in o.get("data", {}):
            out.append(o.data[kind])
    return out


def test_the_notebook_runs_top_to_bottom_and_shows_each_step(executed):
    setup, data, model, runs, gif, pruning, optimum, sweep = executed
    assert shown(setup, "text")[0].startswith("l1l2 ")
    assert "Dataset(50 samples: 40 train, 10 test, 10 outliers)" in shown(data, "text")[0]
    assert shown(data, "image/png")  # the data plotted
    assert "sess.run(step" in "".join(shown(model, "text"))  # the blog's loop, its source
    table = shown(runs, "text/markdown")[0]
    assert "| l1 |" in table and "| l2 |" in table and "optimum" in table
    assert shown(gif, "image/gif") or shown(gif, "image/png")
    assert "Pruning the units L1 disconnected" in shown(pruning, "text/markdown")[0]
    assert "| l2 | 1 | l2:1 |" in shown(optimum, "text/markdown")[0]
    assert shown(optimum, "image/png")
    words = "".join(shown(sweep, "text"))
    assert "lambda = 0.3:" in words and "lambda = 1:" in words


def test_the_committed_notebook_holds_its_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code) and all(c.execution_count for c in code)
