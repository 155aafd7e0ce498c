"""Golden text files: the rendered output of one operation, compared byte for byte.

A golden complements the behaviour tests (it shows a reviewer the whole file a change
produces); it is regenerated on purpose, never silently:

    FIXPACK_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/unit -q

writes every golden the run compares (then review `git diff tests/unit/golden`). The
fixpack version in file headers is masked so a release bump does not churn them.
"""

from __future__ import annotations

import os
from pathlib import Path

from generator import __version__

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("FIXPACK_REGEN_GOLDEN", "") == "1"


def masked(text: str) -> str:
    return text.replace(f"fixpack {__version__} |", "fixpack <version> |")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN_DIR / name
    actual = masked(text)
    if REGENERATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), (
        f"no golden {path.name}: run with FIXPACK_REGEN_GOLDEN=1 to create it, then review it"
    )
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from the golden; if the change is intended, regenerate with FIXPACK_REGEN_GOLDEN=1 "
        "and review `git diff tests/unit/golden`"
    )
