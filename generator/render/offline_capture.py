"""Offline capture files: SQL that prints the rollback script of the rows an apply will change.

A capture runs (read-only, `--batch --raw --skip-column-names`) before the apply
and prints a complete rollback script. Three rules keep it from ever destroying
or faking a rollback:

* **It refuses once the apply has run here.** In the database that holds the
  target (the instance's cell, Cinder), when every postcondition of the apply
  already holds and no step finds a row, the capture prints only a refusal line
  and stops with an error: a capture taken now would record nothing. (In the
  other databases "already applied" and "nothing to do" look the same, so an
  empty capture is allowed there and its rollback says so.)
* **The rollback it prints says what it did in words.** Before restoring, the
  printed rollback counts the captured rows that are already exactly as
  captured: all of them → "nothing to roll back" (the bundle has not been applied
  here, or was rolled back already) and nothing changes; none → every row is
  restored under a ROW_COUNT() guard; some → it stops, naming the mismatch. A
  capture that found no rows prints a rollback that says "nothing to restore",
  never "every guard held".
* **Every printed line is SQL** (guards that pass print `-- ...` comments), laid
  out one value per line so `fixpack lint` holds it to the same rules as the
  files generated with the bundle.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from generator.ops.dispatch import Dispatch
from generator.ops.operations import DeleteRows, Operation, UpdateRows
from generator.plan.model import DatabaseTarget, Plan
from generator.render import statements as st
from generator.render.messages import NOTHING_TO_ROLL_BACK
from generator.schema.model import Table
from generator.sqlgen.dialect import dual, to_sql
from generator.sqlgen.literals import literal_node

ROWS, AS_CAPTURED, REMAINING = "fixpack_rows", "fixpack_as_captured", "fixpack_todo"


def value_text(table: Table, column: str) -> exp.Expr:
    """SQL that prints a column's current value as a literal the rollback can hold."""
    col = table.column(column)
    ref = exp.column(column, table=table.name)
    if col.is_numeric:
        text: exp.Expr = exp.Cast(this=ref, to=exp.DataType.build("CHAR"))
    elif col.is_temporal:
        text = exp.Anonymous(
            this="CONCAT",
            expressions=[
                exp.Literal.string("'"),
                exp.Cast(this=ref, to=exp.DataType.build("CHAR")),
                exp.Literal.string("'"),
            ],
        )
    else:
        text = exp.Anonymous(
            this="CONCAT", expressions=[exp.Literal.string("X'"), exp.Hex(this=ref), exp.Literal.string("'")]
        )
    return exp.Coalesce(this=text, expressions=[exp.Literal.string("NULL")])


def text(value: str, width: int = 60) -> list[exp.Expr]:
    """A constant as several short literals (CONCAT joins them): keeps lines within the limit."""
    return [exp.Literal.string(value[i : i + width]) for i in range(0, len(value), width)] or [
        exp.Literal.string("")
    ]


def concat(*parts: exp.Expr | list[exp.Expr]) -> exp.Expr:
    flat: list[exp.Expr] = []
    for part in parts:
        flat += part if isinstance(part, list) else [part]
    return exp.Anonymous(this="CONCAT", expressions=flat)


def printed(sql_text: str) -> str:
    """A capture statement printing one fixed line of the rollback script."""
    return st.report([("line", concat(text(sql_text)))])


_SLOT = re.compile(r"'fixpack_value_(\d+)_x*'")


def _slot(i: int) -> exp.Expr:
    """A placeholder literal, long enough that the layout gives each value a line of its own."""
    return exp.Literal.string(f"fixpack_value_{i}_".ljust(70, "x"))


def _template(statement: str, values: list[exp.Expr]) -> exp.Expr:
    """CONCAT printing `statement` (rendered with `_slot` placeholders) with each slot's current value."""
    parts: list[exp.Expr] = []
    pos = 0
    for m in _SLOT.finditer(statement):
        parts += [*text(statement[pos : m.start()]), values[int(m[1])]]
        pos = m.end()
    parts += text(statement[pos:])
    return concat([p for p in parts if not (isinstance(p, exp.Literal) and p.this == "")])


def _key(table: Table, values: list[exp.Expr]) -> list[exp.Expr]:
    """`key = <slot>` per primary-key column; the slots' values are appended to `values`."""
    out: list[exp.Expr] = []
    for k in table.primary_key:
        out.append(exp.EQ(this=exp.column(k), expression=_slot(len(values))))
        values.append(value_text(table, k))
    return out


def _todo_is(n: int) -> exp.Expr:
    return exp.EQ(this=st.var(REMAINING), expression=exp.Literal.number(n))


def _row_guard(number: int, table: str) -> str:
    return st.guard(
        f"rollback step {number}: {table}",
        exp.NullSafeEQ(this=exp.Anonymous(this="ROW_COUNT", expressions=[]), expression=st.var(REMAINING)),
    )


def _select(line: exp.Expr, op: Operation) -> str:
    scope = op.scope  # type: ignore[attr-defined]
    return to_sql(exp.select(line).from_(op.table, copy=False).where(scope.tree(), copy=False)) + ";"


def check_statement(op: Operation, table: Table) -> str:
    """Prints, per row, a statement adding 1 to @fixpack_as_captured when the row is as captured now:
    a changed row has every column the apply sets back as captured; a deleted row exists again."""
    values: list[exp.Expr] = []
    conds = _key(table, values)
    conds += CAPTURE.of(op).as_captured(op, table, values)
    count = exp.select(exp.Count(this=exp.Star())).from_(op.table).where(exp.and_(*conds))
    statement = st.set_var(AS_CAPTURED, exp.Add(this=st.var(AS_CAPTURED), expression=count.subquery()))
    return _select(_template(statement, values), op)


PRINTED = "fixpack_printed"  # capture: restore rows printed so far (where the rollback's chunks end)


def chunk_break(chunk_rows: int) -> str:
    """What the printed rollback runs between two chunks: commit, and a new guarded transaction."""
    return (
        "COMMIT;\nSTART TRANSACTION;\n"
        + st.guard(
            f"rollback: next chunk of at most {chunk_rows} row(s) (the checks above decided what to do)",
            exp.In(this=st.var(REMAINING), expressions=[exp.Literal.number(0), exp.Literal.number(1)]),
        )
        + "\n"
    )


def restore_statements(op: Operation, table: Table, number: int, chunk_rows: int) -> list[str]:
    """`restore_statement`, cut into transactions of at most `chunk_rows` rows (Galera's
    wsrep_max_ws_rows): before every chunk_rows-th printed row after the first, a chunk break.
    Rows print in key order, numbered on from the rows of the steps printed before."""
    order = [exp.Ordered(this=exp.column(k), nulls_first=True) for k in table.primary_key]
    position = exp.Add(
        this=st.var(PRINTED),
        expression=exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order)),
    )
    starts_chunk = exp.and_(
        exp.GT(this=position, expression=exp.Literal.number(1)),
        exp.EQ(
            this=exp.Mod(
                this=exp.Paren(this=exp.Sub(this=position.copy(), expression=exp.Literal.number(1))),
                expression=exp.Literal.number(chunk_rows),
            ),
            expression=exp.Literal.number(0),
        ),
    )
    prefix = exp.If(
        this=starts_chunk, true=concat(text(chunk_break(chunk_rows))), false=exp.Literal.string("")
    )
    select = exp.select(concat(prefix, restore_line(op, table, number)))
    select = select.from_(op.table, copy=False).where(op.scope.tree(), copy=False)  # type: ignore[attr-defined]
    select = select.order_by(*(o.copy() for o in order), copy=False)
    count = (
        exp.select(exp.Count(this=exp.Star())).from_(op.table, copy=False).where(op.scope.tree(), copy=False)  # type: ignore[attr-defined]
    )
    return [
        to_sql(select) + ";",
        st.set_var(PRINTED, exp.Add(this=st.var(PRINTED), expression=count.subquery(copy=False))),
    ]


def restore_statement(op: Operation, table: Table, number: int) -> str:
    """Prints, per row, its guarded restore (one transaction: see `restore_statements` for chunks)."""
    return _select(restore_line(op, table, number), op)


def restore_line(op: Operation, table: Table, number: int) -> exp.Expr:
    """CONCAT printing one row's guarded restore: run only when the rollback has work (@fixpack_todo = 1)."""
    values: list[exp.Expr] = []
    dml = CAPTURE.of(op).restore(op, table, values)
    statement = to_sql(dml) + ";\n" + _row_guard(number, op.table)
    return _template(statement, values)


# -- what the printed rollback does per kind of step -----------------------------------------------
def _assigned_as_captured(op: UpdateRows, table: Table, values: list[exp.Expr]) -> list[exp.Expr]:
    conds: list[exp.Expr] = []
    for c, _ in op.assignments or ():
        conds.append(exp.NullSafeEQ(this=exp.column(c), expression=_slot(len(values))))
        values.append(value_text(table, c))
    return conds


def _set_back(op: UpdateRows, table: Table, values: list[exp.Expr]) -> exp.Expr:
    sets: dict[str, object] = {}
    for c, _ in op.assignments or ():
        sets[c] = _slot(len(values))
        values.append(value_text(table, c))
    key = _key(table, values)
    return exp.update(op.table, sets, where=exp.and_(*key, _todo_is(1)))


def _exists(op: DeleteRows, table: Table, values: list[exp.Expr]) -> list[exp.Expr]:
    return []  # the key alone: the row is there again


def _insert_back(op: DeleteRows, table: Table, values: list[exp.Expr]) -> exp.Expr:
    row = []
    for c in table.column_names:
        row.append(exp.alias_(_slot(len(values)), c))
        values.append(value_text(table, c))
    source = exp.select(*row).from_(dual()).where(_todo_is(1))
    return exp.insert(source, op.table, columns=list(table.column_names))


@dataclass(frozen=True)
class _Restore:
    """How the printed rollback puts back the rows of one kind of offline step (values: the slots)."""

    as_captured: Callable[[Any, Table, list[exp.Expr]], list[exp.Expr]]  # a row as captured, besides its key
    restore: Callable[[Any, Table, list[exp.Expr]], exp.Expr]  # one row's restore, run only with work to do


CAPTURE: Dispatch[_Restore] = Dispatch("offline capture")
CAPTURE.register(UpdateRows)(_Restore(_assigned_as_captured, _set_back))  # set the assigned columns back
CAPTURE.register(DeleteRows)(_Restore(_exists, _insert_back))  # insert the whole row again


def rows_in_scope(ops: tuple[Operation, ...]) -> exp.Expr:
    """Rows every step will change, summed (what the capture records)."""
    counts: list[exp.Expr] = [
        exp.select(exp.Count(this=exp.Star()))
        .from_(op.table, copy=False)
        .where(op.scope.tree(), copy=False)  # type: ignore[attr-defined]
        .subquery(copy=False)
        for op in ops
    ]
    total = counts[0]
    for c in counts[1:]:
        total = exp.Add(this=total, expression=c)
    return total


def target_database(plan: Plan) -> str | None:
    """The database holding the target itself (where its first precondition — it exists — is checked)."""
    return plan.preconditions[0].database if plan.preconditions else None


def refusal(plan: Plan, db: DatabaseTarget) -> list[str]:
    """Stop the capture (printing why) when the apply has already run in this database."""
    posts = [p.condition.copy() for p in plan.postconditions if p.database == db.role]
    if db.role != target_database(plan) or not posts:
        return []
    applied = exp.and_(
        *posts, exp.NullSafeEQ(this=st.var(st.SCOPE), expression=exp.Literal.number(0)), copy=False
    )
    what = f"{plan.target_kind} {' '.join(plan.targets)} ({plan.op})"
    message = (
        f"-- capture refused: the apply has already run in this database for {what} (every postcondition "
        "holds and no row is left to change), so a capture now would record nothing. Keep the rollback "
        "captured before the apply; nothing was written."
    )
    return [
        st.set_var(st.CHECK, exp.If(this=applied, true=exp.Literal.number(1), false=exp.Literal.number(0))),
        to_sql(
            exp.select(exp.alias_(concat(text(message)), "line"))
            .from_(exp.Table(this=exp.Identifier(this="DUAL", quoted=False)))
            .where(exp.EQ(this=st.var(st.CHECK), expression=exp.Literal.number(1)))
        )
        + ";",
        st.guard(
            "-- capture guard: the apply has not run here yet",
            exp.NullSafeEQ(this=st.var(st.CHECK), expression=exp.Literal.number(0)),
        ),
    ]


def _say(message: str, when: exp.Expr) -> str:
    """Print a message when `when` holds: short literals, so the printed lines stay readable SQL."""
    words = concat([literal_node(p.this) for p in text(message, 70)])
    return to_sql(exp.select(exp.alias_(words, "fixpack")).from_(dual()).where(when)) + ";"


def rollback_prologue(db: DatabaseTarget) -> list[str]:
    """Printed after the per-row checks: say what the rollback will do, stop on mixed rows."""
    rows, seen = st.var(ROWS), st.var(AS_CAPTURED)
    zero = exp.Literal.number(0)
    empty = (
        f"nothing to restore: the capture found no rows the apply would change in the {db.role} database. "
        "If it was taken after the apply, the rows the apply changed were not recorded: restore them "
        "from your backup. Nothing changed."
    )
    unapplied = f"every captured row of the {db.role} database is still exactly as captured"
    mixed = (
        "some captured rows are as captured and others are not: rows changed after the capture or the "
        "apply. Nothing was restored; compare the rows with this file before going further."
    )
    lines = [
        _say(empty, exp.EQ(this=rows, expression=zero)),
        _say(unapplied, exp.and_(exp.GT(this=rows, expression=zero), exp.EQ(this=seen, expression=rows))),
        _say(mixed, exp.and_(exp.GT(this=seen, expression=zero), exp.LT(this=seen, expression=rows))),
        st.guard(
            "every captured row is as the apply left it, or every one is as captured",
            exp.or_(exp.EQ(this=seen, expression=zero), exp.EQ(this=seen, expression=rows)),
        ),
        st.set_var(
            REMAINING,
            exp.If(
                this=exp.and_(exp.GT(this=rows, expression=zero), exp.EQ(this=seen, expression=zero)),
                true=exp.Literal.number(1),
                false=zero,
            ),
        ),
    ]
    return [printed(line) for line in lines]


def rollback_epilogue() -> list[str]:
    """The last line: restored, or the same "nothing to roll back" words as a live rollback."""
    rows, seen = st.var(ROWS), st.var(AS_CAPTURED)
    zero = exp.Literal.number(0)
    unapplied = exp.and_(exp.GT(this=rows, expression=zero), exp.EQ(this=seen, expression=rows))
    finished = exp.Case(
        ifs=[
            exp.If(
                this=_todo_is(1),
                true=exp.Anonymous(
                    this="CONCAT",
                    expressions=[
                        exp.Literal.string("rollback finished: "),
                        st.var(ROWS),
                        exp.Literal.string(" captured row(s) restored, every guard held"),
                    ],
                ),
            )
        ],
        default=exp.Literal.string("rollback changed nothing (see the line above)"),
    )
    last = (
        exp.select(exp.alias_(finished, "fixpack"))
        .from_(dual())
        .where(exp.Not(this=exp.Paren(this=unapplied)))
    )
    return [
        printed("COMMIT;"),
        printed(_say(NOTHING_TO_ROLL_BACK, unapplied.copy())),
        printed(to_sql(last) + ";"),
    ]
