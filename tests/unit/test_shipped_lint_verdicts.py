"""Shipped lint verdicts (generator/lint/data/verdicts.json): used first, exact to sqlfluff and config.

The full check — every catalog release's shapes regenerated and compared with the file — renders
each release's offline bundles (tens of CPU seconds each) and lives in
tests/db/lint/test_shipped_lint_verdicts.py (marked slow). Here: the file is for the pinned sqlfluff
and this configuration, shipped verdicts are served without running sqlfluff, unknown shapes
are linted as before.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from generator.lint import shipped, sqlfluff_runner
from generator.lint.shapes import shape_key, shape_of

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_file_is_for_the_pinned_sqlfluff_and_this_configuration() -> None:
    data = shipped.read_file()
    assert data is not None, "generator/lint/data/verdicts.json: run tools/ship_lint_verdicts.py"
    pinned = re.search(r"^sqlfluff==(\S+)$", (ROOT / "constraints" / "runtime.txt").read_text(), re.M)
    assert pinned, "constraints/runtime.txt pins sqlfluff exactly"
    assert '"sqlfluff==' + pinned.group(1) + '"' in (ROOT / "pyproject.toml").read_text()
    assert metadata.version("sqlfluff") == pinned.group(1) == data["sqlfluff"]
    assert data["salt"] == shipped.salt_digest(sqlfluff_runner.cache_salt()), (
        "verdicts.json is stale (sqlfluff or generator/lint/sqlfluff.cfg changed): "
        "run tools/ship_lint_verdicts.py"
    )
    assert data["verdicts"] and set(data["releases"]) >= {"2025.1"}
    assert shipped.verdicts(sqlfluff_runner.cache_salt()) == data["verdicts"]


def test_shipped_verdicts_are_used_first_and_unknown_shapes_linted(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FIXPACK_CACHE_DIR", str(tmp_path))  # an empty user cache: a fresh machine
    salt = sqlfluff_runner.cache_salt()
    known = shape_of("SELECT `a` FROM `t` WHERE `b` = 'x';")
    unknown = shape_of("SELECT * FROM `t`;")  # AM04: sqlfluff objects (layout rules are not run)
    known_key, unknown_key = shape_key(known, salt), shape_key(unknown, salt)
    marker = [{"code": "SHIPPED", "line": 1, "message": "from the shipped file"}]
    monkeypatch.setattr(shipped, "verdicts", lambda s: {known_key: marker} if s == salt else {})
    results, cached = sqlfluff_runner.lint_shapes({known_key: known, unknown_key: unknown}, workers=1)
    assert results[known_key] == marker  # served, not linted
    assert cached == 1
    assert results[unknown_key] and all(v["code"] != "SHIPPED" for v in results[unknown_key])
    # use_cache=False (fixpack lint --no-cache, the tests) lints everything, shipped or not
    fresh, cached = sqlfluff_runner.lint_shapes({known_key: known}, use_cache=False, workers=1)
    assert fresh[known_key] != marker and cached == 0


def test_a_different_salt_ignores_the_file() -> None:
    assert shipped.verdicts("sqlfluff 0.0.0\nanother configuration") == {}
