"""The shipped shellcheck verdicts (generator/lint/data/shellcheck_verdicts.json) list exactly the
shapes of the scripts fixpack renders, for the shellcheck installed; a sample is checked again.

The file ships in the wheel (without it a fresh machine checks every script with shellcheck
at generation): a missing one fails. Slow: it renders every release's plans
(tools/ship_shellcheck_verdicts.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.lint import script_shapes
from generator.lint.shellcheck import find_shellcheck, shellcheck_version, verdict_salt
from tests.tools import load_tool

ROOT = Path(__file__).resolve().parents[3]
FILE = ROOT / "generator" / "lint" / "data" / script_shapes.FILE
pytestmark = pytest.mark.slow


def _tool():
    return load_tool("ship_shellcheck_verdicts")


def test_shipped_script_shapes_are_the_rendered_ones_and_clean_ones_are_clean() -> None:
    # shipped in the wheel: a missing file fails here (a fresh machine would run shellcheck again)
    assert FILE.exists(), "shellcheck verdicts not built: run tools/ship_shellcheck_verdicts.py"
    binary = find_shellcheck()
    assert binary is not None
    salt = verdict_salt(shellcheck_version(binary))
    data = json.loads(FILE.read_text())
    assert script_shapes.clean_keys(salt), (
        "built for another shellcheck: run tools/ship_shellcheck_verdicts.py"
    )
    tool = _tool()
    found = tool.shapes(salt, tool.all_scripts())
    assert set(data["clean"]) | set(data["findings"]) == set(found), (
        "stale: run tools/ship_shellcheck_verdicts.py"
    )
    for key in sorted(data["clean"])[:: max(1, len(data["clean"]) // 5)]:
        assert tool.is_clean(binary, found[key])
