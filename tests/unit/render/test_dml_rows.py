"""render/dml_rows.py: one-row UPDATEs laid out from their shape are exactly what rendering
each statement gives, whatever the values; values `to_sql` lays out otherwise go the ordinary way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlglot import exp

from generator.ops.rows import Row
from generator.render.dml import _gated
from generator.render.dml_rows import RowStatements
from generator.render.guards import key_condition
from generator.sqlgen.builders import update
from generator.sqlgen.dialect import to_sql
from generator.sqlgen.literals import literal_node

VALUES: list[object] = [
    None,
    0,
    -7,
    True,
    Decimal("12.50"),
    1.25,
    dt.datetime(2026, 12, 3, 15, 44, 32),
    dt.datetime(2026, 12, 3, 15, 44, 32, 120),
    dt.date(2026, 1, 2),
    "error",
    "it's \\ a `quoted` name",
    "two\nlines",
    "é" * 80,
    "x" * 300,
    b"\x00\x01binary",
    b"",
    "",
]


def _ordinary(table: str, key: tuple[str, ...], row: Row, values: dict[str, exp.Expr]) -> str:
    return to_sql(update(table, values, _gated(key_condition(key, (row,)))))


def _values(n: int, value: object, hex_text: bool) -> dict[str, exp.Expr]:
    return {
        "deleted": literal_node(n),
        "value": literal_node(value, hex_text=hex_text),
        "updated_at": literal_node(VALUES[(n * 7) % len(VALUES)], hex_text=hex_text),
    }


@pytest.mark.parametrize("key", [("id",), ("id", "key")])
@pytest.mark.parametrize("hex_text", [True, False])
def test_every_row_is_the_statement_rendered_alone(key: tuple[str, ...], hex_text: bool) -> None:
    columns = ["deleted", "value", "updated_at"]
    statements = RowStatements("instance_metadata", columns, key, lambda r: _gated(key_condition(key, (r,))))
    for n, value in enumerate(VALUES * 2):
        row = Row(("id", "key", "value"), (n, f"k{n}", value))
        got = statements.render(row, _values(n, value, hex_text))
        assert got == _ordinary("instance_metadata", key, row, _values(n, value, hex_text))
    assert not statements._slotted.broken and statements._slotted._parts is not None  # shape used


def test_a_value_set_that_differs_from_the_shape_is_rendered_the_ordinary_way() -> None:
    key = ("id",)
    statements = RowStatements("tags", ["tag"], key, lambda r: _gated(key_condition(key, (r,))))
    row = Row(("id", "tag"), (1, "a"))
    values = {"tag": literal_node("b"), "extra": exp.column("id")}
    assert statements.render(row, dict(values)) == _ordinary("tags", key, row, dict(values))


def test_every_insert_is_the_statement_rendered_alone() -> None:
    """render/dml.py `_insert` (RowInserts) writes what `insert_statement` writes, row by row."""
    from generator.ops.operations import InsertRows
    from generator.render.dml import dml_for, insert_statement
    from tests.unit import world as w

    table = w.schema("nova").table("instance_metadata")
    rows = [
        w.metadata(n, str(value) if not isinstance(value, bytes) else value.hex(), deleted=n % 2)
        for n, value in enumerate(VALUES, start=1)
    ]
    rows += [
        r.replace(value=v) for r, v in zip(rows, VALUES, strict=False) if v is None or isinstance(v, str)
    ]
    statements, count = dml_for(
        InsertRows("nova", "instance_metadata", ("id",), "p", rows=tuple(rows)), table
    )
    assert statements[0::2] == [insert_statement(table, r) for r in rows] and count == len(rows)
