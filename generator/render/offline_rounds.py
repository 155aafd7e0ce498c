"""The offline apply, chunked: rounds of at most `--chunk-rows` rows, each one transaction.

Offline, the rows are found at run time, so chunks cannot be cut at generation.
The apply is written as ROUNDS transactions. Each round has a budget of N rows
(`--chunk-rows`) and runs every step in order; a step changes the first
LEAST(rows left in its scope, budget left) rows of its scope in primary-key order
and hands the rest of the budget on. So a round writes at most N rows in all
tables together (what Galera's wsrep_max_ws_rows counts), and a step gets budget
only when every step before it has finished: children are still changed before
their parents. When everything fits in N rows, round 1 does it all in one
transaction and the later rounds find nothing (as a re-run does).

The rows of a round's piece are selected without LIMIT in the DML (a multi-table
DELETE cannot have one): the key of the last row in the budget is read first —
`ROW_NUMBER() OVER (ORDER BY key)` over the scope, under the lock the step's count
took — and the DML adds `key <= that key` to the scope. Every offline scope selects
rows still needing the change, so a changed row leaves it and the next round
starts after it; the guards check ROW_COUNT() and the rows left after each piece.

Before the first write (in round 1, under the locks): each step at most
OFFLINE_ROW_LIMIT rows, all steps together at most ROUNDS * N, and the Galera
limits read from the server (render/wsrep_check.py) fit a chunk of N rows.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from generator.ops.operations import Operation
from generator.plan.model import DatabaseTarget
from generator.render import statements as st
from generator.render import wsrep_check
from generator.render.sqlfile import comment
from generator.sqlgen.dialect import dual, to_sql
from generator.sqlgen.literals import literal_node

OFFLINE_ROW_LIMIT = 1000  # rows per step: an offline bundle repairs one target
BUDGET, TAKE, TOTAL = "fixpack_budget", "fixpack_take", "fixpack_total"


def count_in_scope(op: Operation, extra: exp.Expr | None = None) -> exp.Select:
    """`SELECT COUNT(*)` of the rows of the step's scope (and `extra`)."""
    scope = op.scope.tree()  # type: ignore[attr-defined]
    where = exp.and_(scope, extra) if extra is not None else scope
    return exp.select(exp.Count(this=exp.Star())).from_(op.table, copy=False).where(where, copy=False)


def _hi(number: int, index: int) -> str:
    return f"fixpack_hi_{number}_{index}"


def _upto(op: Operation, number: int) -> exp.Expr:
    """`key <= (@hi…)`: the rows of the scope up to the last one within the budget."""
    keys = [exp.column(k) for k in op.key]
    his = [st.var(_hi(number, i)) for i in range(len(op.key))]
    if len(keys) == 1:
        return exp.LTE(this=keys[0], expression=his[0])
    return exp.LTE(this=exp.Tuple(expressions=keys), expression=exp.Tuple(expressions=his))


def _last_key(op: Operation, number: int) -> list[str]:
    """@fixpack_hi_<step>_<i> = the key of the @fixpack_take-th row of the scope in key order (NULL: none)."""
    order = exp.Order(expressions=[exp.Ordered(this=exp.column(k), nulls_first=True) for k in op.key])
    ranked = (
        exp.select(
            *(exp.column(k) for k in op.key),
            exp.alias_(exp.Window(this=exp.RowNumber(), order=order), "fixpack_n"),
        )
        .from_(op.table, copy=False)
        .where(op.scope.tree(), copy=False)  # type: ignore[attr-defined]
    )
    out = []
    for i, k in enumerate(op.key):
        pick = (
            exp.select(exp.column(k, table="fixpack_ranked"))
            .from_(ranked.subquery("fixpack_ranked"))
            .where(exp.EQ(this=exp.column("fixpack_n", table="fixpack_ranked"), expression=st.var(TAKE)))
        )
        out.append(st.set_var(_hi(number, i), pick.subquery()))
    return out


def preflight(ops: tuple[Operation, ...], db: DatabaseTarget, chunk_rows: int, rounds: int) -> list[str]:
    """In round 1, before any write: per-step and total row limits, then the Galera limits."""
    out = comment(
        f"before the first write: each step at most {OFFLINE_ROW_LIMIT} rows, all steps at most "
        f"{rounds * chunk_rows} ({rounds} transaction(s) of at most {chunk_rows} rows), and the "
        "server's Galera write-set limits fit a chunk"
    )
    out.append(st.set_var(TOTAL, exp.Literal.number(0)))
    for number, op in enumerate(ops, 1):
        label = f"step {number}: {op.table}"
        out += [
            st.set_var(st.SCOPE, count_in_scope(op).lock(update=True, copy=False).subquery(copy=False)),
            st.report([("step", literal_node(label)), ("rows_found", st.var(st.SCOPE))]),
            st.guard(
                f"{label}: at most {OFFLINE_ROW_LIMIT} rows (offline bundles repair one target)",
                exp.LTE(this=st.var(st.SCOPE), expression=exp.Literal.number(OFFLINE_ROW_LIMIT)),
            ),
            st.set_var(TOTAL, exp.Add(this=st.var(TOTAL), expression=st.var(st.SCOPE))),
            st.set_var(f"fixpack_count_{number}", st.var(st.SCOPE)),
            st.set_var(
                f"fixpack_estimate_{number}",
                wsrep_check.row_estimate(db.schema.table(op.table), op.scope.tree()),  # type: ignore[attr-defined]
            ),
        ]
    steps = [(f"fixpack_count_{n}", f"fixpack_estimate_{n}") for n in range(1, len(ops) + 1)]
    out.append(st.set_var(wsrep_check.BYTES, wsrep_check.bytes_at(exp.Literal.number(chunk_rows), steps)))
    out += wsrep_check.fit_search(chunk_rows, steps)
    capacity = rounds * chunk_rows
    say = (
        exp.select(
            exp.alias_(
                exp.Anonymous(
                    this="CONCAT",
                    expressions=[
                        exp.Literal.string("ERROR: the steps would change "),
                        st.var(TOTAL),
                        exp.Literal.string(
                            f" rows; this apply holds {rounds} transaction(s) of at most {chunk_rows} "
                            f"rows ({capacity} in all). Nothing was changed. Regenerate with a larger "
                            "--chunk-rows."
                        ),
                    ],
                ),
                "fixpack",
            )
        )
        .from_(dual())
        .where(exp.GT(this=st.var(TOTAL), expression=exp.Literal.number(capacity)))
    )
    out += [
        to_sql(say) + ";",
        st.guard(
            f"all steps together at most {capacity} rows",
            exp.LTE(this=st.var(TOTAL), expression=exp.Literal.number(capacity)),
        ),
        *wsrep_check.check_limits(chunk_rows, "offline apply", searched=True),
    ]
    return out


def round_step(
    op: Operation,
    number: int,
    round_no: int,
    last: bool,
    change: Callable[[Operation, exp.Expr], list[str]],
) -> list[str]:
    """One step within one round: lock, take what the budget allows, change it, check."""
    label = f"step {number}: {op.table} (round {round_no})"
    upto = _upto(op, number)
    out = comment(f"{label}: {op.describe()} — rows: {op.scope.description}")  # type: ignore[attr-defined]
    out += [
        st.set_var(st.SCOPE, count_in_scope(op).lock(update=True, copy=False).subquery(copy=False)),
        st.set_var(TAKE, exp.Least(this=st.var(st.SCOPE), expressions=[st.var(BUDGET)])),
        *_last_key(op, number),
        st.report([("step", literal_node(label)), ("rows", st.var(TAKE))]),
        st.guard(
            f"{label}: the last row within the budget was found (or there is nothing to take)",
            exp.or_(
                exp.EQ(this=st.var(TAKE), expression=exp.Literal.number(0)),
                exp.Not(this=exp.Is(this=st.var(_hi(number, 0)), expression=exp.Null())),
            ),
        ),
        st.set_var(st.RC, exp.Literal.number(0)),
        *change(op, upto),
        st.guard(
            f"{label}: changed the rows it took",
            exp.NullSafeEQ(this=st.var(st.RC), expression=st.var(TAKE)),
        ),
        st.set_var(st.AFTER, count_in_scope(op).subquery(copy=False)),
        st.guard(
            f"{label}: the rest of the scope is left for the next round",
            exp.NullSafeEQ(
                this=st.var(st.AFTER), expression=exp.Sub(this=st.var(st.SCOPE), expression=st.var(TAKE))
            ),
        ),
        st.set_var(BUDGET, exp.Sub(this=st.var(BUDGET), expression=st.var(TAKE))),
    ]
    if last:
        out.append(
            st.guard(
                f"step {number}: {op.table}: no row is left needing the change",
                exp.NullSafeEQ(this=st.var(st.AFTER), expression=exp.Literal.number(0)),
            )
        )
    return out


def round_report(round_no: int, rounds: int, chunk_rows: int) -> str:
    changed = exp.Sub(this=exp.Literal.number(chunk_rows), expression=st.var(BUDGET))
    return st.report([("round", literal_node(f"apply round {round_no}/{rounds}")), ("rows_changed", changed)])
