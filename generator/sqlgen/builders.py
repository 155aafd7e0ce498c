"""Small sqlglot expression builders shared by every stage that writes a condition.

Facts scopes, planner scopes and postconditions, and the renderers' guards all
build the same few shapes (`column = value`, `column IN (...)`, counts); they
live here, beside the dialect and the literal rules, so a stage below render
can build them without importing render. Every value goes through
`literal_node`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

import sqlglot
from sqlglot import exp

from generator.sqlgen.literals import literal_node


def parse(text: str) -> exp.Expr:
    """MySQL text a planner writes (release-specific conditions and recounts) as a tree."""
    return sqlglot.parse_one(text, read="mysql")


def parse_query(text: str) -> exp.Query:
    """`parse` for a SELECT, typed as the query it is (so it can become a subquery)."""
    tree = parse(text)
    if not isinstance(tree, exp.Query):
        raise ValueError(f"not a query: {text}")
    return tree


def eq(column: str, value: object) -> exp.Expr:
    return exp.EQ(this=exp.column(column), expression=literal_node(value))


def isin(column: str, values: Iterable[object]) -> exp.Expr:
    """`column IN (values)`; FALSE for no values (`IN ()` is not SQL)."""
    items = [literal_node(v) for v in values]
    return exp.column(column).isin(*items) if items else exp.false()


def same(column: str, other: str) -> exp.Expr:
    """`column = other` between two columns of the row (Nova's `deleted = id`)."""
    return exp.EQ(this=exp.column(column), expression=exp.column(other))


def is_null(column: str) -> exp.Expr:
    return exp.Is(this=exp.column(column), expression=exp.Null())


def not_(condition: exp.Expr) -> exp.Expr:
    return exp.Not(this=condition)


def count_where(table: str, *conditions: exp.Expr) -> exp.Expr:
    """`(SELECT COUNT(*) FROM table WHERE …)` for postconditions."""
    cond = exp.and_(*conditions) if len(conditions) > 1 else conditions[0]
    return exp.select(exp.Count(this=exp.Star())).from_(table).where(cond).subquery()


def count_is(table: str, n: int, *conditions: exp.Expr) -> exp.Expr:
    return exp.EQ(this=count_where(table, *conditions), expression=exp.Literal.number(n))


@lru_cache(maxsize=4096)
def _parsed(name: str, table: bool) -> exp.Expr:
    return exp.maybe_parse(name, into=exp.Table) if table else exp.maybe_parse(name)


def parsed(name: str, *, table: bool = False) -> exp.Expr:
    """A fresh copy of what sqlglot's builders make of a table or column name (they parse the
    string), parsed once per name: a batch rollback builds tens of thousands of statements over
    a few dozen names. Copying a parse result gives the tree parsing again would give."""
    return _parsed(name, table).copy()


def update(table: str, values: Mapping[str, exp.Expr], where: exp.Expr) -> exp.Update:
    """`exp.update(table, values, where=where)` without parsing the names again or copying `where`:
    the same tree, for a caller that built `where` and the values for this statement alone."""
    return exp.Update(
        this=parsed(table, table=True),
        expressions=[exp.EQ(this=parsed(column), expression=value) for column, value in values.items()],
        where=exp.Where(this=where),
    )


def insert(query: exp.Query, table: str, columns: Iterable[str]) -> exp.Insert:
    """`exp.insert(query, table, columns=columns)` without parsing the table name again or copying
    `query` (built by the caller for this statement alone): the same tree."""
    schema = exp.Schema(this=parsed(table, table=True), expressions=[exp.to_identifier(c) for c in columns])
    return exp.Insert(this=schema, expression=query, overwrite=None)
