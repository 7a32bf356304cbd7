"""What the environment could change without a record: the locale (every text file is UTF-8)
and oneDNN (forced off whatever TF_ENABLE_ONEDNN_OPTS says, and recorded)."""

import ast
import json
import os
import subprocess
import sys

import pytest
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


def test_the_while_loop_threshold_joins_the_users_xla_flags():
    """tf1 adds XLA's small-while-loop threshold (the whole SGD loop as one kernel) to XLA_FLAGS:
    a flag of its own, or one more option of the user's --xla_backend_extra_options; a value the
    user set for it is kept, and so is every other flag."""
    from l1l2 import tf1

    ours = f"{tf1.WHILE_LOOP_OPTION}={tf1.WHILE_LOOP_BYTES}"
    assert tf1.with_while_loop_threshold("") == f"--xla_backend_extra_options={ours}"
    assert tf1.with_while_loop_threshold("--xla_dump_to=/d") == (
        f"--xla_dump_to=/d --xla_backend_extra_options={ours}"
    )
    assert tf1.with_while_loop_threshold("--xla_backend_extra_options=a=1 --xla_dump_to=/d") == (
        f"--xla_backend_extra_options=a=1,{ours} --xla_dump_to=/d"
    )
    theirs = f"--xla_backend_extra_options=a=1,{tf1.WHILE_LOOP_OPTION}=5 --xla_dump_hlo_as_text"
    assert tf1.with_while_loop_threshold(theirs) == theirs


@pytest.mark.parametrize("name", ["REGION_ANALYSIS", "OPT_LEVEL", "VECTOR_WIDTH"])
def test_our_xla_flags_join_the_users_unless_they_set_them(name):
    """tf1 turns XLA's region analysis on (the loop's weights updated in place), compiles at
    LLVM's -O2 and prefers 512-bit vectors, each unless the user set it, to any value."""
    from l1l2 import tf1

    flag = getattr(tf1, name)
    ours = f"{flag}={tf1.OUR_FLAGS[flag]}"
    assert tf1.with_flag("", flag, tf1.OUR_FLAGS[flag]) == ours
    assert tf1.with_flag("--xla_dump_to=/d", flag, "x") == f"--xla_dump_to=/d {flag}=x"
    for theirs in (f"{flag}=0 --xla_dump_to=/d", flag):
        assert tf1.with_flag(theirs, flag, "x") == theirs
        assert ours not in tf1.with_our_flags(theirs)
    threshold = f"--xla_backend_extra_options={tf1.WHILE_LOOP_OPTION}={tf1.WHILE_LOOP_BYTES}"
    assert tf1.with_our_flags("").split() == [
        threshold,
        *(f"{k}={v}" for k, v in tf1.OUR_FLAGS.items()),
    ]


def test_xla_flags_are_merged_before_xla_starts_and_recorded(tmp_path):
    """In a fresh process: the user's XLA_FLAGS stay (XLA accepts the merged flags and writes the
    dump the user asked for), ours are on, and the run record names both."""
    code = (
        "import os, numpy as np\n"
        "from l1l2 import tf1\n"
        "from l1l2.core import compiled, model, regularizers\n"
        "from l1l2.core.sgd import SGD\n"
        "from l1l2.output import record\n"
        "p = model.stack([model.glorot_init((1, 2, 1), 0)])\n"
        "x = np.arange(4, dtype=np.float32)\n"
        "compiled.train_compiled(x, x, p, regularizers.stack([regularizers.Penalty(l2=0.1)]),\n"
        "    SGD(epochs=1), np.arange(4, dtype=np.int32).reshape(-1, 1, 1))\n"
        "print(record.numerics()['xla_flags'])\n"
    )
    env = {**os.environ, "XLA_FLAGS": f"--xla_dump_to={tmp_path}", "TF_CPP_MIN_LOG_LEVEL": "3"}
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300
    )
    assert res.returncode == 0, res.stderr[-2000:]
    from l1l2 import tf1

    want = tf1.with_our_flags(f"--xla_dump_to={tmp_path}")
    assert res.stdout.strip().splitlines()[-1] == str(
        {"environment_asked_for": f"--xla_dump_to={tmp_path}", "effective": want}
    )
    options = [p.read_text() for p in tmp_path.glob("*.debug_options")]
    assert options and all(tf1.WHILE_LOOP_OPTION in o for o in options)
    assert all("xla_cpu_copy_insertion_use_region_analysis: true" in o for o in options)
    assert all("xla_backend_optimization_level: 2" in o for o in options)


def test_malloc_options_leave_what_the_user_set():
    """tf1 caps glibc's arenas and fixes its mmap threshold, unless the environment sets them."""
    from l1l2 import tf1

    both = list(tf1.MALLOC_OPTIONS.values())
    assert tf1.malloc_options({}) == both
    assert tf1.malloc_options({"MALLOC_ARENA_MAX": "8"}) == [
        tf1.MALLOC_OPTIONS["MALLOC_MMAP_THRESHOLD_"]
    ]
    assert tf1.malloc_options({"GLIBC_TUNABLES": "glibc.malloc.arena_max=8"}) == []
    assert tf1.malloc_options({"GLIBC_TUNABLES": "glibc.rtld.nns=2"}) == both


def test_the_process_keeps_at_most_two_malloc_arenas(tmp_path):
    """After TensorFlow loads and its threads train (the compiled engine: a thread per part),
    glibc's malloc_info lists at most 2 heaps (arenas); without the cap it lists more."""
    code = (
        "import ctypes, sys, numpy as np\n"
        "from l1l2 import tf1\n"
        "from l1l2.core import compiled, model, regularizers\n"
        "from l1l2.core.sgd import SGD\n"
        "tf1.load()\n"
        "n = 64\n"
        "p = model.init_stack((1, 4, 1), range(n))\n"
        "x = np.arange(4, dtype=np.float32)\n"
        "compiled.train_compiled(x, x, p, regularizers.stack([regularizers.Penalty(l2=0.1)] * n),\n"
        "    SGD(epochs=1), np.arange(4, dtype=np.int32).reshape(-1, 1, 1))\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.fopen.restype = ctypes.c_void_p\n"
        "f = libc.fopen(sys.argv[1].encode(), b'w')\n"
        "libc.malloc_info(0, ctypes.c_void_p(f))\n"
        "libc.fclose(ctypes.c_void_p(f))\n"
    )
    heaps = {}
    for cap in (True, False):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        env |= {} if cap else {"MALLOC_ARENA_MAX": "64"}
        out = tmp_path / f"{cap}.xml"
        res = subprocess.run(
            [sys.executable, "-c", code, str(out)], cwd=ROOT, capture_output=True, text=True,
            env=env, timeout=300,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr[-2000:]
        heaps[cap] = out.read_text().count("<heap nr=")
    assert heaps[True] <= 2 < heaps[False]
