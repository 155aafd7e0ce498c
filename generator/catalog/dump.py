"""Write a database's schema and seed rows in the catalog file format.

The format is what `SHOW CREATE TABLE` prints (so `schema.ddl` has a small,
fixed grammar to read), one statement per line group, tables sorted by name,
`AUTO_INCREMENT=` counters dropped, followed by the rows the service's own
migrations inserted (alembic_version, Cinder's default quota classes and
volume type, ...) as INSERTs whose values pass through `sql_literal`.
"""

from __future__ import annotations

import re

import pymysql

from generator.sqlgen.literals import quote_identifier, sql_literal

_AUTO_INC = re.compile(r" AUTO_INCREMENT=\d+")


def dump_database(conn: pymysql.Connection, database: str, header: list[str]) -> str:
    """Catalog text for one database: header comments, DDL, then seed rows."""
    out = [f"-- {line}" for line in header]
    out += ["SET FOREIGN_KEY_CHECKS = 0;", ""]
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            (database,),
        )
        tables = [r[0] for r in cur.fetchall()]
        rows_out: list[str] = []
        for table in tables:
            cur.execute(f"SHOW CREATE TABLE {quote_identifier(database)}.{quote_identifier(table)}")
            created = cur.fetchone()
            assert created is not None  # SHOW CREATE TABLE of a table just listed
            ddl = _AUTO_INC.sub("", created[1])
            out.append(ddl + ";")
            out.append("")
            cur.execute(f"SELECT * FROM {quote_identifier(database)}.{quote_identifier(table)}")
            names = [d[0] for d in cur.description]
            data = sorted(cur.fetchall(), key=lambda r: tuple(str(v) for v in r))
            for row in data:
                cols = ", ".join(quote_identifier(n) for n in names)
                vals = ", ".join(sql_literal(v) for v in row)
                rows_out.append(f"INSERT INTO {quote_identifier(table)} ({cols}) VALUES ({vals});")
    out += rows_out
    out += ["", "SET FOREIGN_KEY_CHECKS = 1;", ""]
    return "\n".join(out)


def split_statements(text: str) -> list[str]:
    """Statements of a catalog file (every statement ends a line with ';')."""
    statements: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if not current and (not line.strip() or line.startswith("--")):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current))
            current = []
    if current:
        statements.append("\n".join(current))
    return statements
