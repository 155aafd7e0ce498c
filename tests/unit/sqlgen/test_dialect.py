"""sqlgen/dialect.py: sqlglot's MySQL output adjusted for the plain mysql client and the linter."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from generator.sqlgen.dialect import LINE_WIDTH, dual, to_sql, wrap
from tests.unit import world as w


def _sql(text: str) -> str:
    return to_sql(sqlglot.parse_one(text, read="mysql"))


def test_dual_is_emitted_unquoted():
    assert to_sql(exp.select(exp.Literal.number(1)).from_(dual())) == "SELECT 1 FROM DUAL"


def test_a_transaction_starts_with_start_transaction_not_begin():
    assert to_sql(exp.Transaction()) == "START TRANSACTION"


def test_identifiers_are_backticked_and_columns_of_a_one_table_statement_are_bare():
    assert w.flat(_sql("SELECT instance_metadata.`key` FROM instance_metadata WHERE deleted = 0")) == (
        "SELECT `key` FROM `instance_metadata` WHERE `deleted` = 0"
    )


def test_rendering_never_changes_the_callers_tree():
    tree = exp.select(exp.column("x", table="a")).from_("a")
    to_sql(tree)
    assert tree.sql() == "SELECT a.x FROM a"


def test_a_subquery_column_is_qualified_by_its_own_table():
    text = w.flat(_sql("SELECT id FROM a WHERE x IN (SELECT y FROM b)"))
    assert "`a`.`x` IN (SELECT `b`.`y` FROM `b`)" in text


def test_charset_conversion_is_rendered_as_convert_using():
    cast = exp.Cast(
        this=exp.column("v"),
        to=exp.DataType(this=exp.DataType.Type.CHARACTER_SET, kind=exp.Var(this="utf8mb4")),
    )
    assert to_sql(cast) == "CONVERT(`v` USING utf8mb4)"


def test_a_statement_that_fits_is_one_line():
    text = to_sql(exp.select("id").from_("t").where("id = 1").lock(update=True))
    assert text == "SELECT `id` FROM `t` WHERE `id` = 1 FOR UPDATE"


def test_a_long_statement_breaks_before_each_top_level_clause_within_the_line_limit():
    columns = ", ".join(f"column_number_{i}" for i in range(12))
    text = _sql(f"UPDATE t SET a = CONCAT({columns}), b = 2 WHERE id = 3")
    lines = text.splitlines()
    assert lines[0].startswith("UPDATE `t`") and [x for x in lines if x.startswith("WHERE")] == [
        "WHERE `id` = 3"
    ]
    assert all(len(x) <= LINE_WIDTH for x in lines) and len(lines) < 6
    assert " ".join(x.strip() for x in lines) == to_sql_flat(text)


def to_sql_flat(text: str) -> str:
    return " ".join(text.split())


def test_multi_table_delete_has_no_padding_after_delete():
    text = _sql("DELETE t FROM t JOIN p ON t.pid = p.id WHERE p.x = 1")
    assert text.startswith("DELETE `t`") and "DELETE  " not in text


def test_a_long_in_list_wraps_between_values_never_inside_one():
    values = ", ".join(f"'{i:036d}'" for i in range(8))
    lines = _sql(f"SELECT id FROM t WHERE uuid IN ({values})").splitlines()
    assert len(lines) > 1 and all(len(line) <= LINE_WIDTH for line in lines)
    assert sum(line.count("'") for line in lines) == 16 and all(line.count("'") % 2 == 0 for line in lines)


def test_a_backtick_or_quote_inside_a_token_never_becomes_a_break():
    text = wrap("SELECT " + ", ".join(["'a b c d'", "`x y`"] * 20) + " FROM DUAL", width=40)
    assert all(line.count("'") % 2 == 0 and line.count("`") % 2 == 0 for line in text.splitlines())
    assert " ".join(text.split()) == " ".join(
        ("SELECT " + ", ".join(["'a b c d'", "`x y`"] * 20)).split()
    ) + (" FROM DUAL")


def test_an_identifier_holding_a_newline_is_never_rewrapped():
    tree = exp.select(exp.column("x\ny")).from_("t")
    assert "`x\ny`" in to_sql(tree)


def test_a_long_value_is_a_concat_of_literal_pieces_that_wrap_within_the_limit():
    from generator.sqlgen.literals import sql_literal

    text = "é" * 30 + "x" * 100
    rendered = sql_literal(text, hex_text=True)
    assert rendered.startswith("CONCAT(_utf8mb4 x'")
    pieces = [bytes.fromhex(p.split("'")[1]) for p in rendered[len("CONCAT(") : -1].split(", ")]
    assert b"".join(pieces).decode("utf-8") == text  # every piece is whole UTF-8: the same value
    assert all(p.decode("utf-8") for p in pieces)
    readable = sql_literal("y" * 300)
    assert readable.startswith("CONCAT('y") and readable.count("'") == 8
    assert (
        sql_literal("") == "''"
        and sql_literal(b"") == "x''"
        and sql_literal("a" * 96) == "'" + "a" * 96 + "'"
    )
    statement = wrap(f"SELECT {rendered} AS `v` FROM DUAL")
    assert all(len(line) <= LINE_WIDTH for line in statement.splitlines())


def test_a_long_message_literal_is_split_into_pieces_that_fit_a_line():
    message = "nothing was changed; " * 12
    text = to_sql(exp.select(exp.alias_(exp.Literal.string(message), "fixpack")).from_(dual()))
    assert text.startswith("SELECT CONCAT('nothing") and all(len(x) <= LINE_WIDTH for x in text.splitlines())
    assert "".join(p for p in text.split("'")[1::2]) == message
