"""Load a catalog release into a database on a (scratch) server.

Used by the test fixtures, `fixpack rehearse` and the capture self-checks.
Statements are sent as the catalog file holds them: the exact DDL the
services' migrations created, then their seed rows.
"""

from __future__ import annotations

import pymysql

from generator.catalog import catalog_ddl
from generator.catalog.dump import split_statements
from generator.sqlgen.literals import quote_identifier


def load_release(
    conn: pymysql.Connection, database: str, release: str, kind: str, *, create: bool = True
) -> None:
    """Create `database` and fill it with catalog release `release`'s `kind` schema."""
    with conn.cursor() as cur:
        if create:
            cur.execute(f"CREATE DATABASE {quote_identifier(database)} CHARACTER SET utf8mb3")
        cur.execute(f"USE {quote_identifier(database)}")
        for statement in split_statements(catalog_ddl(release, kind)):
            cur.execute(statement)
    conn.commit()
