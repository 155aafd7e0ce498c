"""Exact per-row state of every table, to prove what a bundle changed and what it did not.

`table_state()` reads, per table, the primary key and a SHA-256 of every
column's canonical text (the same canonical form as the guard fingerprints)
for every row, in one multi-statement round trip per database. Comparing two
states gives the rows changed, added and removed, so a test can assert "no
other row in any database changed" and "rollback left every table identical".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pymysql
from pymysql.constants import CLIENT
from sqlglot import exp

from generator.connect.urls import DatabaseURL
from generator.render.fingerprint import _canonical_expr
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.dialect import to_sql

State = dict[str, dict[tuple, str]]  # table -> {primary key: row hash}


@dataclass(frozen=True)
class TableDiff:
    changed: frozenset[tuple] = field(default_factory=frozenset)
    added: frozenset[tuple] = field(default_factory=frozenset)
    removed: frozenset[tuple] = field(default_factory=frozenset)

    @property
    def keys(self) -> frozenset[tuple]:
        return self.changed | self.added | self.removed

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)


def _row_hash_query(schema: SchemaSnapshot, table: str) -> str:
    """Built once per snapshot object (kept on it: snapshots are immutable)."""
    cache = schema.__dict__.get("_row_hash_queries")
    if cache is None:
        cache = {}
        object.__setattr__(schema, "_row_hash_queries", cache)
    if table not in cache:
        cache[table] = _build_row_hash_query(schema, table)
    return cache[table]


def _build_row_hash_query(schema: SchemaSnapshot, table: str) -> str:
    t = schema.table(table)
    key = t.primary_key or t.column_names
    digest = exp.Anonymous(
        this="SHA2",
        expressions=[
            exp.Anonymous(
                this="CONCAT_WS",
                expressions=[exp.Literal.string(","), *(_canonical_expr(t, c) for c in t.column_names)],
            ),
            exp.Literal.number(256),
        ],
    )
    query = exp.select(
        *(exp.alias_(exp.column(c), f"k{i}") for i, c in enumerate(key)), exp.alias_(digest, "h")
    ).from_(table)
    return to_sql(query)


def table_state(url: DatabaseURL, schema: SchemaSnapshot) -> State:
    params: dict[str, Any] = {
        "host": url.host or "127.0.0.1",
        "user": url.user or "root",
        "password": url.password or "",
        "database": url.database,
        "client_flag": CLIENT.MULTI_STATEMENTS,
        "init_command": "SET SESSION time_zone = '+00:00'",
    }
    if url.port:
        params["port"] = url.port
    conn = pymysql.connect(**params)
    try:
        tables = list(schema.table_names)
        state: State = {}
        with conn.cursor() as cur:
            cur.execute(";\n".join(_row_hash_query(schema, t) for t in tables))
            for index, table in enumerate(tables):
                if index:
                    cur.nextset()
                rows = cur.fetchall()
                state[table] = {tuple(r[:-1]): r[-1] for r in rows}
        return state
    finally:
        conn.close()


def diff_states(before: State, after: State) -> dict[str, TableDiff]:
    out = {}
    for table in sorted(set(before) | set(after)):
        b, a = before.get(table, {}), after.get(table, {})
        d = TableDiff(
            changed=frozenset(k for k in b.keys() & a.keys() if b[k] != a[k]),
            added=frozenset(a.keys() - b.keys()),
            removed=frozenset(b.keys() - a.keys()),
        )
        if d:
            out[table] = d
    return out


def states(urls: Mapping[str, DatabaseURL], schemas: Mapping[str, SchemaSnapshot]) -> dict[str, State]:
    return {role: table_state(urls[role], schemas[role]) for role in urls}
