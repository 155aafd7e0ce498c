"""FX005 on text alone: long lines fail, except a line too long only by one value (a captured
pre-image, which cannot be wrapped without changing it)."""

from __future__ import annotations

from generator.lint.rules import line_length
from generator.lint.rules.context import SqlFileContext

HEX = "X'" + "7B22" * 200 + "'"


def _codes(text: str) -> list[int]:
    ctx = SqlFileContext("captured/90-rollback-nova.sql", text, "nova", None, (), (), 120)
    return [f.line for f in line_length.check(ctx)]


def test_a_long_line_of_code_fails() -> None:
    assert _codes("SELECT " + ", ".join(f"`column_{n}`" for n in range(20)) + " FROM `t`;") == [1]


def test_a_line_long_only_by_one_captured_value_passes() -> None:
    text = f"    4 AND `instance_extra`.`migration_context`\n    <=> {HEX} AND `extra`.`updated_at` <=>\n"
    assert _codes(text) == []


def test_two_long_values_on_one_line_fail() -> None:
    assert _codes(f"SET `a` = {HEX}, `b` = {HEX};") == [1]


def test_a_long_value_beside_long_code_fails() -> None:
    code = " AND ".join(f"`column_{n}` = 1" for n in range(10))
    assert _codes(f"WHERE {code} AND `c` = {HEX};") == [1]
