import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_reproduce(*args, timeout=300, **kw):
    """Run ./reproduce in a subprocess; returns CompletedProcess with text stdout/stderr."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run([sys.executable, str(ROOT / "reproduce"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env, **kw)


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """One `./reproduce --quick` shared by the tests that only read its outputs."""
    out = tmp_path_factory.mktemp("quick")
    res = run_reproduce("--quick", "--no-progress", "--out", out)
    assert res.returncode == 0, res.stderr
    return out
