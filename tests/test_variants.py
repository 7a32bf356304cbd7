"""`reproduce variants`: each target penalizes what it says, the fractions, a tiny run."""

import json

import numpy as np
from conftest import ink

from l1l2 import config
from l1l2.cli import main
from l1l2.commands import variants
from l1l2.shared import runs as common


def test_each_target_setting_penalizes_only_its_target():
    cfg = config.VariantsConfig(lam=0.2, activations=("identity", "elu"))
    got = {label: common.run_penalty(c, c.methods[0]) for label, c in cfg.settings()}
    assert [label for label in got][:2] == ["activation identity", "activation elu"]
    by_target = {
        t: (p.kernel.l1, p.bias.l1, p.activity.l1)
        for t, p in (
            (label.split()[-1], p) for label, p in got.items() if label.startswith("L1 on")
        )
    }
    assert by_target == {
        "nothing": (0, 0, 0),
        "kernel": (0.2, 0, 0),
        "bias": (0, 0.2, 0),
        "activity": (0, 0, 0.2),
    }


def test_near_zero_fractions_by_hand():
    p = {
        "dense1/W": np.array([[0.005, 1.0]]),
        "dense1/b": np.array([0.0, 0.5]),
        "dense2/W": np.array([[0.001], [2.0]]),
        "dense2/b": np.array([0.002]),
    }
    x = np.array([0.0, 1.0], np.float32)
    # hidden h = x*W1 + b1: x=0 -> (0, 0.5), x=1 -> (0.005, 1.5): 2 of 4 below 0.01
    got = variants.near_zero(p, x, 0.01, "identity")
    assert got == {"weights": 0.5, "biases": 2 / 3, "activations": 0.5}
    assert "activations" not in variants.near_zero(p, x, 0.01, "prelu")  # no NumPy twin for PReLU


def test_variants_command_writes_tables_figure_and_record(tmp_path, capsys, saved_figures):
    main(
        [
            "variants",
            "--runs",
            "2",
            "--epochs",
            "2",
            "--activations",
            "identity,relu",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    assert capsys.readouterr().err == ""  # --quiet: no phase line, no progress bar
    md = (tmp_path / "analysis" / "variants.md").read_text()
    assert "| identity |" in md and "| relu |" in md and "| activity |" in md
    [errors, targets] = saved_figures["variants.png"].axes
    assert [t.get_text() for t in errors.get_xticklabels()] == ["identity", "relu"]
    assert len(targets.patches) == 3 * 4  # weights, biases, activations for each target
    assert ink(tmp_path / "analysis" / "variants.png") > 0.02
    rec = json.loads((tmp_path / "analysis" / "variants.json").read_text())
    assert rec["config"]["activations"] == ["identity", "relu"]
