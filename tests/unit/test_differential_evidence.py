"""The differential evidence under docs/evidence/<release>/ is not older than the code it describes.

Releases other than 2026.2 run their differential tests outside CI (tools/differential_evidence.py,
which records each covered file's code digest). This check recomputes the digests and fails when
a covered file changed, was added (a new tests/db/plan/test_differential_*.py) or removed since.

What is covered, and why not more:
- generator/plan/*.py: the planners decide every row a bundle changes — what the evidence is about;
- tests/upstream/*.py and tests/differential.py: the mirrors of the upstream code and the
  comparison itself, i.e. what "matches upstream" means;
- tests/db/plan/test_differential_*.py: the seeded worlds and the cases.
Not generator/render/ or generator/sqlgen/ (how a plan is written as SQL): they are being rewritten
and every rewrite is checked by the 2026.2 differential run in CI and by the unit and bundle tests;
covering them would stale the old releases' evidence on every renderer commit. Digests are of the
code with comments, docstrings and formatting dropped (ast), so a reworded docstring or `ruff
format` does not stale it either; any change to what runs does.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = sorted((ROOT / "docs" / "evidence").glob("*/differential.json"))


def _tool():
    spec = importlib.util.spec_from_file_location(
        "differential_evidence", ROOT / "tools" / "differential_evidence.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_evidence_for_2023_1() -> None:
    assert ROOT / "docs" / "evidence" / "2023.1" / "differential.json" in EVIDENCE


@pytest.mark.parametrize("path", EVIDENCE, ids=[p.parent.name for p in EVIDENCE])
def test_evidence_is_not_older_than_the_code(path: Path) -> None:
    evidence = json.loads(path.read_text())
    recorded, now = evidence["covered"], _tool().covered_files(ROOT)
    changed = sorted(p for p in recorded.keys() & now.keys() if recorded[p] != now[p])
    added, removed = sorted(now.keys() - recorded.keys()), sorted(recorded.keys() - now.keys())
    assert not (changed or added or removed), (
        f"{path.relative_to(ROOT)} (commit {evidence['commit'][:12]}) describes other code: "
        f"changed {changed}, new {added}, gone {removed}. Re-run "
        f"`.venv/bin/python tools/differential_evidence.py --release {evidence['release']}` "
        f"and commit docs/evidence/{evidence['release']}/."
    )
    assert evidence["tests"], "the evidence records no test outcome"
    assert (path.parent / "differential.md").is_file()


def test_the_digest_ignores_comments_docstrings_and_formatting(tmp_path: Path) -> None:
    digest = _tool().code_digest
    a, b, c = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"
    a.write_text('"""Doc."""\n\ndef f(x):\n    """Why."""\n    return x + 1  # note\n')
    b.write_text("def f(x):\n    return (\n        x + 1\n    )\n")
    c.write_text("def f(x):\n    return x + 2\n")
    assert digest(a) == digest(b) != digest(c)
