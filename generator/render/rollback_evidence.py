"""Rollback of a partial apply: was the apply chunk this rollback chunk undoes ever committed?

Each apply chunk is one transaction, so after a stopped apply every chunk is
either wholly applied or wholly not. A rollback chunk normally learns which
from its steps' fingerprints (`pending`: the rows are as the apply left them;
`done`: as before the apply). But another writer may have changed a row of a
chunk the apply never reached — the very row that stopped the apply — and
then that chunk's steps read `drift` and, without more, the rollback would
stop at its first chunk and restore nothing.

So before its steps run, every rollback chunk counts, row by row (a 64-bit
digest per row, `fingerprint.row_digest_expr`, against the digests of the
images recorded at generation, with the rows locked), how many of its rows
are exactly as the apply leaves them and how many are exactly as they were
before. A missing row counts for neither side: the apply deletes rows, and so
may another writer (Nova's own delete racing the repair). No row as the apply
leaves it, some rows as before and not all of them: the apply chunk was never
committed, and someone else changed (or deleted) rows in it. That chunk is
"not applied, nothing to undo": its steps change nothing and the rollback goes
on with the next. Any other mix is left to the steps' own guards (a committed
chunk whose rows changed afterwards still stops the rollback: restoring would
overwrite the other writer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

from generator.ops.dispatch import Dispatch
from generator.ops.operations import DeleteRows, InsertRows, Operation, UpdateRows
from generator.ops.rows import Row
from generator.render import statements as st
from generator.render.fingerprint import python_row_digest, row_digest_expr
from generator.render.guards import StepGuard
from generator.schema.model import Table
from generator.sqlgen.literals import literal_node

APPLIED_ROWS = "fixpack_applied_rows"  # rows of the chunk exactly as the apply leaves them
BEFORE_ROWS = "fixpack_before_rows"  # rows of the chunk exactly as before the apply
SKIP = "fixpack_skip"  # 1: the apply chunk was never committed (rows in it changed by someone else)
SKIPPED = "fixpack_skipped"  # chunks of the file found not applied
NOT_APPLIED = "not applied"

Image = tuple[tuple[str, ...], tuple[Row, ...]]  # (columns, rows)


Images = tuple[Image | None, Image | None]  # (rows as the apply leaves them, rows as before); None: absent
EVIDENCE: Dispatch[Callable[[Any, StepGuard], Images]] = Dispatch("rollback evidence")


def _images(op: Operation, guard: StepGuard) -> Images:
    """(rows as the apply leaves them, rows as before the apply) of one rollback step; None: absent."""
    return EVIDENCE.of(op)(op, guard)


@EVIDENCE.register(UpdateRows)
def _restored(op: UpdateRows, guard: StepGuard) -> Images:
    assert op.changes is not None
    return (
        (guard.pending_columns, tuple(c.before for c in op.changes)),
        (guard.done_columns, tuple(c.after for c in op.changes)),
    )


@EVIDENCE.register(InsertRows)
def _reinserted(op: InsertRows, guard: StepGuard) -> Images:  # the apply deleted these rows
    return None, (guard.done_columns, op.rows)


@EVIDENCE.register(DeleteRows)
def _removed(op: DeleteRows, guard: StepGuard) -> Images:  # the apply inserted these rows
    assert op.rows is not None
    return (guard.pending_columns, op.rows), None


def _count(table: Table, guard: StepGuard, image: Image) -> exp.Expr:
    """Rows of the step matching `image` one by one (locked, as the step's own measure locks them)."""
    columns, wanted = image
    digests = sorted({python_row_digest(table, columns, r) for r in wanted})
    match = row_digest_expr(table, columns).isin(*(exp.Literal.number(d) for d in digests))
    where = exp.and_(guard.key_tree.copy(), match, copy=False)
    query = exp.select(exp.Count(this=exp.Star())).from_(table.name, copy=False).where(where, copy=False)
    return query.lock(update=True, copy=False).subquery(copy=False)


def _add(name: str, value: exp.Expr) -> str:
    """`@name = @name + value`, `value` built for this statement alone (a `_count`): owned."""
    return st.set_var(name, exp.Add(this=st.var(name), expression=value), owned=True)


def chunk_evidence(steps: Sequence[tuple[Operation, StepGuard, Table]], rows: int) -> list[str]:
    """Statements that lock a rollback chunk's rows, count the evidence and set `@fixpack_skip`."""
    out = [st.set_var(APPLIED_ROWS, exp.Literal.number(0)), st.set_var(BEFORE_ROWS, exp.Literal.number(0))]
    for op, guard, table in steps:
        for name, image in zip((APPLIED_ROWS, BEFORE_ROWS), _images(op, guard), strict=True):
            if image is not None:  # an absent row is no evidence: another writer may have deleted it
                out.append(_add(name, _count(table, guard, image)))
    never = exp.and_(
        exp.EQ(this=st.var(APPLIED_ROWS), expression=exp.Literal.number(0)),
        exp.GT(this=st.var(BEFORE_ROWS), expression=exp.Literal.number(0)),
        exp.LT(this=st.var(BEFORE_ROWS), expression=exp.Literal.number(rows)),
        copy=False,
    )
    out.append(st.set_var(SKIP, exp.If(this=never, true=exp.Literal.number(1), false=exp.Literal.number(0))))
    return out


def skipping() -> exp.Expr:
    return exp.EQ(this=st.var(SKIP), expression=exp.Literal.number(1))


def unless_skipped(condition: exp.Expr) -> exp.Expr:
    """A guard condition that holds trivially in a chunk found not applied."""
    return exp.or_(skipping(), exp.Paren(this=condition), copy=False)


def state_or_skip(state: exp.Expr) -> exp.Expr:
    return exp.If(this=skipping(), true=literal_node(NOT_APPLIED), false=state)
