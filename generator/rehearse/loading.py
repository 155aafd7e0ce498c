"""Build the world a bundle expects on a scratch server: release schema plus recorded rows.

Per database role of the bundle: a uniquely named database, loaded with the
catalog schema of the release the manifest records for it, then with every
row the bundle recorded (`data/preimages.json`) — exactly the rows its guards
expect, since a guard only looks at its keyed rows and its scope.

Rows the bundle did not record are absent. For rows *referencing* a target
row that is harmless (guards never look at them), but a rollback re-inserts
recorded rows with foreign-key checks on, and some reference parents the
bundle never touched (an instance mapping's cell, a PCI device's compute
node). For each such missing parent key a *stub* row is inserted: the key,
unique filler in one column of every unique index, implicit defaults
elsewhere. Stubs are in the baseline state, so "rollback restores identical
tables" is unaffected, and the rollback's parent-before-child order is still
checked by the server for every parent the bundle itself deletes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pymysql

from generator.catalog import catalog_snapshot
from generator.connect.urls import DatabaseURL
from generator.errors import FixpackError
from generator.ops.rows import Row
from generator.schema.model import ForeignKey, SchemaSnapshot, Table
from generator.scratch.deployment import admin_connection
from generator.scratch.loader import load_release
from generator.sqlgen.literals import quote_identifier as q


@dataclass
class ScratchDatabases:
    """The scratch databases of one rehearsal (role -> database name); drop() removes them."""

    server: DatabaseURL
    names: dict[str, str]
    schemas: dict[str, SchemaSnapshot]
    rows_loaded: dict[str, int] = field(default_factory=dict)
    stubs: dict[str, int] = field(default_factory=dict)

    def url(self, role: str) -> DatabaseURL:
        return self.server.with_database(self.names[role])

    def drop(self) -> None:
        with contextlib.closing(admin_connection(self.server, None)) as conn, conn.cursor() as cur:
            for name in self.names.values():
                cur.execute(f"DROP DATABASE IF EXISTS {q(name)}")


def _insert(cur: pymysql.cursors.Cursor, table: Table, rows: Sequence[Row]) -> None:
    columns = rows[0].columns
    unknown = [c for c in columns if not table.has_column(c)]
    if unknown:
        raise FixpackError(
            f"recorded rows of {table.name} have column(s) {', '.join(unknown)} that the release schema lacks"
        )
    placeholders = ", ".join(["%s"] * len(columns))
    # REPLACE: a recorded row wins over a catalog seed row with the same key.
    sql = f"REPLACE INTO {q(table.name)} ({', '.join(q(c) for c in columns)}) VALUES ({placeholders})"
    cur.executemany(sql, [r.values for r in rows])


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


def _stub_row(table: Table, given: dict[str, Any], serial: int) -> dict[str, Any]:
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


def _insert_stubs(
    cur: pymysql.cursors.Cursor, schema: SchemaSnapshot, tables: Mapping[str, Sequence[Row]]
) -> int:
    made = 0
    cur.execute("SET @fixpack_sql_mode = @@SESSION.sql_mode")
    cur.execute("SET SESSION sql_mode = ''")  # implicit defaults for NOT NULL columns a stub leaves out
    for table_name, rows in tables.items():
        for fk in schema.table(table_name).foreign_keys:
            parent = schema.table(fk.ref_table) if schema.has_table(fk.ref_table) else None
            if parent is None:
                continue
            for key in _missing_parents(cur, schema, fk, rows):
                made += 1
                values = _stub_row(parent, dict(zip(fk.ref_columns, key, strict=True)), made)
                cols = ", ".join(q(c) for c in values)
                cur.execute(
                    f"INSERT INTO {q(parent.name)} ({cols}) VALUES ({', '.join(['%s'] * len(values))})",
                    tuple(values.values()),
                )
    cur.execute("SET SESSION sql_mode = @fixpack_sql_mode")
    return made


def create_scratch(
    server: DatabaseURL,
    releases: Mapping[str, str],
    rows: Mapping[str, Mapping[str, Sequence[Row]]],
    *,
    prefix: str = "fxr",
) -> ScratchDatabases:
    """Create, load and fill one database per role; on any failure, drop what was created."""
    tag = f"{prefix}{os.getpid()}_{secrets.token_hex(3)}"
    scratch = ScratchDatabases(server, {}, {})
    conn = admin_connection(server, None)
    try:
        for role, release in releases.items():
            name = f"{tag}_{role}"
            scratch.names[role] = name
            load_release(conn, name, release, role)
            schema = catalog_snapshot(release, role)
            scratch.schemas[role] = schema
            tables = {t: r for t, r in rows.get(role, {}).items() if r}
            with conn.cursor() as cur:
                cur.execute(f"USE {q(name)}")
                cur.execute("SET SESSION foreign_key_checks = 0")
                for table, recorded in tables.items():
                    if not schema.has_table(table):
                        raise FixpackError(f"recorded table {role}.{table} is not in the {release} schema")
                    _insert(cur, schema.table(table), recorded)
                scratch.stubs[role] = _insert_stubs(cur, schema, tables)
                cur.execute("SET SESSION foreign_key_checks = 1")
            scratch.rows_loaded[role] = sum(len(r) for r in tables.values())
    except BaseException:
        conn.close()
        with contextlib.suppress(pymysql.err.Error):
            scratch.drop()
        raise
    conn.close()
    return scratch
