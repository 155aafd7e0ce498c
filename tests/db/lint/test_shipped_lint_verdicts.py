"""The shipped lint verdicts cover exactly the shapes the renderer produces, for every catalog release.

Each release's offline bundles (every operation and override set, single and batched) and
its live soft-delete and purge bundles on synthetic rows (tools/live_shapes.py) are
rendered and their statement shapes computed as lint does; the shipped file must list the
same shape keys for that release with a verdict for each (a new or changed renderer
statement, a new release, a sqlfluff or configuration change: run
tools/ship_lint_verdicts.py). The verdicts themselves are spot-checked: a sample of the
newest release's shapes is linted with sqlfluff and must get the shipped verdict. Linting
all ~thousand shapes would take minutes; their keys are the check, the sample guards the
verdicts. No database; slow (rendering takes tens of CPU seconds per release).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import catalog
from generator.lint import shipped
from generator.lint.sqlfluff_runner import cache_salt, lint_shapes
from tests.tools import load_tool

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _tool():
    return load_tool("ship_lint_verdicts")


RELEASES = [r.name for r in catalog.releases()]


@pytest.mark.parametrize("release", RELEASES)
def test_release_shapes_are_shipped(release: str) -> None:
    data = shipped.read_file()
    assert data is not None, "generator/lint/data/verdicts.json missing: run tools/ship_lint_verdicts.py"
    found = _tool().release_shapes(release, cache_salt())
    missing = sorted(set(found) - set(data["verdicts"]))
    assert not missing, (
        f"{len(missing)} {release} shape(s) without a shipped verdict: run tools/ship_lint_verdicts.py"
    )
    assert sorted(found) == sorted(data["releases"].get(release, [])), (
        f"the shipped shape list of {release} is stale: run tools/ship_lint_verdicts.py"
    )
    if release == RELEASES[-1]:  # spot-check the verdicts of the newest release with sqlfluff
        keys = sorted(found)
        sample = {k: found[k] for k in keys[:: max(1, len(keys) // 6)]}
        fresh, _ = lint_shapes(sample, use_cache=False, workers=1)
        assert fresh == {k: data["verdicts"][k] for k in sample}


def test_no_release_left_over() -> None:
    data = shipped.read_file()
    assert data is not None
    assert sorted(data["releases"]) == sorted(RELEASES)
    listed = {k for keys in data["releases"].values() for k in keys}
    assert set(data["verdicts"]) == listed, "verdicts for shapes no release produces: rebuild the file"
