"""Stand-in rows for a step's scope that the bundle counted but did not record.

A guard recounts its step's *scope* ("every live attachment of this volume")
and expects the count seen at generation. Usually every row in scope is a row
the step changes, so it is in `data/preimages.json`. Not always: a multi-attach
volume's reset closes one attachment while the scope also counts the other,
which stays. Such a row is counted but not recorded, so a scratch database
loaded from the recording holds one row too few and the precheck would fail.

For each distinct scope with fewer rows than its guard expects, this inserts
the missing number of stand-in rows built from the scope's own WHERE clause
(`col = literal`, `col IN (…)`, `col IS NULL`, `col IS NOT NULL`, ANDed), with
unique filler where a unique key needs it. A scope of any other form is
reported as not reconstructible rather than guessed at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pymysql
import sqlglot
from sqlglot import exp

from generator.errors import FixpackError
from generator.rehearse.stubs import insert_values, stub_row
from generator.schema.model import SchemaSnapshot, Table


@dataclass(frozen=True)
class Reconstructed:
    table: str
    rows: int
    scope: str  # the WHERE clause, as the guard has it

    def describe(self, role: str) -> str:
        return (
            f"{role}.{self.table}: {self.rows} row(s) in a step's scope that the bundle counts but does not "
            f"change (so did not record); stand-in row(s) matching ({self.scope}) were inserted"
        )


class _Unsupported(Exception):
    pass


def _literal(node: exp.Expr) -> Any:
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.HexString):
        return bytes.fromhex(node.this)
    if isinstance(node, exp.Introducer):
        return _literal(node.expression)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        return int(node.this) if node.this.lstrip("-").isdigit() else float(node.this)
    raise _Unsupported(node.sql(dialect="mysql"))


def _filler(table: Table, column: str, serial: int) -> Any:
    col = table.column(column)
    if col.is_numeric:
        return 1_000_000_000 + serial
    if col.is_temporal:
        return "2000-01-01 00:00:00"
    return str(uuid.uuid4())


def scope_values(table: Table, where: exp.Expr, serial: int) -> dict[str, Any]:
    """Column values that satisfy `where` (a conjunction of simple predicates)."""
    values: dict[str, Any] = {}
    for term in where.flatten() if isinstance(where, exp.And) else [where]:
        term = term.unnest()
        if isinstance(term, exp.EQ) and isinstance(term.this, exp.Column):
            values[term.this.name] = _literal(term.expression)
        elif isinstance(term, exp.In) and isinstance(term.this, exp.Column) and term.expressions:
            values[term.this.name] = _literal(term.expressions[0])
        elif (
            isinstance(term, exp.Is)
            and isinstance(term.this, exp.Column)
            and isinstance(term.expression, exp.Null)
        ):
            values[term.this.name] = None
        elif (
            isinstance(term, exp.Not)
            and isinstance(term.this, exp.Is)
            and isinstance(term.this.this, exp.Column)
        ):
            values[term.this.this.name] = _filler(table, term.this.this.name, serial)
        else:
            raise _Unsupported(term.sql(dialect="mysql"))
    return values


def _count(cur: pymysql.cursors.Cursor, scope_query: str) -> int:
    cur.execute(scope_query)
    row = cur.fetchone()
    assert row is not None  # SELECT COUNT(*) returns one row
    return int(row[0])


def fill_scopes(
    cur: pymysql.cursors.Cursor, schema: SchemaSnapshot, guards: Iterable[Mapping[str, Any]], serial: int
) -> list[Reconstructed]:
    """Insert stand-ins wherever a scope holds fewer rows than its guard expects (filler from `serial` on)."""
    expected: dict[tuple[str, str], int] = {}
    for g in guards:
        if g.get("scope_query") and g.get("scope_expect") is not None:
            key = (g["table"], g["scope_query"])
            expected[key] = max(expected.get(key, 0), int(g["scope_expect"]))
    made = []
    for (table_name, scope_query), want in expected.items():
        missing = want - _count(cur, scope_query)
        if missing <= 0:
            continue
        tree = sqlglot.parse_one(scope_query, read="mysql")
        where = tree.args["where"].this
        table = schema.table(table_name)
        try:
            for _ in range(missing):
                serial += 1
                insert_values(cur, table, stub_row(table, scope_values(table, where, serial), serial))
        except _Unsupported as exc:
            raise FixpackError(
                f"{table_name}: the bundle counts {missing} row(s) in a scope it did not record, and "
                f"the scope ({exc}) is too complex to stand in for; rehearse against a copy of the real data"
            ) from None
        if _count(cur, scope_query) != want:
            raise FixpackError(
                f"{table_name}: could not bring its scope to the {want} row(s) the guard expects"
            )
        made.append(Reconstructed(table_name, missing, where.sql(dialect="mysql")))
    return made
