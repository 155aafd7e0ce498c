"""Load a catalog release into a database on a (scratch) server.

Used by the test fixtures, `fixpack rehearse` and the capture self-checks.
Statements are sent as the catalog file holds them: the exact DDL the
services' migrations created, then their seed rows. One exception, on MySQL:
the catalog is captured on MariaDB, which names a table's unnamed CHECK
constraints `CONSTRAINT_1`, … per table, while MySQL's names are unique per
schema; there they get the names MySQL itself gives them (`<table>_chk_1`).
"""

from __future__ import annotations

import re

import pymysql

from generator.catalog import catalog_ddl
from generator.catalog.dump import split_statements
from generator.sqlgen.literals import quote_identifier

_TABLE = re.compile(r"^\s*CREATE TABLE `([^`]+)`")
_MARIADB_CHECK_NAME = re.compile(r"CONSTRAINT `CONSTRAINT_(\d+)` CHECK")


def for_mysql(statement: str) -> str:
    """`statement` with MariaDB's per-table CHECK names replaced by MySQL's own for that table."""
    table = _TABLE.match(statement)
    if table is None:
        return statement
    name = table.group(1)
    return _MARIADB_CHECK_NAME.sub(
        lambda m: f"CONSTRAINT {quote_identifier(f'{name}_chk_{m.group(1)}')} CHECK", statement
    )


def load_release(
    conn: pymysql.Connection, database: str, release: str, kind: str, *, create: bool = True
) -> None:
    """Create `database` and fill it with catalog release `release`'s `kind` schema."""
    mysql = "mariadb" not in conn.get_server_info().lower()
    with conn.cursor() as cur:
        if create:
            cur.execute(f"CREATE DATABASE {quote_identifier(database)} CHARACTER SET utf8mb3")
        cur.execute(f"USE {quote_identifier(database)}")
        for statement in split_statements(catalog_ddl(release, kind)):
            cur.execute(for_mysql(statement) if mysql else statement)
    conn.commit()
