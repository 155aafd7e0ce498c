"""Stub rows: the parents a bundle's recorded rows reference but the bundle never touches.

A rollback re-inserts recorded rows with foreign-key checks on, and some of
them reference parents the bundle did not record (an instance mapping's cell,
a PCI device's compute node). For each such missing parent key a stub row is
inserted: the key, unique filler in one column of every unique key it does
not cover, implicit defaults elsewhere (the session runs with an empty
sql_mode while stubs are written). Stubs are part of the baseline a
rehearsal compares the rollback with, so they never hide a difference; and
the rollback's parent-before-child order is still checked by the server for
every parent the bundle itself deletes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pymysql

from generator.ops.rows import Row
from generator.schema.model import ForeignKey, SchemaSnapshot, Table
from generator.sqlgen.literals import quote_identifier as q


def insert_values(cur: pymysql.cursors.Cursor, table: Table, values: Mapping[str, Any]) -> None:
    cols = ", ".join(q(c) for c in values)
    cur.execute(
        f"INSERT INTO {q(table.name)} ({cols}) VALUES ({', '.join(['%s'] * len(values))})",
        tuple(values.values()),
    )


def stub_row(table: Table, given: Mapping[str, Any], serial: int) -> dict[str, Any]:
    """`given` plus unique filler in one column of every unique key it does not cover."""
    values = dict(given)
    for key in table.unique_keys:
        if not key or any(c in given for c in key):
            continue
        for name in key:
            col = table.column(name)
            if col.auto_increment or name in values:
                continue
            if col.is_numeric:
                values[name] = 1_000_000_000 + serial
            elif not col.is_temporal:
                values[name] = f"fixpack-stub-{serial}"
            else:
                continue
            break
    return values


def _missing_parents(
    cur: pymysql.cursors.Cursor, schema: SchemaSnapshot, fk: ForeignKey, rows: Iterable[Row]
) -> list[tuple[Any, ...]]:
    wanted = {tuple(r[c] for c in fk.columns) for r in rows if all(r.get(c) is not None for c in fk.columns)}
    if not wanted or not schema.has_table(fk.ref_table):
        return []
    cols = ", ".join(q(c) for c in fk.ref_columns)
    cur.execute(f"SELECT {cols} FROM {q(fk.ref_table)}")
    present = {tuple(r) for r in cur.fetchall()}
    return sorted(wanted - present, key=repr)


def insert_parent_stubs(
    cur: pymysql.cursors.Cursor, schema: SchemaSnapshot, tables: Mapping[str, Sequence[Row]]
) -> int:
    """A stub for every parent key the rows reference that is not there; returns how many."""
    made = 0
    for table_name, rows in tables.items():
        for fk in schema.table(table_name).foreign_keys:
            parent = schema.table(fk.ref_table) if schema.has_table(fk.ref_table) else None
            if parent is None:
                continue
            for key in _missing_parents(cur, schema, fk, rows):
                made += 1
                insert_values(
                    cur, parent, stub_row(parent, dict(zip(fk.ref_columns, key, strict=True)), made)
                )
    return made
