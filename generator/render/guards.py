"""Guard specifications: what "still as seen" and "already done" mean for one step.

A `StepGuard` is computed once per operation piece and used four ways: the
apply/rollback files lock and test it, the precheck file tests it without
locks, the verify file tests its "done" side, and `fixpack verify` runs its
queries read-only from the manifest's `guards.json` to say whether a bundle
still applies.

State of a step at run time:
* `pending` — the keyed rows are exactly the pre-image (fingerprint) and no row
  has joined or left the step's scope since generation;
* `done` — the keyed rows are exactly the post-image (a finished step re-run);
* `drift` — anything else: the client is stopped, nothing in the chunk commits.

One measure serves both sides: `"<rows>:<xor over the columns both images
know>"`, plus `":<xor over the rest>"` when one side has columns the other
cannot know (an apply's `deleted_at = now` is unknown before it runs; a
rollback's pre-image of it is unknown at generation). The side that knows them
compares the whole value, the other only its first two parts
(`SUBSTRING_INDEX(v, ':', 2)`). So each file measures a step's rows once (and
an apply or rollback once more after its change), never the same long
expression twice over different column lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from generator.ops.dispatch import Dispatch
from generator.ops.operations import CheckRows, DeleteRows, InsertRows, Operation, UpdateRows
from generator.ops.rows import Row, Scope
from generator.render import statements as st
from generator.render.fingerprint import fingerprint_expr, python_fingerprint
from generator.schema.model import Table
from generator.sqlgen.dialect import to_sql
from generator.sqlgen.literals import literal_node

EMPTY = "0:0"


@dataclass(frozen=True)
class StepGuard:
    table: str
    key_tree: exp.Expr = field(compare=False, repr=False)  # the keyed rows of this step
    columns: tuple[str, ...]  # columns both images know (the measure's first xor)
    extra: tuple[str, ...]  # the key and the columns only one side knows (the second xor; may be empty)
    pending_expect: str  # "n:x" compares a prefix of a three-part measure, "n:x:y" the whole
    done_expect: str
    scope_tree: exp.Expr | None = field(compare=False, repr=False)  # rows of the target (None: unchecked)
    scope_expect: int | None  # rows in scope when this piece runs (earlier pieces applied)
    check_only: bool = False
    scope_initial: int | None = None  # rows in scope before anything ran (precheck, fixpack verify)
    pending_columns: tuple[str, ...] = ()  # every column the pre-image fixes (rollback evidence)
    done_columns: tuple[str, ...] = ()  # every column the post-image fixes
    # the check right after the change, inside the locked transaction: the key and the columns the
    # change writes are enough there (the rows were measured whole under the same lock just before
    # and nothing else can write them), so a reviewer reads what the step changes, not every column
    changed_columns: tuple[str, ...] = ()  # empty: the whole done-side measure
    changed_expect: str = ""

    @property
    def done_extra(self) -> tuple[str, ...]:
        """The second XOR's columns when the done side needs them (a rollback), else none."""
        return self.extra if self.done_expect.count(":") == 2 else ()

    def fingerprint_query(
        self, table: Table, *, lock: bool, done_only: bool = False, columns: tuple[str, ...] = ()
    ) -> exp.Select:
        """The step's measure; `done_only`: just what the done side compares (after a change);
        `columns`: those in place of every column both images know."""
        q = (
            exp.select(
                fingerprint_expr(table, columns or self.columns, self.done_extra if done_only else self.extra)
            )
            .from_(table.name, copy=False)
            .where(self.key_tree.copy(), copy=False)
        )
        return q.lock(update=True, copy=False) if lock else q

    def scope_query(self, *, lock: bool) -> exp.Select | None:
        if self.scope_tree is None:
            return None
        q = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(self.table, copy=False)
            .where(self.scope_tree.copy(), copy=False)
        )
        return q.lock(update=True, copy=False) if lock else q

    def measure(self, table: Table, *, lock: bool) -> list[str]:
        """Statements that lock (when asked) and measure the step's rows into variables."""
        out = []
        scope_q = self.scope_query(lock=lock)
        if scope_q is not None:  # the queries are built here for one statement each: owned
            out.append(st.set_var(st.SCOPE, scope_q.subquery(copy=False), owned=True))
        out.append(
            st.set_var(st.BEFORE, self.fingerprint_query(table, lock=lock).subquery(copy=False), owned=True)
        )
        return out

    def remeasure_after(self, table: Table) -> str:
        """The done side measured whole (a verify file: the rows are not locked by this session)."""
        query = self.fingerprint_query(table, lock=False, done_only=True)
        return st.set_var(st.AFTER, query.subquery(copy=False), owned=True)

    def remeasure_changed(self, table: Table) -> str:
        """Right after the change, under the step's locks: the key and the written columns."""
        query = self.fingerprint_query(table, lock=False, done_only=True, columns=self.changed_columns)
        return st.set_var(st.AFTER, query.subquery(copy=False), owned=True)

    def state_expression(self, *, initial: bool = False) -> exp.Expr:
        """CASE … 'pending' | 'done' | 'drift' (checks: 'ok' | 'drift') over the measured variables.

        `initial`: judge the scope as it must be before the first piece ran (precheck).
        """
        pending = matches(st.var(st.BEFORE), self.pending_expect, bool(self.extra))
        expect = self.scope_initial if initial else self.scope_expect
        if self.scope_tree is not None:
            pending = exp.and_(
                exp.EQ(this=st.var(st.SCOPE), expression=exp.Literal.number(expect)), pending, copy=False
            )
        if self.check_only:
            return exp.Case(
                ifs=[exp.If(this=pending, true=exp.Literal.string("ok"))], default=exp.Literal.string("drift")
            )
        done = matches(st.var(st.BEFORE), self.done_expect, bool(self.extra))
        return exp.Case(
            ifs=[
                exp.If(this=pending, true=exp.Literal.string("pending")),
                exp.If(this=done, true=exp.Literal.string("done")),
            ],
            default=exp.Literal.string("drift"),
        )

    def done_holds(self, *, changed_only: bool = False) -> exp.Expr:
        """The post-change measure is the planned result (NULL-safe: a NULL measure never holds);
        `changed_only`: the measure `remeasure_changed` took."""
        expect = self.changed_expect if changed_only and self.changed_columns else self.done_expect
        return exp.NullSafeEQ(
            this=matches(st.var(st.AFTER), expect, bool(self.done_extra)), expression=exp.true()
        )

    def as_json(self, table: Table) -> dict:
        scope_q = self.scope_query(lock=False)
        return {
            "table": self.table,
            "check_only": self.check_only,
            "pending_query": to_sql(self.fingerprint_query(table, lock=False)),
            "pending_expect": self.pending_expect,
            # the precheck's one measure, as `fixpack verify` derives it (review/guard_queries.py)
            "done_query": to_sql(self.fingerprint_query(table, lock=False)),
            "done_expect": self.done_expect,
            "scope_query": to_sql(scope_q) if scope_q is not None else None,
            "scope_expect": self.scope_initial,
            "key_condition": to_sql(self.key_tree),
        }


def matches(measured: exp.Expr, expect: str, three_parts: bool) -> exp.Expr:
    """`measured = 'expect'`, or its first two parts when `expect` leaves out the third."""
    if three_parts and expect.count(":") == 1:
        measured = exp.Anonymous(
            this="SUBSTRING_INDEX", expressions=[measured, exp.Literal.string(":"), exp.Literal.number(2)]
        )
    return exp.EQ(this=measured, expression=exp.Literal.string(expect))


def key_condition(key: tuple[str, ...], rows: tuple[Row, ...]) -> exp.Expr:
    """`id IN (…)` for a one-column key; OR of ANDs for composite keys."""
    if len(key) == 1:
        return exp.column(key[0]).isin(*(literal_node(r[key[0]]) for r in rows))
    terms = [
        exp.and_(*(exp.EQ(this=exp.column(c), expression=literal_node(r[c])) for c in key), copy=False)
        for r in rows
    ]
    return exp.or_(*terms, copy=False) if len(terms) > 1 else terms[0]


def _in_table_order(table: Table, columns: set[str]) -> tuple[str, ...]:
    return tuple(c for c in table.column_names if c in columns)


def _expect(table: Table, core: tuple[str, ...], extra: tuple[str, ...], rows, with_extra: bool) -> str:
    base = python_fingerprint(table, core, rows)
    if not with_extra:
        return base
    return base + ":" + python_fingerprint(table, extra, rows).split(":", 1)[1]


@dataclass(frozen=True)
class _Sides:
    """What one kind of live step compares: its keyed rows and each side's measure."""

    rows: tuple[Row, ...]
    core: tuple[str, ...]
    pending_expect: str
    done_expect: str
    pending_columns: tuple[str, ...]
    done_columns: tuple[str, ...]
    extra: tuple[str, ...] = ()
    check_only: bool = False
    changed_columns: tuple[str, ...] = ()
    changed_expect: str = ""


GUARDS: Dispatch[Callable[[Any, Table], _Sides]] = Dispatch("live guard")


def guard_for(
    op: Operation,
    table: Table,
    *,
    scope: Scope | None,
    scope_expect: int | None,
    scope_initial: int | None = None,
) -> StepGuard:
    """The guard of one live operation piece."""
    sides = GUARDS.of(op)(op, table)
    return StepGuard(
        table=table.name,
        key_tree=key_condition(op.key, sides.rows),
        columns=sides.core,
        extra=sides.extra,
        pending_expect=sides.pending_expect,
        done_expect=sides.done_expect,
        scope_tree=scope.tree() if scope is not None else None,
        scope_expect=scope_expect if scope is not None else None,
        check_only=sides.check_only,
        scope_initial=(scope_initial if scope_initial is not None else scope_expect)
        if scope is not None
        else None,
        pending_columns=sides.pending_columns,
        done_columns=sides.done_columns,
        changed_columns=sides.changed_columns,
        changed_expect=sides.changed_expect,
    )


@GUARDS.register(UpdateRows)
def _update(op: UpdateRows, table: Table) -> _Sides:
    assert op.changes is not None
    everything = set(table.column_names)
    before = [c.before for c in op.changes]
    after = [c.after for c in op.changes]
    unknown_before, unknown_after = set(op.unknown_before), set(op.apply_time_columns)
    if (unknown_before - unknown_after) and (unknown_after - unknown_before):
        raise ValueError(f"{op.table}: columns unknown before and others unknown after the change")
    core = _in_table_order(table, everything - unknown_before - unknown_after)
    # both with the key: rows whose measured columns agree must not cancel out in the XOR
    odd = unknown_before ^ unknown_after
    extra = _in_table_order(table, odd | set(op.key)) if odd else ()
    written = _in_table_order(table, (set(op.changed_columns) | set(op.key)) & set(core))
    done_three = bool(unknown_before - unknown_after)
    return _Sides(
        rows=tuple(before),
        core=core,
        extra=extra,
        pending_expect=_expect(table, core, extra, before, bool(unknown_after - unknown_before)),
        done_expect=_expect(table, core, extra, after, done_three),
        pending_columns=_in_table_order(table, everything - unknown_before),
        done_columns=_in_table_order(table, everything - unknown_after),
        changed_columns=written,
        changed_expect=_expect(table, written, extra, after, done_three),
    )


@GUARDS.register(DeleteRows)
def _delete(op: DeleteRows, table: Table) -> _Sides:
    assert op.rows is not None
    every = table.column_names
    pending = python_fingerprint(table, every, op.rows)
    # after the delete, the key alone tells whether any of the rows is left
    return _Sides(op.rows, every, pending, EMPTY, every, every, changed_columns=op.key, changed_expect=EMPTY)


@GUARDS.register(InsertRows)
def _insert(op: InsertRows, table: Table) -> _Sides:
    every = table.column_names
    return _Sides(op.rows, every, EMPTY, python_fingerprint(table, every, op.rows), every, every)


@GUARDS.register(CheckRows)
def _check(op: CheckRows, table: Table) -> _Sides:
    columns = op.columns or table.column_names
    fingerprint = python_fingerprint(table, columns, op.rows)
    return _Sides(op.rows, columns, fingerprint, fingerprint, columns, columns, check_only=True)
