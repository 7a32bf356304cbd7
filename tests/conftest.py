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
    return subprocess.run(
        [sys.executable, str(ROOT / "reproduce"), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kw,
    )


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """One `reproduce --quick`, in this process, shared by the tests that only read its
    outputs (test_environment runs the same command in a second process)."""
    from l1l2.cli import main

    out = tmp_path_factory.mktemp("quick")
    main(["--quick", "--no-progress", "--quiet", "--out", str(out)])
    return out
