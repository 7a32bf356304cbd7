"""The README's code: the TF1 loop it shows is the file, and its Python example runs."""

import os
import re
import subprocess
import sys

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def block(after: str, language: str = "python") -> str:
    """The first code block of `language` after the heading or sentence `after`."""
    section = README[README.index(after) :]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def test_the_readme_shows_the_blog_loop_verbatim():
    shown = block("## The TF1 code")
    assert shown == (ROOT / "l1l2" / "blog_loop.py").read_text(encoding="utf-8")


def test_the_readme_api_example_runs_as_written(tmp_path):
    """In an empty folder (the data set is made again there), from a fresh Python."""
    code = block("From Python, the same commands")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, text=True, capture_output=True, env=env,
        timeout=280,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    first, second = res.stdout.strip().splitlines()[-2:]
    assert first.startswith("none ") and first.endswith("outputs/runs/run-quick")
    assert "('l1', 1.0, 47.78)" in second and "('l2', 0.3, 5.31)" in second
    assert (tmp_path / "outputs" / "runs" / "run-quick" / "results.md").exists()
