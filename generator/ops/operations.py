"""Operation objects: the planner's output, the renderer's input.

Each operation changes rows of one table of one database and knows how to
undo itself (`reverse()`), the way alembic's operations do. In live mode an
operation carries the exact rows it saw (pre-images) and the rows it will
leave (post-images), which is what makes guards and exact rollback possible;
in offline mode it carries only its scope and resolves rows at run time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any

from sqlglot import exp

from generator.ops.rows import Row, Scope
from generator.schema.model import Table


# -- assignments -----------------------------------------------------------------
@dataclass(frozen=True)
class SetValue:
    """Set a column to a constant."""

    value: Any


@dataclass(frozen=True)
class CopyColumn:
    """Set a column to another column of the same row (Nova's `deleted = id`)."""

    column: str


@dataclass(frozen=True)
class ApplyTime:
    """The UTC time the change is applied (one value per transaction): deleted_at, terminated_at."""


@dataclass(frozen=True)
class FromQuery:
    """A value read at apply time by a scalar subquery on another table (offline rehost:
    the target node's name and id come from compute_nodes when the bundle runs)."""

    query: exp.Query = field(compare=False)
    description: str = ""


Assignment = SetValue | CopyColumn | ApplyTime | FromQuery


def coerce_for_column(table: Table, column: str, value: Any) -> Any:
    """The value the server will store for `value` in `column` (booleans become 0/1)."""
    if value is None:
        return None
    col = table.column(column)
    if isinstance(value, bool) and col.is_numeric:
        return int(value)
    return value


def apply_assignments(table: Table, row: Row, assignments: tuple[tuple[str, Assignment], ...]) -> Row:
    """Post-image of a row; ApplyTime columns keep their old value (they are never compared)."""
    changes: dict[str, Any] = {}
    for column, assignment in assignments:
        if isinstance(assignment, SetValue):
            changes[column] = coerce_for_column(table, column, assignment.value)
        elif isinstance(assignment, CopyColumn):
            changes[column] = row[assignment.column]
    return row.replace(**changes)


@dataclass(frozen=True)
class RowChange:
    before: Row
    after: Row


# -- operations ------------------------------------------------------------------
@dataclass(frozen=True)
class Operation(ABC):
    database: str  # database role: nova | nova_api | placement | cinder
    table: str
    key: tuple[str, ...]  # primary key columns
    purpose: str  # one line: why this change (the -- describe() banner)

    @abstractmethod
    def reverse(self) -> Operation | None:
        """The operation that undoes this one (None: nothing to undo)."""

    @property
    def row_count(self) -> int | None:
        return None

    def describe(self) -> str:
        return self.purpose


class ScopedOperation(Operation):
    """An operation that can select its rows by a `Scope` (UpdateRows, DeleteRows): live, the scope's
    recount guards against rows that appeared since generation; offline, it is the only way to the rows.

    Deliberately no dataclass fields of its own: each subclass declares `scope` and `scope_count` where
    it always has, so the field order (and every positional call) stays as it was.
    """

    scope: Scope | None  # the rows the operation changes at generation (None: keyed rows only)
    scope_count: int | None  # rows in scope at generation (None: the operation's own rows)
    stays_in_scope: bool = False  # do changed rows still match `scope` afterwards? (UpdateRows may say so)


@dataclass(frozen=True)
class UpdateRows(ScopedOperation):
    """UPDATE rows selected by key (live) or by scope (offline)."""

    assignments: tuple[tuple[str, Assignment], ...] | None = None  # uniform SET; None: per-row values
    changes: tuple[RowChange, ...] | None = None  # live mode only
    scope: Scope | None = None
    stays_in_scope: bool = False  # do changed rows still match `scope` afterwards?
    unknown_before: frozenset[str] = field(default_factory=frozenset)
    scope_count: int | None = None  # rows in scope at generation (default: all changed rows)

    @property
    def apply_time_columns(self) -> frozenset[str]:
        return frozenset(c for c, a in self.assignments or () if isinstance(a, ApplyTime))

    @property
    def row_count(self) -> int | None:
        return None if self.changes is None else len(self.changes)

    @property
    def changed_columns(self) -> tuple[str, ...]:
        # with common assignments, also the columns some rows get a value of their own for
        cols: list[str] = [c for c, _ in self.assignments or ()]
        for change in self.changes or ():
            for c in change.before.columns:
                if c not in cols and (change.before[c] != change.after[c] or c in self.unknown_before):
                    cols.append(c)
        return tuple(cols)

    def reverse(self) -> Operation | None:
        if self.changes is None:
            return CapturedRestore(
                self.database,
                self.table,
                self.key,
                f"restore what the apply changed in {self.table}",
                source=self,
            )
        return UpdateRows(
            database=self.database,
            table=self.table,
            key=self.key,
            purpose=f"restore {self.table}: {self.purpose}",
            assignments=None,
            changes=tuple(RowChange(before=c.after, after=c.before) for c in self.changes),
            scope=None,
            unknown_before=self.apply_time_columns,
        )


@dataclass(frozen=True)
class DeleteRows(ScopedOperation):
    rows: tuple[Row, ...] | None = None  # live mode only
    scope: Scope | None = None
    scope_count: int | None = None

    @property
    def row_count(self) -> int | None:
        return None if self.rows is None else len(self.rows)

    def reverse(self) -> Operation | None:
        if self.rows is None:
            return CapturedRestore(
                self.database,
                self.table,
                self.key,
                f"re-insert the rows the apply deleted from {self.table}",
                source=self,
            )
        return InsertRows(
            self.database, self.table, self.key, f"re-insert {self.table}: {self.purpose}", rows=self.rows
        )


@dataclass(frozen=True)
class InsertRows(Operation):
    rows: tuple[Row, ...] = ()

    @property
    def row_count(self) -> int | None:
        return len(self.rows)

    def reverse(self) -> Operation | None:
        return DeleteRows(
            self.database, self.table, self.key, f"remove re-inserted {self.table} rows", rows=self.rows
        )


@dataclass(frozen=True)
class CheckRows(Operation):
    """Lock rows and require them unchanged, changing nothing (e.g. the rehost target host)."""

    rows: tuple[Row, ...] = ()
    columns: tuple[str, ...] | None = None  # the stable columns to compare (None: all)

    @property
    def row_count(self) -> int | None:
        return len(self.rows)

    def reverse(self) -> Operation | None:
        return None


@dataclass(frozen=True)
class CapturedRestore(Operation):
    """Offline rollback: the pre-images are captured at run time, before the apply."""

    source: UpdateRows | DeleteRows | None = None

    def reverse(self) -> Operation | None:
        return self.source


def split(op: Operation, size: int) -> list[Operation]:
    """Split a live operation into pieces of at most `size` rows (chunking)."""
    if isinstance(op, UpdateRows) and op.changes is not None and len(op.changes) > size:
        return [replace(op, changes=op.changes[i : i + size]) for i in range(0, len(op.changes), size)]
    if isinstance(op, DeleteRows | InsertRows | CheckRows) and op.rows is not None and len(op.rows) > size:
        return [replace(op, rows=op.rows[i : i + size]) for i in range(0, len(op.rows), size)]
    return [op]
