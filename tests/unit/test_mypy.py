"""mypy, as pyproject.toml [tool.mypy] states it, finds nothing in generator/ (CI runs it through here).

No database. mypy missing is a failure, not a skip: it is a test dependency (`.[test]`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _mypy_sections() -> str:
    """The [tool.mypy] table and its overrides, as text (Python 3.10 has no tomllib)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=\[)", text)
    return "".join(p for p in parts if p.startswith(("[tool.mypy]", "[[tool.mypy.overrides]]")))


def test_the_mypy_configuration_is_stated_and_not_blanket() -> None:
    config = _mypy_sections()
    for setting in (
        'python_version = "3.10"',
        'packages = ["generator"]',
        "check_untyped_defs = true",
        "warn_unused_ignores = true",
    ):
        assert setting in config, f"pyproject.toml [tool.mypy] lacks {setting}"
    assert "ignore_errors" not in config, "no module may be exempted from mypy wholesale"
    assert "ignore_missing_imports = true" not in config.split("[[tool.mypy.overrides]]")[0], (
        "ignore_missing_imports belongs to per-module overrides for untyped third-party libraries"
    )


def test_mypy_is_clean_on_generator() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, f"mypy (exit {run.returncode}):\n{run.stdout}{run.stderr}"
    assert "Success: no issues found" in run.stdout, run.stdout
