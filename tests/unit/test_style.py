"""ruff, as pyproject.toml [tool.ruff] states it, is clean on the code, the tests and the benchmarks.

No database. ruff missing is a failure, not a skip: it is a test dependency (`.[test]`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["generator", "tests", "bench"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command: list[str]) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ruff", *command, *PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"ruff {' '.join(command)} found problems:\n{run.stdout}{run.stderr}"
