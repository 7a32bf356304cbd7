import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the tests' own persistent XLA cache (l1l2/xla_cache.py), shared with the commands they run in
# second processes, never the user's; removed at the end
TEST_CACHE = tempfile.mkdtemp(prefix="l1l2-test-cache-")
os.environ["L1L2_CACHE_DIR"] = TEST_CACHE
atexit.register(shutil.rmtree, TEST_CACHE, ignore_errors=True)


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


@pytest.fixture
def saved_figures(monkeypatch):
    """{file name: matplotlib Figure} of every figure this test saves in this process, so a test
    reads what a figure holds (panels, lines, labels) instead of the size of its PNG."""
    from matplotlib.figure import Figure

    saved, original = {}, Figure.savefig

    def savefig(self, fname, *args, **kw):
        saved[Path(fname).name] = self
        return original(self, fname, *args, **kw)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


def ink(png) -> float:
    """The fraction of a PNG's pixels that are not white: a drawn figure has a few percent."""
    import imageio.v3 as iio

    rgb = iio.imread(png)[..., :3]
    return float((rgb < 250).any(axis=-1).mean())


def panel_texts(fig) -> list:
    """Per axes of a figure that has data: (title, x label, y label, number of lines and
    collections): what a reader sees named on each panel."""
    return [
        (ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), len(ax.lines) + len(ax.collections))
        for ax in fig.axes
    ]
