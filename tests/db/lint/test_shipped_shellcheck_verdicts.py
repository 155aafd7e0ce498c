"""The shipped shellcheck verdicts (generator/lint/data/shellcheck_verdicts.json) list exactly the
shapes of the scripts fixpack renders, for the shellcheck installed; a sample is checked again.

Skipped while the file is not built (it is optional: without it every script is checked by
shellcheck at generation). Slow: it renders every release's plans (tools/ship_shellcheck_verdicts.py).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from generator.lint import script_shapes
from generator.lint.shellcheck import find_shellcheck, shellcheck_version, verdict_salt

ROOT = Path(__file__).resolve().parents[3]
FILE = ROOT / "generator" / "lint" / "data" / script_shapes.FILE
pytestmark = pytest.mark.slow


def _tool():
    spec = importlib.util.spec_from_file_location(
        "ship_shellcheck_verdicts", ROOT / "tools" / "ship_shellcheck_verdicts.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("ship_shellcheck_verdicts", module)
    spec.loader.exec_module(module)
    return module


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
