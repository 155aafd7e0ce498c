"""Small constructors that turn facts into operations (pure; used by every planner)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlglot import exp

from generator.facts.model import DatabaseFacts
from generator.ops.operations import (
    ApplyTime,
    Assignment,
    CopyColumn,
    DeleteRows,
    Operation,
    RowChange,
    SetValue,
    UpdateRows,
    apply_assignments,
)
from generator.ops.rows import Row, Scope
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import count_is, count_where, eq, is_null, isin, not_, same
from generator.sqlgen.literals import literal_node


def scope_where(description: str, *conditions: exp.Expr) -> Scope:
    return Scope(exp.and_(*conditions) if len(conditions) > 1 else conditions[0], description)


def key_of(facts: DatabaseFacts, table: str) -> tuple[str, ...]:
    key = facts.schema.table(table).primary_key
    if not key:
        raise ValueError(f"{table} has no primary key; fixpack will not change it")
    return key


def update(
    facts: DatabaseFacts,
    table: str,
    rows: Sequence[Row],
    assignments: Mapping[str, Assignment],
    *,
    scope: Scope | None,
    purpose: str,
    stays_in_scope: bool = False,
    scope_count: int | None = None,
    per_row: Mapping[object, Mapping[str, object]] | None = None,
) -> UpdateRows | None:
    """A uniform UPDATE of `rows` (None when there is nothing to change); `per_row`, by the rows'
    (one-column) key, values some rows get besides (render/dml.py writes those rows one by one)."""
    if not rows:
        return None
    t = facts.schema.table(table)
    usable = {c: a for c, a in assignments.items() if t.has_column(c)}
    items = tuple(usable.items())
    key = key_of(facts, table)
    extra = per_row or {}

    def after(r: Row) -> Row:
        new = apply_assignments(t, r, items)
        more = extra.get(r[key[0]], {}) if len(key) == 1 else {}
        return new.replace(**more) if more else new

    changes = tuple(RowChange(r, after(r)) for r in rows)
    return UpdateRows(
        facts.role,
        table,
        key,
        purpose,
        assignments=items,
        changes=changes,
        scope=scope,
        stays_in_scope=stays_in_scope,
        scope_count=scope_count,
    )


def offline_update(
    role: str,
    schema: SchemaSnapshot,
    table: str,
    assignments: Mapping[str, Assignment],
    scope: Scope,
    purpose: str,
) -> UpdateRows:
    """An offline UPDATE: no rows, only the scope of rows that still need it (columns the
    release's table lacks are left out, so one planner serves every release)."""
    t = schema.table(table)
    items = tuple((c, a) for c, a in assignments.items() if t.has_column(c))
    return UpdateRows(role, table, t.primary_key, purpose, assignments=items, scope=scope)


def update_each(
    facts: DatabaseFacts,
    table: str,
    changes: Iterable[tuple[Row, Row]],
    *,
    purpose: str,
    scope: Scope | None = None,
    stays_in_scope: bool = True,
) -> UpdateRows | None:
    """Per-row UPDATEs to exact values (e.g. generation + 1), keyed by primary key."""
    pairs = tuple(RowChange(b, a) for b, a in changes if b != a)
    if not pairs:
        return None
    return UpdateRows(
        facts.role,
        table,
        key_of(facts, table),
        purpose,
        assignments=None,
        changes=pairs,
        scope=scope,
        stays_in_scope=stays_in_scope,
        scope_count=len(pairs) if scope is not None else None,
    )


def delete(
    facts: DatabaseFacts,
    table: str,
    rows: Sequence[Row],
    *,
    scope: Scope | None,
    purpose: str,
    scope_count: int | None = None,
) -> DeleteRows | None:
    if not rows:
        return None
    return DeleteRows(
        facts.role,
        table,
        key_of(facts, table),
        purpose,
        rows=tuple(rows),
        scope=scope,
        scope_count=scope_count,
    )


def present(*ops: Operation | None) -> list[Operation]:
    """The operations the builders made (they return None for no rows): `ops += b.present(...)`."""
    return [op for op in ops if op is not None]


__all__ = [  # the expression builders are sqlgen's; planners reach them as `b.eq(...)`
    "ApplyTime",
    "CopyColumn",
    "SetValue",
    "count_is",
    "count_where",
    "delete",
    "eq",
    "is_null",
    "isin",
    "literal_node",
    "not_",
    "same",
    "scope_where",
    "update",
    "update_each",
]
