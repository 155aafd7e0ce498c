"""Build the world a bundle expects on a scratch server: release schema plus recorded rows.

Per database role of the bundle: a uniquely named database, loaded with the
catalog schema of the release the manifest records for it, then with every
row the bundle recorded (`data/preimages.json`) — the rows its guards lock
and fingerprint. Two kinds of rows the recording lacks are stood in for:

* parents the recorded rows reference but the bundle never touches, so a
  rollback's re-inserts satisfy their foreign keys (`stubs.py`);
* rows a step's scope counts but the step does not change (`scopes.py`).

Both are inserted before the baseline state is taken, so "the rollback
restored identical tables" still compares every row.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pymysql

from generator.catalog import catalog_snapshot
from generator.connect.urls import DatabaseURL
from generator.errors import FixpackError
from generator.ops.rows import Row
from generator.rehearse.scopes import Reconstructed, fill_scopes
from generator.rehearse.stubs import insert_parent_stubs
from generator.schema.model import SchemaSnapshot, Table
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
    reconstructed: dict[str, list[Reconstructed]] = field(default_factory=dict)

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


def _fill(
    cur: pymysql.cursors.Cursor,
    scratch: ScratchDatabases,
    role: str,
    release: str,
    tables: Mapping[str, Sequence[Row]],
    guards: Sequence[Mapping[str, Any]],
) -> None:
    schema = scratch.schemas[role]
    cur.execute(f"USE {q(scratch.names[role])}")
    cur.execute("SET SESSION foreign_key_checks = 0")
    cur.execute("SET @fixpack_sql_mode = @@SESSION.sql_mode")
    # a recorded id 0 (placement's VCPU resource class) must stay 0, not take the next auto-increment value
    cur.execute("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    for table, recorded in tables.items():
        if not schema.has_table(table):
            raise FixpackError(f"recorded table {role}.{table} is not in the {release} schema")
        _insert(cur, schema.table(table), recorded)
    cur.execute("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'")  # implicit defaults for what stand-ins omit
    stubs = insert_parent_stubs(cur, schema, tables)
    scratch.reconstructed[role] = fill_scopes(cur, schema, guards, stubs)
    scratch.stubs[role] = stubs
    cur.execute("SET SESSION sql_mode = @fixpack_sql_mode")
    cur.execute("SET SESSION foreign_key_checks = 1")
    scratch.rows_loaded[role] = sum(len(r) for r in tables.values())


def create_scratch(
    server: DatabaseURL,
    releases: Mapping[str, str],
    rows: Mapping[str, Mapping[str, Sequence[Row]]],
    guards: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    prefix: str = "fxr",
) -> ScratchDatabases:
    """Create, load and fill one database per role; on any failure, drop what was created."""
    tag = f"{prefix}{os.getpid()}_{secrets.token_hex(3)}"
    scratch = ScratchDatabases(server, {}, {})
    conn = admin_connection(server, None)
    try:
        for role, release in releases.items():
            scratch.names[role] = f"{tag}_{role}"
            load_release(conn, scratch.names[role], release, role)
            scratch.schemas[role] = catalog_snapshot(release, role)
            tables = {t: r for t, r in rows.get(role, {}).items() if r}
            with conn.cursor() as cur:
                _fill(cur, scratch, role, release, tables, guards.get(role, ()))
    except BaseException:
        conn.close()
        with contextlib.suppress(pymysql.err.Error):
            scratch.drop()
        raise
    conn.close()
    return scratch
