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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

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
    pending_columns: tuple[str, ...]
    pending_expect: str
    done_columns: tuple[str, ...]
    done_expect: str
    scope_tree: exp.Expr | None = field(compare=False, repr=False)  # rows of the target (None: unchecked)
    scope_expect: int | None  # rows in scope when this piece runs (earlier pieces applied)
    check_only: bool = False
    scope_initial: int | None = None  # rows in scope before anything ran (precheck, fixpack verify)

    def pending_query(self, table: Table, *, lock: bool) -> exp.Select:
        return _fp_select(table, self.pending_columns, self.key_tree, lock)

    def done_query(self, table: Table) -> exp.Select:
        return _fp_select(table, self.done_columns, self.key_tree, False)

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
        if scope_q is not None:
            out.append(st.set_var(st.SCOPE, scope_q.subquery(copy=False)))
        out.append(st.set_var(st.BEFORE, self.pending_query(table, lock=lock).subquery(copy=False)))
        if self.check_only:
            return out
        if self.done_columns == self.pending_columns:
            # the same rows over the same columns (deletes, inserts): one measure serves both sides,
            # taken under the lock, so the text is not repeated
            out.append(st.set_var(st.AFTER, st.var(st.BEFORE)))
        else:
            out.append(st.set_var(st.AFTER, self.done_query(table).subquery(copy=False)))
        return out

    def remeasure_after(self, table: Table) -> str:
        return st.set_var(st.AFTER, self.done_query(table).subquery(copy=False))

    def state_expression(self, *, initial: bool = False) -> exp.Expr:
        """CASE … 'pending' | 'done' | 'drift' (checks: 'ok' | 'drift') over the measured variables.

        `initial`: judge the scope as it must be before the first piece ran (precheck).
        """
        pending: exp.Expr = exp.EQ(this=st.var(st.BEFORE), expression=exp.Literal.string(self.pending_expect))
        expect = self.scope_initial if initial else self.scope_expect
        if self.scope_tree is not None:
            pending = exp.and_(
                exp.EQ(this=st.var(st.SCOPE), expression=exp.Literal.number(expect)), pending, copy=False
            )
        if self.check_only:
            return exp.Case(
                ifs=[exp.If(this=pending, true=exp.Literal.string("ok"))], default=exp.Literal.string("drift")
            )
        done = exp.EQ(this=st.var(st.AFTER), expression=exp.Literal.string(self.done_expect))
        return exp.Case(
            ifs=[
                exp.If(this=pending, true=exp.Literal.string("pending")),
                exp.If(this=done, true=exp.Literal.string("done")),
            ],
            default=exp.Literal.string("drift"),
        )

    def done_holds(self) -> exp.Expr:
        return exp.NullSafeEQ(this=st.var(st.AFTER), expression=exp.Literal.string(self.done_expect))

    def as_json(self, table: Table) -> dict:
        scope_q = self.scope_query(lock=False)
        return {
            "table": self.table,
            "check_only": self.check_only,
            "pending_query": to_sql(self.pending_query(table, lock=False)),
            "pending_expect": self.pending_expect,
            "done_query": to_sql(self.done_query(table)),
            "done_expect": self.done_expect,
            "scope_query": to_sql(scope_q) if scope_q is not None else None,
            "scope_expect": self.scope_initial,
            "key_condition": to_sql(self.key_tree),
        }


def _fp_select(table: Table, columns: tuple[str, ...], key_tree: exp.Expr, lock: bool) -> exp.Select:
    q = (
        exp.select(fingerprint_expr(table, columns))
        .from_(table.name, copy=False)
        .where(key_tree.copy(), copy=False)
    )
    return q.lock(update=True, copy=False) if lock else q


def key_condition(key: tuple[str, ...], rows: tuple[Row, ...]) -> exp.Expr:
    """`id IN (…)` for a one-column key; OR of ANDs for composite keys."""
    if len(key) == 1:
        return exp.column(key[0]).isin(*(literal_node(r[key[0]]) for r in rows))
    terms = [
        exp.and_(*(exp.EQ(this=exp.column(c), expression=literal_node(r[c])) for c in key), copy=False)
        for r in rows
    ]
    return exp.or_(*terms, copy=False) if len(terms) > 1 else terms[0]


def _all_but(table: Table, excluded: frozenset[str]) -> tuple[str, ...]:
    return tuple(c for c in table.column_names if c not in excluded)


def guard_for(
    op: Operation,
    table: Table,
    *,
    scope: Scope | None,
    scope_expect: int | None,
    scope_initial: int | None = None,
) -> StepGuard:
    """The guard of one live operation piece."""
    if isinstance(op, UpdateRows):
        assert op.changes is not None
        before = [c.before for c in op.changes]
        after = [c.after for c in op.changes]
        rows = tuple(before)
        pending_cols = _all_but(table, op.unknown_before)
        done_cols = _all_but(table, op.apply_time_columns)
        pending_expect = python_fingerprint(table, pending_cols, before)
        done_expect = python_fingerprint(table, done_cols, after)
    elif isinstance(op, DeleteRows):
        assert op.rows is not None
        rows = op.rows
        pending_cols = done_cols = table.column_names
        pending_expect = python_fingerprint(table, pending_cols, rows)
        done_expect = EMPTY
    elif isinstance(op, InsertRows):
        rows = op.rows
        pending_cols = done_cols = table.column_names
        pending_expect = EMPTY
        done_expect = python_fingerprint(table, done_cols, rows)
    elif isinstance(op, CheckRows):
        rows = op.rows
        pending_cols = done_cols = op.columns or table.column_names
        pending_expect = done_expect = python_fingerprint(table, pending_cols, rows)
    else:
        raise TypeError(f"no live guard for {type(op).__name__}")
    return StepGuard(
        table=table.name,
        key_tree=key_condition(op.key, rows),
        pending_columns=pending_cols,
        pending_expect=pending_expect,
        done_columns=done_cols,
        done_expect=done_expect,
        scope_tree=scope.tree() if scope is not None else None,
        scope_expect=scope_expect if scope is not None else None,
        check_only=isinstance(op, CheckRows),
        scope_initial=(scope_initial if scope_initial is not None else scope_expect)
        if scope is not None
        else None,
    )
