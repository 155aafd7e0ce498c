"""UPDATE / DELETE / INSERT statements of live operations, keyed and state-gated.

Every data-changing statement is keyed by primary key (so `sql_safe_updates`
accepts it and it can touch no other row) and carries
`AND @fixpack_state = 'pending'`, so a re-run of a finished step matches no
row at all.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlglot import exp

from generator.ops.dispatch import Dispatch
from generator.ops.operations import (
    ApplyTime,
    Assignment,
    CopyColumn,
    DeleteRows,
    FromQuery,
    InsertRows,
    Operation,
    SetValue,
    UpdateRows,
)
from generator.ops.rows import Row
from generator.render.dml_rows import RowInserts, RowStatements
from generator.render.guards import key_condition
from generator.render.statements import NOW, add_row_count, pending, var
from generator.schema.model import Table
from generator.sqlgen.builders import insert
from generator.sqlgen.dialect import dual, to_sql
from generator.sqlgen.literals import literal_node


def _assignment_value(assignment: Assignment) -> exp.Expr:
    if isinstance(assignment, SetValue):
        return literal_node(assignment.value)
    if isinstance(assignment, CopyColumn):
        return exp.column(assignment.column)
    if isinstance(assignment, ApplyTime):
        return var(NOW)
    if isinstance(assignment, FromQuery):
        return assignment.query.copy().subquery()
    raise TypeError(assignment)


def assignment_value(assignment: Assignment) -> exp.Expr:
    return _assignment_value(assignment)


def _gated(condition: exp.Expr) -> exp.Expr:
    return exp.and_(exp.Paren(this=condition), pending(), copy=False)


def _row_changes(op: UpdateRows, table: Table) -> int:
    """How many rows the UPDATE(s) will really change (ROW_COUNT counts changed rows only)."""
    assert op.changes is not None
    volatile = op.apply_time_columns | op.unknown_before
    count = 0
    for change in op.changes:
        differs = any(change.before[c] != change.after[c] for c in table.column_names if c not in volatile)
        if differs or volatile & set(op.changed_columns):
            count += 1
    return count


Dml = tuple[list[str], int]  # statements each followed by a ROW_COUNT accumulation, expected changed rows
DML: Dispatch[Callable[[Any, Table], Dml]] = Dispatch("DML")


def dml_for(op: Operation, table: Table) -> Dml:
    """(statements each followed by a ROW_COUNT accumulation, expected changed rows)."""
    return DML.of(op)(op, table)


@DML.register(UpdateRows)
def _update(op: UpdateRows, table: Table) -> Dml:
    assert op.changes is not None
    out: list[str] = []
    if op.assignments is None:  # exact per-row values: one UPDATE each
        columns = op.changed_columns
        return _each_row(op, table, lambda after: {c: literal_node(after[c], hex_text=True) for c in columns})
    assignments = op.assignments
    own = [c for c in op.changed_columns if c not in {col for col, _ in assignments}]
    if own:  # rows with values of their own besides the common assignments: one UPDATE each

        def values(after: Row) -> dict[str, exp.Expr]:
            common = {col: _assignment_value(a) for col, a in assignments}
            return common | {c: literal_node(after[c], hex_text=True) for c in own}

        return _each_row(op, table, values)
    rows = tuple(c.before for c in op.changes)
    uniform: exp.Expr = exp.update(
        table.name,
        {col: _assignment_value(a) for col, a in op.assignments},
        where=_gated(key_condition(op.key, rows)),
    )
    out += [to_sql(uniform) + ";", add_row_count()]
    return out, _row_changes(op, table)


def _each_row(op: UpdateRows, table: Table, values: Callable[[Row], dict[str, exp.Expr]]) -> Dml:
    """One keyed UPDATE per row, setting `values(row after)` (render/dml_rows.py lays them out)."""
    assert op.changes is not None
    first = values(op.changes[0].after) if op.changes else {}
    each = RowStatements(table.name, list(first), op.key, lambda row: _gated(key_condition(op.key, (row,))))
    out: list[str] = []
    for change in op.changes:
        out += [each.render(change.before, values(change.after)) + ";", add_row_count()]
    return out, _row_changes(op, table)


@DML.register(DeleteRows)
def _delete(op: DeleteRows, table: Table) -> Dml:
    assert op.rows is not None
    statement = exp.delete(table.name, where=_gated(key_condition(op.key, op.rows)))
    return [to_sql(statement) + ";", add_row_count()], len(op.rows)


@DML.register(InsertRows)
def _insert(op: InsertRows, table: Table) -> Dml:
    out: list[str] = []
    each: RowInserts | None = None
    for row in op.rows:
        columns = [c for c in table.column_names if c in row]
        if each is None or list(each.columns) != columns:
            each = RowInserts(columns, partial(_insert_tree, table, columns))
        text = each.render(row, partial(_ordinary_insert, table, row))
        out += [text + ";", add_row_count()]
    return out, len(op.rows)


def _ordinary_insert(table: Table, row: Row) -> str:
    return insert_statement(table, row).removesuffix(";")


def _insert_tree(table: Table, columns: list[str], values: list[exp.Expr]) -> exp.Expr:
    aliased = [exp.alias_(v, c, copy=False) for v, c in zip(values, columns, strict=True)]
    select = exp.select(*aliased, copy=False).from_(dual(), copy=False).where(pending(), copy=False)
    return insert(select, table.name, columns)


def insert_statement(table: Table, row: Row) -> str:
    """INSERT … SELECT <pre-image> FROM DUAL WHERE pending: every column, hex text, original ids."""
    columns = [c for c in table.column_names if c in row]
    values = [literal_node(row[c], hex_text=True) for c in columns]
    return to_sql(_insert_tree(table, columns, values), owned=True) + ";"
