"""What the environment could change without a record: the locale (every text file is UTF-8)
and oneDNN (forced off whatever TF_ENABLE_ONEDNN_OPTS says, and recorded)."""

import ast
import json
import os
import subprocess
import sys

from conftest import ROOT

TEXT_MODES = ("w", "a", "x")


def calls_without_encoding(tree):
    """(line, call) of every text write that leaves the encoding to the locale."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        keywords = {k.arg for k in node.keywords}
        if name == "write_text" and "encoding" not in keywords and len(node.args) < 2:
            yield node.lineno, "write_text"
        if name == "open" and "encoding" not in keywords:
            mode = (
                node.args[1]
                if len(node.args) > 1
                else next((k.value for k in node.keywords if k.arg == "mode"), None)
            )
            text = getattr(mode, "value", "r")
            if isinstance(text, str) and "b" not in text and any(m in text for m in TEXT_MODES):
                yield node.lineno, f"open(..., {text!r})"


def test_every_text_write_of_the_package_names_its_encoding():
    found = []
    for path in sorted((ROOT / "l1l2").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            f"{path.relative_to(ROOT)}:{line} {what}" for line, what in calls_without_encoding(tree)
        ]
    assert not found, found


def test_a_non_utf8_locale_and_onednn_on_change_nothing(quick_run, tmp_path):
    """A second process, under LC_ALL=C without UTF-8 mode (ASCII: '±' cannot be encoded) and
    TF_ENABLE_ONEDNN_OPTS=1: the run succeeds, writes UTF-8, and its tables are byte for byte
    those of the first (the same command gives the same numbers, whatever the environment)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG")}
    env.update(LC_ALL="C", PYTHONUTF8="0", TF_ENABLE_ONEDNN_OPTS="1", PYTHONHASHSEED="0")
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "reproduce"),
            "--quick",
            "--no-gifs",
            "--no-tensorboard",
            "--no-progress",
            "--out",
            tmp_path,
        ],
        cwd=ROOT,
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr.decode("ascii", "replace")
    assert b"Traceback" not in res.stderr and b"\\xb1" in res.stdout  # printed, escaped
    # the last line too: cli.run flushes before its exit without teardown
    assert res.stdout.splitlines()[-1].startswith(b"done: 12 models")
    md = (tmp_path / "results.md").read_bytes()
    assert "±".encode() in md and md.decode("utf-8")
    for name in ("results.md", "results.csv", "curves.csv", "pruning.md"):
        assert (tmp_path / name).read_bytes() == (quick_run / name).read_bytes(), name
    onednn = json.loads((tmp_path / "config.json").read_text())["numerics"]["onednn"]
    assert onednn == {"forced": "0", "environment_asked_for": "1", "effective": False}


def test_tensorflow_loads_without_keras_and_keras_still_loads_on_use():
    """tf1.load leaves Keras out of TensorFlow's import (nothing here uses it), and does not
    break it: tf.keras imports it when first read."""
    code = (
        "import sys\n"
        "from l1l2 import tf1\n"
        "tf1.load()\n"
        "print('keras' in sys.modules)\n"
        "print(tf1.tf.keras.regularizers.L2(0.5).l2)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert res.stdout.split() == ["False", "0.5"]
