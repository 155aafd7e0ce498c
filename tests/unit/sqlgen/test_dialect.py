"""sqlgen/dialect.py: sqlglot's MySQL output adjusted for the plain mysql client and the linter."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from generator.sqlgen.dialect import dual, to_sql
from tests.unit import world as w


def _sql(text: str) -> str:
    return to_sql(sqlglot.parse_one(text, read="mysql"))


def test_dual_is_emitted_unquoted():
    assert to_sql(exp.select(exp.Literal.number(1)).from_(dual())) == "SELECT 1\nFROM DUAL"


def test_a_transaction_starts_with_start_transaction_not_begin():
    assert to_sql(exp.Transaction()) == "START TRANSACTION"


def test_identifiers_are_backticked_and_columns_qualified_by_the_single_table():
    assert w.flat(_sql("SELECT `key` FROM instance_metadata WHERE deleted = 0")) == (
        "SELECT `instance_metadata`.`key` FROM `instance_metadata` WHERE `instance_metadata`.`deleted` = 0"
    )


def test_a_subquery_column_is_qualified_by_its_own_table():
    text = w.flat(_sql("SELECT id FROM a WHERE x IN (SELECT y FROM b)"))
    assert "`a`.`x` IN (SELECT `b`.`y` FROM `b`)" in text


def test_charset_conversion_is_rendered_as_convert_using():
    cast = exp.Cast(
        this=exp.column("v"),
        to=exp.DataType(this=exp.DataType.Type.CHARACTER_SET, kind=exp.Var(this="utf8mb4")),
    )
    assert to_sql(cast) == "CONVERT(`v` USING utf8mb4)"


def test_for_update_goes_on_its_own_line():
    text = to_sql(exp.select("id").from_("t").where("id = 1").lock(update=True))
    assert text.splitlines()[-1] == "FOR UPDATE"


def test_update_with_several_assignments_puts_one_per_line():
    text = _sql("UPDATE t SET a = 1, b = 2 WHERE id = 3")
    assert text.splitlines()[1:3] == ["SET", "  `t`.`a` = 1,"]


def test_multi_table_delete_has_no_padding_after_delete():
    text = _sql("DELETE t FROM t JOIN p ON t.pid = p.id WHERE p.x = 1")
    assert text.startswith("DELETE `t`") and "DELETE  " not in text


def test_a_long_in_list_breaks_one_value_per_line():
    values = ", ".join(f"'{i:036d}'" for i in range(4))
    lines = _sql(f"SELECT id FROM t WHERE uuid IN ({values})").splitlines()
    assert sum(1 for line in lines if line.strip().startswith("'0000")) == 4
