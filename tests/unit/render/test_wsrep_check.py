"""render/wsrep_check.py: the run-time read and check of Galera's limits (text only: the Galera
behaviour is proven on a real node in tests/db/render/test_galera.py)."""

from __future__ import annotations

import sqlglot

from generator.render.wsrep_check import bytes_at, check_limits, fit_search, read_limits
from generator.sqlgen.dialect import to_sql
from tests.unit import world as w


def test_limits_are_read_from_whichever_variables_table_the_server_has():
    text = "\n".join(read_limits())
    assert "information_schema.GLOBAL_VARIABLES" in text and "performance_schema.global_variables" in text
    assert "@@wsrep" not in text  # an unknown system variable is an error on MySQL
    assert text.endswith("DEALLOCATE PREPARE fixpack_ws_read;")
    for statement in read_limits()[:1]:
        sqlglot.parse_one(statement, read="mysql")


def test_the_check_prints_the_chunk_the_limits_and_the_remedy_then_stops():
    text = w.flat("\n".join(check_limits(500, "apply", 123456)))
    assert "'ERROR: this apply changes up to 500 row(s) per transaction (chunk); '" in text
    assert "'Regenerate the bundle with --chunk-rows '" in text
    assert "COALESCE(@fixpack_ws_rows, 0) < 500" in text and "COALESCE(@fixpack_ws_size, 0) < 123456" in text
    assert "'Galera write-set limits: a chunk of 500 row(s) fits (or wsrep is off)' AS `guard`" in text


def test_the_bound_sums_each_step_up_to_the_chunk_size():
    sql = w.flat(to_sql(bytes_at(sqlglot.exp.Literal.number(7), [("c1", "e1"), ("c2", "e2")])))
    assert "SUM(LEAST(`s`.`n`, 7) * `s`.`e`)" in sql and "UNION ALL SELECT @c2 AS `n`, @e2 AS `e`" in sql


def test_the_suggested_chunk_size_is_a_bounded_binary_search():
    statements = fit_search(1000, [("c1", "e1")])
    assert len(statements) == 2 + 4 * (1000).bit_length()
    assert statements[1] == "SET @fixpack_ws_hi = 1000;"
