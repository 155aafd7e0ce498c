"""Read the rows of many (table, scope) pairs in one round trip."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from generator.connect.session import Session
from generator.facts.model import TableRows
from generator.ops.rows import Row, Scope
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.dialect import to_sql


def select_for(schema: SchemaSnapshot, table: str, scope: Scope) -> str:
    """`SELECT <every column> FROM table WHERE scope ORDER BY pk` (column order = schema order)."""
    t = schema.table(table)
    query = exp.select(*(exp.column(c) for c in t.column_names)).from_(table).where(scope.tree())
    if t.primary_key:
        query = query.order_by(*(exp.column(c) for c in t.primary_key))
    return to_sql(query)


def read_tables(
    session: Session, schema: SchemaSnapshot, wanted: Sequence[tuple[str, Scope]]
) -> dict[str, TableRows]:
    """One multi-statement round trip for every (table, scope); tables absent from the schema are skipped."""
    present = [(t, s) for t, s in wanted if schema.has_table(t)]
    results = session.query_many([(select_for(schema, t, s), None) for t, s in present])
    out: dict[str, TableRows] = {}
    for (table, scope), rows in zip(present, results, strict=True):
        out[table] = TableRows(table, scope, tuple(Row.from_dict(r) for r in rows))
    return out
