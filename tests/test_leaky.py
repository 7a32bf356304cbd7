"""LeakyReLU vs an L1 activity penalty: the identity and gradients, exactly against NumPy."""

import numpy as np
import pytest
from conftest import ink

from l1l2.commands import leaky
from l1l2.core import activations, model
from l1l2.tf1 import session, v1

A = activations.LEAKY_ALPHA


def test_leaky_relu_identity():
    z = np.linspace(-4, 4, 801)
    lhs = np.where(z >= 0, z, A * z)
    assert (
        np.abs(lhs - ((1 + A) * np.maximum(z, 0) - A * np.abs(z))).max() < 1e-12
    )  # NumPy, float64
    assert leaky.identity_error() < 1e-6  # TF, float32


def test_gradient_differences_against_numpy():
    p = model.glorot_init((1, 6, 1), 3)
    p["dense1/b"] = np.array([-1.0, 0.5, -0.2, 0.3, -2.0, 1.0], np.float32)
    x1 = np.array([[0.5], [1.5], [3.0], [-1.0]], np.float32)
    t = np.array([[1.0], [2.0], [7.0], [0.0]], np.float32)
    lam = 0.3
    g, x, tt, f, _ = leaky.build(p, lam, 0.01)
    with session(g) as s:
        s.run(v1.global_variables_initializer())
        out = s.run(f, {x: x1, tt: t})
    A1, B1, C, D = (
        p[k].astype(np.float64) for k in ("dense1/W", "dense1/b", "dense2/W", "dense2/b")
    )
    x2 = x1 @ A1 + B1
    H = (x2 >= 0).astype(float)
    yR = np.maximum(x2, 0) @ C + D
    yL = np.where(x2 >= 0, x2, A * x2) @ C + D
    dR = (yR - t) * C[:, 0] * H  # dL/dx2, ReLU
    dL = (yL - t) * C[:, 0] * (H + A * (1 - H))  # dL/dx2, LeakyReLU
    np.testing.assert_allclose(out["delta"][0], x1.T @ (dL - dR), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out["delta"][1], (dL - dR).sum(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out["l1"][0], lam * x1.T @ np.sign(x2), rtol=1e-5)
    np.testing.assert_allclose(out["l1"][1], lam * np.sign(x2).sum(0), rtol=1e-5)
    # the post's first-order formula: the LeakyReLU change with y held at the ReLU net's value
    fa, fb = leaky.formula(x1, t, out)
    first_order = (yR - t) * C[:, 0] * A * (1 - H)
    np.testing.assert_allclose(fa, x1.T @ first_order, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fb, first_order.sum(0), rtol=1e-4, atol=1e-5)


def test_command_reports_what_it_measured(tmp_path, capsys, saved_figures):
    """The report's cosines are the means over the first and last 10% of the measured epochs
    (here two epochs each), and the identity's error is float32 rounding."""
    from l1l2.cli import main
    from l1l2.config import LeakyConfig
    from l1l2.core import data

    main(["leaky-vs-l1", "--epochs", "19", "--out", str(tmp_path)])
    md = (tmp_path / "analysis" / "leaky_vs_l1.md").read_text()
    rows = leaky.measure(LeakyConfig(epochs=19), data.load("data/line.csv"))
    row = next(line for line in md.splitlines() if line.startswith("| cosine(LeakyReLU change, L1"))
    first, last = (float(v) for v in row.strip(" |").split("|")[1:])
    want = [np.mean([r["cos_A"] for r in window]) for window in (rows[:2], rows[-2:])]
    assert (first, last) == pytest.approx(want, abs=5e-4)
    ident = float(md.split("max error ")[1].split(" ")[0])
    assert ident == pytest.approx(leaky.identity_error(), rel=0.05) and ident < 1e-6
    [ax, fraction] = saved_figures["leaky_vs_l1.png"].axes  # two quantities, two axes
    cos_a = ax.lines[0].get_ydata()
    np.testing.assert_allclose(cos_a, [r["cos_A"] for r in rows], atol=1e-6)  # what is drawn
    assert ax.get_ylabel() == "cosine" and ax.get_xscale() == "symlog"
    np.testing.assert_allclose(fraction.lines[0].get_ydata(), [r["negative_units"] for r in rows])
    assert ink(tmp_path / "analysis" / "leaky_vs_l1.png") > 0.02


@pytest.mark.parametrize("args", [["--hidden", "0"], ["--lr", "-1"]])
def test_bad_arguments(capsys, args):
    from l1l2.cli import main

    with pytest.raises(SystemExit) as e:
        main(["leaky-vs-l1", *args])
    assert e.value.code == 2 and capsys.readouterr().err.count("\n") == 1
